"""Style transfer with the text-to-image GAN's inverse network (Reed et al., 2016, §4.4
and Figure 6): z = S(x) of a real test image, then G(z, φ(t)) for a new caption t.

On captioned_mnist the captions say the digit, its thickness and its slant; what they
leave to z is everything else, and Morpho-MNIST measures two such things: the digit's
*width* and *height* (px). So, for the first ``--num`` held-in test images x and, for
each, the caption t of another test image (another digit):

* ``text``: the domain classifier reads t's digit in G(S(x), φ(t)) (the text still decides
  the content), and thickness/slant land in t's bins;
* ``style``: Pearson correlation, over the images, of width (and height) of G(S(x), φ(t))
  with that of x; the baseline is the same with z ~ N(0, I) in place of S(x) (no style
  carried: about 0). A correlation well above the baseline means z carries x's style
  into the new caption's digit;
* ``reconstruction``: G(S(x), φ(own caption)) against x: mean |difference| in [-1, 1]
  and the class kept.

    python benchmarks/text2image_style_transfer.py --workdir runs/t2i/gan_cls_inverse
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import jax
import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..'))
from jaxgen import data  # noqa: E402  (after the path)
from jaxgen.data.derived import captions, morpho  # noqa: E402
from jaxgen.metrics import classifier  # noqa: E402
from jaxgen.metrics.translation import measured  # noqa: E402
from jaxgen.training.restore import load  # noqa: E402

BATCH = 250


def batched(fn, *arrays):
    return np.concatenate([np.asarray(fn(*(a[i:i + BATCH] for a in arrays)))
                           for i in range(0, len(arrays[0]), BATCH)])


def attributes(images) -> dict[str, np.ndarray]:
    values = measured(images)
    return {name: np.asarray(values[name], np.float64) for name in morpho.ATTRIBUTE_NAMES}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--workdir', required=True)
    parser.add_argument('--num', type=int, default=500)
    parser.add_argument('--step', type=int, default=None)
    parser.add_argument('--out', default=None, help='JSON (default <workdir>/style_transfer.json)')
    args = parser.parse_args()
    began = time.time()
    exp, state, step = load(args.workdir, args.step)
    model, variables = exp.model, exp.variables(state)
    test = data.load(exp.config.data, 'test').arrays
    label = np.asarray(test['label'])
    thick, slant = captions.bins(test['attributes'])
    index = np.flatnonzero(~captions.held_out_mask(label, thick, slant))[:args.num]
    x = np.asarray(test['image'][index], np.float32) / 127.5 - 1.0
    own = np.asarray(test[model.text.field][index])
    # Another test image's caption with another digit: the next index whose label differs.
    other = np.array([next(j for j in np.roll(index, -k) if label[j] != label[i])
                      for k, i in enumerate(index, start=1)])
    new = np.asarray(test[model.text.field][other])
    z = batched(lambda a: model.invert(variables, a), x)
    embed = lambda c: model.embed(variables, c)  # noqa: E731
    decode = lambda zz, c: model.decode(variables, zz, embed(c))  # noqa: E731
    transfer = batched(decode, z, new)
    recon = batched(decode, z, own)
    z_random = np.asarray(jax.random.normal(jax.random.key(0), z.shape), np.float32)
    baseline = batched(decode, z_random, new)
    data_dir, cache_dir = data.data_dirs({})
    extractor = classifier.for_data('mnist', cache_dir, data_dir)
    read = lambda images: np.argmax(batched(extractor.logits, images), -1)  # noqa: E731
    real_m, transfer_m, base_m = attributes(x), attributes(transfer), attributes(baseline)
    got_t, got_s = captions.bins(np.stack([transfer_m[n] for n in morpho.ATTRIBUTE_NAMES], 1))
    results = {
        'step': step, 'num': int(len(index)),
        'text_class_acc': float(np.mean(read(transfer) == label[other])),
        'text_thickness_acc': float(np.mean(got_t == thick[other])),
        'text_slant_acc': float(np.mean(got_s == slant[other])),
        'reconstruction_l1': float(np.mean(np.abs(recon - x))),
        'reconstruction_class_acc': float(np.mean(read(recon) == label[index])),
        'baseline_l1_random_z': float(np.mean(np.abs(batched(decode, z_random, own) - x))),
    }
    for name in ('width', 'height', 'area'):
        results[f'style_corr_{name}'] = float(np.corrcoef(real_m[name], transfer_m[name])[0, 1])
        results[f'baseline_corr_{name}'] = float(np.corrcoef(real_m[name], base_m[name])[0, 1])
    results['seconds'] = round(time.time() - began, 1)
    out = args.out or os.path.join(args.workdir, 'style_transfer.json')
    with open(out, 'w') as f:
        json.dump(results, f, indent=2)
    for k, v in results.items():
        print(f'{k:28s} {v}')


if __name__ == '__main__':
    main()
