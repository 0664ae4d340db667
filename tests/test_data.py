"""Tests of jaxgen.data: mixtures, image batching, the digits fallback, bad input, real MNIST.

The real-data tests need JAXGEN_DATA_DIR pointing at a folder with an ``mnist`` subfolder (or
the four files) holding the original IDX .gz files; they are skipped otherwise.
"""

from __future__ import annotations

import os
import subprocess
import sys

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pytest

from jaxgen.data import NAMES, data_dirs, load, mixture_centers, shuffle
from jaxgen.data import draw as draw_lib
from jaxgen.data.pixels import scale_images
from jaxgen.data.sources import mnist as images
from jaxgen.errors import JaxgenError

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KEY = jax.random.key(0)


def config(**fields) -> ml_collections.ConfigDict:
    return ml_collections.ConfigDict(fields)


def assert_one_line(error: pytest.ExceptionInfo) -> str:
    message = str(error.value)
    assert message and '\n' not in message
    return message


# Mixtures.

@pytest.mark.parametrize('name,num_modes', [('ring', 8), ('grid', 25)])
def test_mixture_arrays_and_info(name, num_modes):
    ds = load(config(name=name))
    assert ds.name == name and ds.arrays['centers'].shape == (num_modes, 2)
    assert ds.arrays['centers'].dtype == np.float32 and ds.arrays['std'].dtype == np.float32
    assert np.allclose(ds.info['centers'], ds.arrays['centers'])
    assert ds.info['std'] == {'ring': 0.02, 'grid': 0.05}[name] and not ds.info['fallback']
    assert load(config(name=name), 'test').info == ds.info


def test_ring_centers():
    centers = mixture_centers('ring', 3.0, 8)
    assert np.allclose(np.linalg.norm(centers, axis=1), 3.0, atol=1e-5)
    angles = np.round(np.arctan2(centers[:, 1], centers[:, 0]) % (2 * np.pi), 4)
    assert len(set(angles)) == 8


def test_grid_centers():
    centers = mixture_centers('grid', 2.0)
    assert len({tuple(c) for c in centers.tolist()}) == 25
    assert sorted(set(centers[:, 0].tolist())) == [-4.0, -2.0, 0.0, 2.0, 4.0]
    assert np.allclose(centers.mean(axis=0), 0.0)


@pytest.mark.parametrize('name', ['ring', 'grid'])
def test_mixture_samples(name):
    ds = load(config(name=name, mixture={'std': 0.05}))
    batch = jax.jit(ds.draw, static_argnums=3)(ds.arrays, KEY, 0, 10000)
    x = np.asarray(batch['x'])
    assert x.shape == (10000, 2) and x.dtype == np.float32
    centers = ds.arrays['centers']
    mode = np.argmin(((x[:, None] - centers[None]) ** 2).sum(-1), axis=1)
    assert set(mode.tolist()) == set(range(len(centers)))
    for k in range(len(centers)):
        residual = x[mode == k] - centers[k]
        assert np.allclose(residual.std(axis=0), 0.05, rtol=0.25)


def test_mixture_draw_determinism_and_jit():
    ds = load(config(name='ring'))
    draw = jax.jit(ds.draw, static_argnums=3)
    a, b = draw(ds.arrays, KEY, 5, 64)['x'], draw(ds.arrays, KEY, 5, 64)['x']
    assert np.array_equal(a, b)
    assert not np.allclose(a, draw(ds.arrays, KEY, 6, 64)['x'])
    assert np.allclose(a, ds.draw(ds.arrays, KEY, 5, 64)['x'], atol=1e-5)


def test_mixture_bad_parameters():
    for fields in ({'std': 0.0}, {'radius': -1.0}, {'num_modes': 0}):
        with pytest.raises(JaxgenError) as error:
            load(config(name='ring', mixture=fields))
        assert_one_line(error)


# Image batching.

def synthetic(n: int) -> dict:
    pixels = np.linspace(0, 255, 28 * 28).astype(np.uint8).reshape(1, 28, 28, 1)
    image = np.tile(pixels, (n, 1, 1, 1))
    return {'image': image, 'label': np.arange(n, dtype=np.int32)}


def draw_labels(draw, arrays, steps, batch_size) -> list[np.ndarray]:
    jitted = jax.jit(draw, static_argnums=3)
    return [np.asarray(jitted(arrays, KEY, s, batch_size)['label']) for s in steps]


def test_image_draw_covers_each_epoch_once():
    arrays, draw = synthetic(12), draw_lib.image_draw('tanh')
    epoch0 = np.concatenate(draw_labels(draw, arrays, range(4), 3))
    epoch1 = np.concatenate(draw_labels(draw, arrays, range(4, 8), 3))
    assert sorted(epoch0) == list(range(12)) and sorted(epoch1) == list(range(12))
    assert not np.array_equal(epoch0, epoch1)
    again = np.concatenate(draw_labels(draw, arrays, range(4), 3))
    assert np.array_equal(epoch0, again)


@pytest.mark.parametrize('n', [1, 2, 3, 10, 17, 1797, 60000])
def test_shuffle_is_a_permutation_of_every_size_and_differs_by_key(n):
    whole = jax.jit(shuffle.permute, static_argnums=2)
    a = np.asarray(whole(jax.random.key(0), jnp.arange(n), n))
    assert a.dtype == np.int32 and np.array_equal(np.sort(a), np.arange(n))
    if n >= 10:
        b = np.asarray(whole(jax.random.key(1), jnp.arange(n), n))
        assert not np.array_equal(a, b) and not np.array_equal(a, np.arange(n))


def test_shuffle_positions_are_uniform_over_many_epochs():
    """Where example 0 lands, over 4,000 epochs of n = 10: each of the 10 places
    about 400 times (a chi-square of 9 degrees of freedom, far below its 0.1%
    tail of 27.9), and consecutive positions are not correlated."""
    n, epochs = 10, 4000
    perms = np.asarray(jax.jit(jax.vmap(lambda k: shuffle.permute(k, jnp.arange(n), n)))(
        jax.random.split(KEY, epochs)))
    counts = np.bincount(np.argmax(perms == 0, axis=1), minlength=n)
    chi2 = ((counts - epochs / n) ** 2 / (epochs / n)).sum()
    assert chi2 < 27.9, counts
    first, second = perms[:, 0], perms[:, 1]
    assert abs(np.corrcoef(first, second)[0, 1]) < 0.2


def test_image_draw_does_not_sort_the_whole_dataset_each_step():
    """The reason for shuffle.py: jax.random.permutation sorted all 60,000 indices
    in every step (~0.1 s on this CPU); the draw must not contain a sort."""
    arrays = {'image': np.zeros((60000, 28, 28, 1), np.uint8),
              'label': np.zeros(60000, np.int32)}
    draw = jax.jit(draw_lib.image_draw('unit', 'dynamic'), static_argnums=3)
    hlo = draw.lower(arrays, KEY, 0, 128).as_text()
    assert 'stablehlo.sort' not in hlo


def test_image_draw_no_repeats_when_batch_does_not_divide():
    arrays, draw = synthetic(10), draw_lib.image_draw('unit')
    for epoch in range(2):
        labels = np.concatenate(draw_labels(draw, arrays, range(3 * epoch, 3 * epoch + 3), 3))
        assert len(set(labels.tolist())) == 9


@pytest.mark.parametrize('scale,low,high', [('tanh', -1.0, 1.0), ('unit', 0.0, 1.0)])
def test_image_draw_scale(scale, low, high):
    batch = jax.jit(draw_lib.image_draw(scale), static_argnums=3)(synthetic(4), KEY, 0, 2)
    x = np.asarray(batch['image'])
    assert x.shape == (2, 28, 28, 1) and x.dtype == np.float32
    assert batch['label'].dtype == np.int32
    assert x.min() == low and x.max() == high


def test_image_draw_rejects_oversized_batch():
    with pytest.raises(JaxgenError) as error:
        draw_lib.image_draw()(synthetic(4), KEY, 0, 5)
    assert_one_line(error)


# Digits and the fallback.

def test_digits():
    ds = load(config(name='digits'))
    image, label = ds.arrays['image'], ds.arrays['label']
    assert image.shape == (1500, 28, 28, 1) and image.dtype == np.uint8
    assert label.dtype == np.int32 and set(label.tolist()) == set(range(10))
    assert image[:, :4].max() == 0 and image[:, -4:].max() == 0 and image.max() > 200
    assert not ds.info['fallback'] and ds.info['num_examples'] == 1500
    assert load(config(name='digits'), 'test').arrays['image'].shape == (297, 28, 28, 1)


@pytest.fixture
def no_data(monkeypatch, tmp_path):
    monkeypatch.delenv('JAXGEN_DATA_DIR', raising=False)
    monkeypatch.setenv('JAXGEN_CACHE_DIR', str(tmp_path / 'cache'))


def test_fallback_to_digits(no_data):
    ds = load(config(name='mnist', fallback=True))
    assert ds.name == 'digits' and ds.info['fallback'] and ds.info['requested'] == 'mnist'
    assert ds.arrays['image'].shape == (1500, 28, 28, 1)


def test_no_fallback_is_an_error(no_data):
    with pytest.raises(JaxgenError) as error:
        load(config(name='fashion_mnist', fallback=False))
    assert 'JAXGEN_DATA_DIR' in assert_one_line(error)


# Bad input.

def test_unknown_names():
    with pytest.raises(JaxgenError) as error:
        load(config(name='cifar'))
    assert all(name in assert_one_line(error) for name in NAMES)
    for kwargs, split in (({'scale': 'wide'}, 'train'), ({}, 'validation')):
        with pytest.raises(JaxgenError) as error:
            load(config(name='digits', **kwargs), split)
        assert_one_line(error)


@pytest.mark.parametrize('via_env', [False, True])
def test_missing_data_dir_is_an_error_even_with_fallback(monkeypatch, tmp_path, via_env):
    folder = str(tmp_path / 'nowhere')
    cfg = config(name='mnist', fallback=True, cache_dir=str(tmp_path / 'cache'))
    if via_env:
        monkeypatch.setenv('JAXGEN_DATA_DIR', folder)
    else:
        cfg.data_dir = folder
    with pytest.raises(JaxgenError) as error:
        load(cfg)
    assert folder in assert_one_line(error)


def fake_files(folder, skip: str | None = None) -> None:
    os.makedirs(folder, exist_ok=True)
    for fname in images.PUBLISHED['mnist']:
        if fname != skip:
            with open(os.path.join(folder, fname), 'wb') as f:
                f.write(b'\x1f\x8b not the original')


def test_corrupt_file_is_an_error(tmp_path):
    fake_files(tmp_path / 'mnist')
    with pytest.raises(JaxgenError) as error:
        load(config(name='mnist', data_dir=str(tmp_path), cache_dir=str(tmp_path / 'cache')))
    message = assert_one_line(error)
    assert 'corrupt or truncated' in message and str(tmp_path / 'mnist') in message


def test_missing_file_is_an_error(tmp_path):
    fake_files(tmp_path, skip='t10k-labels-idx1-ubyte.gz')
    with pytest.raises(JaxgenError) as error:
        load(config(name='mnist', data_dir=str(tmp_path), cache_dir=str(tmp_path / 'cache')))
    message = assert_one_line(error)
    assert 't10k-labels-idx1-ubyte.gz' in message and str(tmp_path) in message


# Real data.

DATA_DIR = os.environ.get('JAXGEN_DATA_DIR')


def real_folder(name: str) -> str:
    if not DATA_DIR or not os.path.isdir(DATA_DIR):
        pytest.skip('JAXGEN_DATA_DIR not set: real MNIST files are not available')
    folder = images.find_folder(DATA_DIR, name)
    if not os.path.isfile(os.path.join(folder, 'train-images-idx3-ubyte.gz')):
        pytest.skip(f'JAXGEN_DATA_DIR holds no {name} files')
    return folder


@pytest.mark.parametrize('name', images.NAMES)
def test_real_files_match_published_checksums(name):
    images.verify_files(real_folder(name), name)


@pytest.fixture(scope='session')
def mnist_cache() -> str:
    """The run's own cache ($JAXGEN_CACHE_DIR), where MNIST is prepared from the real
    files once (under a lock) for every test that needs it, then read back here."""
    real_folder('mnist')
    cache_dir = data_dirs(config(name='mnist'))[1]
    load(config(name='mnist', data_dir=DATA_DIR, cache_dir=cache_dir))  # Prepares both splits.
    return cache_dir


@pytest.mark.xdist_group('real_mnist')  # one worker prepares MNIST once for them
def test_real_mnist(mnist_cache):
    train = load(config(name='mnist', data_dir=DATA_DIR, cache_dir=mnist_cache))
    test = load(config(name='mnist', data_dir=DATA_DIR, cache_dir=mnist_cache), 'test')
    assert train.arrays['image'].shape == (60000, 28, 28, 1)
    assert test.arrays['image'].shape == (10000, 28, 28, 1)
    assert train.arrays['image'].dtype == np.uint8 and train.arrays['label'].dtype == np.int32
    counts = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    assert np.bincount(train.arrays['label']).tolist() == counts
    assert abs(train.arrays['image'].mean() / 255 - 0.1307) < 1e-3
    assert not train.info['fallback'] and train.info['num_examples'] == 60000


@pytest.mark.xdist_group('real_mnist')  # one worker prepares MNIST once for them
def test_fashion_mnist_prepared_after_mnist_in_one_cache_is_fashion_mnist(mnist_cache):
    """The two share file names; TFDS must not build the second from the first's files
    (which it did when Fashion-MNIST was prepared second, as in a fresh CI cache)."""
    real_folder('fashion_mnist')
    fashion = load(config(name='fashion_mnist', data_dir=DATA_DIR, cache_dir=mnist_cache),
                   'test')
    assert abs(fashion.arrays['image'].mean() / 255 - 0.2860) < 2e-3  # MNIST's is 0.1325
    assert np.bincount(fashion.arrays['label']).tolist() == [1000] * 10


def test_each_dataset_is_prepared_from_its_own_download_folder(tmp_path, monkeypatch):
    """The fix behind the Fashion-MNIST regression (the real preparation, 50 s, is in the
    slow tier): MNIST and Fashion-MNIST share file names, so TFDS must extract each into
    its own folder, reading the given data folder as its manual folder."""
    import tensorflow_datasets as tfds  # pylint: disable=import-outside-toplevel
    calls = []

    class Builder:
        def __init__(self, name):
            self.name = name

        def download_and_prepare(self, download_dir, download_config=None):
            calls.append((self.name, download_dir, download_config.manual_dir))

        def as_dataset(self, split, batch_size):
            del split, batch_size
            return {'image': np.zeros((2, 28, 28, 1), np.uint8), 'label': np.zeros(2, np.int64)}
    monkeypatch.setattr(tfds, 'builder', lambda name, data_dir: Builder(name))
    monkeypatch.setattr(tfds, 'as_numpy', lambda d: d)
    for name in ('mnist', 'fashion_mnist'):
        images.prepare(name, str(tmp_path / f'{name}-files'), str(tmp_path / 'cache'))
    (a, dir_a, manual_a), (b, dir_b, manual_b) = calls
    assert (a, b) == ('mnist', 'fashion_mnist') and dir_a != dir_b
    assert os.path.commonpath([dir_a, dir_b]) == str(tmp_path / 'cache' / 'tfds' / 'downloads')
    assert manual_a.endswith('mnist-files') and manual_b.endswith('fashion_mnist-files')


def test_a_fashion_cache_built_from_mnist_files_is_refused(tmp_path):
    """Caches that an older jaxgen built from MNIST's files under Fashion-MNIST's name."""
    labels = np.repeat(np.arange(10, dtype=np.int32), np.arange(1, 11))  # unbalanced
    images._write_npz(images.cache_path(str(tmp_path), 'fashion_mnist', 'test'),
                      np.zeros((55, 28, 28, 1), np.uint8), labels)
    with pytest.raises(JaxgenError, match='is not Fashion-MNIST') as error:
        load(config(name='fashion_mnist', cache_dir=str(tmp_path)), 'test')
    assert_one_line(error)


@pytest.mark.xdist_group('real_mnist')  # one worker prepares MNIST once for them
def test_cached_mnist_loads_without_tensorflow(mnist_cache):
    code = ('import sys; from jaxgen.data import load; '
            "ds = load({'name': 'mnist'}, 'test'); "
            "assert ds.arrays['image'].shape == (10000, 28, 28, 1); "
            "assert not [m for m in sys.modules if m.startswith('tensorflow')], 'TF imported'")
    env = {k: v for k, v in os.environ.items() if k != 'JAXGEN_DATA_DIR'}
    env.update(JAXGEN_CACHE_DIR=mnist_cache, PYTHONPATH=ROOT, JAX_PLATFORMS='cpu')
    result = subprocess.run([sys.executable, '-c', code], env=env, cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]


def test_dynamic_binarization_redraws_each_epoch_and_static_is_fixed():
    import ml_collections
    draw = draw_lib.image_draw('unit', 'dynamic')
    grey = np.full((8, 28, 28, 1), 64, np.uint8)  # p = 64/255 per pixel
    arrays = {'image': grey, 'label': np.arange(8, dtype=np.int32)}
    key = jax.random.key(0)
    draws = np.stack([np.asarray(draw(arrays, key, s, 8)['image']) for s in range(20)])
    assert set(np.unique(draws)) == {0.0, 1.0}
    assert not np.array_equal(draws[0], draws[1])  # a fresh draw each epoch (N = batch)
    np.testing.assert_allclose(draws.mean(), 64 / 255, atol=0.01)
    np.testing.assert_array_equal(draws[3], np.asarray(draw(arrays, key, 3, 8)['image']))

    cfg = ml_collections.ConfigDict({'name': 'digits', 'scale': 'unit', 'binarize': 'static'})
    c, again = load(cfg), load(cfg)
    assert set(np.unique(c.arrays['image'])) <= {0, 255}
    np.testing.assert_array_equal(c.arrays['image'], again.arrays['image'])
    plain = load(ml_collections.ConfigDict({'name': 'digits'}))
    np.testing.assert_allclose(c.arrays['image'].mean() / 255,
                               plain.arrays['image'].mean() / 255, atol=0.01)
    with pytest.raises(JaxgenError, match="scale='unit'"):
        load(ml_collections.ConfigDict({'name': 'digits', 'scale': 'tanh',
                                        'binarize': 'dynamic'}))


def test_runs_started_together_build_the_cache_once(tmp_path):
    """Two seeds launched at once on a fresh cache raced in TFDS's folders and one
    crashed (FileExistsError); the cache is now built under an exclusive file lock."""
    import threading  # pylint: disable=import-outside-toplevel
    import time  # pylint: disable=import-outside-toplevel
    path, builds, inside = str(tmp_path / 'cache' / 'x-train.npz'), [], []

    def build():
        inside.append(1)
        builds.append(len(inside))  # how many builders are inside at once
        time.sleep(0.2)
        images._write_npz(path, np.zeros((1, 28, 28, 1), np.uint8), np.zeros(1, np.int32))
        inside.pop()

    threads = [threading.Thread(target=images.build_once,
                                args=(path, build, str(tmp_path / 'cache' / 'x.lock')))
               for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert builds == [1]  # built once, by one builder; the others found the file
    assert images.read_cache(path)['image'].shape == (1, 28, 28, 1)


def test_pixels_scale_to_the_correctly_rounded_float32_in_every_program():
    """uint8 -> float32 is a lookup of the correctly rounded values, so a stream and the
    on-device draw (different programs) give the same bits; other dtypes still scale."""
    levels = np.arange(256, dtype=np.uint8)
    for scale, expected in (('tanh', levels / 127.5 - 1.0), ('unit', levels / 255.0)):
        alone = np.asarray(jax.jit(lambda x, s=scale: scale_images(x, s))(levels))
        np.testing.assert_array_equal(alone, expected.astype(np.float32))
        other = jax.jit(lambda x, s=scale: jnp.stack([scale_images(x[::-1], s),
                                                     jnp.tanh(x.astype(jnp.float32))]))
        np.testing.assert_array_equal(np.asarray(other(levels))[0], alone[::-1])
        np.testing.assert_allclose(scale_images(levels.astype(np.float32), scale), alone,
                                   atol=1e-7)
    assert scale_images(levels).dtype == jnp.float32
