"""Convert a torchvision AlexNet / VGG16 / SqueezeNet 1.1 checkpoint for jaxgen's LPIPS, once.

jaxgen does not ship or download ImageNet backbones. LPIPS (Zhang et al., 2018; lpips
0.1.4, richzhang/PerceptualSimilarity) uses torchvision's ``alexnet``, ``vgg16`` and
``squeezenet1_1`` ImageNet weights; if you have such a state dict (for example the files
torchvision downloads into ``~/.cache/torch/hub/checkpoints/``:
``alexnet-owt-7be5be79.pth``, ``vgg16-397923af.pth``, ``squeezenet1_1-b8a52dc0.pth``),
convert it once:

    pip install torch            # only for this step (benchmarks/requirements-lpips.txt)
    python scripts/lpips_convert_backbone.py alex ~/.cache/torch/hub/checkpoints/alexnet-owt-7be5be79.pth

It reads the file with ``torch.load(weights_only=True)`` (no arbitrary unpickling), keeps
the ``features.*`` tensors (OIHW), checks their names and shapes against jaxgen's trunk,
and writes an ``.npz`` to ``$JAXGEN_CACHE_DIR/lpips/<net>_backbone.npz`` (the place
``jaxgen.metrics.lpips.lpips_distance(net)`` looks by default; ``--out`` for another path,
then pass ``backbone_path=``). Without it, LPIPS raises a one-line error, and domain LPIPS
(``domain_lpips_distance``) still works offline.
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
from jaxgen.metrics.lpips import trunks  # noqa: E402
from jaxgen.metrics.lpips.distance import default_backbone_path  # noqa: E402


def features_state(state: dict) -> dict[str, np.ndarray]:
    """The ``features.*`` arrays of a torchvision state dict (a ``module.`` prefix from
    DataParallel is dropped)."""
    out = {}
    for key, value in state.items():
        key = key[len('module.'):] if key.startswith('module.') else key
        if key.startswith('features.'):
            out[key] = np.asarray(value.detach().cpu().numpy() if hasattr(value, 'detach') else value,
                                  np.float32)
    return out


def convert(net: str, source: str, out: str | None = None) -> str:
    import torch  # only here: the conversion is a one-time step

    state = torch.load(source, map_location='cpu', weights_only=True)
    state = state.get('state_dict', state) if isinstance(state, dict) else state
    arrays = features_state(state)
    trunks.params_from_torch(net, arrays)  # raises on a missing key or a wrong shape
    arrays = {k: arrays[k] for k in trunks.torch_shapes(net)}
    out = out or default_backbone_path(net)
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    np.savez(out, **arrays)
    return out


if __name__ == '__main__':
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('net', choices=sorted(trunks.SPECS))
    parser.add_argument('checkpoint', help="a torchvision state dict (.pth) of the net's model")
    parser.add_argument('--out', help='default: $JAXGEN_CACHE_DIR/lpips/<net>_backbone.npz')
    args = parser.parse_args()
    print('wrote', convert(args.net, args.checkpoint, args.out))
