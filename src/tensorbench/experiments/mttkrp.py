"""Sparse MTTKRP and CP-ALS end to end: the paper's future work (Section 5) made into the
pyttb drop-in's evidence.

Two cell sets, each its own folder under ``data/results/<machine>/<profile>/``:

* ``mttkrp``: ``sptensor.mttkrp(factors, mode)`` of n x n x n ``pyttb.sptenrand``
  tensors (density 0.01, the TTV experiment's seeded tensors, from the same cache) with
  uniform random factor matrices of rank R, for every R of the profile and every mode;
  implementations in :mod:`tensorbench.experiments.mttkrp_impls`. The run also measures
  the single-core read bandwidth (a ``read_bandwidth`` cell), from which the figure draws
  the memory-traffic bound: the bytes of ``subs`` + ``vals``, of the R-column factor rows
  and of the output, read once.
* ``mttkrp-cpals``: ``pyttb.cp_als`` for a fixed number of iterations from one fixed
  initial ktensor, stock against accelerated; every trial's final fit is recorded so
  the notebook can show the fits equal.

Every cell runs in a fresh worker; single-thread cells pin every pool (kernels_rs's
included) to 1 thread, the ``rust_all_cores`` cells set kernels_rs to the cell's
``threads`` (every core the planning process may use) and run alone, unpinned.
"""

from __future__ import annotations

import time

import numpy as np

from tensorbench.build import release_kernels
from tensorbench.experiments.dense_impls import (
    BANDWIDTH,
    DEFAULT_BANDWIDTH_BYTES,
    bandwidth_cell,
    measure_bandwidth,
)
from tensorbench.experiments.registry import Notebook
from tensorbench.findings import Finding
from tensorbench.harness.cell import Cell
from tensorbench.timing import int_at_least, names_among, real_number, time_calls

EXPERIMENT = "mttkrp"
NOTEBOOKS = (Notebook("mttkrp"),)
RANDOM, CP_ALS = "sptenrand", "cp_als"
RUN_NAMES = {"main": "mttkrp", "cp_als": "mttkrp-cpals"}
ORDER = 3  # the sptenrand tensors are n x n x n
# pyttb spends its time in the interpreter and in NumPy calls on small pieces.
INTERPRETER_BOUND = ("pyttb",)


def all_cores() -> int:
    """Every core the planning process may use: the ``rust_all_cores`` cells' threads."""
    from tensorbench.harness.runner import usable_cpus

    return max(1, len(usable_cpus()))


def _threads_of(implementation: str) -> int:
    return all_cores() if implementation == "rust_all_cores" else 1


def _implementations(names, known) -> list[str]:
    return names_among("implementations", names, known)


def _density(value) -> float:
    density = real_number("density", value)
    if not 0 < density <= 1:
        raise ValueError(f"density must be in (0, 1], got {density}")
    return density


def variant(rank: int, mode: int) -> str:
    """``R16-mode2``: the rank and the mode, numbered from 1 as Kolda and Bader do."""
    return f"R{rank}-mode{mode + 1}"


# --- cells ------------------------------------------------------------------------------


def mttkrp_cells(
    sizes,
    ranks,
    modes,
    n_trials: int,
    seed: int,
    density: float,
    implementations=None,
    bandwidth_bytes: int = DEFAULT_BANDWIDTH_BYTES,
) -> list[Cell]:
    """One cell per (implementation, n, R, mode), plus the read-bandwidth cell. The
    tensor's seed is ``seed + n`` (the TTV experiment's tensors), the factors' seed
    ``seed + n + R``: every implementation of a size multiplies the same data."""
    from tensorbench.experiments.mttkrp_impls import MTTKRP_IMPLEMENTATIONS

    sizes = [int_at_least("size", n) for n in sizes]
    ranks = [int_at_least("rank", r) for r in ranks]
    modes = [int_at_least("mode", m, 0) for m in modes]
    if not sizes or not ranks or not modes:
        raise ValueError("sizes, ranks and modes must not be empty")
    if any(m >= ORDER for m in modes):
        raise ValueError(f"modes must be below {ORDER} (the tensors are n x n x n), got {modes}")
    n_trials = int_at_least("n_trials", n_trials)
    seed = int_at_least("seed", seed, 0)
    density = _density(density)
    implementations = _implementations(
        implementations or MTTKRP_IMPLEMENTATIONS, MTTKRP_IMPLEMENTATIONS
    )
    cells = [
        Cell(
            EXPERIMENT,
            impl,
            n,
            regime=RANDOM,
            variant=variant(rank, mode),
            n_trials=n_trials,
            seed=seed + n,
            options={"density": density, "rank": rank, "mode": mode},
            threads=_threads_of(impl),
        )
        for impl in implementations
        for n in sizes
        for rank in ranks
        for mode in modes
    ]
    passes = max(n_trials, 10)
    bandwidth_bytes = int_at_least("bandwidth_bytes", bandwidth_bytes)
    return [*cells, bandwidth_cell(EXPERIMENT, passes, seed, bandwidth_bytes)]


def cp_als_cells(
    n: int, rank: int, iterations: int, n_trials: int, seed: int, density: float, implementations
) -> list[Cell]:
    """One cell per implementation: ``iterations`` CP-ALS iterations of the n x n x n
    tensor from one initial guess (seed ``seed + n + rank``)."""
    from tensorbench.experiments.mttkrp_impls import CP_ALS_IMPLEMENTATIONS, native_cp_als

    n = int_at_least("n", n)
    rank = int_at_least("rank", rank)
    iterations = int_at_least("iterations", iterations)
    n_trials = int_at_least("n_trials", n_trials)
    seed = int_at_least("seed", seed, 0)
    density = _density(density)
    implementations = _implementations(implementations, CP_ALS_IMPLEMENTATIONS)
    if native_cp_als() is None:
        # Planned only where the installed kernels offer it.
        implementations = [i for i in implementations if i != "native"]
    return [
        Cell(
            EXPERIMENT,
            impl,
            n,
            regime=CP_ALS,
            variant=f"R{rank}-it{iterations}",
            n_trials=n_trials,
            seed=seed + n,
            options={"density": density, "rank": rank, "iterations": iterations},
            threads=_threads_of(impl),
        )
        for impl in implementations
    ]


# --- one cell in a worker -----------------------------------------------------------------


def load_tensor(cell: Cell):
    from tensorbench import tensor_cache

    n = cell.n1
    return tensor_cache.sptenrand((n, n, n), cell.options["density"], cell.seed)


def input_bytes(n: int, density: float, rank: int) -> int:
    """Bytes an MTTKRP of an n x n x n tensor must move at least: ``subs`` (int64) and
    ``vals`` once, the rows of the two factor matrices it reads and the output, once each
    (the expected count for sptenrand's nonzeros)."""
    nnz = density * n**ORDER
    return int(nnz * (8 * ORDER + 8) + 3 * n * rank * 8)


def _describe(tensor, rank: int, mode: int) -> dict:
    return {
        "shape": [int(n) for n in tensor.shape],
        "nnz": int(tensor.nnz),
        "rank": int(rank),
        "mode": int(mode),
        "input_bytes": int(tensor.subs.nbytes + tensor.vals.nbytes)
        + 3 * int(tensor.shape[mode]) * rank * 8,
    }


def _relative_difference(got: np.ndarray, reference: np.ndarray) -> float:
    scale = float(np.max(np.abs(reference))) if reference.size else 0.0
    diff = float(np.max(np.abs(got - reference))) if reference.size else 0.0
    return diff / scale if scale else diff


def measure_mttkrp(cell: Cell) -> dict:
    """Seconds of the first call and ``n_trials`` later calls on one tensor and one set of
    factors, and how far the result is from the 1-thread Rust kernel's."""
    import kernels_rs.pyttb

    import kernels_rs
    from tensorbench.experiments import mttkrp_impls

    tensor = load_tensor(cell)
    rank, mode = int(cell.options["rank"]), int(cell.options["mode"])
    factors = mttkrp_impls.factor_matrices(tensor.shape, rank, cell.seed + rank)
    extra = _describe(tensor, rank, mode)
    if cell.implementation == "layout":
        start = time.perf_counter_ns()
        layout = mttkrp_impls.build_layout(tensor)
        extra["layout_build_seconds"] = (time.perf_counter_ns() - start) * 1e-9
        operand, func = layout, mttkrp_impls.mttkrp_layout
    else:
        operand, func = tensor, mttkrp_impls.MTTKRP[cell.implementation]
    kernels_rs.pyttb.reset_counts()
    with mttkrp_impls.acceleration(cell.implementation, cell.threads):
        seconds = time_calls(func, lambda: (operand, factors, mode), cell.n_trials)
        result = func(operand, factors, mode)
    extra["rust_kernel_calls"] = kernels_rs.pyttb.call_counts()["mttkrp"]
    extra["pyttb_fallbacks"] = kernels_rs.pyttb.fallback_counts()["mttkrp"]
    reference = kernels_rs.mttkrp(tensor.subs, tensor.vals, tensor.shape, factors, mode, threads=1)
    extra["max_relative_difference"] = _relative_difference(np.asarray(result), reference)
    return {"seconds": seconds, "extra": extra}


def measure_cp_als(cell: Cell) -> dict:
    """Seconds of ``n_trials + 1`` whole CP-ALS runs, each from the same initial guess, with
    every run's final fit and iteration count."""
    import kernels_rs.pyttb

    from tensorbench.experiments import mttkrp_impls

    tensor = load_tensor(cell)
    rank, iterations = int(cell.options["rank"]), int(cell.options["iterations"])
    init = mttkrp_impls.initial_guess(tensor.shape, rank, cell.seed + rank)
    fits, iters, seconds = [], [], []
    kernels_rs.pyttb.reset_counts()
    with mttkrp_impls.acceleration(cell.implementation, cell.threads):
        for _ in range(cell.n_trials + 1):
            start = time.perf_counter_ns()
            _, out = mttkrp_impls.cp_als(cell.implementation, tensor, init, iterations)
            seconds.append((time.perf_counter_ns() - start) * 1e-9)
            fits.append(float(out["fit"]))
            iters.append(int(out["iters"]))
    extra = {
        "shape": [int(n) for n in tensor.shape],
        "nnz": int(tensor.nnz),
        "rank": rank,
        "iterations_asked": iterations,
        "iterations_run": iters,
        "fits": fits,
        "rust_kernel_calls": kernels_rs.pyttb.call_counts()["mttkrp"],
        "pyttb_fallbacks": kernels_rs.pyttb.fallback_counts()["mttkrp"],
    }
    return {"seconds": seconds, "extra": extra}


def measure(cell: Cell) -> dict | list[float]:
    if cell.implementation == BANDWIDTH:
        return measure_bandwidth(cell)
    release_kernels()
    if cell.regime == RANDOM:
        return measure_mttkrp(cell)
    if cell.regime == CP_ALS:
        return measure_cp_als(cell)
    raise ValueError(f"unknown mttkrp regime {cell.regime!r}")


# --- runs -----------------------------------------------------------------------------------


def prepare_inputs(cells: list[Cell]) -> None:
    """Generate (once, with progress) every sptenrand tensor the pending cells need."""
    from tensorbench import tensor_cache

    pending = {(c.n1, c.options["density"], c.seed) for c in cells if c.regime in (RANDOM, CP_ALS)}
    for n, density, seed in sorted(pending):
        tensor_cache.ensure((n, n, n), density, seed)


def cell_work(cell: Cell) -> float:
    """What a cell's time grows with, for run-time estimates."""
    if cell.implementation == BANDWIDTH:
        return cell.n1
    rank = int(cell.options.get("rank", 1))
    # pyttb's time grows with the bytes times R (one TTV per column); a CP-ALS iteration
    # is one MTTKRP per mode.
    work = input_bytes(cell.n1, float(cell.options["density"]), rank) * rank
    if cell.regime == CP_ALS:
        work *= ORDER * int(cell.options["iterations"])
    return work


def runs_alone(cell: Cell) -> bool:
    """Alone: the bandwidth probe, every multi-threaded cell, and compiled kernels whose
    input does not fit in one core's L2 cache; pyttb runs side by side."""
    from tensorbench.machine import cache_bytes

    if cell.implementation == BANDWIDTH or cell.threads > 1:
        return True
    if cell.implementation in INTERPRETER_BOUND:
        return False
    rank = int(cell.options.get("rank", 1))
    return input_bytes(cell.n1, float(cell.options["density"]), rank) > cache_bytes(2, 1 << 20)


def main_params(profile: str) -> dict:
    from tensorbench import profiles

    return {k: v for k, v in profiles.section(profile, EXPERIMENT).items() if k != "cp_als"}


def main_cells(profile: str) -> list[Cell]:
    p = main_params(profile)
    return mttkrp_cells(
        p["sizes"],
        p["ranks"],
        p.get("modes", list(range(ORDER))),
        p["n_trials"],
        p["seed"],
        p["density"],
        p.get("implementations"),
        p.get("bandwidth_bytes", DEFAULT_BANDWIDTH_BYTES),
    )


def cp_als_params(profile: str) -> dict:
    from tensorbench import profiles

    section = profiles.section(profile, EXPERIMENT)
    return {**section["cp_als"], "seed": section["seed"], "density": section["density"]}


def cp_als_profile_cells(profile: str) -> list[Cell]:
    p = cp_als_params(profile)
    return cp_als_cells(
        p["n"],
        p["rank"],
        p["iterations"],
        p["n_trials"],
        p["seed"],
        p["density"],
        p["implementations"],
    )


def cell_sets(profile: str) -> dict[str, list[Cell]]:
    return {
        RUN_NAMES["main"]: main_cells(profile),
        RUN_NAMES["cp_als"]: cp_als_profile_cells(profile),
    }


def _execute(run: str, cells: list[Cell], profile: str, results_root, params: dict):
    from tensorbench.experiments import dense_report

    name = RUN_NAMES[run]
    description = {"experiment": EXPERIMENT, "run": name, "profile": profile, "parameters": params}
    return dense_report.execute(name, cells, profile, results_root, description)


def run(profile: str, results_root: str | None = None):
    """Run (or resume) the MTTKRP cell set of ``profile``."""
    return _execute("main", main_cells(profile), profile, results_root, main_params(profile))


def run_cp_als(profile: str, results_root: str | None = None):
    """Run (or resume) the CP-ALS cell set of ``profile``."""
    cells = cp_als_profile_cells(profile)
    return _execute("cp_als", cells, profile, results_root, cp_als_params(profile))


def load(run: str, profile: str, results_root: str | None = None):
    """A finished run ("main" or "cp_als") read back from disk, or None."""
    from tensorbench.experiments import dense_report

    if run not in RUN_NAMES:
        raise ValueError(f"run must be one of {list(RUN_NAMES)}, got {run!r}")
    return dense_report.load(RUN_NAMES[run], profile, results_root)


def planned_cells(run: str, profile: str) -> dict[str, Cell]:
    """The run's planned cells by file name (for joining each cell's recorded extras)."""
    cells = main_cells(profile) if run == "main" else cp_als_profile_cells(profile)
    return {c.cell_id: c for c in cells}


def recorded_findings(profile: str, results_root: str | None = None) -> list[Finding]:
    from tensorbench.experiments import mttkrp_report

    out: list[Finding] = []
    main = load("main", profile, results_root)
    if main is not None:
        out += mttkrp_report.mttkrp_findings(main)
    cp = load("cp_als", profile, results_root)
    if cp is not None:
        out += mttkrp_report.cp_als_findings(cp)
    return out
