"""Measure planned cells, each in a fresh worker process, one at a time or ``jobs`` at once.

Serial (``jobs=1``, the default, as the paper ran): one worker at a time, not pinned.

Side by side (``jobs=N``): up to N workers at once, each pinned (``os.sched_setaffinity``
before the interpreter starts) to a core of its own, every thread pool at one thread. A
cell that streams more than a core's share of the caches, or is otherwise sensitive to a
neighbour, is planned with ``alone=True`` by its experiment (``runs_alone``): it starts
only when no other worker runs, and nothing starts beside it. Interpreter-bound cells
(pure Python loops, pyttb) run side by side. JOBS, the pinning and whether the cell ran
alone are recorded in every cell's provenance.

A finished cell is on disk at once (:class:`~tensorbench.harness.store.CellStore`); a
killed run loses only the cells that were still running. On resume a cell whose stored
identity differs from the planned one is measured again, and the log says which and why.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tensorbench import threads
from tensorbench.harness.cell import Cell
from tensorbench.harness.identity import cell_identity, code_identity, identity_hash
from tensorbench.harness.store import DONE, STALE, CellStore, summarize_provenance

JOBS_VARIABLE = "TENSORBENCH_JOBS"
POLL_SECONDS = 0.02
Log = Callable[[str], None]


def _print(message: str) -> None:
    print(message, flush=True)


def default_jobs() -> int:
    """``TENSORBENCH_JOBS`` (set by ``make reproduce JOBS=N``), else 1."""
    value = os.environ.get(JOBS_VARIABLE, "").strip()
    if not value:
        return 1
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"{JOBS_VARIABLE} must be a whole number >= 1, got {value!r}")
    return int(value)


def usable_cpus() -> list[int]:
    return sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []


@dataclass
class Planned:
    """A cell with where it goes, whether it must run alone, and its identity."""

    cell: Cell
    store: CellStore
    alone: bool = True
    description: dict = field(default_factory=dict)
    identity: dict = field(default_factory=dict)
    identity_hash: str = ""
    columns: list[str] | None = None  # of an empty raw.csv (records-type cells)


def plan(
    cells: Iterable[Cell],
    run_dir: Path,
    *,
    alone: Callable[[Cell], bool] | None = None,
    description: dict | None = None,
    columns: list[str] | None = None,
) -> list[Planned]:
    """Plan ``cells`` into ``run_dir``; ``alone(cell)`` defaults to the experiment's rule."""
    from tensorbench.experiments import registry

    store = CellStore(run_dir)
    code = code_identity()
    planned = []
    for cell in cells:
        rule = alone or registry.alone_rule(cell.experiment)
        identity = cell_identity(cell, code)
        planned.append(
            Planned(
                cell,
                store,
                # A multi-threaded cell needs every core: it runs alone, unpinned.
                bool(rule(cell)) or cell.threads > 1,
                description or {},
                identity,
                identity_hash(identity),
                columns,
            )
        )
    return planned


def _worker_env(cell: Cell) -> dict[str, str]:
    env = threads.single_thread_env()
    if cell.threads != 1:
        env.update({name: str(cell.threads) for name in threads.THREAD_VARIABLES})
    return env


class _Running:
    """One worker process and what it is measuring."""

    def __init__(self, item: Planned, cpu: int | None, jobs: int, alone_now: bool) -> None:
        self.item, self.jobs, self.alone = item, jobs, alone_now
        self.slot = cpu  # the runner's slot, given back when the worker ends
        # The CPU the worker is pinned to; a multi-threaded cell's threads may use every
        # core this process may use, so it is not pinned.
        self.cpu = cpu if item.cell.threads == 1 else None
        self.stdout = tempfile.TemporaryFile(mode="w+", encoding="utf-8")
        self.stderr = tempfile.TemporaryFile(mode="w+", encoding="utf-8")
        self.started_at = _now()
        self.started_unix = time.time()
        self.t0 = time.monotonic()
        pin = self.cpu
        preexec = (lambda: os.sched_setaffinity(0, {pin})) if pin is not None else None
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tensorbench.harness.worker",
                json.dumps(item.cell.parameters()),
            ],
            stdout=self.stdout,
            stderr=self.stderr,
            env=_worker_env(item.cell),
            preexec_fn=preexec,
        )

    def elapsed(self) -> float:
        return time.monotonic() - self.t0

    def output(self) -> tuple[str, str]:
        self.stdout.seek(0)
        self.stderr.seek(0)
        out, err = self.stdout.read(), self.stderr.read()
        self.stdout.close()
        self.stderr.close()
        return out, err

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def _now() -> str:
    from tensorbench import environment

    return environment.now()


def _duration(seconds: float) -> str:
    seconds = max(0, round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


class _Estimates:
    """Expected wall seconds per pending cell: its last recorded wall time (even from a
    stale measurement), else the mean of this run's finished cells of its implementation,
    else of all of this run's finished cells."""

    def __init__(self, items: list[Planned]) -> None:
        self.known = {id(i): i.store.provenance(i.cell).get("wall_seconds") for i in items}
        self.finished: dict[str, list[float]] = {}

    def record(self, item: Planned, seconds: float) -> None:
        self.finished.setdefault(item.cell.implementation, []).append(seconds)

    def expected(self, item: Planned) -> float | None:
        if self.known.get(id(item)):
            return float(self.known[id(item)])
        same = self.finished.get(item.cell.implementation)
        if same:
            return sum(same) / len(same)
        every = [s for values in self.finished.values() for s in values]
        return sum(every) / len(every) if every else None


def _provenance(item: Planned, run: _Running, report: dict, wall: float) -> dict[str, Any]:
    from tensorbench import environment, paths

    return {
        "identity": item.identity,
        "identity_hash": item.identity_hash,
        "git": environment.git_state(paths.project_root()),
        "build": environment.rust_build(),
        "machine_label": paths.machine_label(),
        "cpu_model": environment.cpu_model(),
        "started": run.started_at,
        "finished": _now(),
        "wall_seconds": round(wall, 3),
        # Unix times, precise enough to check which cells overlapped.
        "interval": [round(run.started_unix, 3), round(run.started_unix + wall, 3)],
        "jobs": run.jobs,
        "pinned_cpu": run.cpu,
        "ran_alone": run.alone,
        "worker": report.get("worker", {}),
        "extra": report.get("extra", {}),
    }


def _rows(item: Planned, report: dict):
    import pandas as pd

    from tensorbench import results

    if "records" in report:
        return pd.DataFrame(report["records"])
    return results.cell_rows(item.cell, report["seconds"])


class RunMetadata:
    """``metadata.json`` of each run folder: the environment of the latest run, the
    description, and views derived from the cells' provenance. The provenance is read
    from disk once and then kept up to date in memory, so that finishing a cell costs the
    runner (which shares the cores with the workers) one small JSON write; ``raw.csv`` is
    rebuilt when a folder's last cell finishes and when the run ends (a killed run's next
    start rebuilds it from the cell files)."""

    def __init__(self, items: list[Planned]) -> None:
        from tensorbench import environment, paths, results

        self.by_dir: dict[Path, list[Planned]] = {}
        for item in items:
            self.by_dir.setdefault(item.store.run_dir, []).append(item)
        snapshot = environment.snapshot(paths.project_root())
        self.meta: dict[Path, dict] = {}
        self.provenance: dict[Path, dict[str, dict]] = {}
        self.done: dict[Path, set[str]] = {}
        self.touched: set[Path] = set()
        for run_dir, members in self.by_dir.items():
            run_dir.mkdir(parents=True, exist_ok=True)
            results.remove_stale_temporaries(run_dir)
            store = members[0].store
            meta = results.read_json(run_dir / "metadata.json")
            meta.update(snapshot)
            meta.setdefault("started", environment.now())
            meta["last_run_started"] = environment.now()
            meta["description"] = members[0].description or meta.get("description", {})
            meta["cells_planned"] = len(members)
            meta["code_identity"] = members[0].identity["code"]
            meta["cpu_identity"] = members[0].identity["cpu"]
            meta["unplanned_cells_on_disk"] = [
                p.name for p in store.unplanned([m.cell for m in members])
            ]
            self.meta[run_dir] = meta
            self.provenance[run_dir] = store.provenance_by_cell([m.cell for m in members])
            self.done[run_dir] = {
                m.cell.cell_id
                for m in members
                if store.state(m.cell, m.identity, m.identity_hash).status == DONE
            }
            self._write(run_dir)
            store.combine([m.cell for m in members], members[0].columns)

    def _write(self, run_dir: Path) -> None:
        from tensorbench import environment, results

        meta = self.meta[run_dir]
        meta.update(summarize_provenance(self.provenance[run_dir]))
        meta["cells_done"] = len(self.done[run_dir])
        meta["finished"] = environment.now()
        results.atomic_write_json(run_dir / "metadata.json", meta)

    def record(self, item: Planned, provenance: dict) -> None:
        """``item`` was measured and saved with ``provenance``."""
        run_dir = item.store.run_dir
        self.provenance[run_dir][item.cell.cell_id] = provenance
        self.done[run_dir].add(item.cell.cell_id)
        self.touched.add(run_dir)
        self._write(run_dir)
        if len(self.done[run_dir]) == len(self.by_dir[run_dir]):
            self.combine(run_dir)

    def combine(self, run_dir: Path) -> None:
        members = self.by_dir[run_dir]
        members[0].store.combine([m.cell for m in members], members[0].columns)
        self.touched.discard(run_dir)

    def finish(self) -> None:
        """Rebuild ``raw.csv`` of every folder with cells measured since its last rebuild."""
        for run_dir in list(self.touched):
            self.combine(run_dir)


def _prepare(todo: list[Planned]) -> None:
    """Let each experiment make the inputs its pending cells need (its ``prepare_inputs``)."""
    from tensorbench.experiments import registry

    by_experiment: dict[str, list[Cell]] = {}
    for item in todo:
        by_experiment.setdefault(item.cell.experiment, []).append(item.cell)
    for name, cells in by_experiment.items():
        prepare = getattr(registry.module(name), "prepare_inputs", None)
        if prepare is not None:
            prepare(cells)


def run_planned(
    items: list[Planned],
    *,
    jobs: int | None = None,
    timeout: float | None = None,
    log: Log = _print,
) -> None:
    """Measure every planned cell that is not done, ``jobs`` at a time (see the module
    docstring); raises RuntimeError (after the running cells finished) if a worker fails."""
    jobs = default_jobs() if jobs is None else int(jobs)
    if jobs < 1:
        raise ValueError(f"jobs must be at least 1, got {jobs}")
    cpus = usable_cpus()
    if jobs > 1 and cpus and jobs > len(cpus):
        log(f"JOBS={jobs} but only {len(cpus)} CPUs are usable here: running {len(cpus)} at once")
        jobs = len(cpus)
    meta = RunMetadata(items)

    todo: list[Planned] = []
    done = 0
    stale: list[tuple[Planned, str]] = []
    for item in items:
        state = item.store.state(item.cell, item.identity, item.identity_hash)
        if state.status == DONE:
            done += 1
            continue
        if state.status == STALE:
            stale.append((item, state.reason))
        todo.append(item)
    if done:
        where = sorted({str(i.store.run_dir) for i in items})
        log(f"resuming: {done} of {len(items)} cells already on disk in {', '.join(where)}")
    if stale:
        log(f"re-measuring {len(stale)} cells whose identity changed:")
        for item, reason in stale:
            log(f"  {item.cell.label()}: {reason}")
    if not todo:
        return
    _prepare(todo)

    estimates = _Estimates(todo)
    free = list(cpus[:jobs]) if jobs > 1 else [None]
    running: list[_Running] = []
    pending = list(todo)
    failure: str | None = None
    run_start = time.monotonic()
    started = done

    def remaining_seconds() -> float | None:
        total = 0.0
        for item in pending:
            expected = estimates.expected(item)
            if expected is None:
                return None
            total += expected
        for run in running:
            expected = estimates.expected(run.item) or 0.0
            total += max(0.0, expected - run.elapsed())
        return total / jobs

    def next_item() -> Planned | None:
        if failure is not None or not pending or len(running) >= jobs:
            return None
        if not running:
            return pending[0]
        if any(r.alone for r in running):
            return None
        return next((i for i in pending if not i.alone), None)

    try:
        while running or (pending and failure is None):
            item = next_item()
            while item is not None:
                pending.remove(item)
                started += 1
                cpu = free.pop(0)
                alone_now = item.alone or jobs == 1
                left = remaining_seconds()
                slowest = max(running, key=lambda r: r.elapsed(), default=None)
                parts = [
                    f"[{started}/{len(items)}] {item.cell.label()}",
                    f"elapsed {_duration(time.monotonic() - run_start)}",
                    f"~{_duration(left)} left" if left is not None else "time left unknown",
                ]
                if slowest is not None:
                    parts.append(
                        f"slowest running: {slowest.item.cell.label()} "
                        f"({_duration(slowest.elapsed())})"
                    )
                if jobs > 1:
                    parts.append(f"cpu {cpu}{', alone' if item.alone else ''}")
                log(" | ".join(parts))
                running.append(_Running(item, cpu, jobs, alone_now))
                item = next_item()
            time.sleep(POLL_SECONDS)
            for run in list(running):
                if timeout is not None and run.elapsed() > timeout and run.proc.poll() is None:
                    run.kill()
                code = run.proc.poll()
                if code is None:
                    continue
                running.remove(run)
                free.append(run.slot)
                free.sort(key=lambda c: -1 if c is None else c)
                wall = run.elapsed()
                out, err = run.output()
                if code != 0:
                    failure = failure or (
                        f"worker for {run.item.cell.label()} failed with exit code {code}:\n{err}"
                    )
                    continue
                report = json.loads(out.strip().splitlines()[-1])
                provenance = _provenance(run.item, run, report, wall)
                run.item.store.save(run.item.cell, _rows(run.item, report), provenance)
                estimates.record(run.item, wall)
                meta.record(run.item, provenance)
    finally:
        for run in running:
            run.kill()
        meta.finish()
    if failure is not None:
        raise RuntimeError(failure)
    log(f"finished {len(todo)} cells in {time.monotonic() - run_start:.1f} s")


def run_cells(
    cells: Iterable[Cell],
    run_dir: Path,
    *,
    description: dict | None = None,
    jobs: int | None = None,
    timeout: float | None = None,
    alone: Callable[[Cell], bool] | None = None,
    columns: list[str] | None = None,
    log: Log = _print,
):
    """Run every cell of one cell set not yet on disk under ``run_dir`` with this identity;
    return the planned cells' rows (a pandas DataFrame), in plan order."""
    cells = list(cells)
    items = plan(cells, Path(run_dir), alone=alone, description=description, columns=columns)
    if not items:
        Path(run_dir).mkdir(parents=True, exist_ok=True)
    else:
        run_planned(items, jobs=jobs, timeout=timeout, log=log)
    return CellStore(Path(run_dir)).combine(cells, columns)
