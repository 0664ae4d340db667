"""A history of generated images for the discriminator (Shrivastava et al., 2017).

The discriminator trains on fakes drawn partly from a pool of earlier ones, so
that it does not forget what the generator produced before. This is the pool of
pix2pix/CycleGAN's official code (junyanz/pytorch-CycleGAN-and-pix2pix,
``util/image_pool.py``, ``--pool_size 50``), image by image:

* while the pool holds fewer than ``size`` images, a new image is stored and
  returned as it is;
* once it is full, with probability 1/2 a random stored image is returned and
  the new one takes its slot; otherwise the new image is returned and the pool
  is unchanged.

The images of a batch are handled in order (a ``lax.scan``), so a later image
may take a slot an earlier one filled, as in the reference loop. The pool is a
pure value ``{'images': [size, ...], 'count': int32}``, kept by the model in the
discriminator's persistent state (a Linen collection other than ``params``,
saved in checkpoints); every draw comes from the key it is given.
"""

from __future__ import annotations

from typing import Sequence

import jax
import jax.numpy as jnp

from jaxgen.errors import JaxgenError

COLLECTION = 'history'


def empty(size: int, shape: Sequence[int], dtype=jnp.float32) -> dict:
    """An empty pool of ``size`` images shaped ``shape``."""
    return {'images': jnp.zeros((size, *shape), dtype), 'count': jnp.zeros((), jnp.int32)}


def query(pool: dict, images: jax.Array, key: jax.Array) -> tuple[jax.Array, dict]:
    """``(returned images, new pool)`` for a batch of new ``images``; no gradient
    flows into the pool or through the returned images."""
    size = pool['images'].shape[0]
    images = jax.lax.stop_gradient(images)

    def one(carry, inputs):
        stored, count = carry
        image, k = inputs
        k_swap, k_slot = jax.random.split(k)
        filling = count < size
        swap = ~filling & (jax.random.uniform(k_swap) > 0.5)
        slot = jnp.where(filling, jnp.minimum(count, size - 1),
                         jax.random.randint(k_slot, (), 0, size))
        returned = jnp.where(swap, stored[slot], image)
        stored = jnp.where(filling | swap, stored.at[slot].set(image), stored)
        return (stored, count + filling.astype(jnp.int32)), returned

    keys = jax.random.split(key, images.shape[0])
    (stored, count), returned = jax.lax.scan(one, (pool['images'], pool['count']),
                                             (images, keys))
    return returned, {'images': stored, 'count': count}


def size_from(model_config) -> int:
    """``config.model.history_size`` (0, the default: no pool), checked."""
    value = model_config.get('history_size', 0)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise JaxgenError(f'config.model.history_size must be 0 (no pool) or a positive '
                          f'integer (CycleGAN uses 50), got {value!r}')
    return value
