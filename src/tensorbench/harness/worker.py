"""Worker process: measure one cell and print JSON.

Run as ``python -m tensorbench.harness.worker '<cell json>'`` by the runner, in a fresh
interpreter whose environment pins every thread pool to the cell's thread count (and,
with JOBS > 1, whose CPU affinity the runner set before it started). The experiment is
found through the registry. The last line of stdout is
``{"seconds": [...]} or {"records": [...]}`` with ``"extra"`` and ``"worker"``.
"""

from __future__ import annotations

import json
import os
import sys


def measure(parameters: dict) -> dict:
    """Measure the cell described by ``parameters`` (:meth:`Cell.parameters`)."""
    from tensorbench.experiments import registry
    from tensorbench.harness.cell import Cell

    cell = Cell(**parameters)
    measured = registry.module(cell.experiment).measure(cell)
    # measure() returns the seconds, or a dict with "seconds" or "records" (rows of its
    # own columns) and optionally "extra" (bytes read, peak memory, ...).
    if not isinstance(measured, dict):
        measured = {"seconds": measured}
    out: dict = {"extra": measured.get("extra", {})}
    if "records" in measured:
        out["records"] = measured["records"]
    else:
        out["seconds"] = [float(s) for s in measured["seconds"]]
    return out


def _kernels_threads() -> int | None:
    """The thread count of kernels_rs's own pool, if the cell imported kernels_rs."""
    kernels = sys.modules.get("kernels_rs")
    return kernels.get_num_threads() if kernels is not None else None


def worker_report() -> dict:
    """What this process saw: thread variables, thread pools, the CPUs it may run on."""
    from threadpoolctl import threadpool_info

    from tensorbench import threads

    return {
        "thread_settings": threads.thread_settings(),
        "threadpools": [
            {k: p.get(k) for k in ("user_api", "internal_api", "num_threads", "version")}
            for p in threadpool_info()
        ],
        "cpus": sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "kernels_rs_threads": _kernels_threads(),
        "pid": os.getpid(),
    }


def main(argv: list[str]) -> int:
    out = measure(json.loads(argv[0]))
    out["worker"] = worker_report()
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
