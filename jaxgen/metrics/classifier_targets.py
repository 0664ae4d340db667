"""What the domain classifier learns from a dataset's arrays: its images and one target.

A dataset split is a dict of named numpy fields (:mod:`jaxgen.data.draw`). The classifier
reads ``image`` (uint8 ``[N, H, W, C]``, any size, 1 or 3 channels) and one target:

* ``'label'``: int32 ``[N]`` classes, a softmax head with ``max(label) + 1`` outputs;
* ``'domain'``: int32 ``[N]`` domains, a softmax head likewise;
* ``'attributes'``: float32 ``[N, A]`` binary attributes (0/1, or -1/+1), a sigmoid head
  with ``A`` outputs (multi-label: one yes/no question per attribute).

The default target is ``label`` if present, else ``domain``, else ``attributes``. Two
unpaired domains stored as ``image_a`` and ``image_b`` (no ``image``) become one set of
images with ``domain`` 0 and 1.
"""

from __future__ import annotations

import dataclasses
from typing import Mapping, Sequence

import numpy as np

from jaxgen.errors import JaxgenError

TARGETS = ('label', 'domain', 'attributes')


@dataclasses.dataclass(frozen=True)
class Task:
    """One classification task: the target field, its head and its output names."""
    target: str
    outputs: int
    multi_label: bool
    names: tuple[str, ...]

    @property
    def head(self) -> str:
        return 'sigmoid' if self.multi_label else 'softmax'


def classifier_arrays(arrays: Mapping[str, np.ndarray]) -> dict:
    """``image`` and the target fields of a split (unpaired ``image_a``/``image_b`` become
    ``image`` with ``domain`` 0/1)."""
    if 'image' in arrays:
        return {k: arrays[k] for k in ('image',) + TARGETS if k in arrays}
    if 'image_a' in arrays and 'image_b' in arrays:
        a, b = np.asarray(arrays['image_a']), np.asarray(arrays['image_b'])
        if a.shape[1:] != b.shape[1:]:
            raise JaxgenError(f'the domain classifier needs image_a and image_b of one shape, '
                              f'got {a.shape[1:]} and {b.shape[1:]}; resize them to one size '
                              f'with config.data.resize')
        domain = np.concatenate([np.zeros(len(a), np.int32), np.ones(len(b), np.int32)])
        return {'image': np.concatenate([a, b]), 'domain': domain}
    raise JaxgenError(f'the domain classifier needs an image field, got fields '
                      f'{sorted(arrays)}; give the dataset an image field')


def choose_target(arrays: Mapping[str, np.ndarray], target: str | None = None) -> str:
    """``target`` checked against the fields, or the default (label, domain, attributes)."""
    if target:
        if target not in TARGETS:
            raise JaxgenError(f'unknown domain classifier target {target!r}; use one of '
                              f'{TARGETS}')
        if target not in arrays:
            raise JaxgenError(f'the domain classifier target {target!r} is not a field of '
                              f'this dataset (fields: {sorted(arrays)}); choose one of those')
        return target
    for name in TARGETS:
        if name in arrays:
            return name
    raise JaxgenError(f'the domain classifier needs a label, domain or attributes field to '
                      f'learn, got fields {sorted(arrays)}; add one of them to the dataset')


def target_values(arrays: Mapping[str, np.ndarray], task: Task) -> np.ndarray:
    """The target as the head learns it: int32 classes, or float32 0/1 attributes."""
    y = np.asarray(arrays[task.target])
    if task.multi_label:
        values = set(np.unique(y).tolist())
        if y.ndim != 2 or not (values <= {0.0, 1.0} or values <= {-1.0, 1.0}):
            raise JaxgenError(f'the domain classifier learns binary attributes (0/1 or -1/+1, '
                              f'[N, A]), got shape {y.shape} and values like '
                              f'{sorted(values)[:4]}; binarise them or choose another target')
        return (y > 0).astype(np.float32)
    if y.ndim != 1 or not np.issubdtype(y.dtype, np.integer) or (y.size and y.min() < 0):
        raise JaxgenError(f'the domain classifier needs {task.target} as non-negative '
                          f'integers [N], got dtype {y.dtype} and shape {y.shape}; store it '
                          f'as int32 classes')
    return y.astype(np.int32)


def make_task(splits: Sequence[Mapping[str, np.ndarray]], target: str | None = None,
              attribute_names: Sequence[str] | None = None) -> Task:
    """The task of ``splits`` (train and test): its target, head and number of outputs."""
    target = choose_target(splits[0], target)
    for arrays in splits[1:]:
        choose_target(arrays, target)
    if target == 'attributes':
        outputs = int(np.shape(splits[0][target])[-1])
        names = tuple(attribute_names or (f'attribute_{i}' for i in range(outputs)))
        if len(names) != outputs:
            raise JaxgenError(f'{len(names)} attribute names for {outputs} attributes; '
                              f"info['attribute_names'] must name each attribute once")
        task = Task(target, outputs, True, names)
    else:
        top = max(int(np.max(a[target])) if len(a[target]) else 0 for a in splits)
        task = Task(target, top + 1, False, tuple(str(i) for i in range(top + 1)))
    for arrays in splits:
        target_values(arrays, task)  # checked before any training
    if task.outputs < 1 or (not task.multi_label and task.outputs < 2):
        raise JaxgenError(f'the domain classifier needs at least two {target} values, got '
                          f'{task.outputs}; choose a target that varies')
    return task


def centre_crop(images: np.ndarray, shape: Sequence[int]) -> np.ndarray:
    """``images [N, H, W, C]`` centre-cropped to ``shape[:2]`` (unchanged when equal), as
    the data layer crops test images when ``config.data.crop`` is set."""
    h, w = images.shape[1:3]
    ch, cw = int(shape[0]), int(shape[1])
    if (h, w) == (ch, cw):
        return images
    if ch > h or cw > w:
        raise JaxgenError(f'cannot crop {h}x{w} images to {ch}x{cw}; the data and the '
                          f'model disagree on the image size')
    top, left = (h - ch) // 2, (w - cw) // 2
    return images[:, top:top + ch, left:left + cw]
