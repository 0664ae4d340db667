"""Convert the lpips 0.1.4 v0.1 linear-layer weights (``.pth`` pickles) to ``.npz``, once.

The ``lpips`` wheel (PyPI, BSD-2; richzhang/PerceptualSimilarity; Zhang et al., 2018)
ships ``lpips/weights/v0.1/{alex,vgg,squeeze}.pth``: legacy torch pickles holding
``lin{k}.model.1.weight`` of shape (1, C, 1, 1), the non-negative 1×1 ``NetLinLayer``
weights. This script reads them with torch (``weights_only=True``) and writes
``jaxgen/metrics/lpips/weights/<net>.npz`` with arrays ``lin0``.. of shape (C,), so that
jaxgen never unpickles anything at run time. It also copies the wheel's licence text to
``weights/LICENSE.lpips``.

    pip download lpips==0.1.4 --no-deps -d /tmp/lpips_dl
    python scripts/lpips_convert_linear.py /tmp/lpips_dl/lpips-0.1.4-py3-none-any.whl
"""

from __future__ import annotations

import argparse
import io
import os
import zipfile

import numpy as np

OUT = os.path.join(os.path.dirname(__file__), '..', 'jaxgen', 'metrics', 'lpips', 'weights')
NETS = {'alex': 5, 'vgg': 5, 'squeeze': 7}


def convert(wheel: str, out: str = OUT) -> None:
    import torch  # only here: converting is a one-time step

    with zipfile.ZipFile(wheel) as archive:
        for net, layers in NETS.items():
            state = torch.load(io.BytesIO(archive.read(f'lpips/weights/v0.1/{net}.pth')),
                               map_location='cpu', weights_only=True)
            arrays = {f'lin{k}': state[f'lin{k}.model.1.weight'].numpy().reshape(-1).astype(np.float32)
                      for k in range(layers)}
            assert len(state) == layers, sorted(state)
            np.savez(os.path.join(out, f'{net}.npz'), **arrays)
            print(net, {k: v.shape for k, v in arrays.items()})
        licence = next(n for n in archive.namelist() if n.endswith('dist-info/LICENSE'))
        with open(os.path.join(out, 'LICENSE.lpips'), 'w') as f:
            f.write('The files alex.npz, vgg.npz and squeeze.npz in this folder are the v0.1\n'
                    'linear-layer weights of the lpips 0.1.4 package (PyPI; '
                    'https://github.com/richzhang/PerceptualSimilarity),\n'
                    'converted from lpips/weights/v0.1/*.pth by scripts/lpips_convert_linear.py.\n'
                    'They are distributed under its licence:\n\n')
            f.write(archive.read(licence).decode())


if __name__ == '__main__':
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('wheel', help='path to lpips-0.1.4-py3-none-any.whl')
    parser.add_argument('--out', default=OUT)
    args = parser.parse_args()
    convert(args.wheel, args.out)
