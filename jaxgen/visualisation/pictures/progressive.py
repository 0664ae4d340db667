"""Progressive GAN's and StyleGAN's pictures.

* ProGAN (and StyleGAN): the sample grid, and ``growth_<R>px``, the same 16 latents (a
  fixed key, whatever the step) at the stage's own resolution: a staged run's pictures
  folder holds one such grid per resolution, the growth of the same faces.
* StyleGAN: the paper's Figure 3 as ``style_mixing_<coarse|middle|fine>`` (rows: sources
  A, columns: sources B, each cell A's styles with B's on that range of layers); the
  noise effects (``noise``: per w, several noise draws and the per-pixel standard
  deviation over 16 draws); a truncation sweep (``truncation``: psi 0 to 1).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from jaxgen.errors import JaxgenError
from jaxgen.visualisation.grid import labelled_grid
from jaxgen.visualisation.samples import render_samples

GROWTH_KEY = 20260  # the same latents at every stage


def native(model, variables, z: jax.Array) -> np.ndarray:
    """Images at the stage's resolution (no upsampling to the data's size)."""
    images = np.asarray(model.generate(variables, {'z': z}, jax.random.key(0)))
    return images[:, ::model.factor, ::model.factor]


def growth(model, variables, num: int = 16, cols: int = 8,
           drawn: int = 64) -> dict[str, np.ndarray]:
    """``growth_<R>px``: ``num`` latents from a fixed key at the stage's resolution (drawn
    ``drawn`` at a time, the sample grid's program)."""
    z = model.sample_latent(jax.random.key(GROWTH_KEY), max(num, drawn))
    r = model.resolution
    images = native(model, variables, z)[:num]
    return {f'growth_{r}px': labelled_grid(
        images.reshape(-1, min(cols, num), *images.shape[1:]), cell_px=40,
        title=f'{r}x{r}: the same latents at every resolution')}


def progan(model, variables, key, examples=None) -> dict[str, np.ndarray]:
    """The sample grid (64 draws) and the growth grid, through one compiled program."""
    del examples
    images = np.asarray(model.generate(variables, {'z': model.sample_latent(key, 64)}, key))
    return {'samples': render_samples(images, model.data_info), **growth(model, variables)}


def check_styles(model, figure: str) -> None:
    if not hasattr(model, 'styles'):
        raise JaxgenError(f'the {figure} figure needs a model with styles (model.name='
                          f'stylegan); {type(model).__name__} has none')


def layer_ranges(num_layers: int) -> dict[str, tuple[int, int]]:
    """Coarse, middle and fine styles: the layers in thirds, at resolution boundaries."""
    a, b = 2 * round(num_layers / 6), 2 * round(num_layers / 3)
    ranges = {'coarse': (0, max(a, 2)), 'middle': (max(a, 2), b), 'fine': (b, num_layers)}
    return {k: v for k, v in ranges.items() if v[0] < v[1]}


def style_mixing(model, variables, key, rows: int = 4, cols: int = 4) -> dict:
    check_styles(model, 'style-mixing')
    ka, kb, kn = jax.random.split(key, 3)
    wa = model.styles(variables, model.sample_latent(ka, rows), 1.0)
    wb = model.styles(variables, model.sample_latent(kb, cols), 1.0)
    blank = -jnp.ones((1, *model.data_shape))
    out = {}
    for name, (lo, hi) in layer_ranges(wa.shape[1]).items():
        layer = jnp.arange(wa.shape[1])[None, None, :, None]
        mixed = jnp.where((layer >= lo) & (layer < hi), wb[None], wa[:, None])
        ws = jnp.concatenate([wa, wb, mixed.reshape(rows * cols, *wa.shape[1:])])
        images = model.synthesize(variables, ws, kn)  # one noise draw for every cell
        a, b, cells = images[:rows], images[rows:rows + cols], images[rows + cols:]
        grid = jnp.concatenate([jnp.concatenate([blank, b])[None], jnp.concatenate(
            [a[:, None], cells.reshape(rows, cols, *a.shape[1:])], axis=1)])
        res = [4 * 2 ** (i // 2) for i in (lo, hi - 1)]
        out[f'style_mixing_{name}'] = labelled_grid(
            np.asarray(grid), row_labels=['B'] + [f'A{i}' for i in range(rows)],
            col_labels=['A'] + [f'B{j}' for j in range(cols)], cell_px=40,
            title=f'{name} styles ({res[0]}-{res[1]} px, layers {lo}-{hi - 1}) from B')
    return out


def noise_effects(model, variables, key, rows: int = 4, draws: int = 16) -> dict:
    check_styles(model, 'noise')
    kz, kn = jax.random.split(key)
    ws = model.styles(variables, model.sample_latent(kz, rows), 1.0)
    images = np.stack([np.asarray(model.synthesize(variables, ws, k))
                       for k in jax.random.split(kn, draws)], axis=1)  # [rows, draws, ...]
    std = images.std(axis=1, keepdims=True)
    std_map = std / max(float(std.max()), 1e-12) * 2.0 - 1.0  # 0 black, the largest white
    shown = min(6, draws)
    grid = np.concatenate([images[:, :shown], std_map], axis=1)
    return {'noise': labelled_grid(
        grid, row_labels=[f'w{i}' for i in range(rows)],
        col_labels=[f'noise {j}' for j in range(shown)] + ['std'], cell_px=40,
        title=f'same w, other noise; std over {draws} draws')}


def truncation_sweep(model, variables, key, rows: int = 4,
                     psis=(0.0, 0.25, 0.5, 0.75, 1.0)) -> dict:
    check_styles(model, 'truncation')
    kz, kn = jax.random.split(key)
    z = model.sample_latent(kz, rows)
    images = np.stack([np.asarray(model.truncated(variables, z, kn, psi)) for psi in psis], 1)
    return {'truncation': labelled_grid(
        images, row_labels=[f'z{i}' for i in range(rows)],
        col_labels=[f'psi={p:g}' for p in psis], cell_px=40,
        title=f'truncation towards w_avg on layers < {model.truncation_cutoff}')}


def stylegan(model, variables, key, examples=None) -> dict[str, np.ndarray]:
    keys = jax.random.split(key, 4)
    return {**progan(model, variables, keys[0], examples),
            **style_mixing(model, variables, keys[1]),
            **noise_effects(model, variables, keys[2]),
            **truncation_sweep(model, variables, keys[3])}
