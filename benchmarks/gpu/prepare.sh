#!/usr/bin/env bash
# Fills .gpu/ (ignored by git) with what a device call needs and the GPU lacks:
# the prepared MNIST cache (compressed: 11 MB instead of 55) and the wheel of
# ml_collections, the one import of jaxgen's missing from the device's Python.
#
#   JAXGEN_DATA_DIR=<folder with mnist/> bash benchmarks/gpu/prepare.sh
#
# Then, with the device tool: command `bash benchmarks/gpu/run.sh infogan` (and
# `... throughput`), carry ['.gpu']. See benchmarks/gpu/run.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
mkdir -p .gpu/cache .gpu/whl
python - <<'PY'
import os
import numpy as np
from jaxgen import data
for split in ('train', 'test'):
    arrays = data.load({'name': 'mnist', 'fallback': False}, split).arrays
    np.savez_compressed(f'.gpu/cache/mnist-{split}.npz', image=arrays['image'],
                        label=arrays['label'])
    print(split, arrays['image'].shape, os.path.getsize(f'.gpu/cache/mnist-{split}.npz'))
PY
python -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 \
  --implementation cp --platform manylinux2014_x86_64 -d .gpu/whl 'ml_collections==1.1.0'
du -sh .gpu
