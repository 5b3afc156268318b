"""Levels, plateaus and bounds from a bandwidth curve; the probe-error rule; the
bandwidth experiment's cells, records and findings; the NumPy comparison."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from tensorbench.experiments import bandwidth, bandwidth_levels
from tensorbench.experiments.bandwidth_levels import (
    NO_BOUND,
    PROBE_ERROR,
    WITHIN,
    bound_for,
    classify,
    fraction_of_bound,
    level_of,
    levels,
    plateaus,
)
from tensorbench.findings import HELD, NOT_HELD

KIB, MIB = 1 << 10, 1 << 20
CACHES = {"L1": 32 * KIB, "L2": 1 * MIB, "L3": 32 * MIB}


def synthetic_curve(kernel="read"):
    """Rates (GB/s) that step down at each cache, with a bump just past each boundary."""
    points = [
        (16 * KIB, 200),
        (32 * KIB, 190),
        (64 * KIB, 90),
        (512 * KIB, 80),
        (1 * MIB, 70),
        (4 * MIB, 40),
        (32 * MIB, 35),
        (48 * MIB, 30),  # between the L3 and DRAM's range: in no plateau
        (160 * MIB, 12),
        (1024 * MIB, 11),
    ]
    return pd.DataFrame(
        {
            "kernel": kernel,
            "working_set_bytes": [w for w, _ in points],
            "bytes_per_second": [r * 1e9 for _, r in points],
        }
    )


def test_levels_are_the_caches_then_dram():
    all_levels = levels(CACHES)
    assert [lv.name for lv in all_levels] == ["L1", "L2", "L3", "DRAM"]
    assert (all_levels[1].low, all_levels[1].high) == (32 * KIB, 1 * MIB)
    assert all_levels[1].plateau_low == bandwidth_levels.DRAM_FACTOR * 32 * KIB
    assert all_levels[-1].low == 32 * MIB
    assert all_levels[-1].plateau_low == bandwidth_levels.LAST_CACHE_FACTOR * 32 * MIB
    assert math.isinf(all_levels[-1].high)
    # A level no larger than the one before (a VM reporting a tiny L3) is left out.
    assert [lv.name for lv in levels({"L1": 32 * KIB, "L2": 1 * MIB, "L3": 1 * MIB})] == [
        "L1",
        "L2",
        "DRAM",
    ]


def test_levels_default_to_this_machines_caches():
    names = [lv.name for lv in levels()]
    assert names[0] == "L1" and names[-1] == "DRAM"


@pytest.mark.parametrize(
    ("working_set", "level"),
    [
        (1, "L1"),
        (32 * KIB, "L1"),
        (32 * KIB + 1, "L2"),
        (1 * MIB, "L2"),
        (8 * MIB, "L3"),
        (32 * MIB + 1, "DRAM"),
        (10**12, "DRAM"),
    ],
)
def test_a_working_set_lives_in_the_smallest_level_that_holds_it(working_set, level):
    assert level_of(working_set, levels(CACHES)) == level


def test_plateaus_are_the_best_rate_in_each_levels_range():
    table = plateaus(synthetic_curve(), levels(CACHES)).set_index("level")
    assert table.loc["L1", "bytes_per_second"] == 200e9
    # 64 KiB is twice the L1: still in its transition zone, not in the L2 plateau.
    assert table.loc["L2", "bytes_per_second"] == 80e9
    assert table.loc["L3", "bytes_per_second"] == 40e9
    # 48 MiB is past the L3 but short of DRAM's range: not in the DRAM plateau.
    assert table.loc["DRAM", "bytes_per_second"] == 12e9
    assert table.loc["DRAM", "points"] == 2
    only_small = synthetic_curve().iloc[:3]
    assert math.isnan(plateaus(only_small, levels(CACHES)).set_index("level").loc["L3"].iloc[-1])


def test_a_bump_just_past_a_cache_is_not_the_next_levels_plateau():
    # As on the Xeon VM: 43.9 GB/s at 1.4x its L2, 33-36 GB/s through the rest of the L3.
    curve = pd.concat(
        [
            synthetic_curve(),
            pd.DataFrame(
                {"kernel": ["read"], "working_set_bytes": [1.4 * MIB], "bytes_per_second": [45e9]}
            ),
        ]
    )
    assert plateaus(curve, levels(CACHES)).set_index("level").loc["L3", "bytes_per_second"] == 40e9
    # Beyond the transition zone the bound is the plateau ...
    assert bound_for(3 * MIB, curve, caches=CACHES) == ("L3", 40e9)
    # ... inside it, the best rate from the smaller cache's capacity on: still an upper bound.
    assert bound_for(1.2 * MIB, curve, caches=CACHES) == ("L3", 45e9)
    assert bound_for(48 * MIB, curve, caches=CACHES) == ("DRAM", 30e9)
    assert bound_for(40 * KIB, curve, caches=CACHES) == ("L2", 90e9)


def test_a_level_under_twice_the_one_before_takes_its_whole_range():
    caches = {"L1": 32 * KIB, "L2": 1 * MIB, "L3": int(1.5 * MIB)}
    l3 = levels(caches)[2]
    assert (l3.low, l3.plateau_low, l3.high) == (1 * MIB, 1 * MIB, 1.5 * MIB)
    assert not l3.in_transition(1.2 * MIB)


def test_a_victim_l3_keeping_part_of_a_stream_is_not_the_dram_plateau():
    # As on the Zen 3 EPYC VM (32 MiB L3): 37.5 GB/s at 2x the L3, 24.9-31.1 GB/s from 4x on.
    curve = pd.concat(
        [
            synthetic_curve(),
            pd.DataFrame(
                {
                    "kernel": "read",
                    "working_set_bytes": [64 * MIB + 1, 96 * MIB],
                    "bytes_per_second": [28.7e9, 28.2e9],
                }
            ),
        ]
    )
    assert (
        plateaus(curve, levels(CACHES)).set_index("level").loc["DRAM", "bytes_per_second"] == 12e9
    )
    assert bound_for(288 * MIB, curve, caches=CACHES) == ("DRAM", 12e9)
    # Inside the zone the bound is the best rate from the L3's capacity on.
    assert bound_for(100 * MIB, curve, caches=CACHES) == ("DRAM", 30e9)


def test_a_curve_stopping_short_of_four_times_the_l3_takes_its_largest_size_for_dram():
    # A VM that reports its host's 480 MiB L3, probed up to 1 GiB.
    caches = {**CACHES, "L3": 480 * MIB}
    curve = synthetic_curve()
    table = plateaus(curve, levels(caches)).set_index("level")
    assert table.loc["DRAM", "bytes_per_second"] == 11e9 and table.loc["DRAM", "points"] == 1
    assert table.loc["DRAM", "from_bytes"] < 1024 * MIB
    assert bound_for(4096 * MIB, curve, caches=caches) == ("DRAM", 11e9)


def test_plateaus_read_only_the_kernel_asked_for():
    curve = pd.concat([synthetic_curve("read"), synthetic_curve("copy").assign(bytes_per_second=1)])
    table = plateaus(curve, levels(CACHES), "copy")
    assert (table["bytes_per_second"] == 1).all()


def test_bound_for_names_the_level_and_its_plateau():
    curve = synthetic_curve()
    assert bound_for(8 * MIB, curve, caches=CACHES) == ("L3", 40e9)
    assert bound_for(20 * KIB, curve, caches=CACHES) == ("L1", 200e9)
    assert bound_for(288 * MIB, curve, caches=CACHES) == ("DRAM", 12e9)
    level, rate = bound_for(8 * MIB, curve.iloc[:2], caches=CACHES)
    assert level == "L3" and math.isnan(rate)
    with pytest.raises(ValueError, match="working_set_bytes must be positive"):
        bound_for(0, curve, caches=CACHES)


def test_a_kernel_faster_than_its_bound_is_a_probe_error():
    bound = 10e9  # bytes per second
    assert classify(seconds=0.2, bytes_moved=1e9, bound_bytes_per_second=bound) == WITHIN
    assert classify(0.1, 1e9, bound) == WITHIN  # exactly at the bound
    assert classify(0.05, 1e9, bound) == PROBE_ERROR  # twice the bound's rate
    assert classify(0.095, 1e9, bound, tolerance=0.1) == WITHIN
    assert classify(0.05, 1e9, float("nan")) == NO_BOUND
    assert fraction_of_bound(0.05, 1e9, bound) == pytest.approx(2.0)
    with pytest.raises(ValueError):
        classify(0.0, 1e9, bound)
    with pytest.raises(ValueError):
        classify(0.1, 1e9, 0.0)


def test_sizes_between_spans_the_range_in_cache_lines():
    assert bandwidth.sizes_between(16 * KIB, 128 * KIB, 1) == [
        16 * KIB,
        32 * KIB,
        64 * KIB,
        128 * KIB,
    ]
    sizes = bandwidth.sizes_between(16 * KIB, 1 << 30, 2)
    assert sizes[0] == 16 * KIB and sizes[-1] == 1 << 30
    assert len(sizes) == 33 and all(s % 64 == 0 for s in sizes)
    assert sizes == sorted(set(sizes))
    with pytest.raises(ValueError):
        bandwidth.sizes_between(0, 10, 1)
    with pytest.raises(ValueError):
        bandwidth.sizes_between(10, 1, 1)


@pytest.mark.parametrize("profile", ["smoke", "quick", "paper"])
def test_every_profile_has_a_curve_from_16_kib_and_a_numpy_cell(profile):
    sets = bandwidth.cell_sets(profile)
    curve, numpy = sets[bandwidth.CURVE_SET], sets[bandwidth.NUMPY_SET]
    assert min(c.n1 for c in curve) == 16 * KIB
    assert len({c.cell_id for c in curve}) == len(curve)
    assert all(bandwidth.runs_alone(c) for c in curve + numpy)
    assert [c.implementation for c in numpy] == [bandwidth.NUMPY_COMPARISON]
    if profile != "smoke":
        assert max(c.n1 for c in curve) == 1 << 30
        assert {c.implementation for c in curve} == set(bandwidth.KERNELS)
        assert numpy[0].n1 == 512 * MIB


def test_a_curve_cell_records_every_variant_and_timing():
    from tensorbench.harness.cell import Cell

    options = {"streams": [1, 8], "unroll": [2], "min_seconds": 0.0}
    cell = Cell(bandwidth.EXPERIMENT, "triad", 3 * 4096, n_trials=3, options=options)
    measured = bandwidth.measure(cell)
    rows = pd.DataFrame(measured["records"])
    assert list(rows.columns) == bandwidth.CURVE_COLUMNS
    assert len(rows) == 2 * 3
    assert set(rows["streams"]) == {1, 8} and set(rows["unroll"]) == {2}
    assert (rows["working_set_bytes"] == 3 * 4096).all()
    assert (rows["write_allocate_bytes"] == 4096).all()
    assert (rows["seconds"] > 0).all()
    assert set(measured["extra"]["cache_bytes"]) == {"L1", "L2", "L3"}


def test_best_curve_keeps_the_fastest_variant_per_size():
    raw = pd.DataFrame(
        {
            "kernel": ["read"] * 4,
            "working_set_bytes": [1000, 1000, 2000, 2000],
            "bytes_per_pass": [1000, 1000, 2000, 2000],
            "seconds": [1e-6, 2e-6, 4e-6, 1e-6],
            "streams": [1, 2, 1, 2],
            "unroll": [1, 1, 1, 1],
            "isa": ["avx2"] * 4,
        }
    )
    best = bandwidth.best_curve(raw)
    assert list(best["bytes_per_second"]) == [1e9, 2e9]
    assert list(best["streams"]) == [1, 2]
    assert bandwidth.best_curve(raw.iloc[:0]).empty


def _run_with_numpy(sum_rate, dot_rate, probe_rate):
    numpy = pd.DataFrame(
        {
            "reader": ["numpy_sum", "numpy_dot", "read_bandwidth"],
            "bytes_per_second": [sum_rate, dot_rate, probe_rate],
            "n1": 512 * MIB,
        }
    )
    raw = synthetic_curve().assign(bytes_per_pass=lambda f: f["working_set_bytes"])
    raw = raw.assign(seconds=raw["bytes_per_pass"] / raw["bytes_per_second"], streams=1, unroll=1)
    raw = raw.assign(isa="avx2").drop(columns="bytes_per_second")
    return bandwidth.BandwidthRun("smoke", raw, numpy, {}, CACHES, None, None)


def test_the_numpy_finding_checks_the_095_target():
    held = bandwidth.numpy_finding(_run_with_numpy(30e9, 35e9, 34e9))
    assert held.verdict == HELD and "0.97x" in held.text
    failed = bandwidth.numpy_finding(_run_with_numpy(30e9, 35e9, 18e9))
    assert failed.verdict == NOT_HELD and "does NOT meet" in failed.text
    texts = [f.text for f in bandwidth.findings(_run_with_numpy(30e9, 35e9, 34e9))]
    assert any("L1 200.0 GB/s, L2 80.0 GB/s, L3 40.0 GB/s, DRAM 12.0 GB/s" in t for t in texts)


def test_numpy_read_rates_compares_the_probe_with_sum_and_dot():
    from tensorbench.bandwidth import numpy_read_rates

    rates = numpy_read_rates(1 * MIB, 2)
    assert rates["n_bytes"] == 1 * MIB
    assert all(rates[k] > 0 for k in ("numpy_sum", "numpy_dot", "read_bandwidth"))
    best = max(rates["numpy_sum"], rates["numpy_dot"])
    assert rates["ratio_to_best_numpy"] == pytest.approx(rates["read_bandwidth"] / best)
    assert rates["meets_target"] == (rates["ratio_to_best_numpy"] >= 0.95)
    with pytest.raises(ValueError):
        numpy_read_rates(4, 2)
