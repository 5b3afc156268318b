"""``make reproduce``: measure every cell of the selected experiments, then execute their
notebooks with papermill and render them.

1. Plan: every experiment of the registry (or ``--only``) lists its cell sets for the
   profile; each cell's identity says whether the copy on disk can be kept.
2. Measure: the pending cells, one at a time (``--jobs 1``, the default, as the paper ran)
   or side by side (``--jobs N``; see :mod:`tensorbench.harness.runner`). An interrupted
   run loses nothing: rerun the same command.
3. Present: each notebook then finds its cells on disk and only reads, draws and writes.
   Source notebooks in ``notebooks/`` stay free of outputs; executed copies and a
   self-contained HTML render of each (:mod:`tensorbench.render`: math as MathML, images
   embedded, nothing fetched) go to ``executed/<machine>/<profile>/``, with index pages
   (:mod:`tensorbench.site`).

Wall times go to ``data/results/<machine>/<profile>/reproduce.json``.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

from tensorbench import environment, paths, render, report, results, site
from tensorbench.experiments import registry
from tensorbench.experiments.registry import Notebook
from tensorbench.harness import runner

KERNEL_NAME = "tensorbench"


def execute(
    run: Notebook,
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
    render.render_html(target)
    return target


def execute_claims(results_root: str | Path | None = None, profiles=("paper", "quick")) -> Path:
    """Execute the claims report card (every machine with runs of ``profiles``) into
    ``executed/claims.ipynb`` and render it."""
    import papermill

    source = paths.project_root() / "notebooks" / f"{registry.CLAIMS.notebook}.ipynb"
    out_dir = paths.kind_root("executed", results_root)
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{registry.CLAIMS.stem}.ipynb"
    papermill.execute_notebook(
        str(source),
        str(target),
        parameters={"results_root": str(results_root or ""), "profiles": list(profiles)},
        kernel_name=KERNEL_NAME,
        cwd=str(source.parent),
        log_output=True,
        progress_bar=False,
    )
    render.render_html(target)
    return target


def plan(
    names: tuple[str, ...], profile: str, results_root: str | Path | None = None
) -> list[runner.Planned]:
    """Every cell of the experiments ``names`` at ``profile``, with its run folder."""
    base = paths.run_dir("data", profile, results_root)
    items: list[runner.Planned] = []
    for module in registry.modules(names):
        for set_name, cells in module.cell_sets(profile).items():
            description = {
                "experiment": module.EXPERIMENT,
                "cell_set": set_name,
                "profile": profile,
            }
            items += runner.plan(cells, base / set_name, description=description)
    return items


def first_sets(items: list[runner.Planned], first: tuple[str, ...]) -> list[runner.Planned]:
    """``items`` with the cell sets named in ``first`` moved to the front, in that order
    (a long run measures what it needs soonest first, and still measures everything)."""
    known = {item.description.get("cell_set") for item in items}
    unknown = [name for name in first if name not in known]
    if unknown:
        raise ValueError(
            f"unknown cell set(s) {', '.join(unknown)} in FIRST; the planned ones are "
            + ", ".join(sorted(str(k) for k in known))
        )
    rank = {name: i for i, name in enumerate(first)}
    return sorted(items, key=lambda item: rank.get(item.description.get("cell_set"), len(rank)))


def measure(
    names: tuple[str, ...],
    profile: str,
    results_root: str | Path | None = None,
    jobs: int = 1,
    first: tuple[str, ...] = (),
) -> dict[str, float]:
    """Measure every pending cell of ``names``, the cell sets ``first`` before the others
    (in that order; the rest in the registry's); returns the summed cell wall seconds per
    experiment (from the cells' provenance, so a resumed run counts every cell)."""
    items = plan(names, profile, results_root)
    runner.run_planned(first_sets(items, first), jobs=jobs)
    seconds: dict[str, float] = {}
    for item in items:
        wall = item.store.provenance(item.cell).get("wall_seconds") or 0.0
        seconds[item.cell.experiment] = seconds.get(item.cell.experiment, 0.0) + float(wall)
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--profile", default="paper")
    parser.add_argument(
        "--results-root",
        default=None,
        help="folder for data/results, figures/, executed/ (default: the project)",
    )
    parser.add_argument(
        "--only",
        default="",
        help=f"comma-separated experiments (default: all of {', '.join(registry.EXPERIMENTS)})",
    )
    parser.add_argument(
        "--jobs", type=int, default=None, help="cells measured at once (default: JOBS or 1)"
    )
    parser.add_argument(
        "--first",
        default="",
        help="comma-separated cell sets measured before the others (e.g. ttv-layout,matvec-square)",
    )
    args = parser.parse_args(argv)
    first = tuple(name for name in args.first.split(",") if name)
    names = registry.parse_only(args.only)
    jobs = args.jobs if args.jobs is not None else runner.default_jobs()
    # papermill streams each cell's output through its logger.
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("papermill").setLevel(logging.INFO)
    for noisy in ("traitlets", "asyncio", "nbclient"):
        logging.getLogger(noisy).setLevel(logging.WARNING)

    log_path = paths.run_dir("data", args.profile, args.results_root) / "reproduce.json"
    log = results.read_json(log_path)
    log.setdefault("notebooks", {})
    log.setdefault("experiments", {})
    log["machine_label"] = paths.machine_label()
    start = time.monotonic()
    print(f"== measuring {', '.join(names)} (profile {args.profile}, JOBS={jobs})", flush=True)
    cell_seconds = measure(names, args.profile, args.results_root, jobs, first)
    measuring = time.monotonic() - start
    for name, seconds in cell_seconds.items():
        log["experiments"][name] = {"cell_seconds": round(seconds, 1)}
    results.atomic_write_json(log_path, log)

    notebooks = registry.notebooks(names)
    for index, run in enumerate(notebooks, start=1):
        print(
            f"== [{index}/{len(notebooks)}] notebook {run.stem} (profile {args.profile})",
            flush=True,
        )
        started, t0 = environment.now(), time.monotonic()
        target = execute(run, args.profile, args.results_root)
        seconds = time.monotonic() - t0
        log["notebooks"][run.stem] = {"started": started, "seconds": round(seconds, 1)}
        results.atomic_write_json(log_path, log)
        print(f"== {run.stem} done in {seconds:.0f} s -> {target}", flush=True)
    total = time.monotonic() - start
    entry = {
        "finished": environment.now(),
        "seconds": round(total, 1),
        "measuring_seconds": round(measuring, 1),
        "jobs": jobs,
        "experiments": list(names),
        "cell_seconds": {k: round(v, 1) for k, v in cell_seconds.items()},
    }
    log.setdefault("runs", []).append(entry)
    if set(names) == set(registry.EXPERIMENTS):
        log["last_full_run"] = entry
    results.atomic_write_json(log_path, log)
    report.write_findings(paths.machine_label(), args.profile, args.results_root)
    print("== notebook claims (every machine and profile on disk)", flush=True)
    t0 = time.monotonic()
    profiles = ["smoke"] if args.profile == "smoke" else ["paper", "quick"]
    target = execute_claims(args.results_root, profiles)
    print(f"== claims done in {time.monotonic() - t0:.0f} s -> {target}", flush=True)
    pages = site.build_index(
        paths.kind_root("executed", args.results_root),
        paths.kind_root("figures", args.results_root),
        paths.kind_root("data", args.results_root),
    )
    print(f"== index pages: {', '.join(str(p) for p in pages)}", flush=True)
    print(
        f"== {len(names)} experiments, {len(notebooks)} notebooks done in {total:.0f} s", flush=True
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
