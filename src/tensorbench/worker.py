"""Worker process: measure one :class:`tensorbench.timing.Cell` and print JSON.

Run as ``python -m tensorbench.worker '<cell json>'`` by :func:`tensorbench.timing.run_cells`
in a fresh interpreter whose environment pins every thread pool to one thread. The
last line of stdout is ``{"seconds": [...], "worker": {...}}``.
"""

from __future__ import annotations

import importlib
import json
import sys


def main(argv: list[str]) -> int:
    from tensorbench import threads
    from tensorbench.timing import Cell

    cell = Cell(**json.loads(argv[0]))
    experiment = importlib.import_module(f"tensorbench.experiments.{cell.experiment}")
    measured = experiment.measure(cell)
    # measure() returns the seconds, or {"seconds": [...], "extra": {...}} when an
    # experiment records more about a cell (bytes read, peak memory, ...).
    seconds, extra = (
        (measured["seconds"], measured.get("extra", {}))
        if isinstance(measured, dict)
        else (measured, {})
    )

    from threadpoolctl import threadpool_info

    worker = {
        "thread_settings": threads.thread_settings(),
        "threadpools": [
            {k: p.get(k) for k in ("user_api", "internal_api", "num_threads", "version")}
            for p in threadpool_info()
        ],
    }
    print(json.dumps({"seconds": [float(s) for s in seconds], "worker": worker, "extra": extra}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
