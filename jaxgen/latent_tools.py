"""What people do with a trained generator: walk, add and switch off.

    python -m jaxgen.latent_tools --workdir runs/dcgan --out docs/images

* interpolation grids between pairs of latents, linear or spherical (slerp
  follows the Gaussian shell where the generator was trained);
* latent arithmetic: mean latents of groups of samples, grouped by the domain
  classifier's label or by an attribute (stroke thickness: the fraction of
  inked pixels), then ``A - B + C``, e.g. thick 7 - thin 7 + thin 1 = thick 1;
* unit ablation: zero one channel of a generator layer (``flax.linen``'s
  ``intercept_methods``, so any Linen generator works) and show the samples
  before and after, the pixels that changed most in red.

Works on models whose generator maps a Gaussian latent to images (the GAN
bundle: DCGAN, the MLP GANs on images). All pictures use the EMA weights when
the run kept them.
"""

from __future__ import annotations

from typing import Callable

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
from absl import app, flags, logging
from etils import epath

from jaxgen import cli, visualisation
from jaxgen.data import kinds
from jaxgen.errors import JaxgenError
from jaxgen.metrics import classifier


def lerp(a: jax.Array, b: jax.Array, t: jax.Array) -> jax.Array:
    return (1.0 - t) * a + t * b


def slerp(a: jax.Array, b: jax.Array, t: jax.Array) -> jax.Array:
    """Spherical interpolation (Shoemake; White, 2016), linear when a and b are parallel."""
    na, nb = jnp.linalg.norm(a, axis=-1, keepdims=True), jnp.linalg.norm(b, axis=-1,
                                                                          keepdims=True)
    cos = jnp.clip(jnp.sum(a * b, -1, keepdims=True) / (na * nb), -1.0, 1.0)
    omega = jnp.arccos(cos)
    sin = jnp.sin(omega)
    safe = jnp.where(sin > 1e-6, sin, 1.0)
    spherical = (jnp.sin((1.0 - t) * omega) * a + jnp.sin(t * omega) * b) / safe
    return jnp.where(sin > 1e-6, spherical, lerp(a, b, t))


def interpolation_latents(starts: jax.Array, ends: jax.Array, steps: int,
                          mode: str = 'slerp') -> jax.Array:
    """``[rows, steps, d]``: each row walks from ``starts[i]`` to ``ends[i]``."""
    if mode not in ('lerp', 'slerp'):
        raise JaxgenError(f"interpolation mode must be 'lerp' or 'slerp', got {mode!r}")
    t = jnp.linspace(0.0, 1.0, steps)[None, :, None]
    fn = slerp if mode == 'slerp' else lerp
    return fn(starts[:, None, :], ends[:, None, :], t)


def stroke_thickness(images: np.ndarray) -> np.ndarray:
    """The fraction of inked pixels (above mid-grey) of images in [-1, 1]."""
    return np.mean(np.asarray(images) > 0.0, axis=(1, 2, 3))


def group_means(latents: np.ndarray, groups: np.ndarray) -> dict:
    """The mean latent of each group label."""
    return {g: latents[groups == g].mean(0) for g in np.unique(groups)}


def arithmetic(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    return a - b + c


def ablate(generate: Callable, layer: str, channel: int) -> Callable:
    """``generate`` with channel ``channel`` of the output of generator submodule
    ``layer`` (its Linen name, e.g. ``'BatchNorm_1'``) set to zero."""
    def interceptor(next_fun, args, kwargs, context):
        out = next_fun(*args, **kwargs)
        if context.method_name == '__call__' and context.module.name == layer:
            if channel >= out.shape[-1]:
                raise JaxgenError(f'layer {layer!r} has {out.shape[-1]} channels; '
                                  f'--channel must be below that, got {channel}')
            out = out.at[..., channel].set(0.0)
        return out

    def ablated(*args, **kwargs):
        with nn.intercept_methods(interceptor):
            return generate(*args, **kwargs)
    return ablated


def changed_pixels(before: np.ndarray, after: np.ndarray, top: float = 0.05) -> np.ndarray:
    """RGB pictures of ``after`` with its ``top`` fraction of most-changed pixels red."""
    diff = np.abs(after - before)[..., 0]
    threshold = np.quantile(diff, 1.0 - top)
    grey = np.repeat(after, 3, axis=-1) if after.shape[-1] == 1 else after.copy()
    mask = (diff >= threshold) & (diff > 1e-3)
    grey[mask] = np.array([1.0, -1.0, -1.0])
    return grey


# -- from a checkpoint ---------------------------------------------------------------


def check_generator(model, name: str) -> None:
    """One line when ``model`` has no Gaussian latent mapped to images."""
    if not hasattr(model, 'sample_latent') or kinds.kind(model.data_info) != 'images':
        raise JaxgenError(f'the latent tools need a Gaussian-latent image generator '
                          f'(dcgan); model {name!r} is not one')


class Explorer:
    """A checkpoint's generator, as ``generate(z)`` and ``sample_latent(key, n)``."""

    def __init__(self, workdir: str, step: int | None = None):
        from jaxgen.training.restore import load  # pylint: disable=import-outside-toplevel
        self.exp, state, self.step = load(workdir, step)
        check_generator(self.exp.model, self.exp.config.model.name)
        self.model = self.exp.model
        self.variables = self.exp.variables(state)['generator']
        self.generate = jax.jit(self._generate)

    def _generate(self, z):
        return self.model.generator.apply(dict(self.variables), z, train=False)

    def layers(self) -> list[str]:
        return [k for k in self.variables['params']]


def _grid(images: np.ndarray, rows: int, cols: int) -> np.ndarray:
    return np.asarray(images).reshape(rows, cols, *np.asarray(images).shape[1:])


def pictures(workdir: str, out: str, seed: int = 0, layer: str | None = None,
             channel: int = 0, num: int = 2000) -> dict[str, str]:
    """Interpolation, arithmetic and ablation pictures from ``workdir``, as PNG in ``out``."""
    explorer = Explorer(workdir)
    key = jax.random.key(seed)
    k1, k2, k3 = jax.random.split(key, 3)
    written = {}

    def save(name, image):
        path = epath.Path(out) / f'{name}.png'
        visualisation.save_png(path, image)
        written[name] = str(path)

    # Interpolation: 6 pairs, 10 steps, linear and spherical.
    ends = explorer.model.sample_latent(k1, 12).reshape(2, 6, -1)
    for mode in ('lerp', 'slerp'):
        z = interpolation_latents(ends[0], ends[1], 10, mode).reshape(60, -1)
        save(f'interpolation_{mode}', visualisation.labelled_grid(
            _grid(explorer.generate(z), 6, 10), title=f'{mode}: a pair of latents per row',
            cell_px=40))

    # Arithmetic: samples labelled by the domain classifier, split by stroke thickness.
    z = explorer.model.sample_latent(k2, num)
    images = np.asarray(explorer.generate(z))
    extractor = classifier.for_config(explorer.exp.config.data, explorer.exp.data_info['name'])
    labels = np.argmax(extractor.logits(images), -1)
    thick = stroke_thickness(images)
    rows, names = [], []
    for a, c in ((7, 1), (2, 3), (0, 6)):
        ka, kc = labels == a, labels == c
        if ka.sum() < 20 or kc.sum() < 20:
            continue
        zs = np.asarray(z)
        cut_a, cut_c = np.median(thick[ka]), np.median(thick[kc])
        thick_a = zs[ka & (thick > cut_a)].mean(0)
        thin_a = zs[ka & (thick <= cut_a)].mean(0)
        thin_c = zs[kc & (thick <= cut_c)].mean(0)
        result = arithmetic(thick_a, thin_a, thin_c)
        rows.append(np.stack([thick_a, thin_a, thin_c, result]))
        names.append(f'{a}/{c}')
    if rows:
        grid = np.asarray(explorer.generate(jnp.asarray(np.concatenate(rows))))
        save('arithmetic', visualisation.labelled_grid(
            _grid(grid, len(rows), 4), row_labels=names,
            col_labels=['thick A', 'thin A', 'thin C', 'A-B+C'],
            title='thick A - thin A + thin C', cell_px=48))

    # Unit ablation.
    layer = layer or _default_layer(explorer)
    z = explorer.model.sample_latent(k3, 8)
    before = np.asarray(explorer.generate(z))
    after = np.asarray(jax.jit(ablate(explorer._generate, layer, channel))(z))
    highlighted = changed_pixels(before, after)
    save('ablation', visualisation.labelled_grid(
        np.stack([np.repeat(before, 3, -1), highlighted]), row_labels=['before', 'after'],
        title=f'{layer}[{channel}] = 0 (red: most changed)',
        cell_px=48))
    logging.info('wrote %s', ', '.join(sorted(written.values())))
    return written


def _default_layer(explorer: Explorer) -> str:
    norms = sorted(name for name in explorer.layers() if name.startswith('BatchNorm'))
    return norms[-1] if norms else explorer.layers()[0]


def define_flags() -> None:
    flags.DEFINE_string('workdir', None, 'A training workdir of a DCGAN-style generator.')
    flags.DEFINE_string('out', None, 'Folder for the PNGs (default <workdir>/latent_tools).')
    flags.DEFINE_integer('seed', 0, 'Seed of the latent draws.')
    flags.DEFINE_string('layer', None, 'Generator submodule to ablate (default: its last '
                        'BatchNorm).')
    flags.DEFINE_integer('channel', 0, 'Channel of --layer to set to zero.')
    flags.mark_flags_as_required(['workdir'])


def main(argv):
    del argv
    cli.quiet_third_party_logs()
    f = flags.FLAGS
    out = f.out or str(epath.Path(f.workdir) / 'latent_tools')
    cli.run_or_explain(lambda: pictures(f.workdir, out, f.seed, f.layer, f.channel))


if __name__ == '__main__':
    define_flags()
    app.run(main, flags_parser=cli.parse_flags)
