"""Keep freed host memory in the process, so that a CPU step does not fault its buffers back in.

XLA:CPU allocates a step's temporary buffers with ``malloc`` and frees them when the
step ends. glibc returns large blocks to the kernel as they are freed (blocks over its
mmap threshold, and the top of its worker-thread heaps), so the next step takes a page
fault, and a zeroed page from the kernel, for every page it touches again: about 2.9 M
faults in a 12-s run of InfoGAN steps at batch 256 (some 290 MB a step). Kept, the
InfoGAN step ran 13-17% faster on the 2-core CPU (docs/RESULTS.md, issue 6).
:func:`keep_freed_memory` tells glibc to serve every block from its heaps (no mmap), to
keep what is freed (trim only above 2 GiB free), and to keep to two heaps, which is what
tcmalloc or jemalloc, the allocators that TensorFlow's and PyTorch's CPU guides recommend
preloading, do by design. The process then holds its peak host memory until it exits.

It changes process-wide allocator settings, so the library never calls it on import:
``train.py`` and the throughput benchmarks call it first thing, before JAX starts its
threads (a thread's heap is chosen when it first allocates).
``JAXGEN_KEEP_FREED_MEMORY=0`` turns it off. Elsewhere than glibc it does nothing.
"""

from __future__ import annotations

import ctypes
import os
import platform

ENV = 'JAXGEN_KEEP_FREED_MEMORY'
# glibc's mallopt parameters (malloc.h) and the values set.
M_TRIM_THRESHOLD, M_MMAP_MAX, M_ARENA_MAX = -1, -4, -8
SETTINGS = ((M_ARENA_MAX, 2), (M_MMAP_MAX, 0), (M_TRIM_THRESHOLD, 2**31 - 1))


def keep_freed_memory() -> bool:
    """Applies :data:`SETTINGS` with glibc's ``mallopt``; ``True`` if it did.

    ``False`` (and nothing changed) when ``JAXGEN_KEEP_FREED_MEMORY=0`` or the C
    library is not glibc.
    """
    if os.environ.get(ENV, '1').strip().lower() in ('0', 'false', 'no', 'off'):
        return False
    if platform.system() != 'Linux' or platform.libc_ver()[0] != 'glibc':
        return False
    libc = ctypes.CDLL(None)  # the process's own symbols: glibc's mallopt among them
    return all(libc.mallopt(option, value) == 1 for option, value in SETTINGS)
