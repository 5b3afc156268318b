"""Tables of a finished run: ours beside the note's, every case, the per-cell details,
the accuracy against np.einsum and the alternating pairs."""

from __future__ import annotations

import numpy as np

from tensorbench.experiments.tt_overhead.implementations import IMPLEMENTATIONS
from tensorbench.experiments.tt_overhead.published_values import (
    PUBLISHED_CHAIN,
    PUBLISHED_SITE_UPDATE,
    check_compared,
    published_rows,
)
from tensorbench.experiments.tt_overhead.runs import TtRun
from tensorbench.experiments.tt_overhead.workload import CASES


def comparison_table(run: TtRun, case: str, statistic: str = "median"):
    """Our ``statistic`` per implementation (µs) per chi for ``case`` ("site_update" or
    "chain"), with the note's published values beside them (other machine)."""
    check_compared(case)
    s = run.summary[run.summary["case"] == case]
    ours = s.pivot_table(index="chi", columns="implementation", values=statistic) * 1e6
    ours = ours[[i for i in IMPLEMENTATIONS if i in ours.columns]]
    ours.columns = [f"{i} (us)" for i in ours.columns]
    table = ours.reset_index()
    names = PUBLISHED_SITE_UPDATE if case == "site_update" else PUBLISHED_CHAIN
    published = published_rows("site_update" if case == "site_update" else "chain_L32")
    for impl, label in names.items():
        rows = published[published["implementation"] == impl].set_index("chi")["value"]
        table[f"published: {label} (us, other machine)"] = table["chi"].map(rows)
    return table


def case_table(run: TtRun, statistic: str = "median"):
    """Every case and chi: our ``statistic`` (µs) per implementation and the ratio Rust
    from Python / Rust inside Rust."""
    s = run.summary
    table = s.pivot_table(index=["case", "chi"], columns="implementation", values=statistic) * 1e6
    table = table[[i for i in IMPLEMENTATIONS if i in table.columns]]
    if {"rust_from_python", "rust"} <= set(table.columns):
        table["python/rust (separate cells)"] = table["rust_from_python"] / table["rust"]
    table = table.reset_index()
    order = {case: i for i, case in enumerate(CASES)}
    return table.sort_values(["case", "chi"], key=lambda c: c.map(order) if c.name == "case" else c)


def cell_extras(run: TtRun):
    """Per cell: case, chi, implementation, calls per sample, relative error against
    np.einsum, and (for the Rust cells) the tiled code path the kernels used."""
    import pandas as pd

    rows = []
    for cell_id, extra in sorted(run.metadata.get("cell_extra", {}).items()):
        rows.append(
            {
                "case": extra.get("case"),
                "chi": extra.get("chi"),
                "implementation": cell_id.split("__")[0],
                "calls_per_sample": extra.get("calls_per_sample"),
                "relative_error": extra.get("relative_error"),
                "tiled_path": extra.get("tt_kernel_info", {}).get("tiled_path", ""),
            }
        )
    return pd.DataFrame(rows)


def accuracy_table(run: TtRun):
    """The largest relative error against np.einsum per implementation and case."""
    extras = cell_extras(run)
    table = extras.pivot_table(
        index="implementation", columns="case", values="relative_error", aggfunc="max"
    )
    return table.reindex([i for i in IMPLEMENTATIONS if i in table.index]).reset_index()


def paired_table(run: TtRun):
    """The alternating measurements of the Rust-from-Python cells: per case and chi, the
    median per-call seconds from Python and inside Rust, their ratio, and the rounds."""
    import pandas as pd

    rows = []
    for cell_id, extra in sorted(run.metadata.get("cell_extra", {}).items()):
        paired = extra.get("paired")
        if not paired:
            continue
        python = float(np.median(paired["python_seconds"]))
        rust = float(np.median(paired["rust_seconds"]))
        # Each round's two samples are seconds apart, so their ratio sees one machine state;
        # its spread over rounds shows how much the ratio itself moves with the load.
        per_round = np.asarray(paired["python_seconds"]) / np.asarray(paired["rust_seconds"])
        rows.append(
            {
                "case": extra["case"],
                "chi": extra["chi"],
                "implementation": cell_id.split("__")[0],
                "python_median_s": python,
                "rust_median_s": rust,
                "ratio": python / rust,
                "round_ratio_q25": float(np.quantile(per_round, 0.25)),
                "round_ratio_median": float(np.median(per_round)),
                "round_ratio_q75": float(np.quantile(per_round, 0.75)),
                "rounds": len(paired["python_seconds"]),
            }
        )
    columns = ["case", "chi", "implementation", "python_median_s", "rust_median_s", "ratio"]
    if not rows:
        extra = ["round_ratio_q25", "round_ratio_median", "round_ratio_q75", "rounds"]
        return pd.DataFrame(columns=[*columns, *extra])
    order = {case: i for i, case in enumerate(CASES)}
    table = pd.DataFrame(rows)
    return table.sort_values(
        ["case", "chi"], key=lambda c: c.map(order) if c.name == "case" else c
    ).reset_index(drop=True)
