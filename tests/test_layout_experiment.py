"""The layout experiment: its cells, its verdict rule on made-up data whose answer is
known, and its notebook end to end at the smoke profile."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from conftest import figures_dir, run_notebook

from tensorbench import profiles
from tensorbench.experiments import layout, layout_report, matvec
from tensorbench.experiments.bandwidth_levels import NO_BOUND, PROBE_ERROR, WITHIN
from tensorbench.experiments.dense_impls import BANDWIDTH, IMPLEMENTATIONS
from tensorbench.experiments.layout_report import (
    INCONCLUSIVE,
    MET,
    NOT_MET,
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
    assert (figures / "fig_layout_blas.png").stat().st_size > 10_000
    blas = pd.read_csv(figures / "table_layout_blas.csv")
    planned = layout.cell_sets("smoke")[layout.BLAS_SET]
    assert sorted(zip(blas["n1"], blas["n2"], blas["order"], strict=True)) == sorted(
        (c.n1, c.n2, c.variant) for c in planned
    )
    assert (blas["rounds"] == planned[0].n_trials).all()
    assert set(blas["verdict"]) <= {MET, NOT_MET, INCONCLUSIVE}
    assert "C order, every Figure 3 shape" in text and "F order, every Figure 3 shape" in text


# --- the tuned kernel against BLAS ----------------------------------------------------


def test_blas_cells_are_every_figure_3_shape_once_in_both_orders():
    for profile in ("smoke", "quick", "paper"):
        cells = layout.cell_sets(profile)[layout.BLAS_SET]
        figure = profiles.section(profile, "matvec")
        expected = {
            matvec.shape(regime, int(n), int(figure["fixed"]))
            for regime in matvec.REGIMES
            for n in figure["sizes"][regime]
        }
        extra = layout.params(profile)["blas"].get("extra_square_sizes") or []
        expected |= {(int(n), int(n)) for n in extra}
        assert {(c.n1, c.n2) for c in cells} == expected
        assert sorted((c.n1, c.n2, c.variant) for c in cells) == sorted(
            (n1, n2, order) for n1, n2 in expected for order in ("C", "F")
        )
        assert len({c.cell_id for c in cells}) == len(cells)
        assert all(c.implementation == layout.BLAS_IMPLEMENTATION for c in cells)
        assert all(layout.runs_alone(c) for c in cells)
        # A shape shared by several regimes is measured once, under the square one.
        square = {int(n) for n in figure["sizes"]["square"] + extra}
        for c in cells:
            assert c.regime == "square" if c.n1 == c.n2 in square else c.regime != "square"
    paper = {(c.n1, c.n2) for c in layout.cell_sets("paper")[layout.BLAS_SET]}
    assert (6000, 6000) in paper and (1_000_000, 100) in paper and (100, 1_000_000) in paper


def blas_profile(monkeypatch, **blas):
    """The smoke profile with its layout.blas section replaced by ``blas``."""
    real = profiles.section

    def section(name, experiment):
        out = real(name, experiment)
        if experiment == "layout":
            out = {**out, "blas": blas}
        return out

    monkeypatch.setattr(profiles, "section", section)


@pytest.mark.parametrize(
    ("blas", "error", "match"),
    [
        ({"rounds": 1, "seed": 1}, ValueError, "blas.rounds"),
        ({"rounds": 2.5, "seed": 1}, ValueError, "blas.rounds"),
        ({"rounds": "3", "seed": 1}, TypeError, "blas.rounds"),
        ({"rounds": 3, "seed": -1}, ValueError, "blas.seed"),
        ({"rounds": 3, "seed": 1, "min_sample_seconds": -1}, ValueError, "min_sample_seconds"),
        ({"rounds": 3, "seed": 1, "min_sample_seconds": "1"}, TypeError, "min_sample_seconds"),
        ({"rounds": 3, "seed": 1, "extra_square_sizes": 6000}, TypeError, "extra_square"),
        ({"rounds": 3, "seed": 1, "extra_square_sizes": [0]}, ValueError, "extra_square"),
        ({"rounds": 3, "seed": 1, "extra_square_sizes": [True]}, TypeError, "extra_square"),
    ],
)
def test_bad_blas_profile_values_are_rejected_by_name(monkeypatch, blas, error, match):
    blas_profile(monkeypatch, **blas)
    with pytest.raises(error, match=match):
        layout.blas_cells("smoke")


def test_a_blas_section_that_is_not_a_mapping_is_a_type_error(monkeypatch):
    real = profiles.section
    monkeypatch.setattr(
        profiles,
        "section",
        lambda name, exp: {**real(name, exp), "blas": [3]} if exp == "layout" else real(name, exp),
    )
    with pytest.raises(TypeError, match=r"layout\.blas"):
        layout.blas_cells("smoke")


def test_blas_cell_records_both_conditions_in_alternating_rounds():
    cell = next(c for c in layout.cell_sets("smoke")[layout.BLAS_SET] if c.variant == "F")
    cell = type(cell)(**{**cell.parameters(), "options": {"min_sample_seconds": 0.0}})
    records = pd.DataFrame(layout.measure_blas(cell))
    assert list(records.columns) == layout.BLAS_RECORD_COLUMNS
    assert len(records) == 2 * (cell.n_trials + 1)
    assert set(records["condition"]) == set(layout.BLAS_CONDITIONS)
    assert (records["variant"] == "F").all() and (records["regime"] == cell.regime).all()
    assert records["is_first_call"].tolist() == [t == 0 for t in records["trial"]]
    firsts = records.groupby("trial")["condition"].first().tolist()
    assert firsts == [layout.BLAS_CONDITIONS[t % 2] for t in range(cell.n_trials + 1)]
    assert (records["calls_per_sample"] == 1).all()  # no minimum: one call per sample
    assert (records["seconds"] > 0).all()


def test_blas_cell_rejects_an_unknown_order():
    cell = layout.cell_sets("smoke")[layout.BLAS_SET][0]
    bad = type(cell)(**{**cell.parameters(), "variant": "K"})
    with pytest.raises(ValueError, match="order must be"):
        layout.measure_blas(bad)


def test_the_two_blas_conditions_compute_the_same_product():
    a = layout.draw_matrix(np.random.default_rng(5), 37, 23, "F")
    x = np.random.default_rng(6).uniform(0.0, 1.0, 23)
    kernels = layout.blas_kernels()
    np.testing.assert_allclose(kernels["tuned"](a, x), kernels["blas"](a, x), rtol=1e-12)


@pytest.mark.parametrize(
    ("ratio", "high", "fraction", "status", "expected"),
    [
        (0.99, 1.02, 0.9, WITHIN, MET),
        (0.96, 0.99, 0.8, WITHIN, MET),  # at the edge of both targets
        (0.80, 0.90, 0.9, WITHIN, NOT_MET),  # the CI lies below 0.95
        (0.80, 0.90, math.nan, NO_BOUND, NOT_MET),  # no bound needed to fail the ratio
        (0.99, 1.02, 0.7, WITHIN, NOT_MET),  # fast enough, but beyond 1.25x of the DRAM bound
        (0.99, 1.02, 1.6, WITHIN, MET),  # in a cache: faster than DRAM, within its level's
        (0.93, 0.97, 0.9, WITHIN, INCONCLUSIVE),  # the CI straddles 0.95
        (0.99, 1.02, math.nan, NO_BOUND, INCONCLUSIVE),  # the bound cannot be checked
        (0.99, 1.02, 1.3, PROBE_ERROR, INCONCLUSIVE),  # faster than its bound: the probe is off
        (0.99, math.nan, 0.9, WITHIN, INCONCLUSIVE),  # one round: no interval
    ],
)
def test_blas_verdict_rule(ratio, high, fraction, status, expected):
    assert layout_report.blas_verdict(ratio, high, fraction, status) == expected


def blas_records(regime, n1, n2, order, blas_s, tuned_s):
    rows = []
    for t, (b, u) in enumerate(zip(blas_s, tuned_s, strict=True)):
        for condition, s in (("blas", b), ("tuned", u)):
            rows.append(
                {
                    "regime": regime,
                    "n1": n1,
                    "n2": n2,
                    "variant": order,
                    "condition": condition,
                    "trial": t,
                    "seconds": s,
                    "is_first_call": t == 0,
                    "calls_per_sample": 4,
                }
            )
    return rows


class FakeBandwidth:
    """A bandwidth run whose read curve is 10 GB/s at every level."""

    def __init__(self):
        self.caches = {"L1": 32 << 10, "L2": 1 << 20, "L3": 8 << 20}
        self.curve = pd.DataFrame(
            {
                "kernel": "read",
                "working_set_bytes": [16 << 10, 512 << 10, 4 << 20, 1 << 30],
                "bytes_per_second": 1e10,
            }
        )


def made_up_blas():
    rng = np.random.default_rng(2)
    noise = 1.0 + 0.005 * rng.standard_normal(9)
    moved = layout.bytes_moved(1000, 1000)  # 8 MB at 10 GB/s: 0.8 ms
    bound_s = moved / 1e10
    rows = []
    # C: tuned as fast as BLAS, at 0.9 of the bound: met.
    rows += blas_records("square", 1000, 1000, "C", bound_s / 0.9 * noise, bound_s / 0.9 * noise)
    # F: tuned at 0.6x BLAS's speed: not met.
    rows += blas_records(
        "square", 1000, 1000, "F", 0.6 * bound_s / 0.9 * noise, bound_s / 0.9 * noise[::-1]
    )
    # rows regime: 0.95x on average, noisy: inconclusive.
    rows += blas_records(
        "rows", 1000, 100, "C", 0.95 * (1 + 0.1 * rng.standard_normal(9)) * 1e-4, np.full(9, 1e-4)
    )
    return pd.DataFrame(rows)


def test_blas_table_ratio_ci_bound_and_verdict_on_made_up_records():
    table = layout_report.blas_table(made_up_blas(), FakeBandwidth())
    assert list(table.columns) == layout_report.BLAS_COLUMNS
    by = table.set_index(["regime", "n1", "n2", "order"])
    c, f = by.loc[("square", 1000, 1000, "C")], by.loc[("square", 1000, 1000, "F")]
    assert c["ratio"] == pytest.approx(1.0, abs=1e-9) and c["rounds"] == 8
    assert c["level"] == "L3" and c["bound_gbps"] == pytest.approx(10.0)
    assert c["tuned_fraction_of_bound"] == pytest.approx(0.9, rel=0.02)
    assert c["dram_gbps"] == pytest.approx(10.0)
    assert c["tuned_fraction_of_dram"] == pytest.approx(0.9, rel=0.02)
    assert c["verdict"] == MET and c["calls_per_sample"] == 4
    assert f["ratio"] == pytest.approx(0.6, rel=0.02) and f["ci95_high"] < 0.95
    assert f["blas_fraction_of_bound"] == pytest.approx(1.5, rel=0.02)
    assert f["blas_bound_status"] == PROBE_ERROR and f["bound_status"] == WITHIN
    assert f["verdict"] == NOT_MET
    r = by.loc[("rows", 1000, 100, "C")]
    assert r["ci95_low"] < 0.95 < r["ci95_high"] and r["verdict"] == INCONCLUSIVE
    # Figure 3's order: rows before square.
    assert table["regime"].tolist() == ["rows", "square", "square"]


def test_blas_table_without_a_bandwidth_curve_says_no_bound():
    table = layout_report.blas_table(made_up_blas(), None)
    c = table[(table["order"] == "C") & (table["regime"] == "square")].iloc[0]
    assert c["bound_status"] == NO_BOUND and math.isnan(c["tuned_fraction_of_bound"])
    assert c["verdict"] == INCONCLUSIVE  # fast enough, but the bound is not checked
    assert layout_report.blas_table(pd.DataFrame(), None).empty


def test_blas_findings_check_the_largest_square_and_every_shape():
    table = layout_report.blas_table(made_up_blas(), FakeBandwidth())
    found = layout_report.blas_findings(table)
    verdicts = {f.claim: f.verdict for f in found}
    check = "Issue 11: kernels_rs.matvec >= 0.95x a @ x and within 1.25x of the DRAM bound at "
    every = "Issue 11: kernels_rs.matvec at the target at every Figure 3 shape "
    assert verdicts[check + "1,000 x 1,000 (C order)"] == MET
    assert verdicts[check + "1,000 x 1,000 (F order)"] == NOT_MET
    assert verdicts[every + "(C order)"] == INCONCLUSIVE
    assert verdicts[every + "(F order)"] == NOT_MET
    assert len(found) == 4
    fig = layout_report.blas_figure(table)
    assert len(fig.axes[0].get_xticklabels()) == 2
    assert "0.60" in layout_report.blas_figure_alt(table)


def test_the_bound_text_gives_multiples_of_the_bounds_and_dram_once():
    from tensorbench.experiments.layout_report import bound_text

    dram = bound_text("DRAM", 0.55, 0.55)
    assert dram.startswith("1.82x the DRAM bound (target: within 1.25x")
    assert dram.count("DRAM bound") == 2  # the value and the target, not the value twice
    l3 = bound_text("L3", 0.5, 0.8)
    assert l3.startswith("2.00x the L3 bound and 1.25x the DRAM bound")
