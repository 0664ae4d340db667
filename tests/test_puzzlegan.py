"""Puzzle-GAN (Lee et al., 2017; hellbell/KeyPatchGan): shapes, target masks, the extra
negatives, which players each term reaches, loss values against numpy, the weight
schedule, one-line errors, its metrics and a short train()."""

import dataclasses

import chex
import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pytest

from configs import puzzlegan as puzzle_config
from jaxgen.errors import JaxgenError
from jaxgen.metrics.own import puzzlegan as puzzle_metrics
from jaxgen.models.conditional import puzzlegan
from jaxgen.models.layers import split_variables
from jaxgen.objectives import puzzlegan as puzzle_objective
from jaxgen.training import train
from jaxgen.visualisation.pictures import for_model as pictures_for
from jaxgen.visualisation.pictures import puzzlegan as puzzle_pictures

B, P, S, SIDE = 4, 3, 8, 28
INFO = {'shape': [SIDE, SIDE, 1], 'kind': 'images', 'scale': 'tanh',
        'patches': {'num': P, 'size': S}}
TINY = {'features': 2, 'code_dim': 4, 'latent_dim': 4}


def tiny_model(**overrides):
    return puzzlegan.build(ml_collections.ConfigDict({**TINY, **overrides}), INFO)


def make_batch(seed=0):
    rng = np.random.default_rng(seed)
    image = rng.uniform(-1, 1, (B, SIDE, SIDE, 1)).astype(np.float32)
    boxes = np.zeros((B, P, 4), np.int32)
    boxes[..., :2] = rng.integers(0, SIDE - S + 1, (B, P, 2))
    boxes[..., 2:] = S
    patches = np.stack([[image[i, t:t + S, l:l + S] for t, l, _, _ in boxes[i]]
                        for i in range(B)])
    return {'image': image, 'patches': patches, 'boxes': boxes, 'step': np.int32(130)}


def numpy_masks(boxes, side=SIDE):
    masks = np.zeros((len(boxes), side, side, 1), np.float32)
    for i, example in enumerate(boxes):
        for top, left, h, w in example:
            masks[i, top:top + h, left:left + w] = 1.0
    return masks


def split(variables):
    params, state = {}, {}
    for player, v in variables.items():
        params[player], state[player] = split_variables(v)
    return params, state


def reach_from(jacobian, names):
    """As ``helpers.term_reach``: for each term, the players its value has a non-zero, finite
    gradient for (here from a Jacobian computed in the fixture's one compiled program)."""
    reach = {}
    for i, name in enumerate(names):
        grads = jax.tree.map(lambda g, i=i: g[i], jacobian)
        assert all(np.isfinite(leaf).all() for leaf in jax.tree.leaves(grads)), name
        reach[name] = {player for player, g in grads.items()
                       if any(np.abs(x).sum() > 0 for x in jax.tree.leaves(g))}
    return reach


@pytest.fixture(scope='module')
def run():
    """The tiny model, its objective and one compiled program (compiling is most of these
    tests' time): the forward outputs, the objective's metrics from the same key, and each
    term's gradient in every player's parameters."""
    model = tiny_model()
    objective = puzzle_objective.puzzlegan_objective(model, schedule_epochs=25,
                                                     schedule_steps=2500)
    variables = model.init(jax.random.key(0))
    batch, key = make_batch(), jax.random.key(2)
    params, state = split(variables)
    names = [t.name for t in objective.terms]
    captured = {}

    def capturing(*args, **kwargs):  # the forward pass, its outputs kept
        outputs, new_state = model.forward(*args, **kwargs)
        captured['outputs'] = outputs
        return outputs, new_state
    capturing_objective = dataclasses.replace(objective, forward=capturing)

    def values(params):
        metrics = capturing_objective(params, state, batch, key)[1].metrics
        return jnp.stack([metrics[n] for n in names]), (captured['outputs'], metrics)
    jacobian, (outputs, metrics) = jax.device_get(
        jax.jit(jax.jacrev(values, has_aux=True))(params))
    return model, objective, variables, batch, key, outputs, metrics, \
        reach_from(jacobian, names)


def test_shapes_and_the_target_mask_is_exactly_the_union_of_the_boxes(run):
    _, _, _, batch, _, out, _, _ = run
    chex.assert_shape([out[k] for k in ('fake', 'real', 'mask', 'target_mask', 'shuffled',
                                        'shuffled_parts', 'shuffled_background')],
                      (B, SIDE, SIDE, 1))
    chex.assert_shape([out[k] for k in ('real_logits', 'fake_logits', 'shuffled_parts_logits',
                                        'shuffled_background_logits')], (B,))
    assert out['mask'].min() > 0 and out['mask'].max() < 1
    np.testing.assert_array_equal(out['target_mask'], numpy_masks(batch['boxes']))
    # Overlapping boxes, boxes at the borders, a non-square box:
    boxes = np.array([[[0, 0, 3, 3], [1, 1, 3, 3], [25, 20, 3, 8]]], np.int32)
    np.testing.assert_array_equal(puzzlegan.box_masks(boxes, SIDE), numpy_masks(boxes))


def test_extra_negatives_mix_another_examples_image_with_the_real_one(run):
    _, _, _, batch, _, out, _, _ = run
    real, target = batch['image'], numpy_masks(batch['boxes'])
    shifts = [s for s in range(1, B) if np.array_equal(out['shuffled'], np.roll(real, s, 0))]
    assert len(shifts) == 1  # another example for every one, never itself
    other = np.roll(real, shifts[0], 0)
    np.testing.assert_allclose(out['shuffled_parts'], other * target + real * (1 - target))
    np.testing.assert_allclose(out['shuffled_background'], real * target + other * (1 - target))
    assert not np.allclose(out['shuffled_parts'], real)


def test_without_extra_negatives_there_are_none():
    model = tiny_model(extra_negatives=False)
    objective = puzzle_objective.puzzlegan_objective(model)
    assert 'd_extra_negatives' not in [t.name for t in objective.terms]
    outputs, _ = jax.eval_shape(model.forward, model.init(jax.random.key(0)), make_batch(),
                                jax.random.key(1))
    assert not any(k.startswith('shuffled') for k in outputs)


def test_canvas_parts_are_the_patches_at_their_boxes(monkeypatch):
    model, batch, seen = tiny_model(parts='canvas'), make_batch(), {}
    original = puzzlegan.apply

    def spy(module, variables, *args, **kwargs):  # keeps the part encoder's input
        if isinstance(module, puzzlegan.PartEncoder):
            seen['parts'] = args[0]
        return original(module, variables, *args, **kwargs)
    monkeypatch.setattr(puzzlegan, 'apply', spy)

    @jax.jit
    def encoder_input(variables):  # the rest of the pass is dead code to XLA
        model.complete(variables, batch['patches'], jnp.zeros((B, 4)), batch['boxes'])
        return seen['parts']
    got = np.asarray(encoder_input(model.init(jax.random.key(0)))).reshape(B, P, 32, 32, 1)
    for p in range(P):
        placed = puzzle_pictures.place(batch['patches'][:, p:p + 1], batch['boxes'][:, p:p + 1],
                                       (SIDE, SIDE, 1))
        np.testing.assert_allclose(got[:, p, 2:-2, 2:-2], placed)  # 28 px centred in 32
        assert not got[:, p, :2].any() and not got[:, p, -2:].any()
    with pytest.raises(JaxgenError, match="model.parts must be 'crops'"):
        tiny_model(parts='paste')


def test_each_term_reaches_exactly_its_players(run):
    objective, reach = run[1], run[-1]
    weights = {t.name: dict(t.weights) for t in objective.terms}
    assert weights == {'d_loss': {'discriminator': 1.0}, 'g_loss': {'generator': 1.0},
                       'd_extra_negatives': {'discriminator': 1.0},
                       'mask': {'generator': 1.0}, 'appearance': {'generator': 1.0}}
    assert objective.names == ('generator', 'discriminator')
    g_side = {'part_encoder', 'mask_net', 'generator'}
    assert reach == {'d_loss': g_side | {'discriminator'},  # D's phase moves D alone
                     'g_loss': g_side | {'discriminator'},
                     'd_extra_negatives': {'discriminator'},  # real images only
                     'mask': {'part_encoder', 'mask_net'},
                     'appearance': g_side}
    phases = puzzle_config.get_config().rule.phases
    assert phases == (('discriminator',),
                      ('generator', 'part_encoder:generator', 'mask_net:generator'))


def softplus(x):
    return np.logaddexp(0.0, np.asarray(x, np.float64))


def test_loss_values_against_numpy(run):
    _, _, _, batch, _, out, metrics, _ = run
    r, f = out['real_logits'], out['fake_logits']
    np.testing.assert_allclose(metrics['d_loss'], np.mean(softplus(-r) + softplus(f)),
                               rtol=1e-5)
    np.testing.assert_allclose(metrics['g_loss'], np.mean(softplus(-f)), rtol=1e-5)
    np.testing.assert_allclose(
        metrics['d_extra_negatives'],
        np.mean(softplus(out['shuffled_parts_logits']))
        + np.mean(softplus(out['shuffled_background_logits'])), rtol=1e-5)
    scale = 0.64 * 0.01 ** (1 / 24)  # step 130 of 2500 in 25 epochs: the second epoch
    target = numpy_masks(batch['boxes'])
    mask = np.abs(out['mask'] - target).reshape(B, -1).sum(1).mean()
    appearance = np.abs(out['fake'] * out['mask'] - batch['image'] * target)
    np.testing.assert_allclose(metrics['mask/scale'], scale, rtol=1e-6)
    np.testing.assert_allclose(metrics['mask'], scale * mask, rtol=1e-5)
    np.testing.assert_allclose(metrics['appearance'],
                               scale * appearance.reshape(B, -1).sum(1).mean(), rtol=1e-5)


def test_the_schedule_is_the_official_logspace_per_epoch():
    official = np.logspace(-2, -4, num=25) * 64
    schedule = puzzle_objective.logspace_schedule(0.64, 0.0064, 25, 2500)
    for step, epoch in ((0, 0), (99, 0), (100, 1), (1250, 12), (2399, 23), (2400, 24),
                        (10_000, 24)):
        np.testing.assert_allclose(float(schedule(step)), official[epoch], rtol=1e-5)


def test_one_line_errors(run):
    model, _, variables, batch, key = run[:5]
    with pytest.raises(JaxgenError, match='key patches'):
        puzzlegan.build(ml_collections.ConfigDict(TINY),
                        {k: v for k, v in INFO.items() if k != 'patches'})
    with pytest.raises(JaxgenError, match='28x28 or 32x32'):
        puzzlegan.build(ml_collections.ConfigDict(TINY), {**INFO, 'shape': [64, 64, 1]})
    with pytest.raises(JaxgenError, match='larger than the 28x28'):
        model.generate(variables, {'patches': np.zeros((1, 1, 30, 30, 1)),
                                   'boxes': np.zeros((1, 1, 4), np.int32)}, key)
    for box in ([25, 0, 8, 8], [-1, 0, 8, 8], [0, 21, 8, 8]):
        with pytest.raises(JaxgenError, match=r'lies outside the 28x28 image'):
            model.generate(variables, {'patches': batch['patches'][:1, :1],
                                       'boxes': np.array([[box]], np.int32)}, key)
    with pytest.raises(JaxgenError, match='key patches'):
        model.generate(variables, {'num': 2}, key)
    with pytest.raises(JaxgenError, match='does not read'):
        model.generate(variables, {'label': np.zeros(4)}, key)


class StubModel:
    """Completes every image as the real one plus 0.5, with the true mask shifted a row."""
    def __init__(self, images):
        self.images = images

    def generate_with_mask(self, variables, inputs, key):
        del variables, key
        n = len(inputs['patches'])
        mask = np.roll(np.asarray(puzzlegan.box_masks(inputs['boxes'], SIDE)), 1, axis=1)
        return self.images[:n] / 127.5 - 1.0 + 0.5, mask


def test_metrics_against_hand_computed_values():
    a = np.zeros((2, 4, 4, 1))
    b = np.zeros((2, 4, 4, 1))
    a[0, :2, :2], b[0, :2, :3] = 0.9, 1.0   # 4 of 6
    a[1, :1], b[1, 3:] = 0.7, 1.0           # disjoint
    np.testing.assert_allclose(puzzle_metrics.mask_iou(a, b), [4 / 6, 0.0])
    fake, real = np.ones((1, 2, 2, 1)), np.zeros((1, 2, 2, 1))
    target = np.array([1.0, 0, 0, 0]).reshape(1, 2, 2, 1)
    fake[0, 1, 1] = 5.0  # outside: ignored
    assert puzzle_metrics.inside_l1(fake, real, target) == 1.0
    # Through evaluate: one box of 8 px per image, the mask one row off: IoU 56/72.
    images = np.random.default_rng(0).integers(0, 256, (3, SIDE, SIDE, 1)).astype(np.uint8)
    boxes = np.array([[[2, 3, S, S]]] * 3, np.int32)
    arrays = {'image': images, 'boxes': boxes, 'patches': images[:, None, 2:10, 3:11]}
    results = puzzle_metrics.evaluation(StubModel(images))(None, arrays, jax.random.key(0),
                                                            num_samples=2)
    np.testing.assert_allclose(results['mask_iou'], 56 / 72)
    np.testing.assert_allclose(results['appearance_l1'], 0.5, rtol=1e-6)


def test_pictures_are_rows_of_parts_mask_generated_and_real(run):
    model, _, variables, batch, key = run[:5]
    picture = pictures_for(model)(model, variables, key, batch)['puzzle']
    assert picture.dtype == np.uint8 and picture.ndim == 3
    placed = puzzle_pictures.place(batch['patches'], batch['boxes'], (SIDE, SIDE, 1), -1.0)
    target = numpy_masks(batch['boxes'])
    np.testing.assert_array_equal(placed * target + (1 - target) * -1.0, placed)
    np.testing.assert_allclose(placed * target, batch['image'] * target)


# Slow tier (CI leaves it out): the config builds, differentiates and traces through the
# trainer's experiment in test_forward_mode.py[puzzlegan]; the pictures above.
@pytest.mark.slow
def test_a_short_train_writes_pictures(tmp_path):
    c = puzzle_config.get_config()
    c.data.name = 'digits'
    c.num_steps, c.batch_size, c.log_every = 2, 4, 1
    c.sample_every = c.checkpoint_every = 2
    for key, value in TINY.items():
        c.model[key] = value
    result = train(c, str(tmp_path / 'run'))
    assert result.step == 2
    assert (tmp_path / 'run' / 'pictures' / 'puzzle_0000002.png').exists()
