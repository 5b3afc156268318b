"""What a profile asks for (the cells), and how the worker measures one cell: timed in
batches from Python (:func:`tensorbench.timing.time_batched`) or inside Rust
(``kernels_rs.bench_tt``), its result checked against the reference."""

from __future__ import annotations

from collections.abc import Sequence

from tensorbench.build import release_kernels
from tensorbench.experiments.registry import Notebook
from tensorbench.experiments.tt_overhead.implementations import (
    CHAIN_ONLY,
    IMPLEMENTATIONS,
    RUST_IMPLEMENTATIONS,
    prepare,
)
from tensorbench.experiments.tt_overhead.paired import PAIRED, paired_with_floor
from tensorbench.experiments.tt_overhead.reference import TOLERANCE, reference, relative_error
from tensorbench.experiments.tt_overhead.workload import CASES, operands
from tensorbench.harness.cell import Cell
from tensorbench.timing import int_at_least, seconds_at_least_zero, time_batched

EXPERIMENT = "tt_overhead"


NOTEBOOKS = (Notebook("tt_overhead"),)


def cells(params: dict, implementations: Sequence[str] = IMPLEMENTATIONS) -> list[Cell]:
    """Every (implementation, case, chi) of a profile section: each pairwise case of
    ``pairwise_cases`` at every ``pairwise_chi``, and the chain at every ``chain_chi``.
    Ordered by case, then chi, then implementation, so that the implementations compared
    at one (case, chi) are measured within seconds of each other: on a shared machine the
    background load drifts over minutes."""
    implementations = list(implementations)
    unknown = set(implementations) - set(IMPLEMENTATIONS)
    if unknown:
        raise ValueError(f"unknown implementations {sorted(unknown)}; known: {IMPLEMENTATIONS}")
    if not implementations:
        raise ValueError("implementations must not be empty")
    for key in ("pairwise_cases", "pairwise_chi", "chain_chi"):
        if not params[key]:
            raise ValueError(f"{key} must not be empty")
    pairwise_chi = [int_at_least("chi in pairwise_chi", chi) for chi in params["pairwise_chi"]]
    chain_chi = [int_at_least("chi in chain_chi", chi) for chi in params["chain_chi"]]
    n_samples = int_at_least("n_samples", params["n_samples"])
    seed = int_at_least("seed", params["seed"], 0)
    options = {
        "d": int_at_least("physical_dimension", params.get("physical_dimension", 2)),
        "length": int_at_least("chain_length", params.get("chain_length", 32)),
        "min_sample_seconds": seconds_at_least_zero(
            "min_sample_seconds", params["min_sample_seconds"]
        ),
    }
    planned = []
    plan = [(case, pairwise_chi) for case in params["pairwise_cases"]]
    plan.append(("chain", chain_chi))
    for case, chis in plan:
        if case not in CASES:
            raise ValueError(f"case must be one of {CASES}, got {case!r}")
        for chi in chis:
            for impl in implementations:
                if impl in CHAIN_ONLY and case != "chain":
                    continue
                planned.append(
                    Cell(
                        EXPERIMENT,
                        impl,
                        chi,
                        regime="chain" if case == "chain" else "pairwise",
                        variant=case,
                        n_trials=n_samples,
                        seed=seed,
                        options=options,
                    )
                )
    return planned


def measure(cell: Cell) -> dict:
    """Time one cell (see the module docstring) and check its result against the
    reference; ``extra`` records calls_per_sample, the error and the kernel details."""
    case, chi = cell.variant, cell.n1
    d, length = int(cell.options["d"]), int(cell.options["length"])
    min_sample_seconds = float(cell.options["min_sample_seconds"])
    ops = operands(case, chi, cell.seed, d, length)
    extra: dict = {"case": case, "chi": chi, "d": d, "min_sample_seconds": min_sample_seconds}
    if case == "chain":
        extra["length"] = length
    if cell.implementation == "rust":
        kernels = release_kernels()
        seconds, per_sample = kernels.bench_tt(case, ops, cell.n_trials, min_sample_seconds)
        result = (kernels.tt_inner if case == "chain" else getattr(kernels, f"tt_{case}"))(*ops)
        extra.update(calls_per_sample=per_sample, timed_in="rust")
    else:
        func, args = prepare(cell.implementation, case, ops)
        timed = time_batched(func, args, cell.n_trials, min_sample_seconds)
        seconds, result = timed["seconds"], timed["result"]
        extra.update(
            calls_per_sample=timed["calls_per_sample"],
            timed_in="python",
            empty_loop_seconds=timed["empty_loop_seconds"],
        )
        if cell.implementation in PAIRED:
            extra["paired"] = paired_with_floor(
                func, args, case, ops, timed["calls_per_sample"], cell.n_trials, min_sample_seconds
            )
    error = relative_error(result, reference(case, ops))
    if not error <= TOLERANCE:
        raise AssertionError(
            f"{cell.label()}: relative error {error:.3g} against np.einsum exceeds {TOLERANCE}"
        )
    extra["relative_error"] = error
    if cell.implementation in RUST_IMPLEMENTATIONS:
        extra["tt_kernel_info"] = dict(release_kernels().tt_kernel_info())
    return {"seconds": seconds, "extra": extra}


def cell_sets(profile: str) -> dict[str, list[Cell]]:
    """The study's one cell set, ``tt_overhead``."""
    from tensorbench import profiles

    params = profiles.section(profile, EXPERIMENT)
    return {EXPERIMENT: cells(params, params.get("implementations", IMPLEMENTATIONS))}


def cell_work(cell: Cell) -> float:
    """For run-time estimates: a cell's time is its samples (``n_trials``), not its size."""
    return 1.0


def runs_alone(cell: Cell) -> bool:
    """Every operand fits in the L1/L2 cache (chi <= 32): cells run side by side; the
    Rust-from-Python cells are timed alternately with the floor in their own process."""
    return False
