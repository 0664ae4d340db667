"""Progressive GAN (models/progressive/progan.py, schedule.py, objectives/progan.py,
configs/progan.py): the fade-in at alpha 0 and 1, shapes, the players each term reaches,
the schedule, one-line errors, and a run killed in the middle of a fade-in resumed
bit-exactly."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from configs import progan as progan_config
from jaxgen.errors import JaxgenError
from jaxgen.models.layers import split_variables
from jaxgen.models.layers.equalized import downscale2d, upscale2d
from jaxgen.models.progressive import progan, schedule
from jaxgen.training import Checkpoints, experiment, periodic, stages, train
from tests import helpers

SHAPE = (16, 16, 1)
INFO = {'kind': 'images', 'shape': list(SHAPE), 'scale': 'tanh'}
BATCH, FADE_START, FADE_STEPS = 4, 10, 4


def tiny_config(arg='mnist32,resolution=16,batch=4'):
    c = progan_config.get_config(arg)
    c.model.fmap_base, c.model.fmap_max, c.model.latent_dim = 16, 8, 8
    return c


def stage_config(resolution, fade_steps=0):
    c = stages.stage_config(tiny_config(), 0)
    c.model.resolution, c.model.fade_start, c.model.fade_steps = (resolution, FADE_START,
                                                                  fade_steps)
    return c


@pytest.fixture(scope='module')
def grown():
    """Experiments at 4x4 and at 8x8 fading in, the 8x8 variables carried from the 4x4's."""
    old, new = experiment.build(stage_config(4), INFO), experiment.build(
        stage_config(8, FADE_STEPS), INFO)
    old_vars = old.model.init(jax.random.key(0))
    new_vars = stages.carry_leaves(old_vars, new.model.init(jax.random.key(1)))
    return old, new, old_vars, new_vars


def batch(step):
    image = jnp.tanh(jax.random.normal(jax.random.key(5), (BATCH, *SHAPE)))
    return {'image': image, 'step': jnp.asarray(step)}


def plain(outputs):
    return {k: v for k, v in outputs.items() if k != 'critic'}


def test_fade_in_is_the_lower_resolution_at_alpha_0_and_the_new_network_at_1(grown):
    old, new, old_vars, new_vars = grown
    stable = experiment.build(stage_config(8), INFO).model  # no fade: the new network
    key = jax.random.key(2)

    @jax.jit
    def run():
        return [plain(m.forward(v, batch(s), key)[0]) for m, v, s in (
            (old.model, old_vars, 0), (new.model, new_vars, FADE_START),
            (new.model, new_vars, FADE_START + FADE_STEPS), (stable, new_vars, 0),
            (new.model, new_vars, FADE_START + FADE_STEPS // 2))]
    before, start, end, network, middle = run()
    chex.assert_shape([start['fake'], start['real']], (BATCH, 8, 8, 1))
    chex.assert_shape([start['real_logits'], start['fake_logits']], (BATCH,))
    assert [float(o['alpha']) for o in (start, end, middle)] == [0.0, 1.0, 0.5]
    # alpha 0: the 4x4 network's images upsampled, the 4x4 critic, the reals blurred
    np.testing.assert_array_equal(start['fake'], upscale2d(before['fake']))
    np.testing.assert_allclose(before['real'], downscale2d(batch(0)['image'], 4), atol=1e-7)
    np.testing.assert_allclose(start['real'], upscale2d(before['real']), atol=1e-7)
    for logits in ('real_logits', 'fake_logits'):
        np.testing.assert_allclose(start[logits], before[logits], rtol=1e-5, atol=1e-6)
    # alpha 1: exactly the 8x8 network without its fade
    for name in ('fake', 'real', 'real_logits', 'fake_logits'):
        np.testing.assert_array_equal(end[name], network[name])
    assert not np.allclose(middle['fake'], end['fake'])
    assert not np.allclose(middle['fake'], start['fake'])
    # samples are the data's size, at alpha 1, clipped to the data range (the linear
    # output is not: the official code clips when it makes images)
    samples = new.model.generate(new_vars, {'z': start['z']}, None)
    chex.assert_shape(samples, (BATCH, *SHAPE))
    np.testing.assert_allclose(samples, jnp.clip(upscale2d(end['fake']), -1.0, 1.0),
                               rtol=1e-5, atol=1e-5)
    assert float(jnp.max(jnp.abs(end['fake']))) > 1.0  # so the clip is seen


def term_reach(objective, params, state, key):
    """``reach(batch) -> ({term: players its gradient reaches}, [per-term gradients])``:
    one compiled gradient taken once per term (cheaper to compile than a Jacobian)."""
    names = [t.name for t in objective.terms]

    @jax.jit
    def term_grads(batch, weights):  # the gradient of one term (one-hot weights)
        def value(p):
            metrics = objective(p, state, batch, key)[1].metrics
            return jnp.stack([metrics[n] for n in names]) @ weights
        return jax.grad(value)(params)

    def reach(batch):
        grads = [term_grads(batch, jnp.eye(len(names))[i]) for i in range(len(names))]
        assert all(bool(jnp.all(jnp.isfinite(g))) for g in jax.tree.leaves(grads))
        return {n: {p for p, g in grads[i].items() if any(float(jnp.abs(x).sum()) > 0
                                                           for x in jax.tree.leaves(g))}
                for i, n in enumerate(names)}, grads
    return reach


def test_gradients_are_finite_and_reach_their_players_and_the_fading_branch(grown):
    _, new, _, new_vars = grown
    params, state = {}, {}
    for player, v in new_vars.items():
        params[player], state[player] = split_variables(v)
    reach = term_reach(new.objective, params, state, jax.random.key(3))
    both = {'generator', 'discriminator'}
    middle, grads = reach(batch(FADE_START + 1))
    assert middle == {'d_loss': both, 'g_loss': both, 'gradient_penalty': both,
                      'drift': {'discriminator'}}
    weights = {t.name: dict(t.weights) for t in new.objective.terms}
    assert weights == {'d_loss': {'discriminator': 1.0}, 'g_loss': {'generator': 1.0},
                       'gradient_penalty': {'discriminator': 10.0},
                       'drift': {'discriminator': 1e-3}}
    g_loss = [t.name for t in new.objective.terms].index('g_loss')
    # the 4x4 output layer is blended out: no gradient once alpha reaches 1
    assert float(jnp.abs(grads[g_loss]['generator']['to_rgb_4']['kernel']).sum()) > 0
    _, grads = reach(batch(FADE_START + FADE_STEPS))
    assert float(jnp.abs(grads[g_loss]['generator']['to_rgb_4']['kernel']).sum()) == 0


def test_the_schedule_grows_by_images_shown_and_the_baseline_shows_as_many():
    c = progan_config.get_config()
    resolutions = [s['model']['resolution'] for s in c.stages]
    assert resolutions == [4, 8, 8, 16, 16, 32, 32]
    assert [s['model']['fade_steps'] > 0 for s in c.stages] == [False] + [True, False] * 3
    untils = [s.get('until', c.num_steps) for s in c.stages]
    sizes = [s['batch_size'] for s in c.stages]
    images = np.diff([0, *untils]) * sizes
    assert all(600_000 <= n < 600_000 + b for n, b in zip(images, sizes))
    for i in range(1, 7, 2):  # each fade-in covers its own stage
        assert c.stages[i]['model']['fade_start'] == untils[i - 1]
        assert c.stages[i]['model']['fade_steps'] == untils[i] - untils[i - 1]
    assert [s['reset_optimizer'] for s in c.stages] == [False] + [True] * 6
    assert sizes == [128] * 5 + [64] * 2
    flat = progan_config.get_config('mnist32,grow=0')
    assert 'stages' not in flat and flat.model.resolution == 32
    assert abs(flat.num_steps * flat.batch_size - images.sum()) < 64 * 7
    assert progan_config.get_config('tfds:celeb_a,resolution=64').data.resize == 64
    assert (progan_config.get_config('glyphs').data.resize, c.data.resize) == (32, 0)


@pytest.mark.parametrize('make, message', [
    (lambda: progan.build(stage_config(12).model, INFO), 'power of two >= 4'),
    (lambda: progan.build(stage_config(32).model, INFO), 'beyond the final resolution 16'),
    (lambda: progan.build(stage_config(16).model, {**INFO, 'shape': [28, 28, 1]}),
     'do not pool down to 16x16; set config.data.resize=16'),
    (lambda: progan_config.get_config('mnist32,resolution=24'), 'power of two'),
    (lambda: progan_config.get_config('mnist32,kimg=x'), 'integer values'),
    (lambda: schedule.growth_stages(32, progan_config.BATCH_SIZES, 600, 100),
     'shorter than one stage: fading in 8x8 shows 100 images'),
    (lambda: schedule.growth_stages(4, progan_config.BATCH_SIZES, 600, 600), 'never grows'),
])
def test_bad_input_is_one_line(make, message):
    with pytest.raises(JaxgenError, match=message) as error:
        make()
    assert '\n' not in str(error.value)


def resumes_exactly(c, workdir, kill):
    full = train(c, str(workdir / 'full'))
    killed = str(workdir / 'killed')
    first = train(c, killed, hooks=[helpers.kill_at(kill)])
    assert first.preempted and first.step == kill and Checkpoints(killed).latest_step() == kill
    resumed = train(c, killed)
    assert resumed.step == c.num_steps and not resumed.preempted
    chex.assert_trees_all_equal(jax.device_get(resumed.state), jax.device_get(full.state))
    return full


def digits_config():
    c = tiny_config('digits,resolution=8,batch=4')
    c.data.resize = 8
    c.log_every, c.sample_every, c.checkpoint_every = 100, 100, 100
    return c


def test_a_run_killed_in_the_middle_of_a_fade_in_resumes_bit_exactly(tmp_path, monkeypatch):
    # pictures have nothing to do with resuming (and cost a matplotlib figure each time)
    monkeypatch.setattr(periodic.Periodic, 'write_pictures', lambda *args: None)
    c = stages.stage_config(digits_config(), 0)  # one stage: 8x8 fading in over 4 steps
    c.model.resolution, c.model.fade_start, c.model.fade_steps = 8, 0, 4
    c.num_steps = 3
    full = resumes_exactly(c, tmp_path, kill=2)  # alpha 0.5
    assert 'to_rgb_4' in full.state.ema['generator']


def test_a_staged_run_killed_in_the_middle_of_a_fade_in_resumes_bit_exactly(tmp_path):
    c = digits_config()  # slow tier: 4x4 for 2 steps, then 8x8 fading in over 4
    c.stages, _ = schedule.growth_stages(8, {4: 4, 8: 4}, 8, 16)
    c.stages = (c.stages[0], {k: v for k, v in c.stages[1].items() if k != 'until'})
    c.num_steps = 6
    full = resumes_exactly(c, tmp_path, kill=4)  # alpha 0.5
    assert 'to_rgb_4' in full.state.ema['generator']
