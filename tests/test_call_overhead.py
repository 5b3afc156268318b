"""The call-overhead probes (kernels_rs) and the call_overhead experiment: correct
results, clear errors, interleaved timing that calls what it claims, summaries from raw rows,
its cells, and the notebook end to end at the smoke profile."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from conftest import data_dir, figures_dir, run_notebook

from tensorbench import profiles
from tensorbench.experiments import call_overhead as co
from tensorbench.experiments.call_overhead import cells as co_cells
from tensorbench.experiments.call_overhead import first_call as co_first_call

kernels_rs = pytest.importorskip("kernels_rs")

ARRAY_PROBES = (
    kernels_rs.overhead_two_arrays,
    kernels_rs.overhead_two_arrays_borrowed,
    kernels_rs.overhead_two_arrays_unborrowed,
    kernels_rs.overhead_two_arrays_copied,
    kernels_rs.overhead_return_array,
)


# --- the probes in kernels_rs ----------------------------------------------------------


def test_probes_return_what_they_document():
    x, y = np.arange(3.0), np.ones(5)
    assert kernels_rs.overhead_noop() is None
    assert kernels_rs.overhead_two_objects("anything", None) is None
    assert kernels_rs.overhead_detach() is None
    assert kernels_rs.overhead_two_arrays(x, y) == 8.0
    assert kernels_rs.overhead_two_arrays(np.ones(300), np.ones(400)) == 700.0  # borrowed
    assert kernels_rs.overhead_two_arrays_borrowed(x, y) == 8.0
    assert kernels_rs.overhead_two_arrays_unborrowed(x, y) == 8.0
    assert kernels_rs.overhead_two_arrays_copied(x, y) == 8.0
    out = kernels_rs.overhead_return_array(x, y)
    assert out.dtype == np.float64 and out.shape == (3,)
    np.testing.assert_array_equal(out, x)
    assert not np.shares_memory(out, x)


def test_array_probes_accept_shared_read_only_and_strided_arrays():
    x = np.arange(10.0)
    frozen = x.copy()
    frozen.flags.writeable = False
    for probe in ARRAY_PROBES:
        probe(x, x)  # two shared borrows of one array are allowed
        probe(frozen, x[::3])
    np.testing.assert_array_equal(kernels_rs.overhead_return_array(x[::3], x), [0, 3, 6, 9])


@pytest.mark.parametrize("probe", ARRAY_PROBES, ids=lambda p: p.__name__)
@pytest.mark.parametrize(
    ("x", "error", "message"),
    [
        ([1.0, 2.0], TypeError, "x must be a numpy.ndarray of float64"),
        (None, TypeError, "x must be a numpy.ndarray of float64"),
        (np.ones(3, dtype=np.float32), TypeError, "x must have dtype float64"),
        (np.ones(3, dtype=np.int64), TypeError, "x must have dtype float64"),
        (np.ones((2, 2)), ValueError, "x must be 1-D"),
        (np.float64(1.0), TypeError, "x must be a numpy.ndarray"),
    ],
)
def test_array_probes_reject_bad_input_with_a_clear_error(probe, x, error, message):
    with pytest.raises(error, match=message):
        probe(x, np.ones(3))
    with pytest.raises(error, match=message.replace("x must", "y must")):
        probe(np.ones(3), x)


def test_pool_entry_timer_returns_one_time_per_sample():
    for entry in ("install", "inline"):
        times = kernels_rs.overhead_pool_entry(entry, 5, 3)
        assert times["entry"] == entry and times["calls_per_sample"] == 5
        assert len(times["per_call_seconds"]) == 3
        values = [times["build_seconds"], times["first_call_seconds"], *times["per_call_seconds"]]
        assert all(np.isfinite(v) and v >= 0 for v in values)


@pytest.mark.parametrize(
    ("args", "error", "message"),
    [
        (("spawn", 1, 1), ValueError, "entry must be 'install' or 'inline'"),
        (("install", 0, 1), ValueError, "calls_per_sample must be at least 1"),
        (("inline", 1, 0), ValueError, "samples must be at least 1"),
        (("inline", 1, 2**40), ValueError, "samples must be at most"),
        (("inline", -5, 1), ValueError, "calls_per_sample must be at least 1"),
        (("inline", 1.5, 1), TypeError, None),
        ((None, 1, 1), TypeError, None),
    ],
)
def test_pool_entry_timer_rejects_bad_arguments(args, error, message):
    with pytest.raises(error, match=message):
        kernels_rs.overhead_pool_entry(*args)


# --- interleaved timing of the probes --------------------------------------------------


@pytest.mark.parametrize(
    ("change", "error", "message"),
    [
        ({"probes": []}, ValueError, "probes must not be empty"),
        ({"probes": "python_noop"}, TypeError, "probes must be a list of probe names"),
        (
            {"probes": ["python_noop", "numpy_dot", "python_noop"]},
            ValueError,
            "probes must not repeat a name",
        ),
        ({"warmup_samples": -1}, ValueError, "warmup_samples must be at least 0, got -1"),
    ],
)
def test_interleaved_measurement_refuses_bad_probe_lists(change, error, message):
    arguments = {
        "probes": ["python_noop"],
        "array_length": 1,
        "samples": 2,
        "calls_per_sample": 2,
        "rayon_calls_per_sample": 2,
        "warmup_samples": 0,
    }
    with pytest.raises(error, match=message):
        co.measure_interleaved(**{**arguments, **change})


def test_interleaved_measurement_gives_every_probe_one_sample_per_round():
    probes = ["python_noop", "rust_two_arrays", "numba_noop", "rayon_inline"]
    out = co.measure_interleaved(
        probes, 1, samples=4, calls_per_sample=3, rayon_calls_per_sample=2, warmup_samples=1
    )
    assert list(out) == probes
    for name, p in out.items():
        assert len(p["raw"]) == len(p["loop"]) == 4
        assert p["first_call"] > 0
        assert p["timed_in"] == ("rust" if name.startswith("rayon") else "python")
        assert p["calls_per_sample"] == (2 if name.startswith("rayon") else 3)
    assert out["rayon_inline"]["loop"] == [0.0] * 4  # no Python loop around in-Rust timers
    with pytest.raises(ValueError, match="at least 1"):
        co.measure_interleaved(probes, 1, 0, 3, 2, 0)


def test_every_python_probe_can_be_built_and_called():
    for name in co.PROBES:
        if not name.startswith("rayon"):
            func, args = co.probe(name)
            func(*args)
    for bad in ("rust_teleport", "rayon_install"):
        with pytest.raises(ValueError, match="unknown"):
            co.probe(bad)


@pytest.mark.parametrize(
    ("array_length", "error", "message"),
    [
        (0, ValueError, "array_length must be at least 1, got 0"),
        (-1, ValueError, "array_length must be at least 1, got -1"),
        (1.5, ValueError, "array_length must be a whole number, got 1.5"),
        ("1", TypeError, "array_length must be an integer, got str"),
    ],
)
def test_probe_refuses_an_array_length_below_one(array_length, error, message):
    with pytest.raises(error, match=message):
        co.probe("numpy_dot", array_length)


def test_run_rejects_unknown_probes():
    with pytest.raises(ValueError, match="unknown probes"):
        co.run("smoke", "/nonexistent", probes=("rust_noop", "nope"))


# --- summaries ---------------------------------------------------------------------------


def _report_of(per_call_ns: dict[str, list[float]], loop_ns: float = 10.0) -> dict:
    """One process's report as measure_interleaved returns it."""
    out = {}
    for name, values in per_call_ns.items():
        in_rust = name.startswith("rayon")
        loop = 0.0 if in_rust else loop_ns
        out[name] = {
            "first_call": 1e-3,
            "timed_in": "rust" if in_rust else "python",
            "calls_per_sample": 9,
            "raw": [(v + loop) * 1e-9 for v in values],
            "loop": [loop * 1e-9] * len(values),
        }
    return {"probes": out}


NS = {
    "rust_noop": 40.0,
    "rust_two_objects": 50.0,
    "rust_two_arrays_unborrowed": 100.0,
    "rust_two_arrays": 190.0,
    "rust_two_arrays_borrowed": 400.0,
    "rust_two_arrays_copied": 180.0,
    "rust_dot_loop": 420.0,
    "rust_return_array": 700.0,
    "rust_detach": 100.0,
    "python_noop": 35.0,
    "numba_noop": 50.0,
    "numba_dot": 500.0,
    "numpy_dot": 1000.0,
    "rayon_install": 5000.0,
    "rayon_inline": 2.0,
}


def test_summary_subtracts_the_empty_loop_and_anatomy_adds_up():
    reports = {0: _report_of({k: [v] * 7 for k, v in NS.items()})}
    samples = co.per_call_frame(reports)
    firsts = co.first_calls_in_process(reports)
    summary = co.per_call_summary(samples, firsts).set_index("probe")
    for name, value in NS.items():
        assert summary.loc[name, "net_median_s"] == pytest.approx(value * 1e-9)
        assert summary.loc[name, "first_call_s"] == pytest.approx(1e-3)
    assert summary.loc["rayon_install", "loop_median_s"] == 0
    parts = co.anatomy(samples)
    totals = parts.groupby("bar")["seconds"].sum() * 1e9
    assert totals["rust_dot_loop"] == pytest.approx(420.0 + 10.0)  # net + the loop iteration
    assert totals["rust_return_array"] == pytest.approx(700.0 + 10.0)
    steps = parts[parts["bar"] == "rust_dot_loop"].set_index("step")["seconds"] * 1e9
    assert steps["small-array copies"] == pytest.approx(90.0)
    assert steps["array type/ndim/dtype checks"] == pytest.approx(50.0)
    borrowed = parts[parts["bar"] == "rust_two_arrays_borrowed"].set_index("step")["seconds"]
    assert borrowed["read-only borrow checks"] * 1e9 == pytest.approx(300.0)
    copied = parts[parts["bar"] == "rust_two_arrays_copied"].set_index("step")["seconds"] * 1e9
    assert copied["copies instead of borrows"] == pytest.approx(80.0)


def test_steps_are_paired_so_a_drift_shared_by_all_probes_cancels():
    # Every probe slows down together halfway through (another job starts on the
    # machine); the paired step stays exact although the medians of each probe move.
    drift = [1.0] * 5 + [2.0] * 6
    reports = {
        0: _report_of(
            {
                "rust_noop": [40.0 * d for d in drift],
                "rust_detach": [40.0 * d + 70.0 for d in drift],
            }
        )
    }
    parts = co.anatomy(co.per_call_frame(reports)).set_index("step")
    assert parts.loc["GIL release + re-take", "seconds"] == pytest.approx(70e-9)
    assert parts.loc["GIL release + re-take", "pairs"] == 11


def test_summary_pools_processes_and_reports_their_spread():
    reports = {0: _report_of({"rust_noop": [40.0] * 5}), 1: _report_of({"rust_noop": [60.0] * 5})}
    row = co.per_call_summary(co.per_call_frame(reports)).iloc[0]
    assert row["processes"] == 2 and row["samples"] == 10
    assert row["process_median_low_s"] == pytest.approx(40e-9)
    assert row["process_median_high_s"] == pytest.approx(60e-9)


def test_a_missing_probe_drops_only_the_bars_that_need_it():
    reports = {0: _report_of({"rust_noop": [40.0], "rust_detach": [90.0], "numpy_dot": [900.0]})}
    parts = co.anatomy(co.per_call_frame(reports))
    assert set(parts["bar"]) == {"rust_detach", "numpy_dot"}


def test_mismatched_empty_loops_are_an_error():
    reports = {0: _report_of({"rust_noop": [40.0, 41.0]})}
    reports[0]["probes"]["rust_noop"]["loop"] = [1e-8]
    with pytest.raises(ValueError, match="empty loops"):
        co.per_call_frame(reports)


def _smoke_with(monkeypatch, **changes):
    """The smoke profile's call_overhead section with ``changes`` (first_call.* nested)."""
    section = json.loads(json.dumps(profiles.section("smoke", co.EXPERIMENT)))
    for key, value in changes.items():
        if key.startswith("first_"):
            section["first_call"][key.removeprefix("first_")] = value
        else:
            section[key] = value
    real = profiles.section
    monkeypatch.setattr(
        profiles,
        "section",
        lambda name, experiment: section if experiment == co.EXPERIMENT else real(name, experiment),
    )


def test_cells_are_one_per_process_and_one_per_first_call_repeat(monkeypatch):
    _smoke_with(monkeypatch, processes=3, first_repeats=2)
    sets = co.cell_sets("smoke")
    per_call, first = sets[co.SETS[co.PER_CALL]], sets[co.SETS[co.FIRST_CALL]]
    assert [c.variant for c in per_call] == ["process-000", "process-001", "process-002"]
    assert [c.variant for c in first] == ["repeat-000", "repeat-001"]
    assert len({c.cell_id for c in per_call + first}) == 5
    assert all(c.options["probes"] == list(co.PROBES) for c in per_call)
    assert not any(co.runs_alone(c) for c in per_call + first)


def test_a_per_call_cell_returns_its_samples_as_rows_and_its_first_calls(monkeypatch):
    _smoke_with(monkeypatch, processes=2)
    cell = co.cell_sets("smoke")[co.SETS[co.PER_CALL]][1]
    seen = []

    def fake(**arguments):
        seen.append(arguments)
        return _report_of({"rust_noop": [50.0] * 3})["probes"]

    monkeypatch.setattr(co_cells, "measure_interleaved", fake)
    measured = co.measure(cell)
    assert seen == [cell.options]
    rows = pd.DataFrame(measured["records"])
    assert list(rows.columns) == co.PER_CALL_COLUMNS
    assert set(rows["process"]) == {1} and len(rows) == 3
    firsts = measured["extra"]["first_calls_in_process"]
    assert [(f["process"], f["probe"]) for f in firsts] == [(1, "rust_noop")]


@pytest.mark.parametrize(
    ("changes", "error", "message"),
    [
        ({"processes": 0}, ValueError, "processes must be at least 1, got 0"),
        ({"processes": -2}, ValueError, "processes must be at least 1, got -2"),
        ({"processes": None}, TypeError, "processes must be an integer, got NoneType"),
        ({"first_repeats": 0}, ValueError, "repeats must be at least 1, got 0"),
        ({"first_array_length": 0}, ValueError, "array_length must be at least 1, got 0"),
        ({"first_later_calls": -3}, ValueError, "later_calls must be at least 1, got -3"),
        ({"first_repeats": 2.5}, ValueError, "repeats must be a whole number, got 2.5"),
        ({"first_array_length": "7"}, TypeError, "array_length must be an integer, got str"),
    ],
)
def test_cells_refuse_counts_below_one(monkeypatch, changes, error, message):
    _smoke_with(monkeypatch, **changes)
    with pytest.raises(error, match=message):
        co.cell_sets("smoke")


def test_unknown_probes_are_refused():
    with pytest.raises(ValueError, match="unknown probes"):
        co.cell_sets("smoke", probes=("rust_noop", "no_such_probe"))


def _report(first: float, later: float) -> dict:
    return {
        "stages": {"import_numpy": 0.1, "first_call": first, "later_call_mean": later},
        "facts": {"first_call_new_modules": 0},
    }


def test_first_call_tables_derive_the_papers_estimate_in_process_order():
    loaded = {r: {"rust": _report(2e-4 + r * 1e-5, 1e-6)} for r in range(3)}
    frame = co.first_call_frame(loaded)
    overhead = frame[frame["stage"] == "first_call_overhead"]["seconds"]
    assert list(overhead) == pytest.approx([2e-4 - 1e-6, 2.1e-4 - 1e-6, 2.2e-4 - 1e-6])
    summary = co.first_call_summary(frame)
    assert list(summary["stage"]) == [
        "import_numpy",
        "first_call",
        "later_call_mean",
        "first_call_overhead",
    ]
    assert summary.loc[summary["stage"] == "first_call", "median"].item() == pytest.approx(2.1e-4)
    assert (summary["repeats"] == 3).all()
    assert len(co.first_call_facts(loaded)) == 3


def test_a_first_call_cell_returns_its_stages_as_rows_and_its_facts(monkeypatch):
    _smoke_with(monkeypatch, first_repeats=3, first_array_length=7)
    cell = co.cell_sets("smoke")[co.SETS[co.FIRST_CALL]][2]
    done = []

    def fake_repeat(length, later_calls):
        done.append(length)
        return {"rust": _report(1e-4, 1e-6)}

    monkeypatch.setattr(co_cells, "run_first_call_repeat", fake_repeat)
    measured = co.measure(cell)
    assert done == [7]
    rows = pd.DataFrame(measured["records"])
    assert set(rows["repeat"]) == {2}
    overhead = rows.loc[rows["stage"] == "first_call_overhead", "seconds"]
    assert list(overhead) == pytest.approx([1e-4 - 1e-6])
    assert measured["extra"]["facts"] == [
        {"scenario": "rust", "repeat": 2, "fact": "first_call_new_modules", "value": 0}
    ]


def test_first_call_scripts_compile():
    fc = co_first_call
    for body in (fc._RUST, fc._RUST_STEPWISE, fc._RUST_VERSION_CHECK_FIRST, fc._NUMBA):
        compile(fc._script(body, 10, 3, "/nowhere", False), "<child>", "exec")


def test_every_profile_has_a_call_overhead_section():
    for name in profiles.PROFILES:
        params = profiles.section(name, co.EXPERIMENT)
        assert {
            "array_length",
            "processes",
            "samples",
            "calls_per_sample",
            "rayon_calls_per_sample",
            "warmup_samples",
            "first_call",
        } <= set(params)
        assert {"repeats", "array_length", "later_calls"} <= set(params["first_call"])


# --- the notebook ------------------------------------------------------------------------


@pytest.mark.notebooks
def test_call_overhead_notebook_runs_and_writes_its_figure_tables_and_data(smoke_root):
    nb = run_notebook("call_overhead", smoke_root)
    figures = figures_dir(smoke_root)
    assert (figures / "fig_call_overhead.png").stat().st_size > 10_000
    assert (figures / "fig_call_overhead.pdf").exists()
    for stem in ("per_call", "anatomy", "first_call", "vs_paper"):
        assert (figures / f"call_overhead_{stem}.csv").exists()
        assert (figures / f"call_overhead_{stem}.md").read_text().count("|") > 10
    data = data_dir(smoke_root) / co.EXPERIMENT
    samples = pd.read_csv(data / "per_call" / "raw.csv")
    assert set(samples["probe"]) == set(co.PROBES)
    first = pd.read_csv(data / "first_call" / "raw.csv")
    assert set(first["scenario"]) == set(co.FIRST_CALL_SCENARIOS)
    text = json.dumps(nb)
    assert "the issue's target of 300 ns" in text  # findings computed from the data
    assert "Table 1" in text


def test_load_reads_nothing_and_measures_nothing_when_there_is_no_data(tmp_path):
    assert co.load("smoke", tmp_path) is None
    assert co.recorded_findings("smoke", tmp_path) == []
