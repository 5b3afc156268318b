"""The MTTKRP and CP-ALS implementations of the ``mttkrp`` experiment.

Every MTTKRP implementation computes pyttb's ``sptensor.mttkrp(factors, mode)`` for a
``pyttb.sptensor`` (a C-ordered ``(shape[mode], R)`` array):

* ``pyttb``: ``pyttb.sptensor.mttkrp`` as shipped (R separate TTVs, each building an
  sptensor);
* ``rust_from_python``: the same call, ``tensor.mttkrp(factors, mode)``, with
  ``kernels_rs.pyttb`` enabled on one thread: what a pyttb user gets without changing code;
* ``rust_all_cores``: the same with the kernels' thread count set to the cell's ``threads``
  (every core the worker may use);
* ``numba``: the Rust kernel's one-pass algorithm (for each nonzero, the product of its
  factor rows added to its output row) compiled by Numba: the paper's "Numba on more
  advanced computation".

CP-ALS implementations run ``pyttb.cp_als`` for a fixed number of iterations from a fixed
initial ktensor: ``pyttb`` stock, ``rust_from_python``/``rust_all_cores`` with the drop-in
enabled, and ``native`` (``kernels_rs.cp_als`` when the installed kernels have it).
"""

from __future__ import annotations

import contextlib
from functools import cache

import numpy as np
import pyttb as ttb

MTTKRP_IMPLEMENTATIONS = ("pyttb", "numba", "rust_from_python", "rust_all_cores")
CP_ALS_IMPLEMENTATIONS = ("pyttb", "rust_from_python", "rust_all_cores", "native")
# The drop-in paths: the kernels' thread count is the cell's.
ACCELERATED = ("rust_from_python", "rust_all_cores")


@contextlib.contextmanager
def acceleration(implementation: str, threads: int):
    """pyttb accelerated by kernels_rs on ``threads`` threads for the accelerated
    implementations, stock pyttb otherwise; the previous state is restored after."""
    if implementation not in ACCELERATED:
        yield
        return
    import kernels_rs.pyttb

    import kernels_rs

    before = kernels_rs.get_num_threads()
    kernels_rs.set_num_threads(threads)
    try:
        with kernels_rs.pyttb.enabled():
            yield
    finally:
        kernels_rs.set_num_threads(before)


def factor_matrices(shape, rank: int, seed: int) -> list[np.ndarray]:
    """One C-ordered (shape[m], rank) matrix per mode, uniform on [0, 1), seeded."""
    rng = np.random.default_rng(seed)
    return [rng.uniform(0.0, 1.0, (int(n), rank)) for n in shape]


def mttkrp_pyttb(tensor: ttb.sptensor, factors, mode: int) -> np.ndarray:
    """``tensor.mttkrp`` as the running process has it (stock, or replaced by the drop-in)."""
    return tensor.mttkrp(factors, mode)


def mttkrp_numba(tensor: ttb.sptensor, factors, mode: int) -> np.ndarray:
    """The one-pass MTTKRP in Numba, every subscript range-checked (an out-of-range one is
    a ValueError, as in the Rust kernel)."""
    order = tensor.ndims
    if not 0 <= mode < order:
        raise ValueError(f"mode must be in [0, {order}), got {mode}")
    rank = factors[0].shape[1] if mode else factors[-1].shape[1]
    out = np.zeros((int(tensor.shape[mode]), rank), dtype=np.float64)
    if tensor.nnz == 0:
        return out
    subs = np.ascontiguousarray(tensor.subs, dtype=np.int64)
    vals = np.ascontiguousarray(tensor.vals, dtype=np.float64).reshape(-1)
    shape = np.asarray(tensor.shape, dtype=np.int64)
    # A homogeneous tuple of C-ordered matrices (the skipped one included, never read).
    stacked = tuple(np.ascontiguousarray(f, dtype=np.float64) for f in factors)
    for m, f in enumerate(stacked):
        if m != mode and f.shape != (tensor.shape[m], rank):
            raise ValueError(f"factor {m} must have shape {(tensor.shape[m], rank)}, got {f.shape}")
    _numba_kernel()(subs, vals, shape, stacked, mode, out)
    return out


@cache
def _numba_kernel():
    """Compiled lazily so that importing this module does not start Numba."""
    import numba

    @numba.njit(cache=False)
    def kernel(subs, vals, shape, factors, mode, out):
        nnz, order = subs.shape
        rank = out.shape[1]
        term = np.empty(rank, dtype=np.float64)
        for k in range(nnz):
            for j in range(order):
                s = subs[k, j]
                if s < 0 or s >= shape[j]:
                    raise ValueError("subscript out of range")
            v = vals[k]
            for r in range(rank):
                term[r] = v
            for m in range(order):
                if m != mode:
                    row = subs[k, m]
                    f = factors[m]
                    for r in range(rank):
                        term[r] *= f[row, r]
            i = subs[k, mode]
            for r in range(rank):
                out[i, r] += term[r]

    return kernel


MTTKRP = {
    "pyttb": mttkrp_pyttb,
    "rust_from_python": mttkrp_pyttb,
    "rust_all_cores": mttkrp_pyttb,
    "numba": mttkrp_numba,
}


def native_cp_als():
    """``kernels_rs.cp_als`` if the installed kernels have it, else None."""
    import kernels_rs

    return getattr(kernels_rs, "cp_als", None)


def cp_als(implementation: str, tensor: ttb.sptensor, init: ttb.ktensor, iterations: int):
    """``(ktensor, output dict)`` of CP-ALS run for exactly ``iterations`` iterations from
    ``init`` (stoptol 0 never stops early) by ``implementation``."""
    rank = init.ncomponents
    options = {"init": init, "maxiters": iterations, "stoptol": 0.0, "printitn": 0}
    if implementation == "native":
        native = native_cp_als()
        if native is None:
            raise ValueError("the installed kernels_rs has no cp_als")
        model, _, out = native(tensor, rank, **options)
        return model, out
    if implementation not in CP_ALS_IMPLEMENTATIONS:
        raise ValueError(f"unknown cp_als implementation {implementation!r}")
    model, _, out = ttb.cp_als(tensor, rank, **options)
    return model, out


def initial_guess(shape, rank: int, seed: int) -> ttb.ktensor:
    """The fixed initial ktensor every CP-ALS implementation starts from."""
    return ttb.ktensor(factor_matrices(shape, rank, seed))
