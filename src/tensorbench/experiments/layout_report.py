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
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats as _st

from tensorbench import plotting
from tensorbench.experiments.dense_impls import BANDWIDTH, IMPLEMENTATIONS, LABELS, best_bandwidth
from tensorbench.findings import Finding

SUPPORTED, NOT_SUPPORTED, INCONCLUSIVE = "supported", "not supported", "inconclusive"
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


def findings(orders, causes, p: dict | None) -> list[Finding]:
    """The puzzle and each cause's verdict, as findings."""
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
    return out
