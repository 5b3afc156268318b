"""How long a profile would take on this machine, extrapolated from a finished run of
another profile (labelled as an estimate wherever it is shown).

Every cell's wall time is on record in its provenance. A planned cell of the target
profile is estimated from the cell of the source profile with the same cell id, else
from the source cell of the same implementation and cell set with the largest work,
scaled linearly in work (an experiment's ``cell_work(cell)``, by default its size) and in
the number of calls; the worker's start-up (the smallest cell wall of the set) is paid
once per cell. With ``jobs`` > 1, cells that run alone add up, the others are shared out
over the workers. Generating inputs (``prepare_inputs``, e.g. sptenrand tensors) is not counted.
"""

from __future__ import annotations

from pathlib import Path

from tensorbench import paths
from tensorbench.experiments import registry
from tensorbench.harness.store import CellStore


def _work(module, cell) -> float:
    work = getattr(module, "cell_work", None)
    return float(work(cell)) if work is not None else float(max(cell.size, 1))


def cell_seconds(
    target: str = "paper",
    source: str = "quick",
    results_root: str | Path | None = None,
    experiments: tuple[str, ...] | None = None,
) -> list[tuple[str, str, float, bool]] | None:
    """(experiment, cell id, estimated seconds, runs alone) for every cell of ``target``
    (of ``experiments``, default all); None when a cell set of ``source`` has no finished
    cells to extrapolate from."""
    base = paths.run_dir("data", source, results_root)
    out = []
    for module in registry.modules(experiments):
        source_sets = module.cell_sets(source)

        def measured_in(set_name: str, source_sets: dict = source_sets) -> dict:
            store, found = CellStore(base / set_name), {}
            for cell in source_sets.get(set_name, []):
                wall = store.provenance(cell).get("wall_seconds")
                if wall:
                    found[cell.cell_id] = (cell, float(wall))
            return found

        for set_name, cells in module.cell_sets(target).items():
            measured = measured_in(set_name)
            if not measured and set_name not in source_sets:
                # A cell set the source profile does not have (the paper's TTV n = 1200
                # cells): extrapolated from the experiment's other cell sets.
                for other in source_sets:
                    measured.update(measured_in(other))
            if not measured:
                return None
            startup = min(w for _, w in measured.values())
            for cell in cells:
                calls = cell.n_trials + 1
                if cell.cell_id in measured:
                    ref, wall = measured[cell.cell_id]
                else:
                    same = [
                        cw
                        for cw in measured.values()
                        if cw[0].implementation == cell.implementation
                    ]
                    if not same:
                        same = list(measured.values())
                    ref, wall = max(same, key=lambda cw: _work(module, cw[0]))
                scale = (_work(module, cell) / _work(module, ref)) * calls / (ref.n_trials + 1)
                seconds = startup + max(wall - startup, 0.0) * scale
                out.append(
                    (module.EXPERIMENT, cell.cell_id, seconds, bool(module.runs_alone(cell)))
                )
    return out


def wall_seconds(estimates: list[tuple[str, str, float, bool]], jobs: int) -> float:
    """The run's wall time with ``jobs`` workers: alone cells one after another, the rest
    shared out evenly (a lower bound of a greedy schedule)."""
    alone = sum(s for _, _, s, a in estimates if a)
    shared = sum(s for _, _, s, a in estimates if not a)
    return alone + shared / max(jobs, 1)


def by_experiment(estimates: list[tuple[str, str, float, bool]]) -> dict[str, float]:
    out: dict[str, float] = {}
    for experiment, _, seconds, _ in estimates:
        out[experiment] = out.get(experiment, 0.0) + seconds
    return out
