"""One-thread settings for every library that owns a thread pool.

Timed runs use these so that results are single-core and comparable; the settings
are recorded in each run's metadata. They must be in the environment before the
libraries are imported, which is why timed work runs in fresh worker processes.
"""

from __future__ import annotations

import os

THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
    "NUMBA_NUM_THREADS",
    "RAYON_NUM_THREADS",
    "KERNELS_RS_NUM_THREADS",  # the thread pool kernels_rs owns (MTTKRP, inner product, TTV)
)


def single_thread_env(base: dict[str, str] | None = None) -> dict[str, str]:
    """A copy of ``base`` (default: ``os.environ``) with every pool pinned to one thread."""
    env = dict(os.environ if base is None else base)
    env.update({name: "1" for name in THREAD_VARIABLES})
    return env


def thread_settings() -> dict[str, str | None]:
    """The thread variables as this process sees them."""
    return {name: os.environ.get(name) for name in THREAD_VARIABLES}
