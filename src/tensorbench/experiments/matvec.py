"""Dense matrix-vector product (paper Section 3.2, Figures 3a-c, Table 2).

Three regimes as in the paper: ``rows`` (n1 grows, n2 fixed), ``cols`` (n2 grows, n1
fixed) and ``square`` (n1 = n2 grow). Matrices are C-ordered, NumPy's default.
"""

from __future__ import annotations

import numpy as np

from tensorbench.experiments.dense_impls import IMPLEMENTATIONS, matvec_python, numba_version
from tensorbench.timing import Cell, time_calls

EXPERIMENT = "matvec"
REGIMES = ("rows", "cols", "square")


def shape(regime: str, n: int, fixed: int) -> tuple[int, int]:
    """The matrix shape of size parameter ``n`` in ``regime``."""
    if regime == "rows":
        return n, fixed
    if regime == "cols":
        return fixed, n
    if regime == "square":
        return n, n
    raise ValueError(f"regime must be one of {REGIMES}, got {regime!r}")


def cells(regime: str, sizes, fixed: int, n_trials: int, seed: int,
          max_elements: dict | None = None, implementations=IMPLEMENTATIONS) -> list[Cell]:
    """Every (implementation, shape) of ``regime``; ``max_elements[impl]`` caps slow ones."""
    max_elements = max_elements or {}
    out = []
    for impl in implementations:
        for i, n in enumerate(sizes):
            n1, n2 = shape(regime, int(n), int(fixed))
            if n1 * n2 <= int(max_elements.get(impl, float("inf"))):
                out.append(Cell(EXPERIMENT, impl, n1, n2, regime=regime,
                                n_trials=n_trials, seed=seed + i))
    return out


def varying_dimension(regime: str, n1, n2):
    """The size parameter plotted on the x axis of each regime's figure."""
    return n2 if regime == "cols" else n1


def kernel(implementation: str):
    """The callable ``f(a, x)`` timed for ``implementation`` (not for in-Rust timing)."""
    if implementation == "python":
        return matvec_python
    if implementation == "numba":
        return numba_version(matvec_python)
    if implementation == "numpy":
        return np.matmul
    if implementation in ("rust_from_python", "rust_from_python_tuned"):
        from tensorbench.build import load_kernels, require_release_build

        kernels = load_kernels()
        require_release_build(kernels)
        return kernels.matvec if implementation.endswith("tuned") else kernels.matvec_loop
    raise ValueError(f"unknown matvec implementation {implementation!r}")


def measure(cell: Cell) -> list[float]:
    """Seconds of the first call and of ``n_trials`` later calls on fresh data each."""
    if cell.implementation in ("rust", "rust_tuned"):
        from tensorbench.build import load_kernels, require_release_build

        kernels = load_kernels()
        require_release_build(kernels)
        form = "tuned" if cell.implementation == "rust_tuned" else "loop"
        return list(kernels.bench_matvec(form, cell.n1, cell.n2, cell.n_trials, cell.seed))
    func = kernel(cell.implementation)
    rng = np.random.default_rng(cell.seed)

    def fresh_operands():
        return rng.uniform(0.0, 1.0, (cell.n1, cell.n2)), rng.uniform(0.0, 1.0, cell.n2)

    return time_calls(func, fresh_operands, cell.n_trials)
