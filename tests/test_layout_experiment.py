"""The layout experiment: its cells, its verdict rule on made-up data whose answer is
known, and its notebook end to end at the smoke profile."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from conftest import figures_dir, run_notebook

from tensorbench.experiments import layout, layout_report
from tensorbench.experiments.dense_impls import BANDWIDTH, IMPLEMENTATIONS
from tensorbench.experiments.layout_report import (
    INCONCLUSIVE,
    NOT_SUPPORTED,
    SUPPORTED,
    ratio_ci,
    verdict,
)


def test_smoke_cells_cover_every_implementation_in_both_orders_and_every_cause():
    sets = layout.cell_sets("smoke")
    orders = sets[layout.ORDERS_SET]
    kernels = {(c.implementation, c.variant) for c in orders if c.implementation != BANDWIDTH}
    assert kernels == {(i, o) for i in IMPLEMENTATIONS for o in ("C", "F")}
    assert sum(c.implementation == BANDWIDTH for c in orders) == 1
    assert [c.variant for c in sets[layout.CAUSES_SET]] == list(layout.CAUSES)
    assert len({c.cell_id for c in orders}) == len(orders)


def test_the_python_loop_is_capped_by_size_in_the_paper_profile():
    cells = layout.cell_sets("paper")[layout.ORDERS_SET]
    python = [c for c in cells if c.implementation == "python"]
    numpy = [c for c in cells if c.implementation == "numpy"]
    assert max(c.size for c in python) <= 1e6 < max(c.size for c in numpy)


@pytest.mark.parametrize("order", ["C", "F"])
def test_matrices_are_drawn_in_memory_order_in_either_layout(order):
    a = layout.draw_matrix(np.random.default_rng(3), 4, 6, order)
    assert a.shape == (4, 6)
    assert a.flags.c_contiguous if order == "C" else a.flags.f_contiguous
    flat = np.random.default_rng(3).uniform(0.0, 1.0, 24)
    np.testing.assert_array_equal(a.ravel(order="K"), flat)


def test_bad_order_and_unknown_cause_are_value_errors():
    with pytest.raises(ValueError, match="order must be"):
        layout.draw_matrix(np.random.default_rng(0), 2, 2, "K")
    cell = layout.cell_sets("smoke")[layout.CAUSES_SET][0]
    bad = type(cell)(**{**cell.parameters(), "variant": "moon_phase"})
    with pytest.raises(ValueError, match="unknown cause"):
        layout.measure_cause(bad)


# --- the rule -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("low", "high", "expected"),
    [
        (1.10, 1.30, SUPPORTED),  # clearly slower
        (0.70, 0.90, SUPPORTED),  # clearly faster
        (0.97, 1.03, NOT_SUPPORTED),
        (0.96, 1.10, INCONCLUSIVE),  # straddles the upper edge
        (0.90, 1.00, INCONCLUSIVE),  # straddles the lower edge
        (math.nan, math.nan, INCONCLUSIVE),
    ],
)
def test_verdict_rule(low, high, expected):
    assert verdict(low, high, 0.05) == expected


def test_verdict_rejects_a_negative_tolerance():
    with pytest.raises(ValueError, match="tolerance"):
        verdict(1.0, 1.0, -0.1)


def test_ratio_ci_is_the_geometric_mean_of_paired_ratios():
    reference = np.array([1.0, 2.0, 4.0, 8.0])
    ratio, low, high = ratio_ci(1.5 * reference, reference)
    assert ratio == pytest.approx(1.5) and low == pytest.approx(1.5) and high == pytest.approx(1.5)
    noisy = reference * np.array([1.4, 1.6, 1.5, 1.5])
    ratio, low, high = ratio_ci(noisy, reference)
    assert low < ratio < high and low > 1.3 and high < 1.7
    assert math.isnan(ratio_ci(np.array([1.0]), np.array([1.0]))[1])
    with pytest.raises(ValueError, match="unpaired"):
        ratio_ci(np.ones(3), np.ones(2))


def records(cause, condition, seconds, faults=0, n=100):
    return [
        {
            "variant": cause,
            "condition": condition,
            "trial": t,
            "seconds": s,
            "minor_faults": faults,
            "is_first_call": t == 0,
            "n1": n,
            "n2": n,
        }
        for t, s in enumerate(seconds)
    ]


def made_up_causes(untouched_scale, in_rust_faults):
    rng = np.random.default_rng(1)
    base = 1.0 + 0.01 * rng.standard_normal(9)
    rows = []
    rows += records("first_touch", "untouched", untouched_scale * base)
    rows += records("first_touch", "touched", base)
    rows += records("first_touch", "from_python", base, faults=0)
    rows += records("first_touch", "in_rust", base, faults=in_rust_faults)
    rows += records("loop_order", "against_layout", 3.0 * base)
    rows += records("loop_order", "along_layout", base[::-1])
    rows += records("generation_layout", "by_columns", base)
    rows += records("generation_layout", "by_rows", base[::-1])
    return pd.DataFrame(rows)


def test_cause_table_applies_the_rule_to_each_comparison():
    table = layout_report.cause_table(made_up_causes(2.0, in_rust_faults=100), 0.05)
    by_cause = table.set_index("cause")
    assert by_cause.loc["loop_order", "verdict"] == SUPPORTED
    assert by_cause.loc["loop_order", "ratio"] == pytest.approx(3.0, rel=0.05)
    assert by_cause.loc["generation_layout", "verdict"] == NOT_SUPPORTED
    # 100 x 100 float64 = 19.5 pages; 100 faults more per call than from Python counts.
    assert by_cause.loc["first_touch", "verdict"] == SUPPORTED


def test_first_touch_is_not_supported_when_rusts_timer_takes_no_more_faults():
    table = layout_report.cause_table(made_up_causes(2.0, in_rust_faults=0), 0.05)
    row = table.set_index("cause").loc["first_touch"]
    assert row["ratio"] == pytest.approx(2.0, rel=0.05)
    assert row["verdict"] == NOT_SUPPORTED
    assert "in Rust 0" in row["note"]


def test_cause_verdicts_take_the_strongest_of_a_causes_comparisons():
    table = pd.DataFrame(
        {
            "cause": ["a", "a", "b", "c"],
            "verdict": [NOT_SUPPORTED, SUPPORTED, INCONCLUSIVE, NOT_SUPPORTED],
        }
    )
    assert layout_report.cause_verdicts(table) == {
        "a": SUPPORTED,
        "b": INCONCLUSIVE,
        "c": NOT_SUPPORTED,
    }


# --- the notebook -----------------------------------------------------------------------


@pytest.mark.notebooks
def test_layout_notebook_produces_its_figure_tables_and_verdicts(smoke_root):
    nb = run_notebook("layout", smoke_root)
    figures = figures_dir(smoke_root)
    assert (figures / "fig_layout_orders.png").stat().st_size > 10_000
    orders = pd.read_csv(figures / "table_layout_orders.csv")
    assert {"C_median_s", "F_median_s", "F_over_C"} <= set(orders)
    causes = pd.read_csv(figures / "table_layout_causes.csv")
    assert set(causes["cause"]) == set(layout.CAUSES)
    assert set(causes["verdict"]) <= {SUPPORTED, NOT_SUPPORTED, INCONCLUSIVE}
    text = json.dumps(nb)
    for cause in layout.CAUSES:
        assert f"Cause `{cause}`" in text  # findings written from the data
