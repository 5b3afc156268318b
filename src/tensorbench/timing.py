"""The timing module shared by every notebook.

* :func:`time_calls` times one implementation in the current process the paper's way:
  fresh data per trial from a generator, the first call timed apart, then
  ``n_trials`` timed calls, each bracketed by ``time.perf_counter_ns``.
* :func:`run_cells` runs a list of :class:`Cell` (implementation x size), each in a
  fresh worker process (so the first call there is a true first call: Numba compiles,
  the extension is freshly imported), with every thread pool pinned to one thread.
  Finished cells are on disk at once; a rerun skips them.
* :func:`int_at_least` and :func:`real_number` check the counts, sizes, seeds and
  fractions the experiments are given.
"""

from __future__ import annotations

import json
import numbers
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tensorbench import threads

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class Cell:
    """One (implementation, size) measurement of an experiment."""

    experiment: str
    implementation: str
    n1: int
    n2: int = 0
    regime: str = ""
    variant: str = ""  # e.g. a real tensor's name and mode; part of the cell's identity
    n_trials: int = 30
    seed: int = 0
    options: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)

    @property
    def size(self) -> int:
        """The number of input elements the kernel reads (vector length or n1 * n2)."""
        return self.n1 * self.n2 if self.n2 else self.n1

    @property
    def cell_id(self) -> str:
        dims = f"{self.n1}x{self.n2}" if self.n2 else f"{self.n1}"
        variant = f"__{self.variant}" if self.variant else ""
        return f"{self.implementation}__{dims}{variant}"

    def label(self) -> str:
        regime = f"/{self.regime}" if self.regime else ""
        dims = f"{self.n1} x {self.n2}" if self.n2 else f"n={self.n1}"
        variant = f" [{self.variant}]" if self.variant else ""
        return f"{self.experiment}{regime} {self.implementation} {dims}{variant}"


def real_number(name: str, value: Any) -> float:
    """``value`` as a float: a TypeError naming ``name`` unless it is a real number (a bool
    is not). Range checks are the caller's."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {type(value).__name__} {value!r}")
    return float(value)


def int_at_least(name: str, value: Any, minimum: int = 1) -> int:
    """``value`` as an int, checked: a TypeError naming ``name`` unless it is a number
    (not a bool), a ValueError unless it is whole (profiles may write ``1.0e+3``) and at
    least ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__} {value!r}")
    if not isinstance(value, numbers.Integral) and not float(value).is_integer():
        raise ValueError(f"{name} must be a whole number, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")
    return int(value)


def time_calls(
    func: Callable[..., Any],
    make_args: Callable[[], Sequence[Any]],
    n_trials: int,
) -> list[float]:
    """Seconds of ``n_trials + 1`` calls ``func(*make_args())``; element 0 is the first call.

    ``make_args`` runs outside the timed region before every call, so each trial can
    get fresh data (dot, matvec) or the same data (TTV).
    """
    if n_trials < 1:
        raise ValueError(f"n_trials must be at least 1, got {n_trials}")
    seconds = []
    for _ in range(n_trials + 1):
        args = make_args()
        start = time.perf_counter_ns()
        func(*args)
        stop = time.perf_counter_ns()
        seconds.append((stop - start) * 1e-9)
    return seconds


def _run_worker(cell: Cell, timeout: float | None) -> dict:
    """Measure ``cell`` in a fresh interpreter with single-thread settings."""
    proc = subprocess.run(
        [sys.executable, "-m", "tensorbench.worker", json.dumps(asdict(cell))],
        capture_output=True,
        text=True,
        env=threads.single_thread_env(),
        timeout=timeout,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(
            f"worker for {cell.label()} failed with exit code {proc.returncode}:\n{proc.stderr}"
        )
    return json.loads(proc.stdout.strip().splitlines()[-1])


def run_cells(
    cells: Iterable[Cell],
    run_dir: Path,
    *,
    description: dict | None = None,
    timeout: float | None = None,
    log: Callable[[str], None] = lambda msg: print(msg, flush=True),
) -> pd.DataFrame:
    """Run every cell not yet on disk under ``run_dir``; return all raw rows.

    ``run_dir/cells/<cell_id>.csv`` holds each finished cell, ``raw.csv`` their union
    and ``metadata.json`` the environment, start and end times and the workers'
    thread-pool report. All files are replaced atomically after every cell.
    """
    # Imported here so that worker processes, which only need Cell and time_calls, start fast.
    import pandas as pd

    from tensorbench import environment, results

    cells = list(cells)
    run_dir.mkdir(parents=True, exist_ok=True)
    results.remove_stale_temporaries(run_dir)
    meta_path = run_dir / "metadata.json"
    meta = results.read_json(meta_path)
    root = Path(__file__).resolve().parents[2]
    meta.update(environment.snapshot(root))
    meta.setdefault("started", environment.now())
    meta["description"] = description or meta.get("description", {})
    meta["cells_planned"] = len(cells)
    results.atomic_write_json(meta_path, meta)

    todo = [c for c in cells if not (run_dir / "cells" / f"{c.cell_id}.csv").exists()]
    done = len(cells) - len(todo)
    if done:
        log(f"resuming: {done} of {len(cells)} cells already on disk in {run_dir}")
    run_start = time.monotonic()
    for index, cell in enumerate(todo, start=1):
        log(f"[{done + index}/{len(cells)}] {cell.label()} ({len(todo) - index} left after this)")
        start = time.monotonic()
        report = _run_worker(cell, timeout)
        rows = results.cell_rows(cell, report["seconds"])
        results.atomic_write_csv(run_dir / "cells" / f"{cell.cell_id}.csv", rows)
        meta["worker"] = report.get("worker", {})
        if report.get("extra"):
            meta.setdefault("cell_extra", {})[cell.cell_id] = report["extra"]
        meta.setdefault("cell_wall_seconds", {})[cell.cell_id] = round(time.monotonic() - start, 3)
        meta["finished"] = environment.now()
        meta["cells_done"] = done + index
        results.atomic_write_json(meta_path, meta)
        results.combine_cells(run_dir)
    if todo:
        log(f"finished {len(todo)} cells in {time.monotonic() - run_start:.1f} s")
    results.combine_cells(run_dir)
    frames = [pd.read_csv(run_dir / "cells" / f"{c.cell_id}.csv") for c in cells]
    return pd.concat(frames, ignore_index=True) if frames else results.load_raw(run_dir)
