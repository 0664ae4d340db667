"""InfoGAN's pictures: samples by category and the paper's Figure 2 traversals."""

from __future__ import annotations

import jax
import numpy as np

from jaxgen.visualisation.grid import labelled_grid


def traversal(model, variables, key, index: int, values: np.ndarray) -> np.ndarray:
    """Rows: the first categorical code's values; columns: continuous code
    ``index`` at ``values``; the noise and the other codes held fixed."""
    k = model.codes.categorical[0]
    rows, cols = k, len(values)
    base = model.codes.sample(key, 1)
    # Codes built on the host: the picture is one compiled program, the generator's.
    cat = np.zeros((rows, cols, len(model.codes.categorical)), np.int32)
    cat[:, :, 0] = np.arange(rows)[:, None]
    cont = np.zeros((rows * cols, model.codes.continuous), np.float32)
    cont[:, index] = np.tile(np.asarray(values, np.float32), rows)
    codes = {'z': np.repeat(np.asarray(base['z']), rows * cols, axis=0),
             'cat': cat.reshape(rows * cols, -1), 'cont': cont}
    images = model.decode(variables, codes)
    return np.asarray(images).reshape(rows, cols, *images.shape[1:])


def pictures(model, variables, key, examples=None) -> dict[str, np.ndarray]:
    del examples
    k = model.codes.categorical[0]
    kz, kt = jax.random.split(key)
    # Samples: row = category, columns = different noise (continuous codes at 0).
    codes = {name: np.array(c) for name, c in model.codes.sample(kz, k * 10).items()}
    codes['cat'][:, 0] = np.repeat(np.arange(k), 10)
    codes['cont'][:] = 0.0
    images = np.asarray(model.decode(variables, codes)).reshape(k, 10, 28, 28, -1)
    rows = [f'c1={i}' for i in range(k)]
    value_range = (0.0, 1.0) if model.generator.scale == 'unit' else (-1.0, 1.0)
    out = {'samples': labelled_grid(images, row_labels=rows, title='rows: categorical code c1; '
                                    'columns: noise z', cell_px=40, value_range=value_range)}
    values = np.linspace(-2.0, 2.0, 9)
    for j in range(model.codes.continuous):
        grid = traversal(model, variables, kt, j, values)
        out[f'traversal_c{j + 2}'] = labelled_grid(
            grid, row_labels=rows, col_labels=[f'{v:g}' for v in values],
            title=f'varying c{j + 2} from -2 to 2 (trained on [-1, 1]); z fixed', cell_px=40,
            value_range=value_range)
    return out
