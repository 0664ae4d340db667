"""Drawing batches of named fields: which examples (indices), then how they look (transform).

Both data paths share this module, which is why they give identical batches:

* the on-device path calls :func:`make_draw`'s ``draw(arrays, key, step, batch_size)``
  inside the jitted step, on the whole split held in device memory;
* the streaming path (:mod:`jaxgen.data.stream`) computes the same :func:`indices` on the
  host, gathers those rows from a random-access source, and the step applies the same
  :func:`make_transform` to them.

A dataset's fields are grouped into **streams**. Fields of one stream have the same number
of rows and are drawn together (an image with its label, a pair ``image_a``/``image_b``);
each stream is shuffled on its own, so two unpaired domains are two independent streams.
``info['streams']`` maps a stream's name to its fields; without it all fields form one
stream. Each stream's epochs are permutations (:mod:`jaxgen.data.shuffle`): a pure function
of ``(key, step)``, so a resumed run draws the same batches.

Field conventions (``docs/ARCHITECTURE.md``): images are uint8 ``[N, H, W, C]`` in storage
and float32 in the step; ``patches`` are uint8 ``[N, P, h, w, C]`` with int32 ``boxes``
``[N, P, 4]`` (top, left, height, width); ``label`` int32 ``[N]``; ``attributes`` float32
``[N, A]``; ``tokens`` int32 ``[N, L]``.
"""

from __future__ import annotations

from typing import Callable, Mapping

import jax
import jax.numpy as jnp

from jaxgen.data import pixels, shuffle
from jaxgen.errors import JaxgenError

IMAGE_FIELDS = ('image', 'image_a', 'image_b', 'patches')
AUGMENT_STREAM = 0x617567  # fold_in constant of the crop/flip key ('aug')


def stream_fields(info: Mapping, arrays: Mapping) -> dict[str, tuple[str, ...]]:
    """``{stream: fields}``: ``info['streams']``, or one stream ``''`` of every field."""
    streams = info.get('streams')
    if not streams:
        return {'': tuple(sorted(arrays))}
    return {s: tuple(f) for s, f in sorted(streams.items())}


def stream_sizes(info: Mapping, arrays: Mapping) -> dict[str, int]:
    """Rows per stream (checked equal across a stream's fields)."""
    sizes = {}
    for s, fields in stream_fields(info, arrays).items():
        rows = {f: int(arrays[f].shape[0]) for f in fields}
        if len(set(rows.values())) != 1:
            raise JaxgenError(f'the fields of data stream {s!r} have different numbers of rows '
                              f'{rows}; fields drawn together must have one row per example')
        sizes[s] = next(iter(rows.values()))
    return sizes


def indices(key: jax.Array, step: jax.Array, sizes: Mapping[str, int],
            batch_size: int) -> dict[str, jax.Array]:
    """Rows of step ``step``'s batch in each stream; ``sizes`` and ``batch_size`` static.

    One stream uses ``key`` itself (the batches jaxgen has always drawn); several streams
    use ``fold_in(key, i)`` for the i-th stream in name order, so each is shuffled
    independently of the others.
    """
    out = {}
    for i, (s, n) in enumerate(sorted(sizes.items())):
        if n // batch_size < 1:
            raise JaxgenError(
                f'batch size {batch_size} is larger than the {n} examples of this split'
                f'{f" (stream {s})" if s else ""}; use a batch size of at most {n}')
        stream_key = key if len(sizes) == 1 else jax.random.fold_in(key, i)
        out[s] = shuffle.epoch_batch(stream_key, step, n, batch_size)
    return out


def gather(arrays: Mapping, streams: Mapping[str, tuple[str, ...]],
           rows: Mapping[str, jax.Array]) -> dict:
    """The raw (stored) rows of each field."""
    return {f: jnp.asarray(arrays[f])[rows[s]] for s, fields in streams.items() for f in fields}


def _crop_and_flip(batch: dict, streams, key, step, crop: tuple[int, int] | None,
                   flip: bool, train: bool) -> dict:
    """Random crop to ``crop`` (centre crop when not ``train``) and random horizontal flip,
    the same for every image field of one example of a stream (a pair stays aligned)."""
    out = dict(batch)
    for i, (s, fields) in enumerate(sorted(streams.items())):
        images = [f for f in fields if f in ('image', 'image_a', 'image_b')]
        if not images:
            continue
        b, h, w = batch[images[0]].shape[:3]
        k = jax.random.fold_in(jax.random.fold_in(key, step), i)
        crop_key, flip_key = jax.random.split(k)
        if crop is not None and (h, w) != tuple(crop):
            ch, cw = crop
            if train:
                top = jax.random.randint(crop_key, (b,), 0, h - ch + 1)
                left = jax.random.randint(jax.random.fold_in(crop_key, 1), (b,), 0, w - cw + 1)
            else:
                top = jnp.full((b,), (h - ch) // 2)
                left = jnp.full((b,), (w - cw) // 2)
            cut = jax.vmap(lambda x, t, l: jax.lax.dynamic_slice(
                x, (t, l, 0), (ch, cw, x.shape[-1])))
            for f in images:
                out[f] = cut(out[f], top, left)
        if flip and train:
            mirror = jax.random.bernoulli(flip_key, 0.5, (b,))
            for f in images:
                out[f] = jnp.where(mirror[:, None, None, None], out[f][:, :, ::-1], out[f])
    return out


def make_transform(streams: Mapping[str, tuple[str, ...]], scale: str = 'tanh',
                   binarize: str | None = None, crop: tuple[int, int] | None = None,
                   flip: bool = False, train: bool = True) -> Callable:
    """``transform(raw, key, step) -> batch``: stored rows to what the step sees.

    Image fields (:data:`IMAGE_FIELDS`) become float32 at ``scale``; with ``crop`` (a
    smaller (height, width) than stored) they are cropped, at random positions for
    ``train`` and centred otherwise; ``flip`` mirrors half of them at random (train only);
    ``binarize='dynamic'`` draws fresh Bernoulli pixels. Other fields pass unchanged.
    Every random choice is a pure function of ``(key, step)``.
    """
    pixels.check_scale(scale)
    pixels.check_binarize(scale, binarize)

    def transform(raw: dict, key: jax.Array, step: jax.Array) -> dict:
        step = jnp.asarray(step, jnp.int32)
        bin_key = jax.random.split(key)[1]  # the binarisation stream jaxgen always used
        raw = _crop_and_flip(raw, streams, jax.random.fold_in(key, AUGMENT_STREAM), step,
                             crop, flip, train)
        out = {}
        for f, x in raw.items():
            if f in IMAGE_FIELDS:
                x = pixels.scale_images(x, scale)
                if binarize == 'dynamic':  # a fresh Bernoulli draw each time it is seen
                    x = jax.random.bernoulli(jax.random.fold_in(bin_key, step), x)
                    x = x.astype(jnp.float32)
            elif f == 'label':
                x = x.astype(jnp.int32)
            out[f] = x
        return out

    return transform


def make_draw(info: Mapping, transform: Callable) -> Callable:
    """``draw(arrays, key, step, batch_size)``: :func:`indices`, :func:`gather`, then
    ``transform``, all inside jit. ``key`` MUST be the same data key at every step (pass
    ``step`` to move on: a new key per step would sample with replacement); ``batch_size``
    is a static Python int and ``step`` may be a traced int32 scalar."""
    def draw(arrays: dict, key: jax.Array, step: jax.Array, batch_size: int) -> dict:
        streams = stream_fields(info, arrays)
        rows = indices(key, jnp.asarray(step, jnp.int32), stream_sizes(info, arrays),
                       batch_size)
        return transform(gather(arrays, streams, rows), key, step)

    return draw


def image_draw(scale: str = 'tanh', binarize: str | None = None) -> Callable:
    """``draw`` for plain ``{'image', 'label'}`` arrays (one stream, no augmentation)."""
    return make_draw({}, make_transform({'': ('image', 'label')}, scale, binarize))
