"""The result store of one cell set (a run folder): every finished cell is two files,
written atomically, that no later run overwrites unless it measures that cell again.

``<run_dir>/cells/<cell_id>.csv``
    the cell's rows (one per trial for timed cells: see :func:`tensorbench.results.cell_rows`).
``<run_dir>/cells/<cell_id>.json``
    its provenance: identity and identity hash, git commit and dirty flag, the kernels_rs
    build, start and end times, wall seconds, JOBS, the CPUs it was pinned to, whether it
    ran alone, what the worker saw (thread settings and pools) and the experiment's extras.

A cell is *done* when both files exist and the stored identity hash equals the planned
one; otherwise it is *missing* or *stale* (and the run says which keys changed). Derived
files (``raw.csv``, ``metadata.json``) are rebuilt from the cell files after each cell,
from the planned cells only, so a rerun never mixes in cells of other parameters or code.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tensorbench import results
from tensorbench.harness.identity import differences

if TYPE_CHECKING:
    import pandas as pd

    from tensorbench.harness.cell import Cell

DONE, MISSING, STALE = "done", "missing", "stale"


@dataclass(frozen=True)
class CellState:
    status: str  # DONE, MISSING or STALE
    reason: str = ""  # for STALE: what changed


class CellStore:
    """The cell files of one run folder."""

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = Path(run_dir)
        self.cells_dir = self.run_dir / "cells"

    def rows_path(self, cell: Cell) -> Path:
        return self.cells_dir / f"{cell.cell_id}.csv"

    def provenance_path(self, cell: Cell) -> Path:
        return self.cells_dir / f"{cell.cell_id}.json"

    def provenance(self, cell: Cell) -> dict[str, Any]:
        return results.read_json(self.provenance_path(cell))

    def state(self, cell: Cell, identity: dict[str, Any], identity_hash: str) -> CellState:
        """Whether ``cell`` with this identity is already on disk."""
        if not self.rows_path(cell).exists():
            return CellState(MISSING)
        stored = self.provenance(cell)
        if not stored:
            return CellState(STALE, "no provenance recorded (measured by an older harness)")
        if stored.get("identity_hash") == identity_hash:
            return CellState(DONE)
        changed = differences(stored.get("identity", {}), identity)
        return CellState(STALE, ", ".join(changed) or "identity hash differs")

    def save(self, cell: Cell, rows: pd.DataFrame, provenance: dict[str, Any]) -> None:
        """Write the cell's rows, then its provenance (a cell without provenance is stale,
        so a kill between the two writes only costs a re-measurement)."""
        self.cells_dir.mkdir(parents=True, exist_ok=True)
        results.atomic_write_csv(self.rows_path(cell), rows)
        results.atomic_write_json(self.provenance_path(cell), provenance)

    def load_rows(self, cells: list[Cell]) -> pd.DataFrame:
        """The rows of every planned cell on disk, in plan order."""
        import pandas as pd

        frames = [pd.read_csv(self.rows_path(c)) for c in cells if self.rows_path(c).exists()]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    def unplanned(self, cells: list[Cell]) -> list[Path]:
        """Cell files on disk that the plan does not include (kept, never combined)."""
        planned = {c.cell_id for c in cells}
        if not self.cells_dir.exists():
            return []
        return sorted(p for p in self.cells_dir.glob("*.csv") if p.stem not in planned)

    def combine(self, cells: list[Cell], columns: list[str] | None = None) -> pd.DataFrame:
        """``raw.csv``: the rows of the planned cells on disk."""
        import pandas as pd

        raw = self.load_rows(cells)
        if raw.empty:
            raw = pd.DataFrame(columns=columns or results.RAW_COLUMNS)
        results.atomic_write_csv(self.run_dir / "raw.csv", raw)
        return raw

    def provenance_by_cell(self, cells: list[Cell]) -> dict[str, dict[str, Any]]:
        return {c.cell_id: p for c in cells if (p := self.provenance(c))}


def summarize_provenance(by_cell: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Run-level views derived from the cells' own provenance (never the other way round):
    which commits measured the cells, each cell's wall time and extras, and the worker
    report of the last finished cell."""
    commits = sorted({p.get("git", {}).get("commit") or "unknown" for p in by_cell.values()})
    dirty = sorted(
        {
            p.get("git", {}).get("commit") or "unknown"
            for p in by_cell.values()
            if p.get("git", {}).get("dirty")
        }
    )
    last = max(by_cell.values(), key=lambda p: p.get("finished", ""), default={})
    # None for a cell measured before the CPU was part of the identity.
    cpus = {json.dumps(p.get("identity", {}).get("cpu"), sort_keys=True) for p in by_cell.values()}
    return {
        "cpu_signatures": [json.loads(c) for c in sorted(cpus)],
        "mixed_cpus": len(cpus) > 1,
        "commits": commits,
        "mixed_commits": len(commits) > 1,
        "dirty_commits": dirty,
        "cell_wall_seconds": {k: p.get("wall_seconds") for k, p in by_cell.items()},
        "cell_extra": {k: p["extra"] for k, p in by_cell.items() if p.get("extra")},
        "cell_jobs": sorted({p.get("jobs", 1) for p in by_cell.values()}),
        "worker": last.get("worker", {}),
        "first_cell_started": min((p.get("started", "") for p in by_cell.values()), default=None),
        "last_cell_finished": last.get("finished"),
    }
