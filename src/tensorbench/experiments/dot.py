"""Vector dot product (paper Section 3.1, Figure 2, Table 1)."""

from __future__ import annotations

import numpy as np

from tensorbench.experiments.dense_impls import IMPLEMENTATIONS, dot_python, numba_version
from tensorbench.timing import Cell, time_calls

EXPERIMENT = "dot"


def cells(sizes, n_trials: int, seed: int, max_size: dict | None = None,
          implementations=IMPLEMENTATIONS) -> list[Cell]:
    """Every (implementation, n) a profile asks for; ``max_size[impl]`` caps slow ones."""
    max_size = max_size or {}
    return [
        Cell(EXPERIMENT, impl, int(n), n_trials=n_trials, seed=seed + i)
        for impl in implementations
        for i, n in enumerate(sizes)
        if int(n) <= int(max_size.get(impl, float("inf")))
    ]


def kernel(implementation: str):
    """The callable ``f(x, y)`` timed for ``implementation`` (not for in-Rust timing)."""
    if implementation == "python":
        return dot_python
    if implementation == "numba":
        return numba_version(dot_python)
    if implementation == "numpy":
        return np.dot
    if implementation in ("rust_from_python", "rust_from_python_tuned"):
        from tensorbench.build import load_kernels, require_release_build

        kernels = load_kernels()
        require_release_build(kernels)
        return kernels.dot if implementation.endswith("tuned") else kernels.dot_loop
    raise ValueError(f"unknown dot implementation {implementation!r}")


def measure(cell: Cell) -> list[float]:
    """Seconds of the first call and of ``n_trials`` later calls on fresh data each."""
    if cell.implementation in ("rust", "rust_tuned"):
        from tensorbench.build import load_kernels, require_release_build

        kernels = load_kernels()
        require_release_build(kernels)
        form = "tuned" if cell.implementation == "rust_tuned" else "loop"
        return list(kernels.bench_dot(form, cell.n1, cell.n_trials, cell.seed))
    func = kernel(cell.implementation)
    rng = np.random.default_rng(cell.seed)

    def fresh_vectors():
        return rng.uniform(0.0, 1.0, cell.n1), rng.uniform(0.0, 1.0, cell.n1)

    return time_calls(func, fresh_vectors, cell.n_trials)
