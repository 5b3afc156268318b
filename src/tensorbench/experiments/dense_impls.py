"""Implementations shared by the dot and matvec experiments.

The Python functions are the paper's loops over NumPy arrays; Numba compiles the very
same functions with ``@njit``. Names match the labels in the figures and raw data.
"""

from __future__ import annotations

import numpy as np

PAPER_IMPLEMENTATIONS = ("python", "numba", "rust", "rust_from_python", "numpy")
TUNED_IMPLEMENTATIONS = ("rust_tuned", "rust_from_python_tuned")
IMPLEMENTATIONS = PAPER_IMPLEMENTATIONS + TUNED_IMPLEMENTATIONS

LABELS = {
    "python": "Python",
    "numba": "Numba",
    "rust": "Rust",
    "rust_from_python": "Rust from Python",
    "numpy": "NumPy",
    "rust_tuned": "Rust (tuned)",
    "rust_from_python_tuned": "Rust from Python (tuned)",
}


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
