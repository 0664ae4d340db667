"""The perceptual table (issue 29): SWD, FD and domain-LPIPS diversity, floor and models.

    python benchmarks/perceptual_table.py --out runs/perceptual_table --num 10000 \\
        --run DCGAN=runs/dcgan --run InfoGAN=runs/infogan --run VAE=runs/vae

Every row compares ``N`` images with ``N`` test images (MNIST: all 10,000):

* SWD x 1e3 (``jaxgen/metrics/swd.py``, Progressive GAN's definition; 28 px is
  edge-padded to 32, so levels 32 and 16, and their mean);
* FD (and KID) in the domain classifier's features, through the protocol of
  ``benchmarks/evaluation_table.py`` (``jaxgen/metrics/suite.py``);
* diversity (``jaxgen/metrics/diversity.py``): the mean distance over ``--pairs``
  pairs of independent samples, by default domain LPIPS
  (``jaxgen.metrics.lpips.domain_lpips_distance``: NOT comparable with published
  LPIPS), with its standard error over 10 groups of pairs;
* model rows only, PPL in Z (``jaxgen/metrics/ppl.py``, 'full', ``--ppl-samples``
  paths, the same distance, ``keep_norm`` since these models read unnormalised
  N(0, I) latents) where ``generate({'z': z})`` is deterministic (not InfoGAN, whose
  other codes come from the key).

The floor row feeds ``N`` training images in place of samples (a fixed random
subset, ``--seed``), and its diversity pairs are two training images of that
subset drawn with replacement. Model rows load a workdir's checkpoint with
``jaxgen.training.restore.load`` (EMA weights where the run has them) and draw
``N`` samples as the evaluation table does; diversity pairs are two samples,
each drawn with its own key. Writes ``results.json`` and ``table.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import Callable

import jax
import jax.numpy as jnp

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks import report  # noqa: E402
from jaxgen import data  # noqa: E402
from jaxgen.metrics import classifier, perceptual, suite  # noqa: E402
from jaxgen.training.restore import load  # noqa: E402


def dataset_sampler(images) -> Callable:
    """``sample(keys)``: one image of ``images`` per key, uniformly, with replacement."""
    images = jnp.asarray(images)
    def sample(keys):
        return images[jax.vmap(lambda k: jax.random.randint(k, (), 0, len(images)))(keys)]
    return sample


def row(extractor, distance, real, fake, sample, key, pairs: int) -> dict:
    """SWD, FD/KID and diversity of ``fake`` (and ``sample``) against ``real``."""
    perceptual_key, fd_key = jax.random.split(key)
    out = perceptual.sample_metrics(real, fake, sample, distance, perceptual_key, pairs)
    start = time.time()
    compared = suite.compare(extractor, real, fake, fd_key)
    out.update(fd=compared['fd'], kid=compared['kid'], kid_error=compared['kid_error'],
               fd_seconds=round(time.time() - start, 1))
    return out


def default_distance(extractor):
    """Domain LPIPS on the domain classifier (the LPIPS helper's module)."""
    from jaxgen.metrics.lpips import domain_lpips_distance  # pylint: disable=import-outside-toplevel
    return domain_lpips_distance(extractor)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--out', default='runs/perceptual_table')
    parser.add_argument('--data', default='mnist')
    parser.add_argument('--num', type=int, default=10000)
    parser.add_argument('--pairs', type=int, default=1000)
    parser.add_argument('--run', action='append', default=[], metavar='NAME=WORKDIR')
    parser.add_argument('--ppl-samples', type=int, default=2000)
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args()
    config = {'name': args.data, 'fallback': False}
    train, test = data.load(config, 'train'), data.load(config, 'test')
    extractor = classifier.for_config(config, test.name)
    distance = default_distance(extractor)
    key = jax.random.key(args.seed)
    real = suite.real_images(test.arrays, args.num)
    floor = suite.real_images(train.arrays, args.num, args.seed)
    rows = [{'name': 'floor (training images)', 'step': None, 'samples': args.num,
             **row(extractor, distance, real, floor, dataset_sampler(floor), key, args.pairs)}]
    print(json.dumps(rows[-1]), flush=True)
    report.write_json(args.out, {'classifier': extractor.info, 'seed': args.seed, 'rows': rows})
    for item in args.run:
        name, _, workdir = item.partition('=')
        exp, state, step = load(workdir)
        variables = exp.variables(state)
        fake = suite.sample_images(lambda v, k, n: exp.model.generate(v, {'num': n}, k),
                                   variables, key, args.num, exp.model.data_info)
        shaped = suite.real_images(test.arrays, args.num, shape=exp.model.data_info['shape'])
        rows.append({'name': name, 'workdir': workdir, 'step': step, 'samples': args.num,
                     'ema': bool(state.ema),
                     **row(extractor, distance, shaped, fake,
                           perceptual.model_sampler(exp.model, variables), key, args.pairs),
                     **perceptual.model_ppl(exp.model, variables, distance,
                                            jax.random.fold_in(key, 3), args.ppl_samples)})
        print(json.dumps(rows[-1]), flush=True)
        report.write_json(args.out, {'classifier': extractor.info, 'seed': args.seed,
                                     'rows': rows})
    levels = [k for k in rows[0] if k.startswith('swd_') and k != 'swd_seconds']
    report.write_table(
        args.out, ['model', 'checkpoint step', 'N',
                   f"SWD x1e3 ({' / '.join(k[4:] for k in levels)})", 'FD', 'KID (± s.e.)',
                   f'domain-LPIPS diversity, {args.pairs} pairs (± s.e.)',
                   f'PPL (Z, full, domain LPIPS, {args.ppl_samples} paths)'],
        [[r['name'], r['step'] or '-', r['samples'],
          ' / '.join(f'{r[k]:.2f}' for k in levels), f"{r['fd']:.3f}",
          f"{r['kid']:.4f} ± {r['kid_error']:.4f}",
          f"{r['diversity']:.4f} ± {r['diversity_error']:.4f}",
          f"{r['ppl']:.1f}" if 'ppl' in r else '-'] for r in rows])


if __name__ == '__main__':
    main()
