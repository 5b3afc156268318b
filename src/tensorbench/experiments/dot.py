"""Vector dot product (paper Section 3.1, Figure 2, Table 1)."""

from __future__ import annotations

import numpy as np

from tensorbench.experiments import dense_impls
from tensorbench.experiments.dense_impls import (
    BANDWIDTH,
    DEFAULT_BANDWIDTH_BYTES,
    IMPLEMENTATIONS,
    bandwidth_cell,
    dot_python,
    measure_bandwidth,
    numba_version,
)
from tensorbench.experiments.registry import Notebook
from tensorbench.harness.cell import Cell
from tensorbench.timing import time_calls

EXPERIMENT = "dot"
NOTEBOOKS = (Notebook("dot"),)


def cells(
    sizes, n_trials: int, seed: int, max_size: dict | None = None, implementations=IMPLEMENTATIONS
) -> list[Cell]:
    """Every (implementation, n) a profile asks for; ``max_size[impl]`` caps slow ones."""
    max_size = max_size or {}
    return [
        Cell(EXPERIMENT, impl, int(n), n_trials=n_trials, seed=seed + i)
        for impl in implementations
        for i, n in enumerate(sizes)
        if int(n) <= float(max_size.get(impl, float("inf")))
    ]


def cell_sets(profile: str) -> dict[str, list[Cell]]:
    """The experiment's one cell set, ``dot``."""
    return {EXPERIMENT: planned_cells(profile)}


def runs_alone(cell: Cell) -> bool:
    return dense_impls.runs_alone(cell, bytes_read(cell.n1))


def kernel(implementation: str):
    """The callable ``f(x, y)`` timed for ``implementation`` (not for in-Rust timing)."""
    if implementation == "python":
        return dot_python
    if implementation == "numba":
        return numba_version(dot_python)
    if implementation == "numpy":
        return np.dot
    if implementation in ("rust_from_python", "rust_from_python_tuned"):
        from tensorbench.build import release_kernels

        kernels = release_kernels()
        return kernels.dot if implementation.endswith("tuned") else kernels.dot_loop
    raise ValueError(f"unknown dot implementation {implementation!r}")


def bytes_read(n):
    """Bytes a dot product of length ``n`` must read: two float64 vectors."""
    return 16 * n


def measure(cell: Cell) -> list[float]:
    """Seconds of the first call and of ``n_trials`` later calls on fresh data each."""
    if cell.implementation == BANDWIDTH:
        return measure_bandwidth(cell)
    if cell.implementation in ("rust", "rust_tuned"):
        from tensorbench.build import release_kernels

        kernels = release_kernels()
        form = "tuned" if cell.implementation == "rust_tuned" else "loop"
        return list(kernels.bench_dot(form, cell.n1, cell.n_trials, cell.seed))
    func = kernel(cell.implementation)
    rng = np.random.default_rng(cell.seed)

    def fresh_vectors():
        return rng.uniform(0.0, 1.0, cell.n1), rng.uniform(0.0, 1.0, cell.n1)

    return time_calls(func, fresh_vectors, cell.n_trials)


def planned_cells(profile: str) -> list[Cell]:
    """Every cell the dot experiment of ``profile`` measures, the bandwidth probe included."""
    from tensorbench import profiles

    params = profiles.section(profile, EXPERIMENT)
    planned = cells(params["sizes"], params["n_trials"], params["seed"], params.get("max_size"))
    planned.append(
        bandwidth_cell(
            EXPERIMENT,
            params["n_trials"],
            params["seed"],
            params.get("bandwidth_bytes", DEFAULT_BANDWIDTH_BYTES),
        )
    )
    return planned


def run(profile: str, results_root: str | None = None):
    """Run (or resume) the dot experiment of ``profile``; returns a DenseRun."""
    from tensorbench import profiles
    from tensorbench.experiments import dense_report

    params = profiles.section(profile, EXPERIMENT)
    return dense_report.execute(
        EXPERIMENT,
        planned_cells(profile),
        profile,
        results_root,
        description={"experiment": EXPERIMENT, "profile": profile, "parameters": params},
    )


def load(profile: str, results_root: str | None = None):
    """A finished run read back from disk (None if it has no data)."""
    from tensorbench.experiments import dense_report

    return dense_report.load(EXPERIMENT, profile, results_root)


def recorded_findings(profile: str, results_root: str | None = None):
    """The findings of the run on disk, written by :mod:`dot_report` (presentation code,
    outside the measuring code's identity)."""
    from tensorbench.experiments import dot_report

    return dot_report.recorded_findings(profile, results_root)
