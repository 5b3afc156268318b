"""Implementations shared by the dot and matvec experiments.

The Python functions are the paper's loops over NumPy arrays; Numba compiles the very
same functions with ``@njit``. Names match the labels in the figures and raw data.
"""

from __future__ import annotations

import numpy as np

PAPER_IMPLEMENTATIONS = ("python", "numba", "rust", "rust_from_python", "numpy")
TUNED_IMPLEMENTATIONS = ("rust_tuned", "rust_from_python_tuned")
IMPLEMENTATIONS = PAPER_IMPLEMENTATIONS + TUNED_IMPLEMENTATIONS
# Not a kernel: the single-core read bandwidth, measured in the same run, from which each
# figure draws the memory-traffic bound (the fastest any kernel reading its inputs once can be).
BANDWIDTH = "read_bandwidth"
DEFAULT_BANDWIDTH_BYTES = 512 << 20

LABELS = {
    "python": "Python",
    "numba": "Numba",
    "rust": "Rust",
    "rust_from_python": "Rust from Python",
    "numpy": "NumPy",
    "rust_tuned": "Rust (tuned)",
    "rust_from_python_tuned": "Rust from Python (tuned)",
}


# Implementations whose time goes into the interpreter, not into memory traffic: they run
# side by side with JOBS > 1 (see tensorbench.harness.runner).
INTERPRETER_BOUND = ("python",)


def runs_alone(cell, bytes_moved: int) -> bool:
    """A dense cell runs alone when it is the bandwidth probe or a compiled kernel whose
    data (``bytes_moved``) do not fit in one core's private L2 cache: a neighbour would
    share its memory bandwidth and last-level cache."""
    from tensorbench.machine import cache_bytes

    if cell.implementation == BANDWIDTH:
        return True
    if cell.implementation in INTERPRETER_BOUND:
        return False
    return bytes_moved > cache_bytes(2, 1 << 20)


def bandwidth_cell(experiment: str, n_trials: int, seed: int, n_bytes: int):
    """The cell that measures read bandwidth with a buffer of ``n_bytes`` (its ``n1``)."""
    from tensorbench.harness.cell import Cell

    return Cell(experiment, BANDWIDTH, int(n_bytes), n_trials=n_trials, seed=seed)


def measure_bandwidth(cell) -> list[float]:
    """Seconds per pass over ``cell.n1`` bytes: a first pass, then ``n_trials`` passes."""
    from tensorbench.build import release_kernels

    kernels = release_kernels()
    return [cell.n1 / kernels.read_bandwidth(cell.n1, 1) for _ in range(cell.n_trials + 1)]


def best_bandwidth(summary) -> float:
    """Bytes per second of the fastest pass recorded in ``summary`` (NaN if none)."""
    rows = summary[summary["implementation"] == BANDWIDTH]
    if rows.empty:
        return float("nan")
    return float((rows["n1"] / rows["min"]).max())


def dot_python(x, y):
    total = 0.0
    for i in range(x.shape[0]):
        total += x[i] * y[i]
    return total


def matvec_python(a, x):
    n1, n2 = a.shape
    out = np.zeros(n1)
    for i in range(n1):
        total = 0.0
        for j in range(n2):
            total += a[i, j] * x[j]
        out[i] = total
    return out


def numba_version(func):
    """``numba.njit`` of ``func``; imported lazily so non-Numba cells do not load Numba."""
    import numba

    return numba.njit(func)
