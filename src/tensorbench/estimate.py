"""How long a profile would take on this machine, extrapolated from a smaller one.

Used for the README when a long profile (``paper``) has not been run here: the estimate
comes from the per-cell wall times that a finished run of another profile (``quick``)
recorded, scaled linearly in size (every dense kernel here is O(size), data generation
included) and by the number of calls. It is labelled as an estimate wherever it is shown.
"""

from __future__ import annotations

from pathlib import Path

from tensorbench import paths, results
from tensorbench.experiments import dot, matvec


def _planned_cells(profile: str) -> dict[str, list]:
    planned = {"dot": dot.planned_cells(profile)}
    for regime in matvec.REGIMES:
        planned[f"matvec-{regime}"] = matvec.planned_cells(profile, regime)
    return planned


def dense_seconds(
    target: str = "paper", source: str = "quick", results_root: str | Path | None = None
) -> dict[str, float] | None:
    """Estimated wall seconds per dense experiment of ``target``, or None when ``source``
    has not been run to completion on this machine."""
    source_dir = paths.run_dir("data", source, results_root)
    source_cells = _planned_cells(source)
    estimates = {}
    for name, cells in _planned_cells(target).items():
        meta = results.read_json(source_dir / name / "metadata.json")
        walls = meta.get("cell_wall_seconds", {})
        if not walls or meta.get("cells_done") != meta.get("cells_planned"):
            return None
        startup = min(walls.values())  # process start and imports, paid by every cell
        measured = {
            c.cell_id: (c, walls[c.cell_id]) for c in source_cells[name] if c.cell_id in walls
        }
        total = 0.0
        for cell in cells:
            calls = cell.n_trials + 1
            if cell.cell_id in measured:
                ref, wall = measured[cell.cell_id]
                total += startup + (wall - startup) * calls / (ref.n_trials + 1)
                continue
            same_impl = [
                (c, w) for c, w in measured.values() if c.implementation == cell.implementation
            ]
            ref, wall = max(same_impl, key=lambda cw: cw[0].size)
            per_call = (wall - startup) / (ref.n_trials + 1) / ref.size
            total += startup + per_call * cell.size * calls
        estimates[name] = total
    return estimates
