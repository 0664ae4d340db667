"""Shared test settings: a persistent XLA compilation cache.

Most tests are compile-bound and many compile the same programs (the small
ring GAN, the digits DCGAN, a resumed run's step). JAX's persistent cache lets a
program compiled once be loaded by later tests, by the other pytest-xdist
worker and by the subprocesses of tests/test_parallel.py. It lives under
``$JAXGEN_CACHE_DIR`` (CI points that inside the checkout) or the system's temp
folder. Results do not depend on it: the cache is keyed by the program and the
compiler's flags.

Tests also compile with LLVM's optimisation level 0
(``--xla_backend_optimization_level=0``): XLA's own graph optimisations still
run, so the programs compute the same things, and compiling them is 2-3x faster
while the few steps each test runs barely feel the slower code. Benchmarks and
training never see this flag.
"""

import os
import tempfile

import jax

CACHE = os.path.join(os.environ.get('JAXGEN_CACHE_DIR') or tempfile.gettempdir(),
                     'jax-compilation-cache')
os.environ['XLA_FLAGS'] = (os.environ.get('XLA_FLAGS', '') +
                           ' --xla_backend_optimization_level=0').strip()
os.environ['JAX_COMPILATION_CACHE_DIR'] = CACHE  # for the tests' subprocesses
os.environ['JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS'] = '0.2'
jax.config.update('jax_compilation_cache_dir', CACHE)
jax.config.update('jax_persistent_cache_min_compile_time_secs', 0.2)
