"""Raw results on disk: one CSV per finished cell, a combined ``raw.csv`` and a
``metadata.json`` per experiment run, all written atomically (temporary file, then
``os.replace``), so an interrupted run never leaves a half-written file behind.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import pandas as pd

RAW_COLUMNS = [
    "experiment",
    "regime",
    "variant",
    "implementation",
    "n1",
    "n2",
    "size",
    "trial",
    "seconds",
    "is_first_call",
]


def atomic_write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def remove_stale_temporaries(folder: Path) -> list[Path]:
    """Delete temporary files left by a writer that was killed before its ``os.replace``
    (the files they were replacing are intact). Call only when no other writer is active."""
    stale = [p for p in folder.rglob(".*.tmp") if p.is_file()]
    for path in stale:
        path.unlink(missing_ok=True)
    return stale


def atomic_write_csv(path: Path, frame: pd.DataFrame) -> None:
    atomic_write_text(path, frame.to_csv(index=False))


def atomic_write_json(path: Path, data: dict) -> None:
    atomic_write_text(path, json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")


def read_json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def cell_rows(cell, seconds: list[float]) -> pd.DataFrame:
    """One row per trial; trial 0 is the first call, trials 1..n the later calls."""
    return pd.DataFrame(
        {
            "experiment": cell.experiment,
            "regime": cell.regime,
            "variant": cell.variant,
            "implementation": cell.implementation,
            "n1": cell.n1,
            "n2": cell.n2,
            "size": cell.size,
            "trial": range(len(seconds)),
            "seconds": seconds,
            "is_first_call": [i == 0 for i in range(len(seconds))],
        },
        columns=RAW_COLUMNS,
    )


def load_raw(run_dir: Path) -> pd.DataFrame:
    """The combined raw results of a run folder (empty frame if none yet)."""
    path = run_dir / "raw.csv"
    if not path.exists():
        return pd.DataFrame(columns=RAW_COLUMNS)
    return pd.read_csv(path)


def combine_cells(run_dir: Path) -> pd.DataFrame:
    """Concatenate every finished cell file of ``run_dir`` into ``raw.csv``."""
    files = sorted((run_dir / "cells").glob("*.csv"))
    frames = [pd.read_csv(f) for f in files]
    raw = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=RAW_COLUMNS)
    atomic_write_csv(run_dir / "raw.csv", raw)
    return raw
