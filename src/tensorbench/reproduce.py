"""Execute every notebook of the compendium with papermill for one profile.

Source notebooks in ``notebooks/`` stay free of outputs; executed copies (and an HTML
render of each) go to ``executed/<machine>/<profile>/``. Papermill is always called
with the project's registered Jupyter kernel.
"""

from __future__ import annotations

import argparse
import logging
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from tensorbench import environment, paths, results

KERNEL_NAME = "tensorbench"


@dataclass(frozen=True)
class NotebookRun:
    notebook: str  # file stem in notebooks/
    parameters: dict = field(default_factory=dict)
    output_name: str = ""  # stem of the executed copy; defaults to ``notebook``

    @property
    def stem(self) -> str:
        return self.output_name or self.notebook


# Order matters only for reading; every run is independent.
RUNS: tuple[NotebookRun, ...] = (
    NotebookRun("dot"),
    NotebookRun("matvec", {"regime": "rows"}, "matvec-rows"),
    NotebookRun("matvec", {"regime": "cols"}, "matvec-cols"),
    NotebookRun("matvec", {"regime": "square"}, "matvec-square"),
    NotebookRun("call_overhead"),
    NotebookRun("ttv"),
    NotebookRun("tt_overhead"),
)


def execute(
    run: NotebookRun,
    profile: str,
    results_root: str | Path | None = None,
    only_render: bool = False,
) -> Path:
    """Execute one notebook run; returns the executed notebook's path."""
    import papermill

    source = paths.project_root() / "notebooks" / f"{run.notebook}.ipynb"
    out_dir = paths.run_dir("executed", profile, results_root)
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{run.stem}.ipynb"
    parameters = {"profile": profile, "results_root": str(results_root or ""), **run.parameters}
    if not only_render:
        papermill.execute_notebook(
            str(source),
            str(target),
            parameters=parameters,
            kernel_name=KERNEL_NAME,
            cwd=str(source.parent),
            log_output=True,
            progress_bar=False,
        )
    subprocess.run(
        [
            sys.executable,
            "-m",
            "jupyter",
            "nbconvert",
            "--to",
            "html",
            "--log-level",
            "WARN",
            str(target),
        ],
        check=True,
    )
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--profile", default="paper")
    parser.add_argument(
        "--results-root",
        default=None,
        help="folder for data/, figures/, executed/ (default: the project)",
    )
    parser.add_argument(
        "--only", nargs="*", default=None, help="executed-notebook stems to run (default: all)"
    )
    args = parser.parse_args(argv)
    # papermill streams each cell's output (our progress lines) through its logger.
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("papermill").setLevel(logging.INFO)
    for noisy in ("traitlets", "asyncio", "nbclient"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    runs = [r for r in RUNS if args.only is None or r.stem in args.only]
    log_path = paths.run_dir("data", args.profile, args.results_root) / "reproduce.json"
    log = results.read_json(log_path)
    log.setdefault("notebooks", {})
    start = time.monotonic()
    this_run: dict[str, float] = {}
    for index, run in enumerate(runs, start=1):
        print(f"== [{index}/{len(runs)}] {run.stem} (profile {args.profile})", flush=True)
        started, t0 = environment.now(), time.monotonic()
        target = execute(run, args.profile, args.results_root)
        seconds = time.monotonic() - t0
        # Wall time of this execution; a resumed run measures only what was left to do.
        log["notebooks"][run.stem] = {"started": started, "seconds": round(seconds, 1)}
        this_run[run.stem] = round(seconds, 1)
        log["machine_label"] = paths.machine_label()
        results.atomic_write_json(log_path, log)
        print(f"== {run.stem} done in {seconds:.0f} s -> {target}", flush=True)
    total = time.monotonic() - start
    if args.only is None:
        log["last_full_run"] = {
            "finished": environment.now(),
            "seconds": round(total, 1),
            "notebooks": this_run,
        }
        results.atomic_write_json(log_path, log)
    print(f"== all {len(runs)} notebooks done in {total:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
