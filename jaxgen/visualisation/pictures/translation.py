"""Translation pictures: what a model was given, what it made, and what it should
have made (pix2pix), with the columns labelled."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from jaxgen.visualisation.grid import labelled_grid

NUM = 8  # examples per picture: one row each


def triplets(model, variables, key, examples=None) -> dict[str, np.ndarray]:
    """``translations``: one row per fixed example, input | output | target."""
    if examples is None:
        return {}
    source = jnp.asarray(examples['image_a'][:NUM])
    output = model.generate(variables, {'image': source}, key)
    rows = np.stack([np.asarray(source), np.asarray(output),
                     np.asarray(examples['image_b'][:NUM])], axis=1)
    return {'translations': labelled_grid(rows, col_labels=['input', 'output', 'target'],
                                          cell_px=48)}


def cycles(model, variables, key, examples=None) -> dict[str, np.ndarray]:
    """``cycles``: one row per fixed example of each domain: the image, its
    translation and its cycle reconstruction (A | A->B | A->B->A, then B's)."""
    if examples is None:
        return {}
    rows = []
    for x, y in (('a', 'b'), ('b', 'a')):
        real = jnp.asarray(examples[f'image_{x}'][:NUM // 2])
        fake = model.generate(variables, {f'image_{x}': real}, key)
        back = model.generate(variables, {f'image_{y}': fake}, key)
        rows.append(np.stack([np.asarray(real), np.asarray(fake), np.asarray(back)], axis=1))
    return {'cycles': labelled_grid(np.concatenate(rows), cell_px=48,
                                    col_labels=['input', 'output', 'cycle'],
                                    row_labels=['A'] * (NUM // 2) + ['B'] * (NUM // 2))}


def domains(model, variables, key, examples=None, max_domains: int = 8) -> dict[str, np.ndarray]:
    """``domains``: one row per fixed example, its input and then its translation
    into each target domain (the first ``max_domains``)."""
    if examples is None:
        return {}
    x = jnp.asarray(examples['image'][:NUM])
    k = min(model.num_domains, max_domains)
    columns = [np.asarray(x)] + [
        np.asarray(model.generate(variables, {'image': x, 'domain': np.full(len(x), d)}, key))
        for d in range(k)]
    names = [str(n)[:10] for n in model.data_info['domain_names'][:k]]
    return {'domains': labelled_grid(np.stack(columns, axis=1), col_labels=['input'] + names,
                                     cell_px=48)}
