"""Running and reporting the dense experiments (dot, matvec): raw data -> summary,
figure, first-call table (beside the paper's Tables 1-2), speedups and findings."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from tensorbench import paths, plotting, published, results, stats, tables
from tensorbench.experiments import roofline
from tensorbench.experiments.dense_impls import (
    BANDWIDTH,
    LABELS,
    PAPER_IMPLEMENTATIONS,
    best_bandwidth,
)
from tensorbench.findings import Finding, verdict
from tensorbench.harness.cell import Cell
from tensorbench.harness.runner import run_cells


@dataclass
class DenseRun:
    """Everything a dense notebook shows, loaded from disk after the cells ran."""

    name: str  # "dot" or "matvec-rows" etc.
    profile: str
    raw: pd.DataFrame
    summary: pd.DataFrame
    metadata: dict
    data_dir: Path
    figures_dir: Path

    @property
    def n_trials(self) -> int:
        return int(self.summary["n_calls"].max()) if len(self.summary) else 0

    def caption(self) -> str:
        return plotting.caption(self.metadata, self.profile, self.n_trials)


def execute(
    name: str, cells: list[Cell], profile: str, results_root: str | Path | None, description: dict
) -> DenseRun:
    """Run (or resume) ``cells`` into data/<machine>/<profile>/<name> and summarize."""
    data_dir = paths.run_dir("data", profile, results_root) / name
    raw = run_cells(cells, data_dir, description=description)
    return DenseRun(
        name=name,
        profile=profile,
        raw=raw,
        summary=stats.summarize(raw),
        metadata=results.read_json(data_dir / "metadata.json"),
        data_dir=data_dir,
        figures_dir=paths.run_dir("figures", profile, results_root),
    )


def load(name: str, profile: str, results_root: str | Path | None = None) -> DenseRun | None:
    """A finished run read back from disk (None if it has no data), without running."""
    data_dir = paths.run_dir("data", profile, results_root) / name
    raw = results.load_raw(data_dir)
    if raw.empty:
        return None
    return DenseRun(
        name=name,
        profile=profile,
        raw=raw,
        summary=stats.summarize(raw),
        metadata=results.read_json(data_dir / "metadata.json"),
        data_dir=data_dir,
        figures_dir=paths.run_dir("figures", profile, results_root),
    )


def first_call_table(run: DenseRun, experiment_key: str, size_column: str = "size") -> pd.DataFrame:
    """Our first-call overhead estimate (first call - mean of later calls) per size for
    Rust from Python and Numba, beside the paper's published estimate where it has one."""
    ours = run.summary[run.summary["implementation"].isin(["rust_from_python", "numba"])]
    ours = ours.pivot_table(
        index=size_column, columns="implementation", values="first_call_overhead"
    ).reset_index()
    ours = ours.rename(
        columns={
            size_column: "size",
            "rust_from_python": "rust_from_python_here_s",
            "numba": "numba_here_s",
        }
    )
    paper = published.first_call_overhead(experiment_key).rename(
        columns={
            "rust_from_python": "rust_from_python_paper_s",
            "numba": "numba_paper_s",
        }
    )
    table = ours.merge(paper, on="size", how="left")
    columns = [
        "size",
        "rust_from_python_here_s",
        "rust_from_python_paper_s",
        "numba_here_s",
        "numba_paper_s",
    ]
    return table[[c for c in columns if c in table.columns]]


def speedup_table(run: DenseRun, by: str = "size") -> pd.DataFrame:
    """Mean Python-loop time divided by each implementation's mean time, per size."""
    # Sizes where the Python loop was not run (capped by the profile) have no speedup.
    table = stats.speedups(run.summary, "python", by=by).dropna(how="all").reset_index()
    ordered = [
        c
        for c in (
            "numba",
            "rust",
            "rust_from_python",
            "numpy",
            "rust_tuned",
            "rust_from_python_tuned",
        )
        if c in table.columns
    ]
    return table[[by, *ordered]].rename(columns={c: f"{c}_x" for c in ordered})


def memory_bound(run: DenseRun, x: str, bytes_of) -> pd.DataFrame:
    """Seconds a kernel needs just to stream its inputs at the read bandwidth measured in
    this run: ``bytes_of(rows)`` bytes per size, one point per size on the x axis."""
    bandwidth = best_bandwidth(run.summary)
    sizes = run.summary[run.summary["implementation"] != BANDWIDTH].drop_duplicates(x)
    if sizes.empty or pd.isna(bandwidth):
        return pd.DataFrame(columns=[x, "seconds"])
    return pd.DataFrame({x: sizes[x], "seconds": bytes_of(sizes) / bandwidth}).sort_values(x)


def figure(
    run: DenseRun, *, x: str, xlabel: str, title: str, bytes_of=None, extended: bool = False
):
    """The paper's figure (plain loops + NumPy), or with the tuned forms when ``extended``.
    With ``bytes_of`` (rows -> bytes moved) the memory-traffic bound is drawn too."""
    impls = _implementations(extended)
    bound = memory_bound(run, x, bytes_of) if bytes_of is not None else None
    bandwidth = best_bandwidth(run.summary)
    bound_label = f"memory-traffic bound, data from RAM ({bandwidth / 1e9:.1f} GB/s read, measured)"
    # Issue 11: where this machine's bandwidth curve is on disk, the bound of the level
    # each size's data live in (the legend names the levels).
    levelled = roofline.figure_bound(run, x, bytes_of) if bytes_of is not None else None
    if levelled is not None:
        bound, bound_label = levelled
    return plotting.runtime_figure(
        run.summary,
        x=x,
        xlabel=xlabel,
        title=title,
        caption_text=run.caption(),
        implementations=impls,
        labels=LABELS,
        bound=bound,
        bound_label=bound_label,
    )


def _implementations(extended: bool) -> list[str]:
    impls = list(PAPER_IMPLEMENTATIONS)
    if extended:
        impls += ["rust_tuned", "rust_from_python_tuned"]
    return impls


def figure_alt(run: DenseRun, *, x: str, xlabel: str, extended: bool = False) -> str:
    """The figure's text alternative, with its headline numbers, from the data."""
    kernels = run.summary[run.summary["implementation"] != BANDWIDTH]
    return plotting.runtime_alt(
        kernels, x=x, xlabel=xlabel, implementations=_implementations(extended), labels=LABELS
    )


def spread(run: DenseRun, *, x: str, xlabel: str, title: str):
    """Every trial of every implementation at a few sizes, the first call marked."""
    raw = run.raw[run.raw["implementation"] != BANDWIDTH].copy()
    if x not in raw.columns:
        raw[x] = (
            run.summary.set_index(["implementation", "size"])[x]
            .reindex(pd.MultiIndex.from_frame(raw[["implementation", "size"]]))
            .to_numpy()
        )
    return plotting.spread_figure(
        raw,
        implementations=[i for i in _implementations(True) if i in set(raw["implementation"])],
        labels=LABELS,
        title=title,
        caption_text=run.caption(),
        x=x,
        xlabel=xlabel,
    )


def spread_alt(run: DenseRun) -> str:
    """Text alternative of the spread figure: the largest first call over its later calls."""
    s = run.summary[run.summary["implementation"] != BANDWIDTH]
    if s.empty:
        return "Run-to-run spread: no kernel cells."
    ratio = s["first_call"] / s["median"]
    worst = s.loc[ratio.idxmax()]
    return (
        "Run-to-run spread: every trial's runtime per implementation at a few sizes, later "
        "calls as dots over a box, the first call as a cross. The largest first-call excess "
        f"is {LABELS.get(worst['implementation'], worst['implementation'])}'s at size "
        f"{int(worst['size']):,}: {ratio.max():,.0f}x its median later call."
    )


def save_table(run: DenseRun, frame: pd.DataFrame, stem: str, title: str) -> dict[str, Path]:
    return tables.write(frame, run.figures_dir, stem, title=f"{title}\n\n{run.caption()}")


def claim_sentence(ratio: float, threshold: float, what: str, unit: str = "x") -> str:
    """'<what>: 123x (claim: > 100x) - held.' or the missing-data variant."""
    if pd.isna(ratio):
        return f"{what}: not measured in this profile."
    outcome = "held" if ratio > threshold else "did NOT hold"
    return f"{what}: {ratio:,.1f}{unit} (claim: > {threshold:g}{unit}) — {outcome} here."


def claim_finding(
    experiment: str, ratio: float, threshold: float, what: str, claim: str, unit: str = "x"
) -> Finding:
    """A checked claim 'ratio > threshold' as a finding (not comparable without data)."""
    measured = not pd.isna(ratio)
    return Finding(
        experiment,
        claim_sentence(ratio, threshold, what, unit),
        claim=claim,
        value=f"{ratio:,.1f}{unit}" if measured else "",
        published=f"> {threshold:g}{unit}",
        verdict=verdict(ratio > threshold if measured else None),
    )


def run_level_bound(run: DenseRun, sizes: pd.DataFrame, x: str, bytes_of) -> pd.DataFrame | None:
    """For each size (``x``) of ``sizes``, the time ``bytes_of(sizes)`` bytes need at the
    read plateau of the level they live in (:func:`roofline.level_bound`: columns x,
    seconds, level, bytes_per_second), from the bandwidth curve measured in the same
    machine's profile folder as ``run``; None when that curve is not on disk or lacks a
    level some size needs."""
    from tensorbench.experiments import bandwidth

    if run.data_dir is None:
        return None
    bw_run = bandwidth.load_dir(run.data_dir.parent, run.profile)
    if bw_run is None:
        return None
    levelled = roofline.level_bound(sizes, x, bytes_of, bw_run)
    if levelled.empty or levelled["seconds"].isna().any():
        return None
    return levelled
