"""The history pool of fakes (``models/layers/history.py``): the reference loop's
semantics, no gradient through it, and, trained from ``configs/history_ring.py``,
a pool that D's loss reads and that a killed run restores bit-exactly."""

import os
import signal

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgen.errors import JaxgenError
from jaxgen.models.layers import history
from jaxgen.training import train
from tests.test_train import ring_config

SIZE = 4


def reference_query(pool, count, images, swaps, slots):
    """junyanz/pytorch-CycleGAN-and-pix2pix util/image_pool.py, given its draws:
    ``swaps[i]`` the uniform p and ``slots[i]`` the random_id of image i."""
    pool, returned = [np.array(x) for x in pool], []
    for image, p, slot in zip(np.asarray(images), swaps, slots):
        if count < len(pool):
            pool[count] = image
            count += 1
            returned.append(image)
        elif p > 0.5:
            returned.append(pool[slot].copy())
            pool[slot] = image
        else:
            returned.append(image)
    return np.stack(returned), np.stack(pool), count


def draws(key, n):
    """The uniform and the slot ``history.query`` draws for each image."""
    swaps, slots = [], []
    for k in jax.random.split(key, n):
        k_swap, k_slot = jax.random.split(k)
        swaps.append(float(jax.random.uniform(k_swap)))
        slots.append(int(jax.random.randint(k_slot, (), 0, SIZE)))
    return swaps, slots


def test_query_equals_the_reference_loop_while_filling_and_when_full():
    pool = history.empty(SIZE, (2, 2))
    ref_pool, ref_count = np.zeros((SIZE, 2, 2), np.float32), 0
    swapped = 0
    for step in range(5):  # 5 batches of 3: fills during the first two, then swaps
        images = jax.random.normal(jax.random.key(step), (3, 2, 2))
        key = jax.random.key(100 + step)
        swaps, slots = draws(key, 3)
        expected, ref_pool, ref_count = reference_query(ref_pool, ref_count, images,
                                                        swaps, slots)
        returned, pool = jax.jit(history.query)(pool, images, key)
        np.testing.assert_array_equal(returned, expected)
        np.testing.assert_array_equal(pool['images'], ref_pool)
        assert int(pool['count']) == ref_count
        swapped += int(np.sum(np.any(np.asarray(returned) != np.asarray(images), axis=(1, 2))))
    assert ref_count == SIZE and swapped > 0  # both branches were exercised


def test_no_gradient_flows_through_the_pool():
    pool = history.empty(SIZE, (3,))
    images = jnp.ones((2, 3))
    grad = jax.grad(lambda x: jnp.sum(history.query(pool, x, jax.random.key(0))[0]))(images)
    np.testing.assert_array_equal(grad, jnp.zeros_like(images))


@pytest.mark.parametrize('bad', [-1, 2.5, True])
def test_a_bad_history_size_is_one_line(bad):
    with pytest.raises(JaxgenError, match='history_size must be 0 .* got'):
        history.size_from({'history_size': bad})


def history_config(**overrides):
    config = ring_config(**overrides)
    config.model.history_size = SIZE
    return config


def test_the_discriminator_reads_the_pool_and_a_killed_run_restores_it(tmp_path):
    from configs import history_ring
    assert history_ring.get_config().model.history_size == 50  # CycleGAN's pool
    full = train(history_config(), str(tmp_path / 'full'))
    pool = jax.device_get(full.state.model_state['discriminator']['history'])
    assert int(pool['count']) == SIZE and np.abs(pool['images']).min() > 0  # filled

    def sigterm_at_step_3(step, state):
        del state
        if step == 3:
            os.kill(os.getpid(), signal.SIGTERM)
    workdir = str(tmp_path / 'killed')
    assert train(history_config(), workdir, hooks=[sigterm_at_step_3]).preempted
    resumed = train(history_config(), workdir)
    chex.assert_trees_all_equal(jax.device_get(resumed.state), jax.device_get(full.state))


def test_d_loss_reads_the_pooled_logits_and_g_loss_the_fresh_ones():
    from jaxgen.objectives import gan
    d_term, g_term = gan.family_terms('minimax')
    out = {'real_logits': jnp.zeros(4), 'fake_logits': jnp.full(4, 3.0)}
    pooled = {**out, 'history_logits': jnp.full(4, -3.0)}
    assert float(d_term(pooled)[0]) < float(d_term(out)[0])  # D's fakes: the pooled ones
    assert float(g_term(pooled)[0]) == float(g_term(out)[0])  # G's: the fresh ones
