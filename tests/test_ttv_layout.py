"""TTV on every input layout and order (issue 11): kernels_rs.ttv reads C- and F-ordered
subscripts in place and prefetches the accumulator cells of scattered nonzeros, with
bitwise the definition's result; the ``ttv-layout`` cell set and its report."""

from __future__ import annotations

import math
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

import kernels_rs
from tensorbench import stats
from tensorbench.experiments import ttv_layout, ttv_layout_report
from tensorbench.experiments.dense_impls import BANDWIDTH
from tensorbench.experiments.dense_report import DenseRun
from tensorbench.findings import HELD, NOT_COMPARABLE, NOT_HELD

# An output space of 1024 x 1024 cells (8 MiB): large enough for the prefetching
# accumulation (method "dense": "auto" sorts keys at these nnz) when the nonzeros come
# in random order.
SHAPE = (1024, 3, 1024)


def in_order_reference(subs, vals, vector, mode, shape):
    """The definition, summed in input order by np.add.at (unbuffered, element by element),
    as (newsubs, newvals) with the zeros dropped and rows sorted."""
    rest = [j for j in range(len(shape)) if j != mode]
    keys = np.ravel_multi_index(tuple(subs[:, j] for j in rest), [shape[j] for j in rest])
    acc = np.zeros(math.prod(shape[j] for j in rest))
    np.add.at(acc, keys, vals * vector[subs[:, mode]])
    (cells,) = np.nonzero(acc)
    newsubs = np.stack(np.unravel_index(cells, [shape[j] for j in rest]), axis=1)
    return newsubs, acc[cells]


def random_tensor(seed, nnz, duplicates):
    rng = np.random.default_rng(seed)
    subs = rng.integers(0, SHAPE, size=(nnz, 3))
    if duplicates:  # every row four times, the copies spread over the input
        subs = np.repeat(subs[: nnz // 4], 4, axis=0)[rng.permutation(nnz)]
    return subs.astype(np.int64), rng.uniform(-1, 1, nnz)


def arrangements(subs, vals):
    """The same nonzeros sorted and in random order, each in C, F and strided layout."""
    sorted_rows = np.lexsort(subs.T[::-1])
    for name, rows in (("random", np.arange(len(vals))), ("sorted", sorted_rows)):
        s, v = subs[rows], vals[rows]
        wide = np.zeros((len(v), 6), np.int64)
        wide[:, ::2] = s
        for layout, arranged in (
            ("C", np.ascontiguousarray(s)),
            ("F", np.asfortranarray(s)),
            ("strided", wide[:, ::2]),
        ):
            yield f"{name}-{layout}", arranged, v


@pytest.mark.parametrize("duplicates", [False, True])
@pytest.mark.parametrize("mode", [0, 1, 2])
def test_every_layout_and_order_gives_bitwise_the_in_order_sums(mode, duplicates):
    subs, vals = random_tensor(20 + mode, 80_000, duplicates)
    vector = np.random.default_rng(mode).uniform(-1, 1, SHAPE[mode])
    for name, s, v in arrangements(subs, vals):
        want_subs, want_vals = in_order_reference(s, v, vector, mode, SHAPE)
        for method in ("auto", "dense"):
            # One thread: the in-order sums (several threads sum each cell in pieces).
            newsubs, newvals, newshape = kernels_rs.ttv(
                s, v, SHAPE, vector, mode, method=method, threads=1
            )
            assert newshape == tuple(n for j, n in enumerate(SHAPE) if j != mode)
            assert newsubs.flags.f_contiguous, name
            np.testing.assert_array_equal(newsubs, want_subs, err_msg=name)
            # Bitwise: each cell summed in the input's order, whatever the layout.
            np.testing.assert_array_equal(
                newvals[:, 0].view(np.int64), want_vals.view(np.int64), err_msg=name
            )


@pytest.mark.parametrize("layout", ["C", "F"])
@pytest.mark.parametrize("column, bad", [(0, 1024), (1, -1), (2, 1024), (2, -(2**63))])
def test_a_bad_subscript_late_in_any_layout_is_a_value_error_naming_it(layout, column, bad):
    subs, vals = random_tensor(30, 50_000, False)
    subs[49_000, column] = bad
    subs = np.asfortranarray(subs) if layout == "F" else subs
    for mode in range(3):
        vector = np.ones(SHAPE[mode])
        for method in ("auto", "dense"):
            with pytest.raises(
                ValueError, match=rf"subs\[49000, {column}\] = {bad} is out of range"
            ):
                kernels_rs.ttv(subs, vals, SHAPE, vector, mode, method=method)


def test_int32_subs_are_still_a_type_error_naming_subs():
    subs, vals = random_tensor(31, 100, False)
    for arranged in (subs.astype(np.int32), np.asfortranarray(subs.astype(np.int32))):
        with pytest.raises(TypeError, match="subs must have dtype int64, got int32"):
            kernels_rs.ttv(arranged, vals, SHAPE, np.ones(3), 1)


def test_bench_ttv_takes_every_layout():
    subs, vals = random_tensor(32, 5_000, True)
    for _, s, v in arrangements(subs, vals):
        times = kernels_rs.bench_ttv(s, v, SHAPE, np.ones(3), 1, 2)
        assert len(times) == 3 and all(t > 0 for t in times)


# --- the cell set -------------------------------------------------------------------------

LAYOUT_ARGS = {"sizes": [10, 20], "n_trials": 2, "seed": 5, "density": 0.01, "mode": 1}


def test_layout_cells_are_one_cell_of_rounds_per_figure_4_tensor():
    cells = ttv_layout.layout_cells(**LAYOUT_ARGS, bandwidth_bytes=1 << 20)
    kernels = [c for c in cells if c.implementation != BANDWIDTH]
    assert len(kernels) == 2 and len(cells) == 3
    assert {c.variant for c in kernels} == {ttv_layout.ROUNDS}
    assert {(c.n1, c.seed) for c in kernels} == {(10, 15), (20, 25)}  # seed + n, as Figure 4
    assert len({c.cell_id for c in cells}) == 3


def test_a_cell_times_every_arrangement_in_rotated_rounds():
    (cell,) = ttv_layout.layout_cells([16], 3, 5, 0.05, 1)[:1]
    subs, vals = random_tensor(16, 400, False)
    tensor = SimpleNamespace(subs=subs, vals=vals, shape=SHAPE)
    records = ttv_layout.measure(cell, tensor, np.ones(SHAPE[1]))
    assert len(records) == 4 * 4  # a warm-up round and 3 rounds of 4 arrangements
    for trial in range(4):
        rows = [r for r in records if r["trial"] == trial]
        # Each round starts one arrangement later than the one before.
        expected = ttv_layout.VARIANTS[trial % 4 :] + ttv_layout.VARIANTS[: trial % 4]
        assert tuple(r["variant"] for r in rows) == expected
        assert all(r["is_first_call"] == (trial == 0) for r in rows)
        assert all(r["seconds"] > 0 and r["size"] == 16 for r in rows)
    summary = stats.summarize(pd.DataFrame(records))
    assert set(summary["variant"]) == set(ttv_layout.VARIANTS)
    assert set(summary["n_calls"]) == {3}


@pytest.mark.parametrize(
    "change, error, message",
    [
        ({"sizes": []}, ValueError, "sizes must not be empty"),
        ({"sizes": "10"}, TypeError, "sizes must be a list"),
        ({"sizes": [0]}, ValueError, "size"),
        ({"n_trials": 0}, ValueError, "n_trials"),
        ({"seed": -1}, ValueError, "seed"),
        ({"density": 0}, ValueError, "density"),
        ({"density": "x"}, TypeError, "density"),
        ({"mode": 3}, ValueError, "mode must be below 3"),
    ],
)
def test_layout_cells_refuse_bad_arguments(change, error, message):
    with pytest.raises(error, match=message):
        ttv_layout.layout_cells(**{**LAYOUT_ARGS, **change})


def test_arrange_permutes_by_seed_and_lays_out_the_subs():
    subs = np.arange(30, dtype=np.int64).reshape(10, 3)
    vals = np.arange(10.0).reshape(10, 1)
    s, _ = ttv_layout.arrange(subs, vals, "sorted", "F", 1)
    assert s.flags.f_contiguous and not s.flags.c_contiguous
    np.testing.assert_array_equal(s, subs)
    a, av = ttv_layout.arrange(subs, vals, "random", "C", 1)
    b, _ = ttv_layout.arrange(subs, vals, "random", "C", 1)
    np.testing.assert_array_equal(a, b)  # seeded
    assert not np.array_equal(a, subs)
    np.testing.assert_array_equal(a[:, 0] // 3, av[:, 0])  # rows and values move together
    with pytest.raises(ValueError, match="order must be one of"):
        ttv_layout.arrange(subs, vals, "shuffled", "C", 1)
    with pytest.raises(ValueError, match="layout must be one of"):
        ttv_layout.arrange(subs, vals, "sorted", "K", 1)


# --- the report ---------------------------------------------------------------------------


def fake_run(seconds: dict[str, float], n: int = 800, bandwidth: float = 10e9) -> DenseRun:
    """A recorded layout run with the given mean seconds per arrangement at one n, and a
    bandwidth cell reading 1e9 bytes at ``bandwidth``."""
    input_bytes = 32 * int(0.01 * n**3)
    rows = [
        {"implementation": "rust", "variant": v, "n1": n, "size": n, "mean": t, "min": t}
        for v, t in seconds.items()
    ]
    rows.append(
        {"implementation": BANDWIDTH, "variant": "", "n1": 10**9, "size": 10**9, "min": 0.1}
    )
    extra = {
        f"rust__{n}__{v}": {"nnz": int(0.01 * n**3), "input_bytes": input_bytes} for v in seconds
    }
    return DenseRun(
        name="ttv-layout",
        profile="paper",
        raw=pd.DataFrame(),
        summary=pd.DataFrame(rows),
        metadata={"cell_extra": extra},
        data_dir=Path("."),
        figures_dir=Path("."),
    )


def test_table_and_verdicts_follow_the_ratios_against_the_targets():
    bound = 32 * int(0.01 * 800**3) / 10e9  # 0.4096 s
    run = fake_run(
        {
            "sorted-C": 1.9 * bound,  # within 2x
            "random-C": 1.9 * bound * 1.6,  # NOT within 1.5x of sorted
            "sorted-F": 1.9 * bound * 1.1,  # within 1.2x of C
            "random-F": 1.9 * bound * 1.6 * 1.3,  # NOT within 1.2x of random C
        }
    )
    table = ttv_layout_report.table(run)
    row = table.iloc[0]
    assert row["bound_s"] == pytest.approx(bound)
    assert row["sorted_C_over_bound"] == pytest.approx(1.9)
    assert row["random_C_over_sorted_C"] == pytest.approx(1.6)
    assert row["sorted_F_over_sorted_C"] == pytest.approx(1.1)
    assert row["random_F_over_random_C"] == pytest.approx(1.3)
    assert row["random_F_over_sorted_F"] == pytest.approx(1.6 * 1.3 / 1.1)
    verdicts = {f.claim.split(": ", 1)[1]: f.verdict for f in ttv_layout_report.findings(run)}
    assert verdicts == {
        "sorted C-ordered subs over the bound": HELD,
        "random order over sorted (C)": NOT_HELD,
        "random order over sorted (F)": NOT_HELD,
        "F-ordered over C-ordered (sorted)": HELD,
        "F-ordered over C-ordered (random order)": NOT_HELD,
    }


def test_a_kernel_faster_than_its_bound_is_a_probe_error_and_other_sizes_are_described():
    bound = 32 * int(0.01 * 800**3) / 10e9
    fast = ttv_layout_report.findings(fake_run({"sorted-C": 0.8 * bound}))
    assert [f.verdict for f in fast] == [NOT_COMPARABLE]
    assert "probe error" in fast[0].text
    small = ttv_layout_report.findings(fake_run({"sorted-C": 1.0, "random-C": 1.2}, n=100))
    assert [f.verdict for f in small] == ["", ""]
    assert all("set for n = 800 and 1200" in f.text for f in small)
