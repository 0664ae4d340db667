"""The pictures jaxgen builds on the visualisation primitives: latent scatters,
training curves, sample rendering; PNG permissions. (Writer, progress line and
grids are tested in test_logging.py and test_visualisation.py.)"""

import os

import numpy as np
import pytest
from PIL import Image

from jaxgen import visualisation as vis


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


def test_latent_panels_sit_side_by_side_and_count_the_codes_outside_a_fixed_frame():
    from jaxgen.visualisation.latents import framed_title
    codes = np.array([[0.0, 0.0], [5.0, 0.0], [0.0, -7.0], [2.9, 2.9]])
    assert framed_title('AAE', codes, 3.0) == 'AAE\n2 of 4 codes outside the frame'
    one = vis.latent_scatter(codes, np.arange(4))
    two = vis.latent_panels([('a', codes, np.arange(4), None), ('b', codes, None, codes)],
                            lims=[3.0, None])
    assert two.shape[0] == one.shape[0] and two.shape[1] == 2 * one.shape[1]
    with pytest.raises(ValueError, match='got 1 lims for 2 panels'):
        vis.latent_panels([('a', codes, None, None)] * 2, lims=[3.0])


def test_render_samples_picks_a_grid_for_images_and_a_scatter_for_points():
    grid = vis.render_samples(np.zeros((9, 28, 28, 1)), {'scale': 'unit'})
    assert grid.shape == (3 * 28 + 4 * 2,) * 2
    assert grid[5, 5] == 0  # 0 in [0, 1] is black
    scatter = vis.render_samples(np.zeros((50, 2)), {'centers': [[1.0, 0.0], [-1.0, 0.0]]})
    assert scatter.ndim == 3 and scatter.shape[2] == 3
