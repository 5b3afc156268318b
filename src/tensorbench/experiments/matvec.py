"""Dense matrix-vector product (paper Section 3.2, Figures 3a-c, Table 2).

Three regimes as in the paper: ``rows`` (n1 grows, n2 fixed), ``cols`` (n2 grows, n1
fixed) and ``square`` (n1 = n2 grow). Matrices are C-ordered, NumPy's default.
"""

from __future__ import annotations

import math

import numpy as np

from tensorbench.experiments import dense_impls
from tensorbench.experiments.dense_impls import (
    BANDWIDTH,
    DEFAULT_BANDWIDTH_BYTES,
    IMPLEMENTATIONS,
    bandwidth_cell,
    matvec_python,
    measure_bandwidth,
    numba_version,
)
from tensorbench.experiments.registry import Notebook
from tensorbench.findings import Finding
from tensorbench.harness.cell import Cell
from tensorbench.timing import time_calls

EXPERIMENT = "matvec"
REGIMES = ("rows", "cols", "square")
NOTEBOOKS = tuple(Notebook("matvec", {"regime": r}, f"matvec-{r}") for r in REGIMES)


def shape(regime: str, n: int, fixed: int) -> tuple[int, int]:
    """The matrix shape of size parameter ``n`` in ``regime``."""
    if regime == "rows":
        return n, fixed
    if regime == "cols":
        return fixed, n
    if regime == "square":
        return n, n
    raise ValueError(f"regime must be one of {REGIMES}, got {regime!r}")


def cells(
    regime: str,
    sizes,
    fixed: int,
    n_trials: int,
    seed: int,
    max_elements: dict | None = None,
    implementations=IMPLEMENTATIONS,
) -> list[Cell]:
    """Every (implementation, shape) of ``regime``; ``max_elements[impl]`` caps slow ones."""
    max_elements = max_elements or {}
    out = []
    for impl in implementations:
        for i, n in enumerate(sizes):
            n1, n2 = shape(regime, int(n), int(fixed))
            if n1 * n2 <= float(max_elements.get(impl, float("inf"))):
                out.append(
                    Cell(EXPERIMENT, impl, n1, n2, regime=regime, n_trials=n_trials, seed=seed + i)
                )
    return out


def cell_sets(profile: str) -> dict[str, list[Cell]]:
    """One cell set per regime: ``matvec-rows``, ``matvec-cols``, ``matvec-square``."""
    return {f"{EXPERIMENT}-{regime}": planned_cells(profile, regime) for regime in REGIMES}


def runs_alone(cell: Cell) -> bool:
    return dense_impls.runs_alone(cell, bytes_moved(cell.n1, cell.n2))


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
        from tensorbench.build import release_kernels

        kernels = release_kernels()
        return kernels.matvec if implementation.endswith("tuned") else kernels.matvec_loop
    raise ValueError(f"unknown matvec implementation {implementation!r}")


def bytes_moved(n1, n2):
    """Bytes an n1 x n2 float64 matvec must move: the matrix, x, and the result."""
    return 8 * (n1 * n2 + n2 + n1)


def measure(cell: Cell) -> list[float]:
    """Seconds of the first call and of ``n_trials`` later calls on fresh data each."""
    if cell.implementation == BANDWIDTH:
        return measure_bandwidth(cell)
    if cell.implementation in ("rust", "rust_tuned"):
        from tensorbench.build import release_kernels

        kernels = release_kernels()
        form = "tuned" if cell.implementation == "rust_tuned" else "loop"
        return list(kernels.bench_matvec(form, cell.n1, cell.n2, cell.n_trials, cell.seed))
    func = kernel(cell.implementation)
    rng = np.random.default_rng(cell.seed)

    def fresh_operands():
        return rng.uniform(0.0, 1.0, (cell.n1, cell.n2)), rng.uniform(0.0, 1.0, cell.n2)

    return time_calls(func, fresh_operands, cell.n_trials)


AXIS_LABELS = {
    "rows": "number of rows n1 (n2 = {fixed})",
    "cols": "number of columns n2 (n1 = {fixed})",
    "square": "n1 = n2",
}
FIGURE_NUMBERS = {"rows": "3a", "cols": "3b", "square": "3c"}


def planned_cells(profile: str, regime: str) -> list[Cell]:
    """Every cell one matvec regime of ``profile`` measures, the bandwidth probe included."""
    from tensorbench import profiles

    params = profiles.section(profile, EXPERIMENT)
    planned = cells(
        regime,
        params["sizes"][regime],
        params["fixed"],
        params["n_trials"],
        params["seed"],
        params.get("max_elements"),
    )
    planned.append(
        bandwidth_cell(
            EXPERIMENT,
            params["n_trials"],
            params["seed"],
            params.get("bandwidth_bytes", DEFAULT_BANDWIDTH_BYTES),
        )
    )
    return planned


def run(profile: str, regime: str, results_root: str | None = None):
    """Run (or resume) one matvec regime of ``profile``; returns a DenseRun whose summary
    has a column ``n`` (the varying dimension)."""
    from tensorbench import profiles
    from tensorbench.experiments import dense_report

    params = profiles.section(profile, EXPERIMENT)
    result = dense_report.execute(
        f"{EXPERIMENT}-{regime}",
        planned_cells(profile, regime),
        profile,
        results_root,
        description={
            "experiment": EXPERIMENT,
            "regime": regime,
            "profile": profile,
            "parameters": params,
        },
    )
    result.summary["n"] = varying_dimension(regime, result.summary["n1"], result.summary["n2"])
    return result


def load(profile: str, regime: str, results_root: str | None = None):
    """A finished regime read back from disk (None if it has no data)."""
    from tensorbench.experiments import dense_report

    result = dense_report.load(f"{EXPERIMENT}-{regime}", profile, results_root)
    if result is not None:
        result.summary["n"] = varying_dimension(regime, result.summary["n1"], result.summary["n2"])
    return result


def fixed_dimension(run, regime: str) -> int:
    """The dimension that stays fixed in ``regime`` (n2 for rows, n1 otherwise)."""
    kernels = run.summary[run.summary["implementation"] != BANDWIDTH]
    return int(kernels["n2"].min() if regime == "rows" else kernels["n1"].min())


def recorded_findings(profile: str, results_root: str | None = None) -> list[Finding]:
    """The findings of every regime on disk."""
    out = []
    for regime in REGIMES:
        run = load(profile, regime, results_root)
        if run is not None:
            out += findings(run, regime)
    return out


def findings(run, regime: str) -> list[Finding]:
    """The paper's claim (> 100x over Python at the largest size) checked on this run."""
    from tensorbench.experiments.dense_report import claim_finding
    from tensorbench.stats import value_at

    experiment = f"{EXPERIMENT}-{regime}"

    s = run.summary[run.summary["implementation"] != BANDWIDTH]
    lines = []
    both = sorted(
        set(s.loc[s.implementation == "python", "n"])
        & set(s.loc[s.implementation == "rust_from_python", "n"])
    )
    if both:
        n = max(both)
        ratio = value_at(s, "python", n=n) / value_at(s, "rust_from_python", n=n)
        n1, n2 = shape(regime, n, fixed_dimension(run, regime))
        lines.append(
            claim_finding(
                experiment,
                ratio,
                100,
                f"Rust from Python over the Python loop at the largest common matrix, "
                f"{n1:,} x {n2:,} (mean time ratio)",
                f"matvec ({regime}): Rust from Python over the Python loop at {n1:,} x {n2:,}",
            )
        )
    n_max = int(s["n"].max()) if len(s) else 0
    for slower, faster in (("rust", "rust_from_python"), ("numba", "rust_from_python")):
        ratio = value_at(s, slower, n=n_max) / value_at(s, faster, n=n_max)
        if not math.isnan(ratio):
            lines.append(
                Finding(
                    experiment,
                    f"At the largest size, mean {slower} / mean {faster} = {ratio:.2f} "
                    "(the paper saw Rust and Numba slower than Rust from Python here).",
                )
            )
    tuned = value_at(s, "numpy", n=n_max) / value_at(s, "rust_from_python_tuned", n=n_max)
    if not math.isnan(tuned):
        lines.append(
            Finding(
                experiment,
                f"kernels_rs.matvec (tuned) at the largest size runs at {100 * tuned:.0f}% "
                "of the speed of single-threaded NumPy `A @ x`.",
            )
        )
    return lines
