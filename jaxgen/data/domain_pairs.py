"""Two domains of one dataset as an unpaired pair (CycleGAN's ``trainA``/``trainB``).

A dataset whose examples carry a ``domain`` (an integer naming one of
``info['domain_names']``: the glyph fonts, Morpho-MNIST's perturbations, a TFDS set's
attribute) becomes, with ``config.data.pair_domains = ('a name', 'b name')``, two
independent streams: ``image_a`` (and ``label_a``, ``attributes_a``) holds the examples
of the first domain, ``image_b`` those of the second. Any two-domain translation model
then trains on it: glyphs in font A <-> font B, or MNIST digits <-> their thickened
versions, one CycleGAN per pair of StarGAN's domains.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from jaxgen.errors import JaxgenError

PER_EXAMPLE = ('image', 'label', 'attributes')


def _index(name: Any, names: Sequence[str], dataset: str) -> int:
    listed = ', '.join(str(n) for n in names)
    if isinstance(name, int) and 0 <= name < len(names):
        return name
    if str(name) in [str(n) for n in names]:
        return [str(n) for n in names].index(str(name))
    raise JaxgenError(f'config.data.pair_domains names {name!r}, not a domain of '
                      f'{dataset!r}; its domains are: {listed}')


def pair_domains(pair: Sequence[Any], arrays: dict, info: dict) -> tuple[dict, dict]:
    """(arrays, info) of the unpaired streams ``a`` and ``b`` of the two named domains."""
    dataset = info.get('name', '?')
    if len(pair) != 2:
        raise JaxgenError(f'config.data.pair_domains must name two domains, got {pair!r}')
    if 'domain' not in arrays or not info.get('domain_names') or 'image' not in arrays:
        raise JaxgenError(f'config.data.pair_domains needs images with domains (a domain '
                          f'field and info["domain_names"]); {dataset!r} has none: use '
                          'glyphs, morpho_perturbed, or a dataset with two domains already')
    names = list(info['domain_names'])
    a, b = (_index(p, names, dataset) for p in pair)
    if a == b:
        raise JaxgenError(f'config.data.pair_domains names domain {names[a]!r} twice; '
                          'name two different domains')
    domain = np.asarray(arrays['domain'])
    out, sizes = {}, {}
    for side, index in (('a', a), ('b', b)):
        rows = domain == index
        sizes[side] = int(rows.sum())
        if not sizes[side]:
            raise JaxgenError(f'domain {names[index]!r} of {dataset!r} has no examples in '
                              f'this split; pick another')
        out.update({f'{f}_{side}': np.asarray(arrays[f])[rows]
                    for f in PER_EXAMPLE if f in arrays})
    fields = [f for f in PER_EXAMPLE if f in arrays]
    return out, {
        **{k: v for k, v in info.items() if k not in ('counts', 'streams')},
        'name': f'{dataset}:{names[a]}<->{names[b]}', 'kind': 'unpaired',
        'paired_from': dataset, 'pair_domains': [str(names[a]), str(names[b])],
        'streams': {s: [f'{f}_{s}' for f in fields] for s in 'ab'},
        'domain_names': {'a': str(names[a]), 'b': str(names[b])},
        'stream_sizes': sizes, 'num_examples': min(sizes.values())}
