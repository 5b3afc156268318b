"""The "input layout and order" figure, table and findings of the TTV experiment, from a
recorded ``ttv-layout`` run (:mod:`tensorbench.experiments.ttv_layout`).

The bound is Figure 4's: the bytes of ``subs`` + ``vals`` read once at the read bandwidth of
the level they live in (:func:`ttv_report.bound`; the run's DRAM probe where no bandwidth
curve is on disk). Each finding also gives the ratio to the DRAM read rate, the bound the
issue's EPYC figures used (their data did not fit its caches).

Issue 11's targets, at n = 800 and 1200:

* sorted C-ordered subs within 2x of the bound;
* the same nonzeros in random order within 1.5x of the sorted time;
* Fortran-ordered subs within 1.2x of C-ordered (checked for both row orders).

A kernel measured faster than its bound is reported as a probe error, never as within it.
"""

from __future__ import annotations

import math
import textwrap

import matplotlib.pyplot as plt
import pandas as pd

from tensorbench import plotting
from tensorbench.experiments import ttv_report
from tensorbench.experiments.dense_impls import BANDWIDTH
from tensorbench.experiments.dense_report import DenseRun
from tensorbench.experiments.ttv_layout import VARIANTS
from tensorbench.findings import NOT_COMPARABLE, Finding, verdict

EXPERIMENT = "ttv"
TARGET_SIZES = (800, 1200)  # where the issue sets its targets
BOUND_TARGET = 2.0
RANDOM_TARGET = 1.5
LAYOUT_TARGET = 1.2
LABELS = {
    "sorted-C": "sorted rows, C-ordered subs",
    "random-C": "random row order, C-ordered subs",
    "sorted-F": "sorted rows, F-ordered subs (pyttb's layout)",
    "random-F": "random row order, F-ordered subs",
}
# Colour by layout (C: the Rust kernel's green, F: sky blue), line by order.
STYLES = {
    "sorted-C": {"color": plotting.color("rust"), "marker": "^", "linestyle": "-"},
    "random-C": {"color": plotting.color("rust"), "marker": "^", "linestyle": "--", "mfc": "none"},
    "sorted-F": {"color": plotting.color("rust_all_cores"), "marker": "X", "linestyle": "-"},
    "random-F": {
        "color": plotting.color("rust_all_cores"),
        "marker": "X",
        "linestyle": "--",
        "mfc": "none",
    },
}
# (table column, numerator variant, denominator, target, what it checks)
RATIOS = (
    ("sorted_C_over_bound", "sorted-C", None, BOUND_TARGET, "sorted C-ordered subs over the bound"),
    (
        "random_C_over_sorted_C",
        "random-C",
        "sorted-C",
        RANDOM_TARGET,
        "random order over sorted (C)",
    ),
    (
        "random_F_over_sorted_F",
        "random-F",
        "sorted-F",
        RANDOM_TARGET,
        "random order over sorted (F)",
    ),
    (
        "sorted_F_over_sorted_C",
        "sorted-F",
        "sorted-C",
        LAYOUT_TARGET,
        "F-ordered over C-ordered (sorted)",
    ),
    (
        "random_F_over_random_C",
        "random-F",
        "random-C",
        LAYOUT_TARGET,
        "F-ordered over C-ordered (random order)",
    ),
)


def _kernels(run: DenseRun) -> pd.DataFrame:
    return run.summary[run.summary["implementation"] != BANDWIDTH]


def _means(run: DenseRun) -> pd.DataFrame:
    """Mean seconds per n (rows) and arrangement (columns)."""
    kernels = _kernels(run)
    return kernels.pivot_table(index="size", columns="variant", values="mean")


def table(run: DenseRun) -> pd.DataFrame:
    """Per n: nonzeros, input size, the bound, each arrangement's mean seconds and the
    ratios the issue sets targets for."""
    means = _means(run)
    frame = ttv_report.cells(run)
    info = ttv_report.bound(run).set_index("size")
    out = pd.DataFrame(
        {
            "n": means.index.astype(int),
            "nnz": frame.groupby("size")["nnz"].max().reindex(means.index).astype(int).to_numpy(),
            "input_MB": (info["input_bytes"].reindex(means.index) / ttv_report.MB).to_numpy(),
            "bound_s": info["seconds"].reindex(means.index).to_numpy(),
        }
    )
    for variant in VARIANTS:
        if variant in means:
            out[f"{variant}_s"] = means[variant].to_numpy()
    for column, top, bottom, _, _ in RATIOS:
        if top not in means:
            continue
        below = out["bound_s"].to_numpy() if bottom is None else means.get(bottom)
        if below is None:
            continue
        out[column] = means[top].to_numpy() / pd.Series(below).to_numpy()
    return out


def figure(run: DenseRun):
    """Mean runtime (95% CI) against n for each arrangement, and the bound."""
    plotting.apply_theme()
    kernels = _kernels(run)
    fig, ax = plt.subplots(figsize=(8.6, 4.8))
    for variant in VARIANTS:
        rows = kernels[kernels["variant"] == variant].sort_values("size")
        if rows.empty:
            continue
        low = (rows["mean"] - rows["ci95_low"]).clip(lower=0).fillna(0)
        high = (rows["ci95_high"] - rows["mean"]).clip(lower=0).fillna(0)
        ax.errorbar(
            rows["size"],
            rows["mean"],
            yerr=[low, high],
            capsize=3,
            label=LABELS[variant],
            **STYLES[variant],
        )
    limit = ttv_report.bound(run)
    if not limit.empty:
        ax.plot(
            limit["size"],
            limit["seconds"],
            color="black",
            linewidth=1,
            linestyle="-.",
            label=ttv_report.bound_text(run),
        )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("n (tensor of n x n x n, density 0.01, times a vector along mode 2)")
    ax.set_ylabel("mean runtime (s), Rust kernel timed inside Rust")
    ax.set_title("Sparse TTV: input layout and order")
    ax.grid(True, which="major", alpha=0.3)
    handles, names = ax.get_legend_handles_labels()
    ax.legend(handles, ["\n".join(textwrap.wrap(n, 28)) for n in names], **plotting.LEGEND_OUTSIDE)
    caption = "\n".join(textwrap.wrap(ttv_report.caption(run), 130))
    fig.text(0.01, 0.01, caption, fontsize=7, ha="left", va="bottom")
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    return fig


def figure_alt(run: DenseRun) -> str:
    """What the figure shows, with its largest n's ratios, written from the data."""
    t = table(run)
    if t.empty:
        return "Sparse TTV input layout and order: no cells measured."
    last = t.iloc[-1]
    parts = [
        f"{label} {last[column]:.2f}x"
        for column, _, _, _, label in RATIOS
        if column in t and not math.isnan(last[column])
    ]
    return (
        "Log-log mean runtime of the Rust TTV kernel against n for sorted and random row "
        "order with C- and F-ordered subscripts, and the memory-traffic bound. "
        f"At n = {int(last['n'])}: " + "; ".join(parts) + "."
    )


def findings(run: DenseRun) -> list[Finding]:
    """Each ratio of each n against its target: a checked claim at n = 800 and 1200, a
    description elsewhere (the targets are set for those sizes)."""
    t = table(run)
    if t.empty:
        return [Finding(EXPERIMENT, "Input layout and order: no cells measured.")]
    limit = ttv_report.bound(run).set_index("size")
    lines = []
    for row in t.itertuples(index=False):
        n = int(row.n)
        for column, _, bottom, target, label in RATIOS:
            ratio = getattr(row, column, float("nan"))
            if math.isnan(ratio):
                continue
            held = ratio <= target
            text = (
                f"TTV layout and order at n = {n}: {label}: {ratio:.2f}x (target: <= {target:g}x)"
            )
            if bottom is None:
                at = limit.loc[n]
                over_dram = ratio * at["seconds"] / at["dram_seconds"]
                text += (
                    f", bound = subs + vals at the {at['level']} rate "
                    f"({at['bytes_per_second'] / 1e9:.1f} GB/s); {over_dram:.2f}x the DRAM "
                    "read time"
                )
            if bottom is None and ratio < 1:
                lines.append(
                    Finding(
                        EXPERIMENT,
                        f"{text}: faster than its bound, so the bandwidth probe is wrong "
                        "here (a probe error, not a result).",
                        claim=f"TTV at n = {n}: {label}",
                        value=f"{ratio:.2f}x",
                        published=f"<= {target:g}x",
                        verdict=NOT_COMPARABLE,
                    )
                )
            elif n in TARGET_SIZES:
                lines.append(
                    Finding(
                        EXPERIMENT,
                        f"{text} — {'held' if held else 'did NOT hold'} here.",
                        claim=f"TTV at n = {n}: {label}",
                        value=f"{ratio:.2f}x",
                        published=f"<= {target:g}x",
                        verdict=verdict(held),
                    )
                )
            else:
                lines.append(
                    Finding(
                        EXPERIMENT,
                        f"{text}: {'within' if held else 'NOT within'} it (the targets are "
                        "set for n = 800 and 1200).",
                    )
                )
    return lines
