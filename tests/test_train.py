"""The trainer: one trace, exact resume after a real SIGTERM, workdir contents,
and bad input that leaves the workdir untouched."""

import json
import os
import signal

import chex
import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pytest

from configs import dcgan, gan_ring
from jaxgen import sample as sample_lib
from jaxgen.errors import JaxgenError
from jaxgen.logging import read_scalars
from jaxgen.training import Checkpoints, experiment, train
from jaxgen.training.restore import load
from tests.helpers import count_step_builds


def ring_config(**overrides):
    c = gan_ring.get_config()
    c.num_steps = 6
    c.batch_size = 16
    c.log_every = 2
    c.sample_every = 3
    c.checkpoint_every = 2
    c.model.latent_dim = 4
    c.model.g_hidden = (16,)
    c.model.d_hidden = (16,)
    c.rule.d_steps = 2
    for k, v in overrides.items():
        c[k] = v
    return c


def digits_dcgan_config():
    c = dcgan.get_config()
    c.data.name = 'digits'
    c.num_steps = 2
    c.batch_size = 8
    c.log_every = 1
    c.sample_every = 2
    c.checkpoint_every = 2
    c.model.features = 4
    c.model.latent_dim = 8
    return c


def test_train_step_is_traced_once(tmp_path, monkeypatch):
    """One program (steps_per_call 1), built once, while it traced: its seed a tracer."""
    builds = count_step_builds(monkeypatch)
    result = train(ring_config(), str(tmp_path / 'run'))  # 6 steps, 3 checkpoints
    assert result.step == 6 and not result.preempted
    assert len(builds) == 1 and isinstance(builds[0]['seed'], jax.core.Tracer)  # traced


def test_killed_and_resumed_run_matches_uninterrupted_run(tmp_path):
    config = ring_config()
    full = train(config, str(tmp_path / 'full'))

    def sigterm_at_step_3(step, state):
        del state
        if step == 3:
            os.kill(os.getpid(), signal.SIGTERM)
    workdir = str(tmp_path / 'killed')
    first = train(config, workdir, hooks=[sigterm_at_step_3])
    assert first.preempted and first.step == 3
    assert Checkpoints(workdir).latest_step() == 3  # saved on the signal, off schedule
    resumed = train(config, workdir)
    assert resumed.step == 6 and not resumed.preempted
    chex.assert_trees_all_equal(jax.device_get(resumed.state), jax.device_get(full.state))


def test_workdir_holds_config_pictures_tensorboard_and_checkpoints(tmp_path):
    workdir = str(tmp_path / 'run')
    train(ring_config(), workdir)
    with open(os.path.join(workdir, 'config.json')) as f:
        saved = json.load(f)
    assert saved['config']['batch_size'] == 16
    assert saved['data']['name'] == 'ring' and len(saved['data']['centers']) == 8
    pictures = sorted(os.listdir(os.path.join(workdir, 'pictures')))
    assert pictures == ['samples_0000000.png', 'samples_0000003.png', 'samples_0000006.png']
    scalars = read_scalars(os.path.join(workdir, 'tensorboard'))
    assert [s for s, _ in scalars['d_loss']] == [2, 4, 6]
    assert {'g_loss', 'loss/generator', 'loss/discriminator', 'steps_per_sec'} <= set(scalars)
    assert Checkpoints(workdir).latest_step() == 6
    # python -m jaxgen.sample --pictures: the pictures training drew, from the checkpoint
    paths = sample_lib.pictures(workdir)
    assert paths == [os.path.join(workdir, 'pictures_6', 'samples.png')]
    with open(paths[0], 'rb') as a, \
            open(os.path.join(workdir, 'pictures', 'samples_0000006.png'), 'rb') as b:
        assert a.read() == b.read()


def test_noema_pictures_and_samples_draw_the_trained_weights(tmp_path):
    workdir = str(tmp_path / 'run')
    c = ring_config(num_steps=2, sample_every=2, checkpoint_every=2)
    c.ema.decay, c.ema.players = 0.5, ('generator',)
    train(c, workdir)
    averaged, raw = sample_lib.pictures(workdir), sample_lib.pictures(workdir, ema=False)
    assert raw == [os.path.join(workdir, 'pictures_2_raw', 'samples.png')]
    read = lambda path: open(path, 'rb').read()  # noqa: E731
    assert read(averaged[0]) == read(os.path.join(workdir, 'pictures', 'samples_0000002.png'))
    assert read(raw[0]) != read(averaged[0])
    out = sample_lib.sample(workdir, 16, str(tmp_path / 'raw.png'), ema=False)
    assert read(out) != read(sample_lib.sample(workdir, 16, str(tmp_path / 'ema.png')))


def test_sampling_from_a_checkpoint_needs_no_training(tmp_path):
    workdir = str(tmp_path / 'run')
    config = digits_dcgan_config()
    train(config, workdir)
    out = sample_lib.sample(workdir, num=9, out=str(tmp_path / 'grid.png'), seed=3)
    from PIL import Image
    image = np.asarray(Image.open(out))
    assert image.shape[0] == image.shape[1] > 3 * 28
    exp, state, step = load(workdir)  # what the sample CLI reads
    assert step == 2
    samples = exp.model.sample(exp.variables(state), jax.random.key(3), 4)
    chex.assert_shape(samples, (4, 28, 28, 1))


def test_fallback_to_digits_is_recorded_in_the_workdir_config(tmp_path, monkeypatch):
    monkeypatch.delenv('JAXGEN_DATA_DIR', raising=False)
    monkeypatch.setenv('JAXGEN_CACHE_DIR', str(tmp_path / 'empty_cache'))
    config = digits_dcgan_config()
    config.data.name = 'mnist'
    config.num_steps = 1
    workdir = str(tmp_path / 'run')
    train(config, workdir)
    with open(os.path.join(workdir, 'config.json')) as f:
        saved = json.load(f)
    assert saved['data']['fallback'] is True and saved['data']['requested'] == 'mnist'
    config.data.fallback = False
    with pytest.raises(JaxgenError, match='fallback'):
        train(config, str(tmp_path / 'other'))
    assert not os.path.exists(tmp_path / 'other')


def _assert_untouched(workdir, before):
    after = sorted(os.listdir(workdir)) if os.path.exists(workdir) else None
    assert after == before


@pytest.mark.parametrize('change,message', [
    (lambda c: setattr(c.data, 'data_dir', '/nonexistent/mnist-files'), 'nonexistent'),
    (lambda c: setattr(c, 'batch_size', 0), 'batch_size must be a positive integer'),
    (lambda c: setattr(c.objective, 'generator_loss', 'minimax'), "unknown generator_loss"),
    (lambda c: setattr(c.model, 'name', 'resnet'), "unknown model 'resnet'"),
    (lambda c: setattr(c.rule, 'name', 'gradient_descent_ascent'), 'unknown update rule'),
    (lambda c: setattr(c.optimizers.generator, 'name', 'adamm'), 'not an optax optimizer'),
    (lambda c: setattr(c.optimizers, 'generator', {
        'name': 'adam', 'learning_rate': {'name': 'cosine'}}), 'not an optax schedule'),
    (lambda c: setattr(c.optimizers, 'generator', {
        'name': 'adam', 'learning_rate': {'name': 'exponential_decay', 'init': 1e-3}}),
     'rejects'),
])
def test_bad_config_is_one_clear_line_and_creates_no_workdir(tmp_path, change, message):
    config = ring_config()
    if 'data_dir' in message or message == 'nonexistent':
        config = digits_dcgan_config()
        config.data.name = 'mnist'
    change(config)
    workdir = str(tmp_path / 'run')
    with pytest.raises(JaxgenError, match=message) as info:
        train(config, workdir)
    assert '\n' not in str(info.value)
    assert not os.path.exists(workdir)


def test_checkpoint_that_does_not_fit_the_config_is_refused_untouched(tmp_path):
    workdir = str(tmp_path / 'run')
    train(ring_config(), workdir)
    before = sorted(os.listdir(workdir))
    with open(os.path.join(workdir, 'config.json')) as f:
        config_before = f.read()
    bigger = ring_config()
    bigger.model.g_hidden = (32,)
    with pytest.raises(JaxgenError, match='does not fit the config.*generator') as info:
        train(bigger, workdir)
    assert '\n' not in str(info.value) and '--workdir' in str(info.value)
    _assert_untouched(workdir, before)
    with open(os.path.join(workdir, 'config.json')) as f:
        assert f.read() == config_before


def test_corrupt_gz_is_one_clear_line_and_creates_no_workdir(tmp_path, monkeypatch):
    folder = tmp_path / 'data' / 'mnist'
    folder.mkdir(parents=True)
    for name in ('train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz',
                 't10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz'):
        (folder / name).write_bytes(b'\x1f\x8b truncated')
    monkeypatch.setenv('JAXGEN_CACHE_DIR', str(tmp_path / 'fresh_cache'))
    config = digits_dcgan_config()
    config.data.name = 'mnist'
    config.data.data_dir = str(tmp_path / 'data')
    workdir = str(tmp_path / 'run')
    with pytest.raises(JaxgenError, match='corrupt or truncated.*replace it') as info:
        train(config, workdir)
    assert '\n' not in str(info.value)
    assert not os.path.exists(workdir)


def test_divergence_stops_with_one_line_and_keeps_the_last_checkpoint(tmp_path):
    config = ring_config()
    workdir = str(tmp_path / 'run')
    train(config, workdir)  # a good checkpoint at step 6
    config.num_steps = 10
    config.optimizers.generator.learning_rate = float('nan')  # poisons G at step 7
    with pytest.raises(JaxgenError, match="training diverged at step 7: the generator's "
                       r"parameters are not finite.*checkpoints/6, where a rerun") as info:
        train(config, workdir)
    assert '\n' not in str(info.value)
    assert Checkpoints(workdir).latest_step() == 6


def test_a_learning_rate_schedule_from_the_config_counts_the_players_updates():
    """Burda et al.'s step decay, written as a config: lr 1.0, then x0.1 from
    update 2 on (string keys, as a ConfigDict stores them)."""
    config = ml_collections.ConfigDict({'name': 'sgd', 'learning_rate': {
        'name': 'piecewise_constant_schedule', 'init_value': 1.0,
        'boundaries_and_scales': {'2': 0.1}}})
    opt = experiment.build_optimizer('encoder', config)
    params = {'w': jnp.zeros(())}
    state, steps = opt.init(params), []
    for _ in range(4):
        updates, state = opt.update({'w': jnp.ones(())}, state, params)
        steps.append(float(updates['w']))
    np.testing.assert_allclose(steps, [-1.0, -1.0, -0.1, -0.1], rtol=1e-6)


def test_pictures_at_start_false_skips_only_the_step_0_pictures(tmp_path):
    """config.pictures_at_start=False (the autoregressive configs' setting: an untrained
    model's pixel-by-pixel samples cost minutes) draws no pictures before the first step,
    and every later one as before."""
    config = ring_config()
    config.pictures_at_start = False
    workdir = str(tmp_path / 'run')
    train(config, workdir)
    assert sorted(os.listdir(os.path.join(workdir, 'pictures'))) == [
        'samples_0000003.png', 'samples_0000006.png']
