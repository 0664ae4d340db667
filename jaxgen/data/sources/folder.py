"""A folder of PNG/JPEG images as arrays of named fields: ``folder:<path>``.

Three layouts (``config.data.folder.layout``; 'auto' tells them apart by their folders):

* ``'classes'``: one subfolder per class (``cat/``, ``dog/``), the label being the index of
  the subfolder in sorted order (``info['class_names']``). The class subfolders sit in
  ``train/`` and ``test/`` (or ``val/``) when those exist; otherwise the folder itself
  serves both splits.
* ``'aligned'``: pix2pix's pairs, A and B side by side in one file (``train/``, ``test/``
  or ``val/`` subfolders of such files) -> ``image_a`` (left half), ``image_b`` (right);
  ``config.data.folder.direction='BtoA'`` swaps them. Kind 'paired'.
* ``'unpaired'``: CycleGAN's ``trainA``/``trainB``/``testA``/``testB`` -> ``image_a`` and
  ``image_b`` in two independent streams (``info['streams']``). Kind 'unpaired'.

Files are read in sorted order with Pillow: greyscale modes become 1 channel, the others RGB
(alpha dropped); a folder mixing both is stored as RGB. Each image is resized to
``config.data.resize`` and converted to ``config.data.channels`` as it is read
(:mod:`jaxgen.data.preprocess`); without ``resize`` all images must have one size.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
from PIL import Image

from jaxgen.data import preprocess
from jaxgen.errors import JaxgenError

EXTENSIONS = ('.png', '.jpg', '.jpeg', '.bmp')
LAYOUTS = ('auto', 'classes', 'aligned', 'unpaired')
DIRECTIONS = ('AtoB', 'BtoA')
SPLIT_FOLDERS = {'train': ('train',), 'test': ('test', 'val')}
UNPAIRED = ('trainA', 'trainB', 'testA', 'testB')
GREY_MODES = ('1', 'L', 'LA', 'I', 'I;16', 'F')


def settings(config: Any) -> dict:
    """``config.data.folder`` with defaults, plus checked ``resize`` and ``channels``."""
    given = dict(config.get('folder') or {})
    out = {'layout': given.get('layout') or 'auto', 'direction': given.get('direction') or 'AtoB'}
    if out['layout'] not in LAYOUTS:
        raise JaxgenError(f'config.data.folder.layout={out["layout"]!r}; use one of {LAYOUTS}')
    if out['direction'] not in DIRECTIONS:
        raise JaxgenError(f'config.data.folder.direction={out["direction"]!r}; '
                          f'use one of {DIRECTIONS}')
    out['resize'], out['channels'] = preprocess.check(config.get('resize') or 0,
                                                      config.get('channels') or 0)
    return out


def image_files(folder: str) -> list[str]:
    """The image files directly in ``folder``, sorted by name (hidden files skipped)."""
    return [os.path.join(folder, f) for f in sorted(os.listdir(folder))
            if f.lower().endswith(EXTENSIONS) and not f.startswith('.')
            and os.path.isfile(os.path.join(folder, f))]


def subfolders(folder: str) -> list[str]:
    return [f for f in sorted(os.listdir(folder))
            if not f.startswith('.') and os.path.isdir(os.path.join(folder, f))]


def detect(root: str) -> str:
    """The layout of ``root``: 'unpaired', 'aligned' or 'classes'."""
    subs = subfolders(root)
    if set(subs) & set(UNPAIRED):
        return 'unpaired'
    splits = [s for s in ('train', 'test', 'val') if s in subs]
    if splits:
        return 'aligned' if image_files(os.path.join(root, splits[0])) else 'classes'
    if subs:
        return 'classes'
    if image_files(root):
        raise JaxgenError(f'folder {root} holds images but no subfolders; put them in one '
                          f'subfolder per class ({root}/<class>/), pix2pix train/ and test/, '
                          f'or CycleGAN trainA/ and trainB/')
    raise JaxgenError(f'folder {root} is empty (no {"/".join(EXTENSIONS)} images and no '
                      f'subfolders); point config.data.name at folder:<a folder of images>')


def read(path: str) -> np.ndarray:
    """uint8 ``[H, W, 1]`` (greyscale modes) or ``[H, W, 3]``; a one-line error if corrupt."""
    try:
        with Image.open(path) as image:
            image.load()
            image = image.convert('L' if image.mode in GREY_MODES else 'RGB')
    except (OSError, SyntaxError, ValueError) as e:
        raise JaxgenError(f'cannot read image file {path} ({type(e).__name__}: '
                          f'{str(e).splitlines()[0] if str(e) else ""}); replace or delete '
                          f'that file') from None
    x = np.asarray(image, np.uint8)
    return x[..., None] if x.ndim == 2 else x


def stack(images: list[np.ndarray], files: list[str], what: str = 'images') -> np.ndarray:
    """One uint8 ``[N, H, W, C]`` array (greyscale replicated where others are colour);
    images of two sizes are a one-line error naming a file of each."""
    c = max(x.shape[-1] for x in images)
    images = [np.repeat(x, c, axis=-1) if x.shape[-1] != c else x for x in images]
    for x, f in zip(images, files):
        if x.shape[:2] != images[0].shape[:2]:
            (h0, w0), (h, w) = images[0].shape[:2], x.shape[:2]
            raise JaxgenError(f'{what} differ in size: {files[0]} is {w0}x{h0} and {f} is '
                              f'{w}x{h}; set config.data.resize to bring them to one size')
    return np.stack(images)


def split_folder(root: str, names: tuple[str, ...], split: str) -> str:
    for name in names:
        if os.path.isdir(os.path.join(root, name)):
            return os.path.join(root, name)
    raise JaxgenError(f'folder {root} has no {" or ".join(n + "/" for n in names)} subfolder '
                      f'for the {split} split; add it, with images laid out like the others')


def _nonempty(files: list[str], folder: str) -> list[str]:
    if not files:
        raise JaxgenError(f'folder {folder} has no {"/".join(EXTENSIONS)} images; add some '
                          f'or point config.data.name at another folder')
    return files


def load_classes(root: str, split: str, keys: dict) -> tuple[dict, dict]:
    """Class subfolders (in ``train/``/``test/`` when present) -> image, label."""
    splits = [s for s in ('train', 'test', 'val') if os.path.isdir(os.path.join(root, s))]
    base = split_folder(root, SPLIT_FOLDERS[split], split) if splits else root
    # Class names from every split folder, so a label means the same class in each.
    names = sorted({c for folder in ([os.path.join(root, s) for s in splits] or [root])
                    for c in subfolders(folder)})
    files, labels = [], []
    for label, name in enumerate(names):
        folder = os.path.join(base, name)
        found = image_files(folder) if os.path.isdir(folder) else []
        files += found
        labels += [label] * len(found)
    _nonempty(files, base)
    images = [preprocess.shape_image(read(f), keys['resize'], keys['channels']) for f in files]
    arrays = {'image': stack(images, files), 'label': np.asarray(labels, np.int32)}
    return arrays, {'kind': 'images', 'folders': [os.path.relpath(base, root)],
                    'class_names': names, 'num_classes': len(names)}


def load_aligned(root: str, split: str, keys: dict) -> tuple[dict, dict]:
    """pix2pix's side-by-side pairs -> image_a, image_b (one stream)."""
    base = split_folder(root, SPLIT_FOLDERS[split], split)
    files = _nonempty(image_files(base), base)
    halves = {'a': [], 'b': []}
    for f in files:
        x = read(f)
        if x.shape[1] % 2:
            raise JaxgenError(f'aligned image {f} is {x.shape[1]} pixels wide, an odd width, '
                              f'so it cannot hold A and B side by side; use the pix2pix '
                              f"layout (A|B, each half as wide) or another layout")
        left, right = x[:, :x.shape[1] // 2], x[:, x.shape[1] // 2:]
        a, b = (left, right) if keys['direction'] == 'AtoB' else (right, left)
        halves['a'].append(preprocess.shape_image(a, keys['resize'], keys['channels']))
        halves['b'].append(preprocess.shape_image(b, keys['resize'], keys['channels']))
    arrays = {f'image_{s}': stack(v, files, 'aligned pairs') for s, v in halves.items()}
    return arrays, {'kind': 'paired', 'folders': [os.path.relpath(base, root)]}


def load_unpaired(root: str, split: str, keys: dict) -> tuple[dict, dict]:
    """CycleGAN's <split>A / <split>B -> image_a and image_b, two independent streams."""
    domains = ('A', 'B') if keys['direction'] == 'AtoB' else ('B', 'A')
    arrays, folders, first = {}, [], []
    for stream, domain in zip('ab', domains):
        base = split_folder(root, tuple(s + domain for s in SPLIT_FOLDERS[split]), split)
        files = _nonempty(image_files(base), base)
        images = [preprocess.shape_image(read(f), keys['resize'], keys['channels'])
                  for f in files]
        arrays[f'image_{stream}'] = stack(images, files)
        folders.append(os.path.relpath(base, root))
        first.append(files[0])
    a, b = arrays['image_a'], arrays['image_b']
    if a.shape[1:] != b.shape[1:]:
        raise JaxgenError(f'the A and B images differ in size: {first[0]} is {a.shape[1:]} and '
                          f'{first[1]} is {b.shape[1:]} (height, width, channels); set '
                          f'config.data.resize and config.data.channels to bring them to one')
    info = {'kind': 'unpaired', 'folders': folders, 'streams': {'a': ['image_a'],
                                                                'b': ['image_b']},
            'stream_sizes': {'a': int(len(a)), 'b': int(len(b))}}
    return arrays, info


LOADERS = {'classes': load_classes, 'aligned': load_aligned, 'unpaired': load_unpaired}


def load_arrays(path: str, config: Any, split: str) -> tuple[dict, dict]:
    """``(arrays, info)`` of split 'train' or 'test' of the image folder ``path``."""
    keys = settings(config)
    root = os.path.abspath(os.path.expanduser(path))
    if not os.path.isdir(root):
        raise JaxgenError(f'image folder {root} does not exist; set config.data.name to '
                          f'folder:<an existing folder>')
    layout = detect(root) if keys['layout'] == 'auto' else keys['layout']
    arrays, info = LOADERS[layout](root, split, keys)
    images = [arrays[f] for f in ('image', 'image_a', 'image_b') if f in arrays]
    info = {'name': f'folder:{path}', 'source': root, 'split': split, 'layout': layout,
            'direction': keys['direction'], 'resize': keys['resize'],
            'channels': keys['channels'],
            'num_examples': int(sum(len(x) for x in images)) if layout == 'unpaired'
            else int(len(images[0])),
            'shape': list(images[0].shape[1:]), **info}
    return arrays, info
