"""Figure 4, the TTV tables and the findings, computed from the recorded runs of
:mod:`tensorbench.experiments.ttv` (``DenseRun`` objects read back from disk)."""

from __future__ import annotations

import math

import pandas as pd

from tensorbench import plotting, published, stats, tables
from tensorbench.experiments.dense_impls import BANDWIDTH, best_bandwidth
from tensorbench.experiments.dense_report import DenseRun, run_level_bound
from tensorbench.experiments.ttv_layout import ROUNDS
from tensorbench.findings import Finding, verdict

EXPERIMENT = "ttv"

LABELS = {
    "pyttb": "pyttb sptensor.ttv (as shipped)",
    "python": "Python: pyttb ttv without checks (paper)",
    "numba": "Numba (the Rust kernel's algorithm)",
    "rust": "Rust (timed inside Rust)",
    "rust_from_python": "Rust from Python (+ sptensor)",
}
ORDER = ("pyttb", "python", "numba", "rust", "rust_from_python")
HEADLINE_N = 1200
SPEEDUP_TARGET = 100.0  # the target for Rust from Python over pyttb at n = 1200
BOUND_TARGET = 3.0  # the Rust kernel within 3x of its memory-traffic bound
MB = 1e6


def _cell_id(implementation: str, n1: int, variant) -> str:
    variant = (
        "" if variant is None or (isinstance(variant, float) and math.isnan(variant)) else variant
    )
    return f"{implementation}__{int(n1)}" + (f"__{variant}" if variant else "")


def cells(run: DenseRun) -> pd.DataFrame:
    """The run's summary (kernels only) with each cell's recorded sizes and peak memory."""
    summary = run.summary[run.summary["implementation"] != BANDWIDTH].copy()
    if "variant" not in summary:
        summary["variant"] = ""
    summary["variant"] = summary["variant"].astype(object).where(summary["variant"].notna(), "")
    extra = run.metadata.get("cell_extra", {})
    # A cell that times several arrangements in rounds (ttv_layout) records them under
    # their own variants; its sizes are the cell's.
    rows = [
        extra.get(_cell_id(r.implementation, r.n1, r.variant))
        or extra.get(_cell_id(r.implementation, r.n1, ROUNDS), {})
        for r in summary.itertuples(index=False)
    ]
    frame = pd.DataFrame(rows, index=summary.index)
    return pd.concat([summary, frame], axis=1)


def caption(run: DenseRun) -> str:
    """The figure/table caption, counting the kernels' calls (not the bandwidth passes)."""
    kernels = run.summary[run.summary["implementation"] != BANDWIDTH]
    n_calls = int(kernels["n_calls"].max()) if len(kernels) else 0
    return plotting.caption(run.metadata, run.profile, n_calls)


def bandwidth(run: DenseRun) -> float:
    """Bytes per second of the fastest read-bandwidth pass of this run (NaN if none)."""
    return best_bandwidth(run.summary)


BOUND_COLUMNS = ["size", "input_bytes", "seconds", "level", "bytes_per_second", "dram_seconds"]


def bound(run: DenseRun) -> pd.DataFrame:
    """Per size: the seconds needed just to read ``subs`` and ``vals`` once at the read
    bandwidth of the level they live in (issue 11: the bandwidth curve of the same machine
    and profile, where it is on disk), else at this run's measured DRAM read bandwidth;
    ``dram_seconds`` is always the latter (columns :data:`BOUND_COLUMNS`)."""
    frame = cells(run)
    if frame.empty or "input_bytes" not in frame:
        return pd.DataFrame(columns=BOUND_COLUMNS)
    sizes = frame.groupby("size", as_index=False)["input_bytes"].max()
    dram = bandwidth(run)
    sizes["dram_seconds"] = sizes["input_bytes"] / dram
    levelled = run_level_bound(run, sizes, "size", lambda r: r["input_bytes"])
    if levelled is None:
        sizes["seconds"] = sizes["dram_seconds"]
        sizes["level"] = "DRAM (this run's probe)"
        sizes["bytes_per_second"] = dram
    else:
        sizes = sizes.merge(levelled[["size", "seconds", "level", "bytes_per_second"]], on="size")
    return sizes[BOUND_COLUMNS].sort_values("size").reset_index(drop=True)


def bound_text(run: DenseRun) -> str:
    """How :func:`bound` was drawn: the levels and rates it used."""
    limit = bound(run)
    if limit.empty:
        return "memory-traffic bound (not measured)"
    used = limit.drop_duplicates("level")
    rates = ", ".join(f"{r.level} {r.bytes_per_second / 1e9:.1f} GB/s" for r in used.itertuples())
    return f"memory-traffic bound: subs + vals read once at the level they live in ({rates})"


def figure4(run: DenseRun):
    """Mean runtime vs n with 95% CI for every implementation, and the bound."""
    summary = run.summary[run.summary["implementation"] != BANDWIDTH]
    bound_line = bound(run)[["size", "seconds"]]
    bound_label = bound_text(run)
    return plotting.runtime_figure(
        summary,
        x="size",
        xlabel="n (tensor of n x n x n, density 0.01, times a vector along mode 2)",
        title="Figure 4: sparse tensor times vector",
        caption_text=caption(run),
        implementations=[i for i in ORDER if i in set(summary["implementation"])],
        labels=LABELS,
        bound=bound_line,
        bound_label=bound_label,
    )


def figure4_alt(run: DenseRun) -> str:
    summary = run.summary[run.summary["implementation"] != BANDWIDTH]
    return plotting.runtime_alt(
        summary,
        x="size",
        xlabel="n",
        implementations=[i for i in ORDER if i in set(summary["implementation"])],
        labels=LABELS,
    )


def spread(run: DenseRun):
    """Every trial of every implementation at a few n, the first call marked."""
    raw = run.raw[run.raw["implementation"] != BANDWIDTH]
    return plotting.spread_figure(
        raw,
        implementations=[i for i in ORDER if i in set(raw["implementation"])],
        labels=LABELS,
        title="Sparse TTV: every trial",
        caption_text=caption(run),
        x="size",
        xlabel="n",
    )


def _means(frame: pd.DataFrame, index: str | list[str]) -> pd.DataFrame:
    return frame.pivot_table(index=index, columns="implementation", values="mean")


def runtime_table(run: DenseRun) -> pd.DataFrame:
    """Per n: nonzeros, input size, the bound and every implementation's mean seconds."""
    frame = cells(run)
    means = _means(frame, "size")
    info = bound(run).set_index("size")
    nnz = frame.groupby("size")["nnz"].max()
    table = pd.DataFrame(
        {
            "n": means.index.astype(int),
            "nnz": nnz.reindex(means.index).astype(int).to_numpy(),
            "input_MB": (info["input_bytes"].reindex(means.index) / MB).to_numpy(),
            "bound_s": info["seconds"].reindex(means.index).to_numpy(),
        }
    )
    for impl in ORDER:
        if impl in means:
            table[f"{impl}_s"] = means[impl].to_numpy()
    return table


def speedup_table(run: DenseRun) -> pd.DataFrame:
    """Per n: pyttb's mean time over each implementation's, Rust from Python over the
    paper's Python baseline, and the Rust kernel's time over its memory-traffic bound."""
    frame = cells(run)
    means = _means(frame, "size")
    table = pd.DataFrame({"n": means.index.astype(int)})
    if "pyttb" in means:
        for impl in ORDER[1:]:
            if impl in means:
                table[f"{impl}_vs_pyttb_x"] = (means["pyttb"] / means[impl]).to_numpy()
    if {"python", "rust_from_python"} <= set(means):
        table["rust_from_python_vs_python_x"] = (
            means["python"] / means["rust_from_python"]
        ).to_numpy()
    if "rust" in means:
        limit = bound(run).set_index("size")["seconds"].reindex(means.index)
        table["rust_over_bound"] = (means["rust"] / limit).to_numpy()
    return table


def frostt_table(run: DenseRun) -> pd.DataFrame:
    """Per real tensor and mode: sizes, mean seconds, speedups over pyttb and the working
    memory of one call (its peak resident size above the size before it)."""
    frame = cells(run)
    means = _means(frame, "variant")
    first = frame.drop_duplicates("variant").set_index("variant")
    peaks = frame.pivot_table(
        index="variant", columns="implementation", values="peak_above_start_bytes"
    )
    rows = []
    for variant in means.index:
        info = first.loc[variant]
        row = {
            "tensor": variant.rsplit("-mode", 1)[0],
            "mode": int(variant.rsplit("-mode", 1)[1]),
            "nnz": int(info["nnz"]),
            "output_cells": int(info["output_cells"]),
            "output_nnz": int(info["output_nnz"]),
            "input_MB": info["input_bytes"] / MB,
        }
        for impl in ("pyttb", "python", "rust_from_python", "rust"):
            if impl in means:
                row[f"{impl}_s"] = means.loc[variant, impl]
        for impl in ("rust_from_python", "rust"):
            if {"pyttb", impl} <= set(means):
                row[f"{impl}_vs_pyttb_x"] = means.loc[variant, "pyttb"] / means.loc[variant, impl]
        for impl in ("pyttb", "rust_from_python"):
            if impl in peaks:
                row[f"{impl}_peak_MB"] = peaks.loc[variant, impl] / MB
        rows.append(row)
    table = pd.DataFrame(rows)
    if table.empty:
        return table
    order = {name: i for i, name in enumerate(("small", "med", "med4", "med5"))}
    return table.sort_values(
        ["tensor", "mode"], key=lambda c: c.map(order).fillna(99) if c.name == "tensor" else c
    ).reset_index(drop=True)


def headline_table(run: DenseRun) -> pd.DataFrame:
    """The n = 1200 cells: mean and min seconds, speedup over pyttb, peak memory."""
    frame = cells(run).sort_values("implementation", key=lambda c: c.map(ORDER.index))
    limit = bound(run).set_index("size")["seconds"]
    pyttb = frame.loc[frame["implementation"] == "pyttb", "mean"]
    pyttb_mean = float(pyttb.iloc[0]) if len(pyttb) else float("nan")
    return pd.DataFrame(
        {
            "implementation": frame["implementation"].to_numpy(),
            "n": frame["size"].astype(int).to_numpy(),
            "nnz": frame["nnz"].astype(int).to_numpy(),
            "calls": frame["n_calls"].astype(int).to_numpy(),
            "mean_s": frame["mean"].to_numpy(),
            "min_s": frame["min"].to_numpy(),
            "first_call_s": frame["first_call"].to_numpy(),
            "speedup_vs_pyttb_x": (pyttb_mean / frame["mean"]).to_numpy(),
            "over_bound": (frame["mean"] / frame["size"].map(limit)).to_numpy(),
            "peak_above_start_MB": (frame["peak_above_start_bytes"] / MB).to_numpy(),
        }
    )


def save(run: DenseRun, frame: pd.DataFrame, stem: str, title: str):
    return tables.write(frame, run.figures_dir, stem, title=f"{title}\n\n{caption(run)}")


# --- findings ---------------------------------------------------------------------------


def _mean(frame: pd.DataFrame, impl: str, **where) -> float:
    return stats.value_at(frame, impl, **where)


def paper_speedup() -> float:
    rows = published.select("paper", experiment="ttv")
    return float(rows["value"].iloc[0]) if len(rows) else float("nan")


def speedup_findings(run: DenseRun, where: str) -> list[Finding]:
    """Rust from Python over pyttb (and over the paper's baseline) at the largest n, and
    the Rust kernel against its bound, for one run."""
    s = run.summary
    lines = []
    impls = set(s["implementation"])
    sizes = sorted(set(s.loc[s["implementation"] == "rust_from_python", "size"]))
    if not sizes:
        return [Finding(EXPERIMENT, f"{where}: no Rust from Python cells.")]
    n = int(max(sizes))
    if "pyttb" in impls:
        ratio = _mean(s, "pyttb", size=n) / _mean(s, "rust_from_python", size=n)
        what = f"{where}: Rust from Python over pyttb's sptensor.ttv at n = {n} (mean time ratio)"
        if n != HEADLINE_N:
            lines.append(
                Finding(
                    EXPERIMENT, f"{what}: {ratio:,.1f}x (the >= 100x target is set for n = 1200)."
                )
            )
        else:
            held = ratio >= SPEEDUP_TARGET
            lines.append(
                Finding(
                    EXPERIMENT,
                    f"{what}: {ratio:,.1f}x (target: >= 100x) — "
                    f"{'held' if held else 'did NOT hold'} here.",
                    claim=f"TTV: Rust from Python over pyttb at n = {HEADLINE_N}",
                    value=f"{ratio:,.1f}x",
                    published=f">= {SPEEDUP_TARGET:g}x",
                    verdict=verdict(held),
                )
            )
    if "python" in impls:
        ratio = _mean(s, "python", size=n) / _mean(s, "rust_from_python", size=n)
        lines.append(
            Finding(
                EXPERIMENT,
                f"{where}: Rust from Python over the paper's Python baseline at n = {n}: "
                f"{ratio:,.1f}x (the paper reports about {paper_speedup():g}x for Rust from "
                "Python over its Python, i.e. pyttb's ttv).",
            )
        )
    if "rust" in impls:
        limit = bound(run).set_index("size")["seconds"]
        ratio = _mean(s, "rust", size=n) / float(limit.get(n, float("nan")))
        within = "within" if ratio <= BOUND_TARGET else "NOT within"
        lines.append(
            Finding(
                EXPERIMENT,
                f"{where}: the Rust kernel at n = {n} takes {ratio:.2f}x its "
                f"{bound_text(run)}: {within} the 3x target.",
            )
        )
    return lines


def frostt_findings(run: DenseRun) -> list[Finding]:
    """Rust vs pyttb and peak memory on every mode of med.tns (the hypersparse tensor)."""
    table = frostt_table(run)
    med = table[table["tensor"] == "med"] if len(table) else table
    if med.empty:
        return [Finding(EXPERIMENT, "med.tns was not measured in this profile.")]
    lines = []
    for row in med.itertuples(index=False):
        faster = row.rust_from_python_vs_pyttb_x
        peak = getattr(row, "rust_from_python_peak_MB", float("nan"))
        lines.append(
            Finding(
                EXPERIMENT,
                f"med.tns mode {row.mode} ({row.output_cells:,} output cells, "
                f"{row.output_nnz:,} nonzero): Rust from Python is {faster:,.1f}x faster than "
                f"pyttb ({'beats' if faster > 1 else 'does NOT beat'} it); one call needs "
                f"{peak:.1f} MB of memory at its peak, {peak / row.input_MB:.2f}x the "
                f"{row.input_MB:.1f} MB input (pyttb: {row.pyttb_peak_MB:.1f} MB).",
            )
        )
    return lines
