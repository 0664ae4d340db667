"""jaxgen.host_memory: freed host memory stays in the process (glibc only)."""

import os
import platform
import subprocess
import sys

import pytest

from jaxgen import host_memory

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Allocates, touches and frees a 64 MB array ten times (numpy passes blocks this
# large to malloc) and prints the page faults taken after the first round.
PROBE = """
import resource, sys
import numpy as np
from jaxgen import host_memory
applied = host_memory.keep_freed_memory() if sys.argv[1] == 'keep' else None
np.ones(16 * 2**20, np.float32).sum()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(10):
    np.ones(16 * 2**20, np.float32).sum()
print(applied, resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""

# Touching 64 MB afresh takes at least one fault per 2 MiB (transparent huge pages).
REFAULTS = 10 * 64 // 2

glibc_only = pytest.mark.skipif(
    platform.system() != 'Linux' or platform.libc_ver()[0] != 'glibc',
    reason='keep_freed_memory tunes glibc malloc; this C library is not glibc')


def _faults(mode: str, **env) -> tuple[str, int]:
    out = subprocess.run([sys.executable, '-c', PROBE, mode], cwd=ROOT, check=True,
                         capture_output=True, text=True,
                         env={**os.environ, 'PYTHONPATH': ROOT, **env}).stdout.split()
    return out[0], int(out[1])


@glibc_only
def test_freed_blocks_are_reused_without_page_faults():
    default_label, default = _faults('default')
    kept_label, kept = _faults('keep')
    assert default_label == 'None' and kept_label == 'True'
    assert default >= REFAULTS, default  # glibc hands each block back: faults every round
    assert kept < 10, kept                # kept: the same pages serve every round


@glibc_only
def test_the_environment_variable_turns_it_off():
    label, faults = _faults('keep', **{host_memory.ENV: '0'})
    assert label == 'False' and faults >= REFAULTS


def test_train_py_applies_it_before_importing_jax():
    source = open(os.path.join(ROOT, 'train.py')).read()
    assert source.index('keep_freed_memory()') < source.index('from jaxgen import cli')
