"""How well 2-D codes match their prior: adversarial autoencoders against the VAE.

    python benchmarks/latent_prior_match.py --out runs/latent_match \\
        --run 'AAE, 10 Gaussians=runs/aae_mix' --run 'AAE, swiss roll=runs/aae_roll' \\
        --run 'AAE, N(0, I)=runs/aae_gauss' --run 'VAE, N(0, I)=runs/vae2d'

For each run (a 2-D latent space), the codes of all 10,000 test images (the AAE's
deterministic codes; for a VAE one draw z ~ q(z|x) per image, so that together
they are draws from the aggregate posterior q(z) that the KL term pulls towards
N(0, I)) are split into 10 subsets of 1,000, each against 1,000 fresh prior draws:
MMD^2 with Gaussian kernels (bandwidths 0.25 to 2), mean and standard error over
the subsets. The floor row is the same between two independent sets of prior
draws: what a perfect match scores. For the 10-Gaussian prior, also the VEEGAN
mode statistics of the codes (modes within 3 std, high-quality share, reverse KL
of the mode histogram) and how well a code's nearest mode predicts its digit (the
best one-to-one matching of modes to digits). Writes ``results.json``,
``table.md``, ``latents.png`` (every run's codes by label over its prior, framed
at 1.5 times the prior's extent, the codes outside counted) and
``manifold_<i>.png`` (each run's decoded latent grid over its prior's extent).
``WORKDIR@STEP`` evaluates an earlier kept checkpoint (``--config.keep_checkpoints``).
"""

from __future__ import annotations

import argparse
import os
import sys

import jax
import jax.numpy as jnp
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks import report  # noqa: E402
from jaxgen import data, visualisation  # noqa: E402
from jaxgen.errors import JaxgenError  # noqa: E402
from jaxgen.losses.vae import reparameterize  # noqa: E402
from jaxgen.metrics import distances, hungarian_accuracy  # noqa: E402
from jaxgen.metrics.modes import mode_coverage, nearest_modes  # noqa: E402
from jaxgen.models.autoencoders import priors  # noqa: E402
from jaxgen.metrics.own.vae import evaluation_images  # noqa: E402
from jaxgen.training.restore import load  # noqa: E402
from jaxgen.visualisation.pictures import pictures  # noqa: E402

SUBSETS, SUBSET = 10, 1000


def autoencoder_and_prior(model) -> tuple:
    """The (deterministic or Gaussian) autoencoder inside a model, and its prior's name."""
    if hasattr(model, 'autoencoder'):  # an AAE
        return model.autoencoder, model.prior
    if hasattr(model, 'encode_means'):  # an AE or a VAE: N(0, I)
        return model, 'gaussian'
    raise JaxgenError(f'{type(model).__name__} has no encoder; pass AE, VAE or AAE runs')


def codes_of(autoencoder, variables, images: np.ndarray, key: jax.Array,
             chunk: int = 1000) -> np.ndarray:
    """``[N, latent]`` codes: the deterministic code, or one draw from q(z|x)."""
    out = []
    for i, start in enumerate(range(0, len(images), chunk)):
        x = jnp.asarray(images[start:start + chunk])
        if autoencoder.stochastic:
            mean, log_var = autoencoder.encoder.apply(dict(variables['encoder']), x)
            out.append(reparameterize(jax.random.fold_in(key, i), mean=mean, log_var=log_var))
        else:
            out.append(autoencoder.encode_means(variables, x))
    return np.concatenate([np.asarray(c) for c in out])


def mmd_against_prior(codes: np.ndarray, prior: str, key: jax.Array) -> tuple[float, float]:
    """Mean and standard error of MMD^2 over SUBSETS disjoint subsets of ``codes``."""
    values = []
    for i in range(SUBSETS):
        draws = priors.sample(prior, jax.random.fold_in(key, i), SUBSET, 2)
        values.append(float(distances.gaussian_mmd2(
            jnp.asarray(codes[i * SUBSET:(i + 1) * SUBSET]), draws)))
    return float(np.mean(values)), float(np.std(values, ddof=1) / np.sqrt(SUBSETS))


def mixture_statistics(codes: np.ndarray, labels: np.ndarray) -> dict:
    centers = np.asarray(priors.mixture10_centers())
    stats = mode_coverage(codes, centers, priors.MIXTURE10_STD)
    nearest = np.asarray(nearest_modes(codes, centers)[0])
    return {**stats, 'digit_accuracy_of_nearest_mode': hungarian_accuracy(nearest, labels)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--out', default='runs/latent_match')
    parser.add_argument('--run', action='append', default=[], metavar='NAME=WORKDIR[@STEP]',
                        help='a run; @STEP picks a kept checkpoint (default: the latest)')
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args()
    if not args.run:
        parser.error('give at least one --run NAME=WORKDIR')
    test = data.load({'name': 'mnist', 'fallback': False}, 'test')
    labels = np.asarray(test.arrays['label'])
    key = jax.random.key(args.seed)
    rows, panels, lims = [], [], []
    for prior in priors.PRIORS:  # the floor: prior draws against prior draws
        reference = np.asarray(priors.sample(prior, jax.random.fold_in(key, 10**6), 10_000, 2))
        mean, error = mmd_against_prior(reference, prior, key)
        rows.append({'name': f'floor: {prior} draws', 'prior': prior, 'mmd2': mean,
                     'mmd2_error': error})
    for i, item in enumerate(args.run):
        name, _, workdir = item.partition('=')
        workdir, _, at = workdir.partition('@')
        exp, state, step = load(workdir, int(at) if at else None)
        autoencoder, prior = autoencoder_and_prior(exp.model)
        if autoencoder.latent_dim != 2:
            raise JaxgenError(f'{workdir}: latent_dim is {autoencoder.latent_dim}, not 2')
        variables = exp.variables(state)
        images = evaluation_images(test.arrays, exp.model.data_info)
        codes = codes_of(autoencoder, variables, images, jax.random.fold_in(key, 2 * 10**6))
        mean, error = mmd_against_prior(codes, prior, key)
        row = {'name': name, 'workdir': workdir, 'step': step, 'prior': prior,
               'mmd2': mean, 'mmd2_error': error}
        if prior == 'mixture10':
            row.update(mixture_statistics(codes, labels))
        rows.append(row)
        print(row, flush=True)
        draws = np.asarray(priors.sample(prior, key, 5000, 2))
        panels.append((f'{name} (step {step})', codes, labels, draws))
        lims.append(priors.frame(prior))
        picture = pictures(exp.model, variables, jax.random.fold_in(key, i))['manifold']
        visualisation.save_png(os.path.join(args.out, f'manifold_{i}.png'), picture)
        report.write_json(args.out, rows)
    visualisation.save_png(os.path.join(args.out, 'latents.png'), visualisation.latent_panels(
        panels, ncols=min(4, len(panels)), lims=lims))
    mixture = ('modes_covered', 'high_quality', 'reverse_kl', 'digit_accuracy_of_nearest_mode')
    report.write_table(
        args.out, ['run', 'prior', 'step', 'MMD² to the prior (± s.e.)', 'modes (of 10)',
                   'high quality', 'reverse KL', 'digit accuracy of nearest mode'],
        [[r['name'], r['prior'], r.get('step', '-'),
          f"{r['mmd2']:.4f} ± {r['mmd2_error']:.4f}",
          *(f'{r[m]:.3g}' if m in r else '-' for m in mixture)] for r in rows])


if __name__ == '__main__':
    main()
