"""Morpho-MNIST datasets (:mod:`jaxgen.data.derived.morpho`), built from MNIST and cached.

* ``morpho_mnist``: MNIST ``image``, ``label`` and ``attributes`` float32 [N, 6] (area,
  length, thickness, slant, width, height; ``info['attribute_names']``).
* ``morpho_perturbed``: each image gets one perturbation, none/thin/thick/swell/fracture,
  drawn from a seeded generator; ``domain`` int32 [N] is its index in
  ``info['domain_names']`` and ``attributes`` are measured after it.
* ``thin_thick``: unpaired domains, a = thin digits (thickness below the 1/3 quantile of
  the train split's), b = thick ones (above the 2/3 quantile), two streams.
* ``morpho_attributes``: four domains by measured attributes, thin/thick x
  upright/slanted (the same tertiles of thickness and of slant), for StarGAN.

Measuring is ~10 ms an image on one core, so builders measure in ``processes`` (2) worker
processes and cache the result (``cache.cached``); ``info['build_seconds']`` records the
wall time.
"""

from __future__ import annotations

import multiprocessing
import time
from typing import Any, Callable

import numpy as np

from jaxgen.data.derived import morpho
from jaxgen.data.derived.cache import cache_dir_of, cached
from jaxgen.errors import JaxgenError

SEED = 0
PROCESSES = 2
SPLIT_IDS = {'train': 0, 'test': 1}
QUANTILES = (1 / 3, 2 / 3)
DEFINITIONS = {
    'area': 'foreground pixels of the 4x upsampled image thresholded at half its range, / 16 '
            '(px^2)',
    'length': 'medial-axis length, 1 per axial and sqrt(2) per diagonal step (px)',
    'thickness': 'twice the mean distance-to-background along the medial axis (px)',
    'slant': 'arctan(-u11/u02) of the upsampled image moments (rad, > 0 leans right)',
    'width': 'width of the slant-sheared bounding parallelogram keeping 98% of the mass (px)',
    'height': 'height of that parallelogram (px)',
}


def _measure_chunk(images: np.ndarray) -> np.ndarray:
    return (np.stack([morpho.measure(im) for im in images]) if len(images)
            else np.zeros((0, 6)))


def _perturb_chunk(args) -> tuple[np.ndarray, np.ndarray]:
    images, kinds, start, key = args
    out = [morpho.perturb(im, morpho.PERTURBATIONS[k], morpho.image_rng(key, start + i))
           for i, (im, k) in enumerate(zip(images, kinds))]
    out = np.stack(out) if out else np.zeros((0,) + images.shape[1:3], np.uint8)
    return out, _measure_chunk(out)


def _pool_map(fn: Callable, chunks: list, processes: int) -> list:
    if processes <= 1 or len(chunks) <= 1:
        return [fn(c) for c in chunks]
    # spawn, not fork: the parent may hold JAX's threads.
    with multiprocessing.get_context('spawn').Pool(processes) as pool:
        return pool.map(fn, chunks, chunksize=1)


def _spans(n: int, size: int) -> list[tuple[int, int]]:
    return [(s, min(s + size, n)) for s in range(0, n, size)] or [(0, 0)]


def measure_batch(images: np.ndarray, processes: int = PROCESSES,
                  chunk: int = 500) -> np.ndarray:
    """float32 [N, 6] morphometrics of uint8 [N, H, W(, 1)] images, over ``processes``."""
    images = np.asarray(images)
    parts = _pool_map(_measure_chunk, [images[a:b] for a, b in _spans(len(images), chunk)],
                      processes)
    return np.concatenate(parts).astype(np.float32)


def perturb_batch(images: np.ndarray, kinds: np.ndarray, key: tuple,
                  processes: int = PROCESSES, chunk: int = 250) -> tuple[np.ndarray, np.ndarray]:
    """(uint8 [N, H, W] perturbed images, float32 [N, 6] their morphometrics): image i gets
    ``PERTURBATIONS[kinds[i]]`` with ``morpho.image_rng(key, i)``, however it is split."""
    images, kinds = np.asarray(images), np.asarray(kinds)
    args = [(images[a:b], kinds[a:b], a, tuple(key)) for a, b in _spans(len(images), chunk)]
    parts = _pool_map(_perturb_chunk, args, processes)
    return (np.concatenate([p[0] for p in parts]),
            np.concatenate([p[1] for p in parts]).astype(np.float32))


def _mnist(base: Callable, split: str) -> tuple[np.ndarray, np.ndarray]:
    raw = base('mnist', split)
    image, label = np.asarray(raw['image']), np.asarray(raw['label'])
    if image.dtype != np.uint8 or image.ndim != 4 or image.shape[1:] != (28, 28, 1):
        raise JaxgenError(f'Morpho-MNIST needs uint8 [N,28,28,1] MNIST images, got '
                          f'{image.dtype} {list(image.shape)}; delete the MNIST cache and '
                          f'point JAXGEN_DATA_DIR at the original MNIST files')
    if len(image) == 0 or len(label) != len(image):
        raise JaxgenError(f'MNIST {split} has {len(image)} images and {len(label)} labels; '
                          f'delete the MNIST cache and point JAXGEN_DATA_DIR at the originals')
    return image, label.astype(np.int32)


def _info(name: str, split: str, n: int, wall: float, processes: int, **extra) -> dict:
    return {'name': name, 'kind': 'images', 'split': split, 'num_examples': int(n),
            'shape': [28, 28, 1], 'num_classes': 10,
            'source': f'{morpho.SOURCE}; images: MNIST {split} as jaxgen loads it (TFDS order)',
            'base': 'mnist', 'attribute_names': list(morpho.ATTRIBUTE_NAMES),
            'definitions': DEFINITIONS, 'parameters': morpho.PARAMETERS,
            'build_seconds': round(wall, 2), 'processes': int(processes), **extra}


def morpho_mnist(config: Any, split: str, base: Callable, *,
                 processes: int = PROCESSES) -> tuple[dict, dict]:
    """MNIST with its six morphometrics as ``attributes``."""
    def build():
        image, label = _mnist(base, split)
        start = time.perf_counter()
        attributes = measure_batch(image, processes)
        info = _info('morpho_mnist', split, len(image), time.perf_counter() - start, processes)
        return {'image': image, 'label': label, 'attributes': attributes}, info
    return cached(cache_dir_of(config), 'morpho_mnist', split, build)


def morpho_perturbed(config: Any, split: str, base: Callable, *, seed: int = SEED,
                     processes: int = PROCESSES) -> tuple[dict, dict]:
    """MNIST with one perturbation an image (``domain``), measured after it."""
    def build():
        image, label = _mnist(base, split)
        key = (seed, SPLIT_IDS[split])
        domain = np.random.default_rng(key).integers(len(morpho.PERTURBATIONS),
                                                     size=len(image)).astype(np.int32)
        start = time.perf_counter()
        out, attributes = perturb_batch(image, domain, key, processes)
        info = _info('morpho_perturbed', split, len(image), time.perf_counter() - start,
                     processes, domain_names=list(morpho.PERTURBATIONS), seed=int(seed),
                     assignment=f'numpy default_rng({list(key)}).integers(5) per image; '
                                f'image i perturbed with default_rng([{seed}, '
                                f'{SPLIT_IDS[split]}, i])',
                     counts=np.bincount(domain, minlength=5).tolist())
        return {'image': out[..., None], 'label': label, 'attributes': attributes,
                'domain': domain}, info
    name = 'morpho_perturbed' if seed == SEED else f'morpho_perturbed-seed{seed}'
    return cached(cache_dir_of(config), name, split, build)


def thin_thick(config: Any, split: str, base: Callable, *,
               processes: int = PROCESSES) -> tuple[dict, dict]:
    """Unpaired domains a = thin digits, b = thick digits, by the train split's thickness
    quantiles (:data:`QUANTILES`); built in a moment from the cached ``morpho_mnist``."""
    arrays, info = morpho_mnist(config, split, base, processes=processes)
    train = arrays if split == 'train' else morpho_mnist(config, 'train', base,
                                                         processes=processes)[0]
    column = morpho.ATTRIBUTE_NAMES.index('thickness')
    low, high = (float(q) for q in np.quantile(train['attributes'][:, column], QUANTILES))
    thickness = arrays['attributes'][:, column]
    a, b = thickness < low, thickness > high
    if not a.any() or not b.any():
        raise JaxgenError(f'thin_thick: the {split} split has {int(a.sum())} digits thinner '
                          f'than {low:.2f} px and {int(b.sum())} thicker than {high:.2f} px; '
                          f'both domains need some: use more MNIST images')
    out = {f'{f}_{d}': arrays[f][mask] for d, mask in (('a', a), ('b', b))
           for f in ('image', 'label', 'attributes')}
    fields = ('image', 'label', 'attributes')
    return out, {
        **{k: v for k, v in info.items() if k not in ('build_seconds', 'cache_path')},
        'name': 'thin_thick', 'kind': 'unpaired', 'built_from': info['cache_path'],
        'streams': {d: [f'{f}_{d}' for f in fields] for d in ('a', 'b')},
        'domain_names': {'a': 'thin', 'b': 'thick'},
        'domain_attribute': 'thickness',
        'definition': f'a: thickness < {low:.4f} px (train {QUANTILES[0]:.4f} quantile); '
                      f'b: thickness > {high:.4f} px (train {QUANTILES[1]:.4f} quantile)',
        'thresholds': [low, high], 'quantiles': list(QUANTILES),
        'stream_sizes': {'a': int(a.sum()), 'b': int(b.sum())},
        'num_examples': int(min(a.sum(), b.sum()))}


ATTRIBUTE_DOMAINS = ('thickness', 'slant')
SIDES = ('low', 'high')


def domain_rules(names: tuple = ATTRIBUTE_DOMAINS) -> dict[str, dict[str, str]]:
    """``{'thin-upright': {'thickness': 'low', 'slant': 'low'}, ...}``: each side of each."""
    words = {'thickness': ('thin', 'thick'), 'slant': ('upright', 'slanted')}
    rules = {'': {}}
    for attribute in names:
        rules = {f'{n}-{words[attribute][i]}'.strip('-'): {**r, attribute: SIDES[i]}
                 for n, r in rules.items() for i in range(2)}
    return rules


def morpho_attributes(config: Any, split: str, base: Callable, *,
                      processes: int = PROCESSES) -> tuple[dict, dict]:
    """Measured attributes as StarGAN's domains: thin or thick (thickness below the
    train split's 1/3 quantile or above its 2/3 quantile) times upright or slanted
    (slant likewise; upright includes leaning left); digits in the middle third of
    either are left out. ``domain`` indexes ``info['domain_names']``; ``info['domain_rules']`` says each domain's side of
    each attribute and ``info['attribute_medians']`` the train medians by which an
    output's side is judged (``jaxgen/metrics/translation.py``)."""
    arrays, info = morpho_mnist(config, split, base, processes=processes)
    train = arrays if split == 'train' else morpho_mnist(config, 'train', base,
                                                         processes=processes)[0]
    rules = domain_rules()
    columns = [morpho.ATTRIBUTE_NAMES.index(a) for a in ATTRIBUTE_DOMAINS]
    cuts = {a: [float(q) for q in np.quantile(train['attributes'][:, c], QUANTILES)]
            for a, c in zip(ATTRIBUTE_DOMAINS, columns)}
    medians = {a: float(np.median(train['attributes'][:, c]))
               for a, c in zip(ATTRIBUTE_DOMAINS, columns)}
    domain = np.full(len(arrays['label']), -1, np.int32)
    for index, rule in enumerate(rules.values()):
        inside = np.ones(len(domain), bool)
        for attribute, column in zip(ATTRIBUTE_DOMAINS, columns):
            value, (low, high) = arrays['attributes'][:, column], cuts[attribute]
            inside &= value < low if rule[attribute] == 'low' else value > high
        domain[inside] = index
    kept = domain >= 0
    out = {f: arrays[f][kept] for f in ('image', 'label', 'attributes')}
    return {**out, 'domain': domain[kept]}, {
        **{k: v for k, v in info.items() if k not in ('build_seconds', 'cache_path')},
        'name': 'morpho_attributes', 'built_from': info['cache_path'],
        'domain_names': list(rules), 'domain_rules': rules,
        'domain_thresholds': cuts, 'attribute_medians': medians,
        'definition': f'each of {list(ATTRIBUTE_DOMAINS)} below the train split\'s '
                      f'{QUANTILES[0]:.4f} quantile (low) or above its {QUANTILES[1]:.4f} '
                      'quantile (high); the middle third of either left out',
        'counts': np.bincount(domain[kept], minlength=len(rules)).tolist(),
        'num_examples': int(kept.sum())}
