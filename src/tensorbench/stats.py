"""Summaries of raw timings: the paper's mean, plus median, spread and a 95% CI.

The first call of every cell is excluded from the summary statistics and reported
apart, as the paper does; its overhead estimate is (first call) - (mean of the rest).
:func:`median_ci` is the distribution-free CI of a median, for studies that report medians.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats as _st

from tensorbench.timing import real_number

CELL_KEYS = ["experiment", "regime", "variant", "implementation", "n1", "n2", "size"]


def _ci_halfwidth(values: np.ndarray, level: float = 0.95) -> float:
    n = len(values)
    if n < 2:
        return float("nan")
    return float(_st.t.ppf(0.5 + level / 2, n - 1) * np.std(values, ddof=1) / np.sqrt(n))


def median_ci(values, level: float = 0.95) -> tuple[float, float]:
    """Distribution-free confidence interval of the median (binomial order statistics);
    NaN when there are too few values for the level."""
    level = real_number("level", level)
    if not 0 < level < 1:
        raise ValueError(f"level must be between 0 and 1 (exclusive), got {level}")
    v = np.asarray(values, dtype=float)
    if v.ndim != 1:
        raise ValueError(f"values must be 1-D, got shape {v.shape}")
    v = np.sort(v)
    n = len(v)
    j = int(_st.binom.ppf((1 - level) / 2, n, 0.5)) if n else 0
    if j < 1:
        return float("nan"), float("nan")
    return float(v[j - 1]), float(v[n - j])


def summarize(raw: pd.DataFrame) -> pd.DataFrame:
    """One row per cell: n_calls (later calls), mean, median, std, min, ci95 (half-width),
    ci95_low/high, first_call and first_call_overhead (= first call - mean of later calls)."""
    rows = []
    keys = [k for k in CELL_KEYS if k in raw.columns]
    for key, group in raw.groupby(keys, dropna=False, sort=True):
        later = group.loc[~group["is_first_call"].astype(bool), "seconds"].to_numpy(float)
        first = group.loc[group["is_first_call"].astype(bool), "seconds"].to_numpy(float)
        mean = float(later.mean()) if len(later) else float("nan")
        half = _ci_halfwidth(later)
        row = dict(zip(keys, key, strict=True))
        row.update(
            n_calls=len(later),
            mean=mean,
            median=float(np.median(later)) if len(later) else float("nan"),
            std=float(later.std(ddof=1)) if len(later) > 1 else float("nan"),
            min=float(later.min()) if len(later) else float("nan"),
            ci95=half,
            ci95_low=mean - half,
            ci95_high=mean + half,
            first_call=float(first[0]) if len(first) else float("nan"),
        )
        row["first_call_overhead"] = row["first_call"] - mean
        rows.append(row)
    return pd.DataFrame(rows)


def speedups(
    summary: pd.DataFrame, baseline: str, by: str = "size", statistic: str = "mean"
) -> pd.DataFrame:
    """``statistic(baseline) / statistic(impl)`` per ``by`` value: a table with one column
    per implementation (values > 1 mean faster than the baseline)."""
    table = summary.pivot_table(index=by, columns="implementation", values=statistic)
    if baseline not in table.columns:
        raise ValueError(f"baseline {baseline!r} not among {list(table.columns)}")
    return table.rdiv(table[baseline], axis=0).drop(columns=[baseline])


def value_at(summary: pd.DataFrame, implementation: str, statistic: str = "mean", **where) -> float:
    """The single ``statistic`` of ``implementation`` at the cell selected by ``where``
    (NaN when that cell was not measured, e.g. capped by the profile)."""
    rows = summary[summary["implementation"] == implementation]
    for column, value in where.items():
        rows = rows[rows[column] == value]
    if len(rows) > 1:
        raise ValueError(f"{len(rows)} cells match {implementation} {where}")
    return float(rows[statistic].iloc[0]) if len(rows) else float("nan")
