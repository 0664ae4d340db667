"""TensorBoard writer without TensorFlow, the progress line, and the pictures."""

import os
import subprocess
import sys

import numpy as np
from PIL import Image

from jaxgen.logging import Progress, SummaryWriter, format_duration, read_images, read_scalars
from jaxgen import visualisation as vis

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_writer_round_trips_scalars_and_images(tmp_path):
    logdir = str(tmp_path / 'tb')
    image = (np.arange(12 * 10 * 3) % 256).astype(np.uint8).reshape(12, 10, 3)
    with SummaryWriter(logdir) as writer:
        for step in (1, 2, 3):
            writer.scalars(step, {'d_loss': 0.5 * step, 'eval/acc': 1.0 / step})
        writer.images(3, {'samples': image})
    scalars = read_scalars(logdir)
    assert scalars['d_loss'] == [(1, 0.5), (2, 1.0), (3, 1.5)]
    np.testing.assert_allclose([v for _, v in scalars['eval/acc']], [1, 0.5, 1 / 3], rtol=1e-6)
    (step, decoded), = read_images(logdir)['samples']
    assert step == 3
    np.testing.assert_array_equal(decoded, image)
    lines = (tmp_path / 'tb' / 'metrics.jsonl').read_text().splitlines()
    assert len(lines) == 3 and '"d_loss": 1.5' in lines[-1]


def test_disabled_writer_writes_nothing(tmp_path):
    writer = SummaryWriter(str(tmp_path / 'tb'), enabled=False)
    writer.scalars(1, {'x': 1.0})
    writer.images(1, {'y': np.zeros((4, 4), np.uint8)})
    writer.close()
    assert not (tmp_path / 'tb').exists()


def test_logging_and_pictures_never_import_tensorflow(tmp_path):
    code = (
        'import sys, numpy as np\n'
        'from jaxgen.logging import SummaryWriter\n'
        'from jaxgen import visualisation as vis\n'
        f'w = SummaryWriter({str(tmp_path)!r})\n'
        'w.scalars(1, {"a": 1.0}); w.images(1, {"b": vis.image_grid(np.zeros((4, 8, 8, 1)))})\n'
        'w.close()\n'
        'assert not [m for m in sys.modules if m.split(".")[0] == "tensorflow"], "tensorflow"\n')
    result = subprocess.run([sys.executable, '-c', code], cwd=ROOT, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]


def test_progress_line_reports_rate_and_eta():
    now = [100.0]
    progress = Progress(total_steps=1000, start_step=200, clock=lambda: now[0])
    now[0] += 50.0  # 100 steps in 50 s
    line = progress.update(300, {'d_loss': 1.23456, 'g_loss': 0.5})
    assert progress.steps_per_sec == 2.0 and progress.eta_seconds == 350.0
    assert '300/1000' in line and '2.00 steps/s' in line and 'ETA 5m50s' in line
    assert 'd_loss 1.235' in line and 'g_loss 0.5' in line
    assert format_duration(3725) == '1h02m' and format_duration(42) == '42s'


def test_image_grid_tiles_and_maps_the_value_range():
    images = np.linspace(-1, 1, 64 * 16 * 16).reshape(64, 16, 16, 1)
    grid = vis.image_grid(images, nrow=8, padding=2)
    assert grid.shape == (8 * 16 + 9 * 2,) * 2 and grid.dtype == np.uint8
    assert grid[2, 2] == 0 and grid[-3, -3] == 255  # -1 -> 0, +1 -> 255
    assert grid[0, 0] == 255  # padding
    colour = vis.image_grid(np.zeros((5, 8, 8, 3)), value_range=(0, 1))
    assert colour.shape == (2 * 8 + 3 * 2, 3 * 8 + 4 * 2, 3)  # 5 images: 3 columns, 2 rows


def test_plots_render_to_rgb_arrays_and_png(tmp_path):
    centers = np.array([[2.0, 0.0], [-2.0, 0.0]])
    scatter = vis.scatter_2d(np.random.default_rng(0).normal(size=(200, 2)), centers=centers)
    curves = vis.plot_curves({'d_loss': [(0, 1.0), (10, 0.5)]}, hlines={'H(c)': 2.3})
    panels = vis.scatter_panels([('step 0', np.zeros((10, 2))), ('step 9', np.ones((10, 2)))],
                                centers)
    labelled = vis.labelled_grid(np.zeros((2, 3, 8, 8, 1)), row_labels=['a', 'b'],
                                 col_labels=['-1', '0', '1'], title='t')
    latents = vis.latent_scatter(np.zeros((5, 2)), np.arange(5))
    for picture in (scatter, curves, panels, labelled, latents):
        assert picture.dtype == np.uint8 and picture.ndim == 3 and picture.shape[2] == 3
        assert (picture < 250).any()  # something was drawn
    vis.save_png(tmp_path / 'a' / 'scatter.png', scatter)
    np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / 'a' / 'scatter.png')),
                                  scatter)
    assert oct(os.stat(tmp_path / 'a' / 'scatter.png').st_mode)[-3:] == '644'
    pictures = vis.training_curves({'g_loss': [(1, 1.0)], 'info_cat/L_I': [(1, 2.0)],
                                    'info_cat/H(c)': [(1, 2.3)]})
    assert set(pictures) == {'losses', 'information'}
