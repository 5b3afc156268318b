"""The README's results section, generated from the recorded data.

``python -m tensorbench.report --readme README.md`` rewrites the text between the
``<!-- results:begin -->`` and ``<!-- results:end -->`` markers; nothing in it is typed
by hand. Every machine and profile found under ``data/`` gets its own subsection.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from tensorbench import paths, results
from tensorbench.estimate import dense_seconds
from tensorbench.experiments import (
    call_overhead,
    dense_report,
    dot,
    matvec,
    tt_overhead,
    ttv,
    ttv_report,
)

BEGIN, END = "<!-- results:begin -->", "<!-- results:end -->"
PROFILE_ORDER = ("paper", "quick")  # smoke runs are for tests, not for the record


def _dense_findings(profile: str, root: Path) -> list[str]:
    lines = []
    run = dense_report.load("dot", profile, root)
    if run is not None:
        lines += [f"dot: {line}" for line in dot.findings(run)]
    for regime in matvec.REGIMES:
        run = matvec.load(profile, regime, root)
        if run is not None:
            lines += [f"matvec ({regime}): {line}" for line in matvec.findings(run, regime)]
    return lines


def _tt_findings(profile: str, root: Path) -> list[str]:
    run = tt_overhead.load(profile, root)
    return [f"TT inner product: {line}" for line in tt_overhead.findings(run)] if run else []


def _ttv_findings(profile: str, root: Path) -> list[str]:
    lines = []
    for name, where in (("main", "Figure 4"), ("headline", "n = 1200 check")):
        run = ttv.load(name, profile, root)
        if run is not None:
            lines += [f"TTV: {line}" for line in ttv_report.speedup_findings(run, where)]
    run = ttv.load("frostt", profile, root)
    if run is not None:
        lines += [f"TTV: {line}" for line in ttv_report.frostt_findings(run)]
    return lines


# Experiments contribute README lines here: f(profile, results_root) -> list of sentences.
FINDINGS: list[Callable[[str, Path], list[str]]] = [
    _dense_findings,
    _ttv_findings,
    _tt_findings,
    call_overhead.readme_findings,
]


def _machine_description(profile_dir: Path) -> str:
    for meta_path in sorted(profile_dir.glob("*/metadata.json")):
        machine = results.read_json(meta_path).get("machine", {})
        if machine:
            return (
                f"{machine.get('cpu_model')}, {machine.get('logical_cpus')} logical CPUs, "
                f"{machine.get('memory_bytes', 0) / 2**30:.0f} GiB, {machine.get('os')}"
            )
    return profile_dir.parent.name


def section(root: Path | None = None) -> str:
    """The Markdown of the results section for every machine/profile under ``root/data``."""
    root = paths.results_root(root)
    data = root / "data"
    parts = []
    machines = sorted(p for p in data.iterdir() if p.is_dir() and p.name != "published")
    for machine_dir in machines:
        for profile in PROFILE_ORDER:
            profile_dir = machine_dir / profile
            if not profile_dir.is_dir():
                continue
            log = results.read_json(profile_dir / "reproduce.json")
            full = log.get("last_full_run")
            duration = (
                f"the last full `make reproduce PROFILE={profile}` took "
                f"{full['seconds'] / 60:.1f} min (finished {full['finished']})"
                if full
                else "no complete run of every notebook recorded yet"
            )
            parts.append(f"### Profile `{profile}` on `{machine_dir.name}`\n")
            parts.append(f"Machine: {_machine_description(profile_dir)}; {duration}.\n")
            # Per-notebook times of the last full run; else of each notebook's last execution
            # (which may have resumed a run that was already partly on disk).
            per_notebook = (full or {}).get("notebooks") or {
                name: info["seconds"] for name, info in log.get("notebooks", {}).items()
            }
            if per_notebook:
                parts.append(
                    "Wall time per notebook: "
                    + ", ".join(f"{name} {sec / 60:.1f} min" for name, sec in per_notebook.items())
                    + ".\n"
                )
            for finder in FINDINGS:
                lines = finder(profile, root)
                parts.extend(f"- {line}" for line in lines)
            parts.append(
                f"\nFigures and tables: `figures/{machine_dir.name}/{profile}/`; "
                f"raw data and metadata: `data/{machine_dir.name}/{profile}/`; "
                f"executed notebooks: `executed/{machine_dir.name}/{profile}/`.\n"
            )
        paper_log = results.read_json(machine_dir / "paper" / "reproduce.json")
        if "last_full_run" not in paper_log and machine_dir.name == paths.machine_label():
            estimate = dense_seconds("paper", "quick", root)
            if estimate:
                parts.append(
                    f"The full `paper` profile has not been run on `{machine_dir.name}`. Estimated "
                    f"from the `quick` run's per-cell wall times (linear in size and in the "
                    f"number of calls), its dense notebooks alone would take about "
                    f"{sum(estimate.values()) / 3600:.1f} h here: "
                    + ", ".join(f"{k} {v / 60:.0f} min" for k, v in estimate.items())
                    + ". This is an estimate, not a measurement.\n"
                )
    if not parts:
        return "No results recorded yet: run `make reproduce` (or `make quick`).\n"
    return "\n".join(parts)


def update_readme(readme: Path, root: Path | None = None) -> None:
    text = readme.read_text(encoding="utf-8")
    if BEGIN not in text or END not in text:
        raise ValueError(f"{readme} has no {BEGIN} ... {END} block")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    generated = (
        f"{BEGIN}\n<!-- generated by `make readme` from data/; do not edit by hand -->\n\n"
        f"{section(root)}\n{END}"
    )
    results.atomic_write_text(readme, head + generated + tail)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--readme", type=Path, help="rewrite this README's results block")
    parser.add_argument("--results-root", type=Path, default=None)
    args = parser.parse_args(argv)
    if args.readme:
        update_readme(args.readme, args.results_root)
    else:
        print(section(args.results_root))
    return 0


if __name__ == "__main__":
    sys.exit(main())
