"""Generated results: the README's short headline block and a full results page per
machine and profile, both written from the recorded data (nothing typed in by hand).

``python -m tensorbench.report --readme README.md`` writes, for every machine and profile
under ``data/results/`` (smoke runs excepted):

* ``figures/<machine>/<profile>/results.md``: every finding of every experiment, the
  wall times, and where the data, figures and notebooks are;
* ``figures/<machine>/<profile>/<notebook>.findings.json``: the findings as data (read
  by the index pages of :mod:`tensorbench.site`);

and rewrites the README between ``<!-- results:begin -->`` and ``<!-- results:end -->``
with one headline table per machine and profile (the checked claims) and a link to its
results page.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import sys
from pathlib import Path

from tensorbench import estimate, paths, results
from tensorbench.experiments import registry
from tensorbench.findings import Finding

BEGIN, END = "<!-- results:begin -->", "<!-- results:end -->"
PROFILE_ORDER = ("paper", "quick")  # smoke runs are for tests, not for the record


def machines(root: Path | None = None) -> list[str]:
    data = paths.kind_root("data", root)
    return sorted(p.name for p in data.iterdir() if p.is_dir()) if data.is_dir() else []


def machine_description(profile_dir: Path) -> str:
    for meta_path in sorted(profile_dir.rglob("metadata.json")):
        machine = results.read_json(meta_path).get("machine", {})
        if machine:
            uarch = (machine.get("cpu_signature") or {}).get("microarchitecture")
            return (
                f"{machine.get('cpu_model')}"
                + (f" ({uarch})" if uarch else " (microarchitecture not recorded)")
                + f", {machine.get('logical_cpus')} logical CPUs, "
                f"{machine.get('memory_bytes', 0) / 2**30:.0f} GiB, {machine.get('os')}"
            )
    return profile_dir.parent.name


def cpu_model(profile_dir: Path) -> str:
    """The CPU model recorded with the first cell of this machine and profile ("" if none)."""
    for meta_path in sorted(profile_dir.rglob("metadata.json")):
        model = results.read_json(meta_path).get("machine", {}).get("cpu_model")
        if model:
            return str(model)
    return ""


def is_paper_class(model: str) -> bool:
    """Whether a CPU is of the paper's class, an AMD EPYC."""
    return "epyc" in model.lower()


def measured_by(profile_dir: Path) -> str:
    """Which commits measured this machine's and profile's cells: a reader compares them
    with the last change to the measuring code."""
    found = commits(profile_dir)
    if not found:
        return "No commit recorded with its cells."
    shown = ", ".join(f"`{c[:7]}`" for c in found)
    return f"Measured by commit{'s' if len(found) > 1 else ''} {shown}."


def reference_line(root: Path | None = None) -> str:
    """Which recorded paper-profile run is the reference: a full one (every experiment
    measured by one `make reproduce`) on an AMD EPYC, the paper's CPU class, else none;
    every result stays labelled with its machine."""
    epyc = [
        machine
        for machine in machines(root)
        if is_paper_class(cpu_model(paths.run_dir("data", "paper", root, machine)))
    ]
    full = [machine for machine in epyc if _has_full_run(machine, root)]
    if full:
        labels = ", ".join(f"`{m}`" for m in full)
        return (
            f"**The reference run:** the `paper` profile on {labels}, an AMD EPYC, the paper's "
            "CPU class. Every other block is labelled with the machine it came from."
        )
    if epyc:
        labels = ", ".join(f"`{m}`" for m in epyc)
        return (
            f"**No reference run yet:** the `paper` profile on {labels}, an AMD EPYC, the "
            "paper's CPU class, is partial (no `make reproduce` has finished every experiment "
            "there yet); it becomes the reference when one does. Every block is labelled with "
            "the machine it came from."
        )
    recorded = ", ".join(f"`{m}`" for m in machines(root)) or "none"
    return (
        f"**No reference run yet:** no machine with results ({recorded}) is an AMD EPYC, the "
        "paper's CPU class. Every block is labelled with the machine it came from; a run of "
        "`make reproduce` on an EPYC becomes the reference."
    )


def _has_full_run(machine: str, root: Path | None) -> bool:
    """Whether a `make reproduce` of every experiment finished on ``machine`` (paper)."""
    log = results.read_json(paths.run_dir("data", "paper", root, machine) / "reproduce.json")
    return bool(log.get("last_full_run"))


def commits(profile_dir: Path) -> list[str]:
    """Every commit that measured a cell of this machine and profile."""
    found: set[str] = set()
    for meta_path in profile_dir.rglob("metadata.json"):
        found.update(results.read_json(meta_path).get("commits", []))
    return sorted(found)


def findings(profile: str, root: Path | None, machine: str) -> dict[str, list[Finding]]:
    """Every experiment's findings on ``machine`` at ``profile``."""
    from tensorbench.machine import reading

    with reading(machine):
        return {
            m.EXPERIMENT: _findings_module(m).recorded_findings(profile, root)
            for m in registry.modules()
        }


def _findings_module(module):
    """Where an experiment's findings are written: its presentation module
    ``<experiment>_report`` when that defines them (so a target's wording is not part of
    the measuring code's identity), else the experiment module itself."""
    name = f"{module.__name__}_report"
    if importlib.util.find_spec(name) is not None:
        presenter = importlib.import_module(name)
        if hasattr(presenter, "recorded_findings"):
            return presenter
    return module


def _wall_times(log: dict) -> str:
    full = log.get("last_full_run")
    parts = []
    if full:
        text = (
            f"The last full run (every experiment, JOBS={full.get('jobs', 1)}) took "
            f"{full['seconds'] / 60:.1f} min, finished {full['finished']}"
        )
        cell_total = sum(full.get("cell_seconds", {}).values())
        # Serial cells' own wall times add up to more than the run's measuring time only
        # when the run resumed cells measured by an earlier, interrupted one.
        measuring = full.get("measuring_seconds", cell_total)
        if full.get("jobs", 1) == 1 and cell_total > 1.05 * measuring:
            text += (
                f" (it resumed an interrupted run: the cells' own wall times add up to "
                f"{cell_total / 3600:.1f} h)"
            )
        parts.append(text)
    else:
        parts.append("No run of every experiment in one command recorded yet")
    cells = {k: v.get("cell_seconds") for k, v in log.get("experiments", {}).items()}
    if cells:
        parts.append(
            "measuring time per experiment (sum of its cells' wall times): "
            + ", ".join(f"{k} {v / 60:.1f} min" for k, v in cells.items() if v is not None)
        )
    books = log.get("notebooks", {})
    if books:
        parts.append(
            "notebook execution: "
            + ", ".join(f"{k} {v['seconds']:.0f} s" for k, v in books.items())
        )
    return "; ".join(parts)


def agreement_line(profile_dir: Path) -> str:
    """The side-by-side vs serial comparison of this run, if one was recorded
    (:mod:`tensorbench.jobs_report`)."""
    found = results.read_json(profile_dir / "jobs_agreement.json")
    if not found:
        return ""
    disagree = found["side_by_side_disagree"]
    text = (
        f"Side by side against serial (`{found['serial']}`, same profile): of "
        f"{found['side_by_side_judged']} sample sets measured side by side and comparable, "
        f"{found['side_by_side_agree']} agree with the serial run within their 95% CIs "
        f"(median ratio side-by-side / serial over all of them: "
        f"{found['median_ratio_side_by_side']:.3f})"
    )
    if disagree:
        worst = sorted(disagree, key=lambda d: -abs(d["parallel_over_serial"] - 1))[:5]
        text += "; the largest differences: " + ", ".join(
            f"{d['cell_set']} {d['samples_of']} {d['parallel_over_serial']:.2f}x" for d in worst
        )
    text += ". "
    if found.get("alone_sample_sets"):
        side, alone = found["median_ratio_side_by_side"], found["median_ratio_alone"]
        text += (
            f"The control, the {found['alone_sample_sets']} sample sets of cells that ran alone "
            f"in the same JOBS run (no neighbour): {found['alone_agree']} agree, median ratio "
            f"{alone:.3f}. "
        )
        if abs(side - alone) <= 0.05:
            text += (
                "The side-by-side cells moved as much as the cells without a neighbour: the "
                "difference is between the two runs (the machine's speed drifted), not the "
                "neighbour's doing. "
            )
        else:
            text += (
                f"The side-by-side cells moved {side / alone:.2f}x relative to the cells without "
                "a neighbour: a neighbour's effect. "
            )
    return text + "Every sample set: `jobs_agreement.csv` beside it."


def _estimate_line(machine: str, root: Path | None) -> str:
    if machine != paths.machine_label():
        return ""
    cells = estimate.cell_seconds("paper", "quick", root)
    if not cells:
        return ""
    serial, wide = estimate.wall_seconds(cells, 1), estimate.wall_seconds(cells, 16)
    per = estimate.by_experiment(cells)
    return (
        f"Estimated from the `quick` cells' wall times (linear in work and calls; not a "
        f"measurement): the `paper` profile would measure for about {serial / 3600:.1f} h at "
        f"JOBS=1 and {wide / 3600:.1f} h at JOBS=16 on a machine like this one with 16 cores ("
        + ", ".join(f"{k} {v / 3600:.1f} h" for k, v in per.items())
        + " of cell time)."
    )


def results_page(
    machine: str, profile: str, root: Path | None = None, found: dict | None = None
) -> str:
    profile_dir = paths.run_dir("data", profile, root, machine)
    log = results.read_json(profile_dir / "reproduce.json")
    found = findings(profile, root, machine) if found is None else found
    lines = [
        f"# Results: profile `{profile}` on `{machine}`",
        "",
        "<!-- generated by `make readme` from data/results; do not edit by hand -->",
        "",
        f"Machine: {machine_description(profile_dir)}.",
        "",
        f"Wall time: {_wall_times(log)}.",
        "",
        agreement_line(profile_dir),
        "",
    ]
    measured_by = commits(profile_dir)
    if len(measured_by) > 1:
        lines += [
            f"Cells of this profile were measured by {len(measured_by)} commits "
            f"({', '.join(c[:10] for c in measured_by)}) with the same measuring code "
            "(each cell's provenance has its commit and identity).",
            "",
        ]
    for experiment, items in found.items():
        if not items:
            continue
        lines += [f"## {experiment}", ""]
        lines += [f"- {f.text}" for f in items]
        lines.append("")
    lines += [
        f"Figures and tables: `figures/{machine}/{profile}/`; raw data, per-cell provenance "
        f"and metadata: `data/results/{machine}/{profile}/`; executed notebooks and their "
        f"HTML renders: `executed/{machine}/{profile}/`.",
        "",
    ]
    return "\n".join(lines)


def headline(
    machine: str, profile: str, root: Path | None = None, found: dict | None = None
) -> str:
    """The checked claims of one machine and profile as a Markdown table."""
    found = findings(profile, root, machine) if found is None else found
    rows = [f for items in found.values() for f in items if f.claim]
    if not rows:
        return "No checked claims recorded yet."
    table = ["| claim | paper / target | here | verdict |", "|---|---|---|---|"]
    table += [f"| {f.claim} | {f.published} | {f.value} | {f.verdict} |" for f in rows]
    return "\n".join(table)


def write_findings(
    machine: str, profile: str, root: Path | None = None, found: dict | None = None
) -> list[Path]:
    """``figures/<machine>/<profile>/<notebook>.findings.json`` for every notebook with
    findings (a finding's ``experiment`` is its notebook's stem, e.g. ``matvec-rows``)."""
    out_dir = paths.run_dir("figures", profile, root, machine)
    by_stem: dict[str, list[Finding]] = {}
    found = findings(profile, root, machine) if found is None else found
    for items in found.values():
        for item in items:
            by_stem.setdefault(item.experiment, []).append(item)
    written = []
    for stem, items in by_stem.items():
        path = out_dir / f"{stem}.findings.json"
        results.atomic_write_text(path, json.dumps([f.as_dict() for f in items], indent=2) + "\n")
        written.append(path)
    return written


def write_pages(root: Path | None = None) -> list[Path]:
    """Every machine's and profile's results page and findings files."""
    written = []
    for machine in machines(root):
        for profile in PROFILE_ORDER:
            if not paths.run_dir("data", profile, root, machine).is_dir():
                continue
            page = paths.run_dir("figures", profile, root, machine) / "results.md"
            found = findings(profile, root, machine)  # read the data once per page
            results.atomic_write_text(page, results_page(machine, profile, root, found))
            written += [page, *write_findings(machine, profile, root, found)]
    return written


def report_card_section(root: Path | None = None) -> list[str]:
    """The claims report card's summary: claims held per machine and profile, and every
    claim's verdict on each."""
    from tensorbench import claims, tables

    card = claims.report_card(root)
    if card.empty:
        return []
    summary = claims.summary(card)
    wide = claims.wide(card).drop(columns=["claim"])
    return [
        "### Claims report card",
        "",
        "Every quantitative claim of the paper and of the TT note, checked by the rule beside it "
        "in `src/tensorbench/claims.py` on every machine and profile with data "
        "([rendered](executed/claims.html), `notebooks/claims.ipynb`, every machine's results "
        "side by side in `figures/comparison/`).",
        "",
        tables.to_markdown(summary),
        "",
        tables.to_markdown(wide),
        "",
        "### Per machine and profile",
        "",
    ]


def section(root: Path | None = None) -> str:
    """The README block: the claims report card, then per machine and profile the
    headline table and a link."""
    parts = [reference_line(root), ""] if machines(root) else []
    parts += report_card_section(root)
    for machine in machines(root):
        for profile in PROFILE_ORDER:
            profile_dir = paths.run_dir("data", profile, root, machine)
            if not profile_dir.is_dir():
                continue
            log = results.read_json(profile_dir / "reproduce.json")
            parts += [
                f"#### `{machine}`, profile `{profile}`",
                "",
                f"{machine_description(profile_dir)}. {measured_by(profile_dir)} "
                f"{_wall_times(log)}.",
                "",
                headline(machine, profile, root),
                "",
                agreement_line(profile_dir),
                "",
                f"Every finding: [figures/{machine}/{profile}/results.md]"
                f"(figures/{machine}/{profile}/results.md).",
                "",
            ]
        line = _estimate_line(machine, root)
        if line:
            parts += [line, ""]
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
        f"{BEGIN}\n<!-- generated by `make readme` from data/results; do not edit by hand -->\n\n"
        f"{section(root)}\n{END}"
    )
    results.atomic_write_text(readme, head + generated + tail)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--readme", type=Path, help="rewrite this README's results block")
    parser.add_argument("--results-root", type=Path, default=None)
    args = parser.parse_args(argv)
    write_pages(args.results_root)
    if args.readme:
        update_readme(args.readme, args.results_root)
    else:
        print(section(args.results_root))
    return 0


if __name__ == "__main__":
    sys.exit(main())
