"""Puzzle-GAN's pictures: one row per fixed example, its key patches placed at their boxes
on a grey canvas | the predicted mask | the generated image | the real image (the official
``save_images`` shows the parts, the real and generated images and both masks)."""

from __future__ import annotations

import numpy as np

from jaxgen.visualisation.grid import labelled_grid

NUM = 8  # examples per picture: one row each


def place(patches, boxes, shape, background: float = 0.0) -> np.ndarray:
    """float ``[B, H, W, C]``: each patch ``[B, P, s, s, C]`` pasted at its box (top, left,
    h, w) on a ``background`` canvas, later patches over earlier ones."""
    patches, boxes = np.asarray(patches, np.float32), np.asarray(boxes)
    canvas = np.full((patches.shape[0], *shape), background, np.float32)
    for i in range(patches.shape[0]):
        for p in range(patches.shape[1]):
            top, left, h, w = (int(v) for v in boxes[i, p])
            h, w = min(h, patches.shape[2]), min(w, patches.shape[3])
            canvas[i, top:top + h, left:left + w] = patches[i, p, :h, :w]
    return canvas


def parts_to_image(model, variables, key, examples=None) -> dict[str, np.ndarray]:
    """``puzzle``: parts -> predicted mask -> generated image -> real image, one row each."""
    if examples is None or 'patches' not in examples:
        return {}
    patches, boxes = examples['patches'][:NUM], examples['boxes'][:NUM]
    fake, mask = model.generate_with_mask(variables, {'patches': patches, 'boxes': boxes}, key)
    real = np.asarray(examples['image'][:NUM], np.float32)
    channels = real.shape[-1]
    mask = np.repeat(np.asarray(mask) * 2.0 - 1.0, channels, axis=-1)
    rows = np.stack([place(patches, boxes, real.shape[1:]), mask, np.asarray(fake), real], 1)
    return {'puzzle': labelled_grid(rows, col_labels=['parts', 'mask', 'generated', 'real'],
                                    cell_px=48)}
