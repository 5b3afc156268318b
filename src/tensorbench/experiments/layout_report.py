"""The layout experiment's figure, tables and verdicts, all computed from the data.

The rule (:func:`verdict`): a cause is tested by the ratio of two conditions of the same
kernel that differ in that cause only, as the geometric mean of the per-round ratios
(rounds interleaved, the first round dropped) with a 95% t interval on their logs.

* ``supported``: the interval lies outside ``[1 / (1 + tolerance), 1 + tolerance]`` (the
  cause changes the time by more than the tolerance, beyond noise);
* ``not supported``: the interval lies inside it;
* ``inconclusive``: it straddles an edge, or there are fewer than 2 rounds.

First touch also needs the in-Rust timer to take page faults inside its timed calls that
Rust called from Python does not (more than :data:`FAULT_EXCESS_SHARE` of the matrix's
4 KiB pages per call): a cost the slower path does not pay cannot explain it.

The tuned kernel against BLAS (:func:`blas_verdict`, issue 11's target): per shape and
order, the ratio BLAS time / tuned time (the tuned kernel's speed as a fraction of
``a @ x``'s), the same paired geometric mean and 95% interval, the tuned kernel's
fraction of the memory bound of the level its data live in (bytes moved over its median
time, over that level's read plateau), and its fraction of the DRAM read plateau, the
bound the issue's target names ("within 1.25x of the DRAM bound").

* ``met``: the ratio is at least :data:`TARGET_RATIO`, the tuned kernel is within
  :data:`BOUND_FACTOR` of the DRAM bound (fraction at least ``1 / BOUND_FACTOR``; data a
  cache holds may run faster) and not faster than its level's bound (a probe error);
* ``not met``: the interval's upper end is below :data:`TARGET_RATIO`, or the bounds are
  measured, the kernel within its level's, and its DRAM fraction below
  ``1 / BOUND_FACTOR``;
* ``inconclusive``: otherwise (the interval straddles the target, fewer than 2 rounds,
  no bound measured, or a probe error).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats as _st

from tensorbench import plotting
from tensorbench.experiments import bandwidth_levels
from tensorbench.experiments.dense_impls import BANDWIDTH, IMPLEMENTATIONS, LABELS, best_bandwidth
from tensorbench.findings import Finding

SUPPORTED, NOT_SUPPORTED, INCONCLUSIVE = "supported", "not supported", "inconclusive"
MET, NOT_MET = "met", "not met"
TARGET_RATIO = 0.95  # issue 11: the tuned matvec at >= 0.95x the speed of a @ x
BOUND_FACTOR = 1.25  # ... and within 1.25x of the memory bound
CHECK_N = 6000  # issue 11's check size (n x n); the largest square shape if not measured
DEFAULT_TOLERANCE = 0.05
FAULT_EXCESS_SHARE = 0.1
PAGE_BYTES = 4096

# (cause, condition under test, reference condition, what the ratio says)
COMPARISONS = (
    ("first_touch", "untouched", "touched", "pages first touched inside the timed call"),
    ("generation_layout", "by_columns", "by_rows", "C matrix written by columns, not rows"),
    ("loop_order", "against_layout", "along_layout", "row loop over a column-major matrix"),
    ("cache_state", "after_generation", "after_warmup", "right after drawing vs after a warm-up"),
    ("cache_state", "after_generation", "after_flush", "right after drawing vs after a flush"),
)


def ratio_ci(test: np.ndarray, reference: np.ndarray, level: float = 0.95):
    """Geometric mean of ``test / reference`` paired by round, with its t interval."""
    test, reference = np.asarray(test, float), np.asarray(reference, float)
    if test.shape != reference.shape:
        raise ValueError(f"unpaired rounds: {test.shape} and {reference.shape}")
    ok = (test > 0) & (reference > 0)
    logs = np.log(test[ok] / reference[ok])
    if len(logs) == 0:
        return math.nan, math.nan, math.nan
    mean = float(logs.mean())
    if len(logs) < 2:
        return math.exp(mean), math.nan, math.nan
    half = float(
        _st.t.ppf(0.5 + level / 2, len(logs) - 1) * logs.std(ddof=1) / math.sqrt(len(logs))
    )
    return math.exp(mean), math.exp(mean - half), math.exp(mean + half)


def verdict(low: float, high: float, tolerance: float = DEFAULT_TOLERANCE) -> str:
    """The rule of the module docstring, on a ratio's interval [low, high]."""
    if not (tolerance >= 0):
        raise ValueError(f"tolerance must be at least 0, got {tolerance}")
    if math.isnan(low) or math.isnan(high):
        return INCONCLUSIVE
    upper, lower = 1 + tolerance, 1 / (1 + tolerance)
    if low > upper or high < lower:
        return SUPPORTED
    if low >= lower and high <= upper:
        return NOT_SUPPORTED
    return INCONCLUSIVE


def later_rounds(causes: pd.DataFrame, cause: str, condition: str) -> pd.DataFrame:
    rows = causes[(causes["variant"] == cause) & (causes["condition"] == condition)]
    return rows[~rows["is_first_call"].astype(bool)].sort_values("trial")


def fault_excess(causes: pd.DataFrame) -> tuple[float, float, float]:
    """Mean minor faults per timed call in Rust's own timer and from Python, and the
    excess Rust's must exceed to count (a share of the matrix's pages)."""
    in_rust = later_rounds(causes, "first_touch", "in_rust")
    from_python = later_rounds(causes, "first_touch", "from_python")
    if in_rust.empty or from_python.empty:
        return math.nan, math.nan, math.nan
    pages = float(in_rust["n1"].iloc[0] * in_rust["n2"].iloc[0] * 8 / PAGE_BYTES)
    return (
        float(pd.to_numeric(in_rust["minor_faults"]).mean()),
        float(pd.to_numeric(from_python["minor_faults"]).mean()),
        FAULT_EXCESS_SHARE * pages,
    )


def cause_table(causes: pd.DataFrame, tolerance: float = DEFAULT_TOLERANCE) -> pd.DataFrame:
    """One row per comparison: both conditions' median seconds and faults per call, the
    ratio with its CI, and the verdict."""
    rows = []
    if causes is None or causes.empty:
        return pd.DataFrame(
            columns=["cause", "test", "reference", "ratio", "ci95_low", "ci95_high", "verdict"]
        )
    for cause, test, reference, meaning in COMPARISONS:
        t, r = later_rounds(causes, cause, test), later_rounds(causes, cause, reference)
        if t.empty or r.empty:
            continue
        count = min(len(t), len(r))
        ratio, low, high = ratio_ci(
            t["seconds"].to_numpy()[:count], r["seconds"].to_numpy()[:count]
        )
        outcome = verdict(low, high, tolerance)
        note = ""
        if cause == "first_touch":
            rust, python, needed = fault_excess(causes)
            if math.isnan(rust):
                outcome = INCONCLUSIVE if outcome == SUPPORTED else outcome
                note = "the in-Rust timer's page faults could not be counted"
            else:
                note = (
                    f"faults per timed call: in Rust {rust:,.0f}, from Python {python:,.0f}"
                    f" (to count: > {needed:,.0f} more)"
                )
                if rust - python <= needed:
                    outcome = NOT_SUPPORTED
        rows.append(
            {
                "cause": cause,
                "meaning": meaning,
                "test": test,
                "reference": reference,
                "n": int(t["n1"].iloc[0]),
                "rounds": count,
                "test_median_s": float(t["seconds"].median()),
                "reference_median_s": float(r["seconds"].median()),
                "test_faults": float(pd.to_numeric(t["minor_faults"]).mean()),
                "reference_faults": float(pd.to_numeric(r["minor_faults"]).mean()),
                "ratio": ratio,
                "ci95_low": low,
                "ci95_high": high,
                "verdict": outcome,
                "note": note,
            }
        )
    return pd.DataFrame(rows)


def cause_verdicts(table: pd.DataFrame) -> dict[str, str]:
    """One verdict per cause: supported if any of its comparisons is, else inconclusive
    if any is, else not supported."""
    out = {}
    for cause, group in table.groupby("cause", sort=False):
        found = set(group["verdict"])
        if SUPPORTED in found:
            out[cause] = SUPPORTED
        elif INCONCLUSIVE in found:
            out[cause] = INCONCLUSIVE
        else:
            out[cause] = NOT_SUPPORTED
    return out


def kernels(orders) -> pd.DataFrame:
    s = orders.summary
    return s[s["implementation"] != BANDWIDTH]


def order_table(orders) -> pd.DataFrame:
    """Median seconds per (n, implementation) in each order, and F over C. Medians: one
    call disturbed by a neighbour on a busy machine would move a mean of few trials."""
    s = kernels(orders)
    table = s.pivot_table(index=["n", "implementation"], columns="order", values="median")
    table = table.reindex(columns=["C", "F"])
    table["F_over_C"] = table["F"] / table["C"]
    table = table.reset_index().rename(columns={"C": "C_median_s", "F": "F_median_s"})
    ranks = {impl: i for i, impl in enumerate(IMPLEMENTATIONS)}
    return table.sort_values(
        ["n", "implementation"], key=lambda c: c.map(ranks) if c.name == "implementation" else c
    ).reset_index(drop=True)


def gap_table(orders, tolerance: float = DEFAULT_TOLERANCE) -> pd.DataFrame:
    """The paper's puzzle at the largest n, per order: Rust timed in Rust and Numba over
    Rust from Python (mean time ratio, > 1: slower), with a conservative interval from
    the two means' 95% CIs, and whether the gap is ``present`` (the interval above
    1 + tolerance), ``absent`` (below it) or ``unclear``."""
    s = kernels(orders)
    rows = []
    for order in ("C", "F"):
        rows_o = s[s["order"] == order]
        if rows_o.empty:
            continue
        n = int(rows_o["n"].max())
        at = rows_o[rows_o["n"] == n].set_index("implementation")
        for slower in ("rust", "numba"):
            if slower not in at.index or "rust_from_python" not in at.index:
                continue
            slow, fast = at.loc[slower], at.loc["rust_from_python"]
            low = slow["ci95_low"] / fast["ci95_high"] if fast["ci95_high"] > 0 else math.nan
            high = slow["ci95_high"] / fast["ci95_low"] if fast["ci95_low"] > 0 else math.inf
            if low > 1 + tolerance:
                gap = "present"
            elif high < 1 + tolerance:
                gap = "absent"
            else:
                gap = "unclear"
            rows.append(
                {
                    "order": order,
                    "n": n,
                    "implementation": slower,
                    "over_rust_from_python": float(slow["mean"] / fast["mean"]),
                    "ci95_low": float(low),
                    "ci95_high": float(high),
                    "gap": gap,
                }
            )
    return pd.DataFrame(rows)


def figure(orders):
    """Mean runtime against n, one panel per order, the read-bandwidth bound in each."""
    import matplotlib.pyplot as plt

    plotting.apply_theme()
    s = kernels(orders)
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.6), sharey=True)
    bandwidth = best_bandwidth(orders.summary)
    for ax, order in zip(axes, ("C", "F"), strict=True):
        rows_o = s[s["order"] == order]
        for impl in IMPLEMENTATIONS:
            r = rows_o[rows_o["implementation"] == impl].sort_values("n")
            if r.empty:
                continue
            ax.plot(r["n"], r["median"], label=LABELS.get(impl, impl), **plotting.style(impl))
        if not math.isnan(bandwidth) and not rows_o.empty:
            n = np.sort(rows_o["n"].unique())
            ax.plot(
                n,
                8 * (n * n + 2 * n) / bandwidth,
                color="black",
                linewidth=1,
                linestyle="-.",
                label=f"read bound ({bandwidth / 1e9:.1f} GB/s)",
            )
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("n1 = n2")
        ax.set_title(f"{'C (row-major)' if order == 'C' else 'Fortran (column-major)'} order")
        ax.grid(True, which="major", alpha=0.3)
    axes[0].set_ylabel("median runtime per call (s)")
    handles, names = axes[0].get_legend_handles_labels()
    axes[1].legend(handles, names, **plotting.LEGEND_OUTSIDE)
    fig.suptitle("Matrix-vector product in C and Fortran order")
    caption = plotting.caption(orders.metadata, orders.profile, orders.n_trials, "median")
    # The lines are medians, drawn without error bars.
    fig.text(0.01, -0.04, caption.replace(", bars: 95% CI", ""), fontsize=7, wrap=True)
    fig.tight_layout()
    return fig


def figure_alt(orders) -> str:
    """The figure's text alternative, with the largest F-over-C ratio, from the data."""
    table = order_table(orders).dropna(subset=["F_over_C"])
    if table.empty:
        return "Matrix-vector product in C and Fortran order: no cell measured in both orders."
    n = table["n"].max()
    at = table[table["n"] == n]
    worst = at.loc[at["F_over_C"].idxmax()]
    best = at.loc[at["F_over_C"].idxmin()]
    return (
        "Median runtime of every matrix-vector implementation against n1 = n2, left panel C "
        f"order, right panel Fortran order, log-log. At n = {int(n):,}, "
        f"{LABELS.get(worst['implementation'], worst['implementation'])} is "
        f"{worst['F_over_C']:.2f}x slower in Fortran order than in C order, and "
        f"{LABELS.get(best['implementation'], best['implementation'])} "
        f"{best['F_over_C']:.2f}x (F time over C time)."
    )


# --- the tuned kernel against BLAS --------------------------------------------------

BLAS_COLUMNS = [
    "regime",
    "n1",
    "n2",
    "order",
    "rounds",
    "calls_per_sample",
    "blas_median_s",
    "tuned_median_s",
    "ratio",
    "ci95_low",
    "ci95_high",
    "bytes_moved",
    "level",
    "bound_gbps",
    "tuned_fraction_of_bound",
    "blas_fraction_of_bound",
    "bound_status",
    "blas_bound_status",
    "dram_gbps",
    "tuned_fraction_of_dram",
    "verdict",
]


# How :func:`blas_table` reads (``tables.write`` / ``tables.show`` options): the ratio's CI
# is a ratio, not seconds (its own two columns); the bound is a rate.
BLAS_TABLE_OPTIONS = {
    "time_columns": {"ci95_low": None, "ci95_high": None},
    "names": {
        "ratio": "BLAS time / tuned time",
        "ci95_low": "ratio's 95% CI, low",
        "ci95_high": "ratio's 95% CI, high",
        "bound_gbps": "bound (GB/s)",
        "dram_gbps": "DRAM bound (GB/s)",
        "tuned_fraction_of_dram": "tuned fraction of DRAM bound",
        "bytes_moved": "bytes moved",
    },
}


def blas_verdict(ratio: float, high: float, dram_fraction: float, bound_status: str) -> str:
    """The rule of the module docstring, on the ratio BLAS / tuned (point estimate and
    the interval's upper end), the tuned kernel's fraction of the DRAM bound, and the
    status of its level's bound (:func:`bandwidth_levels.classify`)."""
    within = bound_status == bandwidth_levels.WITHIN and not math.isnan(dram_fraction)
    if not math.isnan(high) and high < TARGET_RATIO:
        return NOT_MET
    if within and dram_fraction < 1 / BOUND_FACTOR:
        return NOT_MET
    if within and ratio >= TARGET_RATIO and not math.isnan(high):
        return MET
    return INCONCLUSIVE


def _dram_plateau(bw_run) -> float:
    """The DRAM read plateau of a bandwidth run (NaN where it was not measured)."""
    table = bandwidth_levels.plateaus(bw_run.curve, bandwidth_levels.levels(bw_run.caches))
    return float(table.loc[table["level"] == "DRAM", "bytes_per_second"].iloc[0])


def paired_rounds(rows: pd.DataFrame) -> pd.DataFrame:
    """The later rounds (the first dropped) of one cell, one row per round with the
    seconds of each condition (columns ``blas`` and ``tuned``); rounds missing either
    condition are left out."""
    later = rows[~rows["is_first_call"].astype(bool)]
    table = later.pivot_table(index="trial", columns="condition", values="seconds")
    table = table.reindex(columns=["blas", "tuned"])
    return table.dropna().sort_index()


def blas_table(records: pd.DataFrame | None, bw_run=None) -> pd.DataFrame:
    """One row per (regime, shape, order): each condition's median seconds per call, BLAS
    time / tuned time with its 95% CI, the bound of the level the data live in (from the
    bandwidth run ``bw_run``; ``no bound`` without one), both kernels' fractions of it
    and statuses (``bound_status`` is the tuned kernel's; either may be a probe error),
    and the verdict (:func:`blas_verdict`)."""
    from tensorbench.experiments.layout import bytes_moved

    if records is None or records.empty or "condition" not in records:
        return pd.DataFrame(columns=BLAS_COLUMNS)
    rows = []
    ranks = {regime: i for i, regime in enumerate(("rows", "cols", "square"))}
    for (regime, n1, n2, order), cell in records.groupby(["regime", "n1", "n2", "variant"]):
        rounds = paired_rounds(cell)
        ratio, low, high = ratio_ci(rounds["blas"].to_numpy(), rounds["tuned"].to_numpy())
        blas_s, tuned_s = float(rounds["blas"].median()), float(rounds["tuned"].median())
        moved = float(bytes_moved(int(n1), int(n2)))
        level, rate, dram = "", math.nan, math.nan
        if bw_run is not None:
            level, rate = bandwidth_levels.bound_for(moved, bw_run.curve, caches=bw_run.caches)
            dram = _dram_plateau(bw_run)
        status = blas_status = bandwidth_levels.NO_BOUND
        tuned_fraction = blas_fraction = math.nan
        if tuned_s > 0 and not math.isnan(rate):
            status = bandwidth_levels.classify(tuned_s, moved, rate)
            tuned_fraction = bandwidth_levels.fraction_of_bound(tuned_s, moved, rate)
        if blas_s > 0 and not math.isnan(rate):
            blas_status = bandwidth_levels.classify(blas_s, moved, rate)
            blas_fraction = bandwidth_levels.fraction_of_bound(blas_s, moved, rate)
        rows.append(
            {
                "regime": regime,
                "n1": int(n1),
                "n2": int(n2),
                "order": order,
                "rounds": len(rounds),
                "calls_per_sample": int(cell["calls_per_sample"].max())
                if "calls_per_sample" in cell
                else 1,
                "blas_median_s": blas_s,
                "tuned_median_s": tuned_s,
                "ratio": ratio,
                "ci95_low": low,
                "ci95_high": high,
                "bytes_moved": moved,
                "level": level or "",
                "bound_gbps": rate / 1e9,
                "tuned_fraction_of_bound": tuned_fraction,
                "blas_fraction_of_bound": blas_fraction,
                "bound_status": status,
                "blas_bound_status": blas_status,
                "dram_gbps": dram / 1e9,
                "tuned_fraction_of_dram": moved / tuned_s / dram if tuned_s > 0 else math.nan,
                "verdict": blas_verdict(
                    ratio, high, moved / tuned_s / dram if tuned_s > 0 else math.nan, status
                ),
            }
        )
    table = pd.DataFrame(rows, columns=BLAS_COLUMNS)
    table["_rank"] = table["regime"].map(ranks).fillna(len(ranks))
    table["_size"] = table["n1"] * table["n2"]
    return (
        table.sort_values(["_rank", "_size", "n1", "order"])
        .drop(columns=["_rank", "_size"])
        .reset_index(drop=True)
    )


def shape_label(row) -> str:
    return f"{row.regime} {int(row.n1):,} x {int(row.n2):,}"


def blas_figure(table: pd.DataFrame, metadata: dict | None = None, profile: str = ""):
    """BLAS time / tuned time with its 95% CI per shape, C and F side by side, with the
    target line at :data:`TARGET_RATIO` and parity at 1."""
    import matplotlib.pyplot as plt

    plotting.apply_theme()
    shapes = table.drop_duplicates(["regime", "n1", "n2"])
    labels = [shape_label(r) for r in shapes.itertuples()]
    position = {label: i for i, label in enumerate(labels)}
    fig, ax = plt.subplots(figsize=(max(6.0, 0.7 * len(labels) + 3), 4.6))
    for offset, order, marker in ((-0.12, "C", "o"), (0.12, "F", "s")):
        rows = table[table["order"] == order]
        if rows.empty:
            continue
        x = [position[shape_label(r)] + offset for r in rows.itertuples()]
        below = (rows["ratio"] - rows["ci95_low"]).fillna(0).clip(lower=0)
        above = (rows["ci95_high"] - rows["ratio"]).fillna(0).clip(lower=0)
        ax.errorbar(
            x,
            rows["ratio"],
            yerr=[below, above],
            linestyle="",
            marker=marker,
            capsize=3,
            label=f"{'C (row-major)' if order == 'C' else 'Fortran (column-major)'} order",
        )
    ax.axhline(TARGET_RATIO, color="red", linestyle="--", linewidth=1, label="target 0.95")
    ax.axhline(1.0, color="grey", linestyle=":", linewidth=1, label="parity with BLAS")
    ax.set_xticks(range(len(labels)))
    ax.set_xticklabels(labels, rotation=40, ha="right", fontsize=8)
    ax.set_ylabel("BLAS time / tuned time")
    ax.set_title("kernels_rs.matvec against NumPy/OpenBLAS a @ x, side by side")
    ax.grid(True, axis="y", alpha=0.3)
    ax.legend(**plotting.LEGEND_OUTSIDE)
    fig.tight_layout()
    if metadata is not None:
        rounds = int(table["rounds"].max()) if len(table) else 0
        caption = plotting.caption(metadata, profile, None, f"{rounds} paired rounds")
        plotting._caption_below(
            fig,
            caption.replace(
                "bars: 95% CI", "points: geometric mean of per-round ratios, bars: 95% CI"
            ),
        )
    return fig


def blas_figure_alt(table: pd.DataFrame) -> str:
    """The figure's text alternative, its numbers from the data."""
    rows = table.dropna(subset=["ratio"])
    if rows.empty:
        return "The tuned matvec against BLAS: no shape measured."
    worst = rows.loc[rows["ratio"].idxmin()]
    best = rows.loc[rows["ratio"].idxmax()]
    counts = rows["verdict"].value_counts()
    return (
        f"BLAS time over tuned time with 95% CIs for {len(rows)} (shape, order) pairs, C and "
        f"Fortran order side by side, with the 0.95 target line. Lowest: "
        f"{shape_label(worst)} {worst['order']} at {worst['ratio']:.2f}; highest: "
        f"{shape_label(best)} {best['order']} at {best['ratio']:.2f}. Verdicts: "
        + ", ".join(f"{counts.get(v, 0)} {v}" for v in (MET, NOT_MET, INCONCLUSIVE))
        + "."
    )


def check_rows(table: pd.DataFrame) -> pd.DataFrame:
    """The rows at issue 11's check shape, :data:`CHECK_N` squared, or at the largest
    square shape measured when that one is not."""
    square = table[table["n1"] == table["n2"]]
    if square.empty:
        return square
    n = CHECK_N if (square["n1"] == CHECK_N).any() else int(square["n1"].max())
    return square[square["n1"] == n]


def bound_text(level: str, fraction_of_bound: float, fraction_of_dram: float) -> str:
    """The tuned kernel's time against its level's bound and the DRAM bound, as multiples
    (a fraction of the bound f is 1 / f times the bound's time); once when the level is
    DRAM."""
    text = f"{1 / fraction_of_bound:.2f}x the {level} bound"
    if level != "DRAM":
        text += f" and {1 / fraction_of_dram:.2f}x the DRAM bound"
    return text + f" (target: within {BOUND_FACTOR}x the DRAM bound)"


def blas_findings(table: pd.DataFrame, experiment: str = "layout") -> list[Finding]:
    """Issue 11's check per order at :func:`check_rows`, then per order over every shape
    (``met`` if every shape is, ``not met`` if any is not, else ``inconclusive``)."""
    out = []
    rule = (
        f"rule: ratio >= {TARGET_RATIO} and within {BOUND_FACTOR}x of the DRAM bound, not "
        f"faster than its level's; not met when the 95% CI lies below {TARGET_RATIO} or "
        "the DRAM bound is missed"
    )
    for row in check_rows(table).itertuples():
        fraction = (
            bound_text(row.level, row.tuned_fraction_of_bound, row.tuned_fraction_of_dram)
            + (
                ", faster than its level's bound: a probe error"
                if row.bound_status == bandwidth_levels.PROBE_ERROR
                else ""
            )
            if not math.isnan(row.tuned_fraction_of_bound)
            else "no bound measured"
        )
        value = f"{row.ratio:.2f}x [{row.ci95_low:.2f}, {row.ci95_high:.2f}]"
        out.append(
            Finding(
                experiment,
                f"{row.order} order, {row.n1:,} x {row.n2:,}: BLAS time / tuned time = {value} "
                f"over {row.rounds} paired rounds (tuned {row.tuned_median_s * 1e3:.3g} ms, "
                f"a @ x {row.blas_median_s * 1e3:.3g} ms median), tuned at {fraction} "
                f"— {row.verdict} ({rule}).",
                claim=f"Issue 11: kernels_rs.matvec >= 0.95x a @ x and within 1.25x of the "
                f"DRAM bound at {row.n1:,} x {row.n2:,} ({row.order} order)",
                value=value,
                published=">= 0.95x",
                verdict=row.verdict,
            )
        )
    for order, rows in table.groupby("order", sort=True):
        found = set(rows["verdict"])
        if found == {MET}:
            overall = MET
        elif NOT_MET in found:
            overall = NOT_MET
        else:
            overall = INCONCLUSIVE
        worst = rows.loc[rows["ratio"].idxmin()] if rows["ratio"].notna().any() else None
        lowest = (
            f"; lowest ratio {worst['ratio']:.2f} at {shape_label(worst)}"
            if worst is not None
            else ""
        )
        counts = rows["verdict"].value_counts()
        out.append(
            Finding(
                experiment,
                f"{order} order, every Figure 3 shape ({len(rows)}): "
                + ", ".join(f"{counts.get(v, 0)} {v}" for v in (MET, NOT_MET, INCONCLUSIVE))
                + f"{lowest} — {overall}.",
                claim=f"Issue 11: kernels_rs.matvec at the target at every Figure 3 shape "
                f"({order} order)",
                value=f"{counts.get(MET, 0)} of {len(rows)} met",
                published="every shape",
                verdict=overall,
            )
        )
    return out


def findings(orders, causes, p: dict | None, *, blas=None, bw_run=None) -> list[Finding]:
    """The puzzle, each cause's verdict and the tuned kernel against BLAS, as findings."""
    experiment = "layout"
    out = []
    tolerance = float((p or {}).get("causes", {}).get("tolerance", DEFAULT_TOLERANCE))
    if orders is not None:
        for row in gap_table(orders, tolerance).itertuples():
            out.append(
                Finding(
                    experiment,
                    f"{row.order} order, n = {row.n:,}: mean {LABELS[row.implementation]} / "
                    f"mean Rust from Python = {row.over_rust_from_python:.2f} "
                    f"[{row.ci95_low:.2f}, {row.ci95_high:.2f}]: the paper's gap is {row.gap} "
                    "here (the paper saw this above 1 at its largest sizes).",
                    claim=f"Section 4.2 gap: {LABELS[row.implementation]} slower than Rust "
                    f"from Python ({row.order} order)",
                    value=f"{row.over_rust_from_python:.2f}x",
                    published="> 1",
                    verdict=row.gap,
                )
            )
        tuned = order_table(orders)
        tuned = tuned[tuned["implementation"] == "rust_from_python_tuned"]
        for row in tuned.tail(1).itertuples():
            out.append(
                Finding(
                    experiment,
                    f"The tuned kernels_rs.matvec at n = {row.n:,} is {row.F_over_C:.2f}x as "
                    "slow in Fortran order as in C order (F time over C time).",
                )
            )
    table = cause_table(causes, tolerance) if causes is not None else pd.DataFrame()
    for row in table.itertuples():
        value = f"{row.ratio:.2f}x [{row.ci95_low:.2f}, {row.ci95_high:.2f}]"
        note = f"; {row.note}" if row.note else ""
        out.append(
            Finding(
                experiment,
                f"Cause `{row.cause}` ({row.meaning}): {row.test} / {row.reference} = {value} "
                f"at n = {row.n:,} over {row.rounds} rounds — {row.verdict} "
                f"(rule: outside ±{100 * tolerance:g}% beyond the 95% CI){note}.",
                claim=f"Section 4.2 cause: {row.cause} ({row.test} vs {row.reference})",
                value=value,
                published="open question",
                verdict=row.verdict,
            )
        )
    if blas is not None:
        out += blas_findings(blas_table(blas, bw_run), experiment)
    return out
