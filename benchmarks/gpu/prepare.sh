#!/usr/bin/env bash
# Fills .gpu/ (ignored by git) with what a device call needs and the GPU lacks:
# - the prepared MNIST cache (compressed: 11 MB instead of 55) and the MNIST domain
#   classifier (so that InfoGAN's evaluation does not train one on device time);
# - for the throughput parts, the first SUBSET (default 15,000) training examples of
#   edges2fashion, Morpho-MNIST (thin_thick is selected from it) and fashion_mnist32,
#   compressed, their provenance marked 'gpu_subset' (a step's speed does not depend on
#   how many examples it draws from; the whole sets would not fit the 64 MiB a call carries);
# - the wheels of jaxgen's imports missing from the device's Python: ml_collections,
#   grain (with array_record, portpicker, importlib_resources) and dm-pix.
#
#   JAXGEN_DATA_DIR=<folder with mnist/> JAXGEN_CACHE_DIR=<a built cache> bash benchmarks/gpu/prepare.sh
#
# PROGRESSIVE=1 prepares for training on the whole of Fashion-MNIST instead
# (benchmarks/gpu/issues_28_31.sh): the prepared Fashion-MNIST cache (the device derives
# fashion_mnist32 from it) with the fashion_mnist32 domain classifier, and
# no subsets are written (a subset in the cache would stand in for the whole set).
#
# The derived sets must be in JAXGEN_CACHE_DIR already (any training run or
# `python benchmarks/data_gallery.py` builds them). Then, with the device tool:
# command `bash benchmarks/gpu/run.sh <part>`, carry ['.gpu']. See benchmarks/gpu/run.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
mkdir -p .gpu/cache/derived .gpu/cache/classifier .gpu/whl
python - <<'PY'
import glob, json, os, shutil
import numpy as np
from jaxgen import data
cache = os.environ['JAXGEN_CACHE_DIR']
for split in ('train', 'test'):
    arrays = data.load({'name': 'mnist', 'fallback': False}, split).arrays
    np.savez_compressed(f'.gpu/cache/mnist-{split}.npz', image=arrays['image'],
                        label=arrays['label'])
    print(split, arrays['image'].shape, os.path.getsize(f'.gpu/cache/mnist-{split}.npz'))
for path in glob.glob(f'{cache}/classifier/mnist_28x28x1_label_*'):
    shutil.copy(path, '.gpu/cache/classifier/')
n = int(os.environ.get('SUBSET', 15000))
progressive = os.environ.get('PROGRESSIVE') == '1'
if progressive:
    for path in glob.glob(f'{cache}/classifier/fashion_mnist32_32x32x1_label_*'):
        shutil.copy(path, '.gpu/cache/classifier/')
    for split in ('train', 'test'):  # the device has no TFDS to read the .gz files with
        arrays = data.load({'name': 'fashion_mnist', 'fallback': False}, split).arrays
        np.savez_compressed(f'.gpu/cache/fashion_mnist-{split}.npz', image=arrays['image'],
                            label=arrays['label'])
    shutil.rmtree('.gpu/cache/derived', ignore_errors=True)
for name in () if progressive else ('edges2fashion', 'morpho_mnist', 'fashion_mnist32'):
    stem = f'{cache}/derived/{name}-train-v1'
    with np.load(stem + '.npz') as f:
        arrays = {k: f[k][:n] for k in f.files}
    with open(stem + '.json') as f:
        info = json.load(f)
    info['gpu_subset'] = f'the first {n} training examples, for throughput only'
    out = f'.gpu/cache/derived/{name}-train-v1'
    np.savez_compressed(out + '.npz', **arrays)
    with open(out + '.json', 'w') as f:
        json.dump(info, f, indent=1, sort_keys=True)
    print(name, {k: v.shape for k, v in arrays.items()}, os.path.getsize(out + '.npz'))
PY
for p in ml_collections==1.1.0 grain==0.2.18 array-record==0.8.6 portpicker==1.6.0 \
         importlib_resources==7.1.0 dm-pix==0.4.5; do
  python -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 \
    --implementation cp --platform manylinux_2_28_x86_64 --platform manylinux_2_24_x86_64 \
    --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 -d .gpu/whl "$p"
done
du -sh .gpu
