"""Reporting the thread-scaling experiment: speedup and parallel efficiency per kernel and
size, the size from which the pool pays, and whether the smallest calls are ever slower
with more threads (rules written here, computed from the data)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from tensorbench import plotting, tables
from tensorbench.experiments.dense_report import DenseRun
from tensorbench.findings import Finding

EXPERIMENT = "threads"
# "Slower" or "faster" than 1 thread: the 95% CIs of the two means are disjoint and the
# means differ by more than this fraction (smaller differences are not worth a reader's
# attention, and on a shared VM they come and go between runs).
MATERIAL = 0.05
KERNEL_ORDER = ("mttkrp", "innerprod", "ttv", "dot", "matvec")
KERNEL_LABELS = {
    "mttkrp": "MTTKRP (R = 16)",
    "innerprod": "sparse inner product with a ktensor",
    "ttv": "sparse TTV",
    "dot": "dot",
    "matvec": "matvec",
}


def cells(run: DenseRun) -> pd.DataFrame:
    """One row per cell: kernel, size, threads, mean and CI of the per-call seconds, and
    the recorded extras."""
    frame = run.summary.copy()
    frame["kernel"] = frame["regime"]
    frame["threads"] = frame["variant"].str.rsplit("-t", n=1).str[1].astype(int)
    # A cell (kernel, size) holds every thread count; its extras are keyed by its file
    # name, <implementation>__<n1>__<kernel>[__t<most>].
    by_cell = {}
    for cell_id, values in run.metadata.get("cell_extra", {}).items():
        parts = cell_id.split("__")
        if len(parts) >= 3:
            by_cell[(int(parts[1]), parts[2])] = values
    rows = [by_cell.get((int(r.n1), r.kernel), {}) for r in frame.itertuples(index=False)]
    return pd.concat([frame, pd.DataFrame(rows, index=frame.index)], axis=1)


def kernels_of(frame: pd.DataFrame) -> list[str]:
    return [k for k in KERNEL_ORDER if k in set(frame["kernel"])]


def scaling_table(run: DenseRun) -> pd.DataFrame:
    """Per (kernel, size, threads): mean seconds per call, speedup over 1 thread (means),
    parallel efficiency (speedup / threads), and whether the call is significantly
    slower or faster than on 1 thread (95% CIs disjoint and more than MATERIAL apart)."""
    frame = cells(run)
    rows = []
    for (kernel, size), group in frame.groupby(["kernel", "size"]):
        one = group[group["threads"] == 1]
        if one.empty:
            continue
        base = one.iloc[0]
        for r in group.sort_values("threads").itertuples(index=False):
            speedup = base["mean"] / r.mean
            rows.append(
                {
                    "kernel": kernel,
                    "size": int(size),
                    "threads": int(r.threads),
                    "mean_s": r.mean,
                    "speedup_x": speedup,
                    "efficiency": speedup / r.threads,
                    "slower_than_1_thread": bool(
                        r.ci95_low > base["ci95_high"] and speedup < 1 - MATERIAL
                    ),
                    "faster_than_1_thread": bool(
                        r.ci95_high < base["ci95_low"] and speedup > 1 + MATERIAL
                    ),
                }
            )
    table = pd.DataFrame(rows)
    if table.empty:
        return table
    order = {k: i for i, k in enumerate(KERNEL_ORDER)}
    return table.sort_values(
        ["kernel", "size", "threads"], key=lambda c: c.map(order) if c.name == "kernel" else c
    ).reset_index(drop=True)


def pool_pays_from(table: pd.DataFrame, kernel: str) -> int | None:
    """The smallest size from which every larger size of ``kernel`` is significantly
    faster on the most threads than on 1 (None if no size is): below it, the inline call
    on one thread is at least as fast as the pool."""
    rows = table[(table["kernel"] == kernel) & (table["threads"] == table["threads"].max())]
    rows = rows.sort_values("size")
    pays = None
    for r in rows[::-1].itertuples(index=False):
        if not r.faster_than_1_thread:
            break
        pays = r.size
    return pays


def figure(run: DenseRun):
    """Speedup over 1 thread against size, one panel per kernel, one line per thread count;
    the dotted lines are perfect scaling."""
    table = scaling_table(run)
    plotting.apply_theme()
    kernels = [k for k in KERNEL_ORDER if k in set(table["kernel"])]
    fig, axes = plt.subplots(1, len(kernels), figsize=(3.6 * len(kernels) + 1.5, 3.9), sharey=True)
    axes = np.atleast_1d(axes)
    counts = sorted(set(table["threads"]))
    colors = dict(zip(counts, plotting.PALETTE, strict=False))
    for ax, kernel in zip(axes, kernels, strict=True):
        sub = table[table["kernel"] == kernel]
        for t in counts:
            rows = sub[sub["threads"] == t].sort_values("size")
            ax.plot(
                rows["size"],
                rows["speedup_x"],
                marker="o",
                color=colors[t],
                label=f"{t} thread{'s' if t > 1 else ''}",
            )
            if t > 1:
                ax.axhline(t, color=colors[t], lw=0.8, ls=":")
        ax.set_xscale("log")
        ax.set_title(KERNEL_LABELS[kernel], fontsize=10)
        ax.set_xlabel("size")
        ax.grid(True, which="major", alpha=0.3)
    axes[0].set_ylabel("speedup over 1 thread (mean times)")
    handles, names = axes[0].get_legend_handles_labels()
    fig.legend(handles, names, loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False)
    fig.suptitle("Thread scaling of the kernels called from Python (dotted: perfect scaling)")
    plotting._caption_below(fig, caption(run))
    fig.tight_layout()
    return fig


def caption(run: DenseRun) -> str:
    return plotting.caption(run.metadata, run.profile, run.n_trials).replace(
        "one thread", "threads as labelled"
    )


def figure_alt(run: DenseRun) -> str:
    table = scaling_table(run)
    if table.empty:
        return "No thread-scaling cells."
    most = int(table["threads"].max())
    parts = []
    for kernel in kernels_of(table):
        sub = table[(table["kernel"] == kernel) & (table["threads"] == most)]
        top = sub.loc[sub["size"].idxmax()]
        parts.append(f"{kernel}: {top['speedup_x']:.2f}x at size {int(top['size']):,}")
    return (
        f"Speedup on {most} threads over 1 thread at each kernel's largest size: "
        + "; ".join(parts)
        + "."
    )


def save(run: DenseRun, frame: pd.DataFrame, stem: str, title: str):
    return tables.write(frame, run.figures_dir, stem, title=f"{title}\n\n{caption(run)}")


def findings(run: DenseRun) -> list[Finding]:
    table = scaling_table(run)
    if table.empty:
        return [Finding(EXPERIMENT, "No thread-scaling cells.")]
    most = int(table["threads"].max())
    out: list[Finding] = []
    if most == 1:
        return [Finding(EXPERIMENT, "This machine gave the workers one core: nothing to scale.")]
    for kernel in kernels_of(table):
        sub = table[(table["kernel"] == kernel) & (table["threads"] == most)].sort_values("size")
        top = sub.iloc[-1]
        smallest = sub.iloc[0]
        pays = pool_pays_from(table, kernel)
        faster = sub[sub["faster_than_1_thread"]]
        if pays is not None:
            pays_text = (
                f"the pool pays from size {pays:,} up (below it one thread, inline, is as fast)"
            )
        elif len(faster):
            pays_text = (
                "significantly faster than 1 thread only at size "
                + ", ".join(f"{int(s):,}" for s in faster["size"])
                + ", not at every size above it"
            )
        else:
            pays_text = "the pool is not significantly faster at any size measured"
        slower = sub[sub["slower_than_1_thread"]]
        tiny_text = (
            "no size is significantly slower than on 1 thread"
            if slower.empty
            else "significantly SLOWER than 1 thread at sizes "
            + ", ".join(f"{int(s):,}" for s in slower["size"])
        )
        out.append(
            Finding(
                EXPERIMENT,
                f"{KERNEL_LABELS[kernel]} on {most} threads: {top['speedup_x']:.2f}x as fast "
                f"as on 1 thread at size {int(top['size']):,} (parallel efficiency "
                f"{top['efficiency']:.2f}); {pays_text}; at the smallest size "
                f"({int(smallest['size']):,}) {smallest['speedup_x']:.2f}x; {tiny_text}.",
            )
        )
    frame = cells(run)
    if "max_relative_difference_vs_1_thread" in frame:
        worst = float(frame["max_relative_difference_vs_1_thread"].max())
        out.append(
            Finding(
                EXPERIMENT,
                f"Results on k threads differ from the 1-thread results by at most {worst:.1e} "
                "(relative to the largest entry) on every cell.",
            )
        )
    return out
