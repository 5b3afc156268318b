"""What a profile asks for, and how the worker measures one cell.

Two kinds of cell, each its own cell set: ``per_call`` (one fresh worker process timing
every probe interleaved) and ``first_call`` (one repeat of every first-call scenario, in
fresh interpreters that the worker starts).
"""

from __future__ import annotations

from tensorbench.build import release_kernels
from tensorbench.experiments.call_overhead.first_call import (
    first_call_facts,
    first_call_frame,
    run_first_call_repeat,
)
from tensorbench.experiments.call_overhead.per_call import (
    first_calls_in_process,
    measure_interleaved,
    per_call_frame,
)
from tensorbench.experiments.call_overhead.probes import PROBES
from tensorbench.experiments.registry import Notebook
from tensorbench.harness.cell import Cell
from tensorbench.timing import int_at_least

EXPERIMENT = "call_overhead"
PER_CALL, FIRST_CALL = "per_call", "first_call"
SETS = {PER_CALL: f"{EXPERIMENT}/{PER_CALL}", FIRST_CALL: f"{EXPERIMENT}/{FIRST_CALL}"}
NOTEBOOKS = (Notebook("call_overhead"),)


def cell_sets(profile: str, probes=tuple(PROBES)) -> dict[str, list[Cell]]:
    """Two kinds of cell: ``per_call`` (one fresh process of every probe interleaved,
    ``processes`` of them) and ``first_call`` (one repeat of every first-call scenario,
    each in fresh interpreters that the worker starts, ``repeats`` of them)."""
    from tensorbench import profiles

    params = profiles.section(profile, EXPERIMENT)
    unknown = sorted(set(probes) - set(PROBES))
    if unknown:
        raise ValueError(f"unknown probes {unknown}; known: {sorted(PROBES)}")
    arguments = {
        "probes": list(probes),
        "array_length": int_at_least("array_length", params["array_length"]),
        "samples": int_at_least("samples", params["samples"]),
        "calls_per_sample": int_at_least("calls_per_sample", params["calls_per_sample"]),
        "rayon_calls_per_sample": int_at_least(
            "rayon_calls_per_sample", params["rayon_calls_per_sample"]
        ),
        "warmup_samples": int_at_least("warmup_samples", params["warmup_samples"], 0),
    }
    processes = int_at_least("processes", params["processes"])
    first = params["first_call"]
    first_options = {
        "length": int_at_least("array_length", first["array_length"]),
        "later_calls": int_at_least("later_calls", first["later_calls"]),
    }
    repeats = int_at_least("repeats", first["repeats"])
    return {
        SETS[PER_CALL]: _numbered(
            PER_CALL,
            "process",
            processes,
            arguments["array_length"],
            arguments["samples"],
            arguments,
        ),
        SETS[FIRST_CALL]: _numbered(
            FIRST_CALL,
            "repeat",
            repeats,
            first_options["length"],
            first_options["later_calls"],
            first_options,
        ),
    }


def _numbered(
    kind: str, label: str, count: int, size: int, n_trials: int, options: dict
) -> list[Cell]:
    """``count`` cells of one kind, told apart by their variant ``<label>-000``, ...
    (:func:`_index` reads the number back)."""
    return [
        Cell(
            EXPERIMENT,
            kind,
            size,
            variant=f"{label}-{index:03d}",
            n_trials=n_trials,
            options=options,
        )
        for index in range(count)
    ]


def _index(cell: Cell) -> int:
    return int(cell.variant.rsplit("-", 1)[1])


def measure(cell: Cell) -> dict:
    """One per-call process (this worker is the fresh process) or one first-call repeat;
    rows as records, the rest of the report in ``extra``."""
    release_kernels()
    if cell.implementation == PER_CALL:
        report = {"probes": measure_interleaved(**cell.options)}
        samples = per_call_frame({_index(cell): report})
        firsts = first_calls_in_process({_index(cell): report})
        return {
            "records": samples.to_dict("records"),
            "extra": {"first_calls_in_process": firsts.to_dict("records")},
        }
    if cell.implementation == FIRST_CALL:
        stages = run_first_call_repeat(cell.options["length"], cell.options["later_calls"])
        by_repeat = {_index(cell): stages}
        return {
            "records": first_call_frame(by_repeat).to_dict("records"),
            "extra": {"facts": first_call_facts(by_repeat).to_dict("records")},
        }
    raise ValueError(f"unknown call_overhead cell kind {cell.implementation!r}")


def cell_work(cell: Cell) -> float:
    """For run-time estimates: a cell's time is its samples (``n_trials``), not its size."""
    return 1.0


def runs_alone(cell: Cell) -> bool:
    """Neither kind streams memory: the per-call probes live in the L1 cache, the
    first-call repeats in the interpreter; both run side by side."""
    return False
