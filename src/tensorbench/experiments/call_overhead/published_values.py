"""The published values this experiment sets its data against: the TT note's Rayon
``install`` time and the paper's first-call overheads (Tables 1-2)."""

from __future__ import annotations


def note_install_us() -> float | None:
    """The TT note's published `CpuContext::install(|| {})` time (µs), if on file."""
    from tensorbench import published

    rows = published.select("tt_note", table="install_overhead")
    rows = rows[rows["implementation"] == "rayon_threadpool_install"]
    return float(rows["value"].iloc[0]) if len(rows) else None


def published_overheads(experiment: str, implementation: str):
    """The paper's first-call overhead rows of one table and implementation, by size."""
    from tensorbench import published

    rows = published.select("paper", experiment=experiment, case="first_call_overhead")
    rows = rows[rows["implementation"] == implementation].copy()
    rows["size"] = rows["size"].astype(float)
    return rows.sort_values("size").reset_index(drop=True)
