"""``python -m jaxgen.translate``: a pix2pix trained on a folder of aligned pairs
translates image files and a split of its dataset into PNG files; each kind of bad
input is one line and writes nothing."""

import os

import numpy as np
import pytest
from PIL import Image

from configs import pix2pix as pix2pix_config
from jaxgen.errors import JaxgenError
from jaxgen.training import train
from jaxgen.translate import translate
from tests.test_train import ring_config

# One worker runs the module (pytest -n 2 --dist loadgroup), so the trained workdir,
# a module fixture, is built once.
pytestmark = pytest.mark.xdist_group('translate')


@pytest.fixture(scope='module')
def workdir(tmp_path_factory):
    """A pix2pix trained 2 steps on a folder of 6 aligned 16x32 pairs (A | B): 16 px
    keeps the U-Net, and so the compiled programs, small."""
    root = tmp_path_factory.mktemp('pairs')
    rng = np.random.default_rng(0)
    for split in ('train', 'test'):
        os.makedirs(root / split)
        for i in range(6):
            a = rng.integers(0, 256, (16, 16), np.uint8)
            Image.fromarray(np.concatenate([a, 255 - a], 1)).save(root / split / f'{i}.png')
    c = pix2pix_config.get_config()
    c.data.name = f'folder:{root}'
    c.data.cache_dir = str(root / 'cache')
    c.model.features, c.batch_size, c.num_steps = 4, 2, 2
    c.model.receptive_field = 16  # 70 leaves no output unit on 16 px
    c.sample_every = c.checkpoint_every = 2
    path = str(tmp_path_factory.mktemp('run') / 'pix2pix')
    train(c, path)
    return path


def test_files_and_a_split_are_translated_into_pngs(workdir, tmp_path):
    files = []
    for i, (size, mode) in enumerate(((16, 'L'), (40, 'RGB'))):
        files.append(str(tmp_path / f'in{i}.png'))
        Image.new(mode, (size, size), 128).save(files[-1])
    out = translate(workdir, files, [], str(tmp_path / 'out'), resize=True, channels=True)
    assert sorted(os.listdir(out)) == ['in0_output.png', 'in1_output.png', 'translations.png']
    assert Image.open(os.path.join(out, 'in1_output.png')).size == (16, 16)
    out = translate(workdir, ['split:test:3'], ['output'], str(tmp_path / 'split'))
    assert sorted(os.listdir(out)) == [f'test_{i:04d}_output.png' for i in range(3)] + \
        ['translations.png']


@pytest.mark.parametrize('make_input, kwargs, message', [
    (lambda p: Image.new('L', (40, 40)).save(p), {}, r'is 40x40 but the model translates '
                                                     r'16x16 images: pass --resize'),
    (lambda p: Image.new('RGB', (16, 16)).save(p), {}, r'has 3 channel\(s\) but the model '
                                                       r'takes 1: pass --channels'),
    (lambda p: Image.new('L', (16, 16)).save(p), {'targets': ['thick']},
     r"--target 'thick' is not one of this model's targets: 0 output"),
    (lambda p: open(p, 'w').write('not an image'), {}, 'cannot read image'),
])
def test_bad_input_is_one_line_and_writes_nothing(workdir, tmp_path, make_input, kwargs,
                                                  message):
    path = str(tmp_path / 'in.png')
    make_input(path)
    out = str(tmp_path / 'out')
    with pytest.raises(JaxgenError, match=message) as info:
        translate(workdir, [path], kwargs.get('targets', []), out)
    assert '\n' not in str(info.value) and not os.path.exists(out)


def test_a_model_that_does_not_translate_is_one_line(tmp_path):
    config = ring_config()
    config.num_steps = 1
    train(config, str(tmp_path / 'ring'))
    with pytest.raises(JaxgenError, match='does not translate images; use python -m '
                                          'jaxgen.sample'):
        translate(str(tmp_path / 'ring'), ['x.png'], [], str(tmp_path / 'out'))
    assert not os.path.exists(tmp_path / 'out')


def test_evaluate_measures_a_translation_model(workdir):
    from jaxgen.evaluate import evaluate
    results = evaluate(workdir, samples=6)  # the folder has no labels: L1 and SSIM
    assert set(results) == {'l1_output', 'ssim_output'}
    assert 0 < results['l1_output'] < 2 and -1 <= results['ssim_output'] <= 1
