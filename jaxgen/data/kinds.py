"""What a dataset is, as the data layer declares it in ``info['kind']``.

* ``images``: ``[N, H, W, C]`` images (with labels or attributes, or none);
* ``points``: low-dimensional points with known modes (the 2-D mixtures: ``centers``, ``std``);
* ``paired``: aligned image pairs (``image_a``, ``image_b``);
* ``unpaired``: two image domains drawn independently.

Models, the trainer and the metrics read the kind instead of guessing it from
the keys or the shape of ``info``.
"""

from __future__ import annotations

from typing import Any, Mapping

KINDS = ('images', 'points', 'paired', 'unpaired')


def kind(info: Mapping[str, Any]) -> str:
    """``info['kind']``; for a workdir whose config.json predates it, ``points`` for
    flat data and ``images`` otherwise (the only kinds there were then)."""
    declared = info.get('kind')
    if declared is not None:
        return declared
    return 'points' if len(info.get('shape', ())) == 1 else 'images'
