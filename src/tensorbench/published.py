"""The values published by the paper and the TT note (``data/published``).

They were measured on other machines; every table or figure that shows them labels
them as published.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from tensorbench import paths


def load(path: str | Path | None = None) -> pd.DataFrame:
    """All published rows; ``size`` stays a string (e.g. "1e3", "chi=4", "-")."""
    return pd.read_csv(path or paths.published_figures_csv(), dtype={"size": str})


def select(
    source: str, table: str | None = None, experiment: str | None = None, case: str | None = None
) -> pd.DataFrame:
    """Published rows filtered by source, table, experiment and case."""
    rows = load()
    rows = rows[rows["source"] == source]
    for column, value in (("table", table), ("experiment", experiment), ("case", case)):
        if value is not None:
            rows = rows[rows[column] == value]
    return rows.reset_index(drop=True)


def first_call_overhead(experiment: str) -> pd.DataFrame:
    """The paper's first-call overhead estimates (Table 1: dot, Table 2: matvec_square),
    one row per size with a column per implementation, sizes as integers."""
    rows = select("paper", experiment=experiment, case="first_call_overhead")
    rows = rows.assign(size=rows["size"].astype(float).astype(int))
    return rows.pivot(index="size", columns="implementation", values="value").reset_index()
