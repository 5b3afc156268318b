"""The roofline of this machine: the measured bandwidth curve with its plateaus, and every
kernel cell on disk (dot, matvec, TTV) placed on it as bytes moved against time.

A cell's bound is the bandwidth of the level where its working set (the bytes it must
move: its inputs, fresh for every call) lives (:func:`bandwidth_levels.bound_for`); its
fraction of the bound is its rate over the bound's; a cell faster than its bound is a
probe error (:func:`bandwidth_levels.classify`) and is drawn as one, never as within the
limit. Times are each cell's mean over its later calls, the statistic the runtime
figures draw. The interpreted loops (Python, pyttb) are in the table but not drawn: they
are orders of magnitude from any memory limit.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from tensorbench.experiments import bandwidth_levels
from tensorbench.experiments.bandwidth_levels import PROBE_ERROR, WITHIN

NOT_DRAWN = ("python", "pyttb")
POINT_COLUMNS = [
    "experiment",
    "implementation",
    "size",
    "bytes_moved",
    "seconds",
    "bytes_per_second",
    "level",
    "bound_bytes_per_second",
    "fraction_of_bound",
    "status",
]
LEVEL_COLORS = {"L1": "#1b9e77", "L2": "#d95f02", "L3": "#7570b3", "DRAM": "#000000"}
KERNEL_STYLES = {"read": "-", "copy": "--", "triad": ":"}
EXPERIMENT_MARKERS = {
    "dot": "o",
    "matvec-rows": "s",
    "matvec-cols": "D",
    "matvec-square": "P",
    "ttv": "^",
}


def _dense_points(name: str, run, bytes_of) -> pd.DataFrame:
    from tensorbench.experiments.dense_impls import BANDWIDTH

    s = run.summary[run.summary["implementation"] != BANDWIDTH]
    if s.empty:
        return pd.DataFrame(columns=["experiment", "implementation", "size", "bytes_moved"])
    return pd.DataFrame(
        {
            "experiment": name,
            "implementation": s["implementation"],
            "size": s["size"],
            "bytes_moved": bytes_of(s),
            "seconds": s["mean"],
        }
    )


def kernel_cells(profile: str, results_root=None) -> pd.DataFrame:
    """Every dot, matvec and TTV cell of ``profile`` on disk: experiment, implementation,
    size, bytes moved and mean seconds (empty where an experiment has not run)."""
    from tensorbench.experiments import dot, matvec, ttv, ttv_report

    frames = []
    run = dot.load(profile, results_root)
    if run is not None:
        frames.append(_dense_points("dot", run, lambda s: dot.bytes_read(s["size"])))
    for regime in matvec.REGIMES:
        run = matvec.load(profile, regime, results_root)
        if run is not None:
            frames.append(
                _dense_points(
                    f"matvec-{regime}", run, lambda s: matvec.bytes_moved(s["n1"], s["n2"])
                )
            )
    run = ttv.load("main", profile, results_root)
    if run is not None:
        cells = ttv_report.cells(run)
        if "input_bytes" in cells:
            frames.append(
                pd.DataFrame(
                    {
                        "experiment": "ttv",
                        "implementation": cells["implementation"],
                        "size": cells["size"],
                        "bytes_moved": cells["input_bytes"],
                        "seconds": cells["mean"],
                    }
                )
            )
    frames = [f for f in frames if not f.empty]
    if not frames:
        return pd.DataFrame(columns=POINT_COLUMNS[:5])
    out = pd.concat(frames, ignore_index=True)
    return out[(out["bytes_moved"] > 0) & (out["seconds"] > 0)].reset_index(drop=True)


def place(cells: pd.DataFrame, curve: pd.DataFrame, caches: dict) -> pd.DataFrame:
    """``cells`` (bytes_moved, seconds) with each one's level, bound, fraction of the
    bound and status (within / probe error / no bound), against the read curve."""
    rows = []
    for cell in cells.itertuples(index=False):
        level, bound = bandwidth_levels.bound_for(cell.bytes_moved, curve, caches=caches)
        status = bandwidth_levels.classify(cell.seconds, cell.bytes_moved, bound)
        rate = cell.bytes_moved / cell.seconds
        rows.append(
            {
                **cell._asdict(),
                "bytes_per_second": rate,
                "level": level,
                "bound_bytes_per_second": bound,
                "fraction_of_bound": rate / bound if bound > 0 else math.nan,
                "status": status,
            }
        )
    return pd.DataFrame(rows, columns=POINT_COLUMNS)


def points(bw_run, profile: str, results_root=None) -> pd.DataFrame:
    """The kernel cells of ``profile`` placed against the bandwidth run ``bw_run``."""
    return place(kernel_cells(profile, results_root), bw_run.curve, bw_run.caches)


def bound_line(curve: pd.DataFrame, caches: dict, low: float, high: float) -> pd.DataFrame:
    """Seconds the bound allows for moving each of a grid of byte counts (the level's
    plateau applies where the working set lives): columns bytes, seconds, level."""
    grid = np.geomspace(max(low, 1.0), max(high, low, 1.0), 200)
    rows = []
    for b in grid:
        level, rate = bandwidth_levels.bound_for(float(b), curve, caches=caches)
        rows.append({"bytes": b, "seconds": b / rate if rate > 0 else math.nan, "level": level})
    return pd.DataFrame(rows)


def curve_figure(bw_run, title: str):
    """Bandwidth against working-set size per STREAM kernel, each level's read plateau as
    a horizontal segment over its range, the cache capacities as vertical lines."""
    import matplotlib.pyplot as plt

    from tensorbench import plotting

    plotting.apply_theme()
    fig, ax = plt.subplots(figsize=(8.6, 4.8))
    curve = bw_run.curve
    for kernel, rows in curve.groupby("kernel"):
        ax.plot(
            rows["working_set_bytes"],
            rows["bytes_per_second"] / 1e9,
            marker="o",
            markersize=3,
            linestyle=KERNEL_STYLES.get(kernel, "-"),
            color="#444444" if kernel != "read" else "#1f77b4",
            label=f"{kernel} (best variant)",
        )
    all_levels = bandwidth_levels.levels(bw_run.caches)
    table = bandwidth_levels.plateaus(curve, all_levels, "read")
    top = curve["working_set_bytes"].max() if len(curve) else 1.0
    for level, row in zip(all_levels, table.itertuples(index=False), strict=True):
        if not row.points:
            continue
        low = max(row.from_bytes, curve["working_set_bytes"].min())
        high = min(level.high, top)
        ax.hlines(
            row.bytes_per_second / 1e9,
            low,
            high,
            colors=LEVEL_COLORS.get(level.name, "black"),
            linewidth=3,
            alpha=0.6,
            label=f"{level.name} read plateau {row.bytes_per_second / 1e9:.1f} GB/s",
        )
    for name, size in sorted(bw_run.caches.items()):
        ax.axvline(size, color=LEVEL_COLORS.get(name, "grey"), linestyle=":", linewidth=1)
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("working set (bytes, all arrays of the kernel)")
    ax.set_ylabel("bandwidth (GB/s, STREAM's byte count)")
    ax.set_title(title)
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=8)
    fig.tight_layout()
    plotting._caption_below(fig, bw_run.caption())
    return fig


def curve_alt(bw_run) -> str:
    """The curve figure's text alternative, its numbers from the data."""
    table = bandwidth_levels.plateaus(bw_run.curve, bandwidth_levels.levels(bw_run.caches), "read")
    parts = [
        f"{r.level} {r.bytes_per_second / 1e9:.1f} GB/s" if r.points else f"{r.level} not measured"
        for r in table.itertuples(index=False)
    ]
    kernels = ", ".join(sorted(set(bw_run.curve["kernel"])))
    return (
        f"Single-core bandwidth against working-set size for the {kernels} kernels, log-log; "
        f"read plateaus: {', '.join(parts)}."
    )


def roofline_figure(placed: pd.DataFrame, bw_run, title: str):
    """Bytes moved against time: the bound (time to move the bytes at the plateau of
    the level they live in) as a line, each compiled kernel cell as a point; a cell
    faster than its bound drawn as a red cross labelled "probe error"."""
    import matplotlib.pyplot as plt

    from tensorbench import plotting

    plotting.apply_theme()
    fig, ax = plt.subplots(figsize=(8.6, 4.8))
    drawn = placed[~placed["implementation"].isin(NOT_DRAWN)]
    low = float(drawn["bytes_moved"].min()) if len(drawn) else 1e3
    high = float(drawn["bytes_moved"].max()) if len(drawn) else 1e9
    line = bound_line(bw_run.curve, bw_run.caches, low / 2, high * 2)
    ax.plot(
        line["bytes"],
        line["seconds"],
        color="black",
        linestyle="-.",
        label="bound: bytes / plateau of their level",
    )
    from tensorbench.experiments.dense_impls import LABELS

    for (experiment, impl), rows in drawn.groupby(["experiment", "implementation"]):
        ok = rows[rows["status"] != PROBE_ERROR]
        if ok.empty:
            continue
        # Colour (and an open marker for a tuned form) from the implementation's style,
        # the marker's shape from the experiment.
        style = plotting.style(impl)
        ax.plot(
            ok["bytes_moved"],
            ok["seconds"],
            linestyle="",
            marker=EXPERIMENT_MARKERS.get(experiment, "o"),
            markersize=5,
            color=style["color"],
            mfc=style.get("mfc", style["color"]),
            label=f"{experiment}: {LABELS.get(impl, impl)}",
        )
    errors = drawn[drawn["status"] == PROBE_ERROR]
    if len(errors):
        ax.plot(
            errors["bytes_moved"],
            errors["seconds"],
            linestyle="",
            marker="x",
            markersize=9,
            color="red",
            label="probe error (faster than its bound)",
        )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("bytes moved per call (inputs, fresh data)")
    ax.set_ylabel("seconds per call (mean)")
    ax.set_title(title)
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=7, ncol=1)
    fig.tight_layout()
    plotting._caption_below(fig, bw_run.caption())
    return fig


def summary_table(placed: pd.DataFrame) -> pd.DataFrame:
    """Per experiment and implementation: cells, cells within the bound, probe errors,
    and the fraction of the bound at the largest size."""
    rows = []
    for (experiment, impl), group in placed.groupby(["experiment", "implementation"]):
        largest = group.loc[group["bytes_moved"].idxmax()]
        rows.append(
            {
                "experiment": experiment,
                "implementation": impl,
                "cells": len(group),
                "within": int((group["status"] == WITHIN).sum()),
                "probe_errors": int((group["status"] == PROBE_ERROR).sum()),
                "largest_bytes": int(largest["bytes_moved"]),
                "level_at_largest": largest["level"],
                "fraction_of_bound_at_largest": largest["fraction_of_bound"],
            }
        )
    return pd.DataFrame(rows)


def roofline_alt(placed: pd.DataFrame) -> str:
    drawn = placed[~placed["implementation"].isin(NOT_DRAWN)]
    if drawn.empty:
        return "Roofline: no kernel cells of this profile on disk yet."
    best = drawn.loc[drawn["fraction_of_bound"].idxmax()]
    errors = int((drawn["status"] == PROBE_ERROR).sum())
    return (
        f"Bytes moved against seconds per call for {len(drawn)} compiled kernel cells, "
        f"log-log, with the bound of the level each working set lives in. Closest to its "
        f"bound: {best['experiment']} {best['implementation']} at {best['bytes_moved']:,.0f} "
        f"bytes ({best['level']}), {best['fraction_of_bound']:.2f} of the bound; "
        f"{errors} cells faster than their bound (probe errors)."
    )


def findings_lines(placed: pd.DataFrame) -> list[str]:
    """Sentences for the notebook, from the placed cells."""
    if placed.empty:
        return ["No dot, matvec or TTV cells of this profile are on disk yet."]
    lines = []
    counts = placed["status"].value_counts()
    lines.append(
        f"{len(placed)} kernel cells placed: {int(counts.get(WITHIN, 0))} within their "
        f"bound, {int(counts.get(PROBE_ERROR, 0))} probe errors (faster than the bound), "
        f"{int(counts.get(bandwidth_levels.NO_BOUND, 0))} without a measured bound."
    )
    errors = placed[placed["status"] == PROBE_ERROR]
    for row in errors.itertuples(index=False):
        lines.append(
            f"Probe error: {row.experiment} {row.implementation} at {row.bytes_moved:,.0f} "
            f"bytes ran at {row.bytes_per_second / 1e9:.1f} GB/s, "
            f"{row.fraction_of_bound:.2f}x the {row.level} bound."
        )
    return lines


# --- the level-aware bound for the runtime figures (ready for dense_report / ttv_report) --


def level_bound(rows: pd.DataFrame, x: str, bytes_of, bw_run) -> pd.DataFrame:
    """What ``dense_report.memory_bound`` draws, per level: for each size (``x``) of
    ``rows``, the seconds needed to move ``bytes_of(rows)`` bytes at the plateau of the
    level they live in (columns x, seconds, level, bytes_per_second; NaN seconds where
    that level was not measured). Drop-in for the figures' bound, with
    :func:`level_bound_label` for the legend."""
    sizes = rows.drop_duplicates(x)
    if sizes.empty or bw_run is None:
        return pd.DataFrame(columns=[x, "seconds", "level", "bytes_per_second"])
    out = []
    for size, moved in zip(sizes[x], bytes_of(sizes), strict=True):
        if not moved > 0:  # bytes not known for this size: no bound there
            out.append({x: size, "seconds": math.nan, "level": "", "bytes_per_second": math.nan})
            continue
        level, rate = bandwidth_levels.bound_for(float(moved), bw_run.curve, caches=bw_run.caches)
        out.append({x: size, "seconds": moved / rate, "level": level, "bytes_per_second": rate})
    return pd.DataFrame(out).sort_values(x).reset_index(drop=True)


def level_bound_label(bound: pd.DataFrame) -> str:
    """The legend of a :func:`level_bound` line: which levels it uses, at what rate."""
    if bound.empty:
        return "memory-traffic bound (no bandwidth curve measured)"
    used = bound.dropna(subset=["seconds"]).drop_duplicates("level")
    parts = [f"{r.level} {r.bytes_per_second / 1e9:.1f} GB/s" for r in used.itertuples()]
    return "memory-traffic bound of the level the data live in (" + ", ".join(parts) + ", read)"


def figure_bound(run, x: str, bytes_of) -> tuple[pd.DataFrame, str] | None:
    """For a runtime figure of the dense or TTV experiments (``run``: a DenseRun), the
    bound of the level each size's data live in, from the bandwidth curve measured in the
    same machine's profile folder, and its legend; None when that curve is not on disk or
    lacks a level some size needs (the figure then keeps its DRAM read bound)."""
    from tensorbench.experiments import bandwidth
    from tensorbench.experiments.dense_impls import BANDWIDTH

    bw_run = bandwidth.load_dir(run.data_dir.parent, run.profile)
    if bw_run is None:
        return None
    rows = run.summary[run.summary["implementation"] != BANDWIDTH]
    bound = level_bound(rows, x, bytes_of, bw_run)
    if bound.empty or bound["seconds"].isna().any():
        return None
    return bound[[x, "seconds"]], level_bound_label(bound)
