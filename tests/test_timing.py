"""The timing module: first call apart, batches of short calls, raw rows, statistics (with
the CI of a median), resume after a kill."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
import types
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tensorbench import build, paths, profiles, results, stats, threads, timing
from tensorbench.experiments import dot, matvec
from tensorbench.harness.cell import Cell
from tensorbench.harness.runner import run_cells
from tensorbench.timing import int_at_least, time_calls


def test_time_calls_times_first_call_apart_with_fresh_args_each_trial():
    calls, made = [], []

    def slow_first(value):
        if not calls:
            time.sleep(0.02)  # a first-call cost, like JIT compilation
        calls.append(value)

    def make_args():
        made.append(len(made))
        return (made[-1],)

    seconds = time_calls(slow_first, make_args, n_trials=4)
    assert len(seconds) == 5
    assert calls == [0, 1, 2, 3, 4]  # fresh arguments for every call, first call included
    assert seconds[0] >= 0.02 > max(seconds[1:])


def test_time_calls_rejects_zero_trials():
    with pytest.raises(ValueError, match="n_trials"):
        time_calls(lambda: None, tuple, 0)


def test_int_at_least_takes_integers_and_whole_floats_and_names_what_is_wrong():
    assert int_at_least("n", 3) == 3 and int_at_least("n", 0, minimum=0) == 0
    for whole in (np.int64(7), 7.0, np.float64(1.0e3)):
        value = int_at_least("n", whole)
        assert type(value) is int and value == whole
    with pytest.raises(ValueError, match="n must be at least 2, got 1"):
        int_at_least("n", 1, minimum=2)
    with pytest.raises(ValueError, match="n must be a whole number, got inf"):
        int_at_least("n", float("inf"))
    for wrong in (True, "3", None, [3], np.bool_(True)):
        with pytest.raises(TypeError, match="n must be an integer, got"):
            int_at_least("n", wrong)


def test_cells_respect_profile_caps_and_regimes():
    cells = dot.cells([10, 100, 1000], 3, 5, max_size={"python": 100})
    python_sizes = sorted(c.n1 for c in cells if c.implementation == "python")
    assert python_sizes == [10, 100]
    assert len({c.cell_id for c in cells}) == len(cells)
    rows = matvec.cells("rows", [10, 20], 7, 2, 0)
    assert {(c.n1, c.n2) for c in rows} == {(10, 7), (20, 7)}
    cols = matvec.cells("cols", [10], 7, 2, 0)
    assert {(c.n1, c.n2) for c in cols} == {(7, 10)}
    with pytest.raises(ValueError, match="regime"):
        matvec.shape("diagonal", 3, 3)


def test_every_profile_defines_the_dense_experiments():
    for name in profiles.PROFILES:
        assert profiles.section(name, "dot")["n_trials"] >= 1
        assert set(profiles.section(name, "matvec")["sizes"]) == set(matvec.REGIMES)
    assert profiles.section("paper", "dot")["n_trials"] == 30
    with pytest.raises(ValueError, match="unknown profile"):
        profiles.load("nonexistent")


def test_paper_profile_has_the_papers_exact_sizes():
    assert [int(n) for n in profiles.section("paper", "dot")["sizes"]] == [
        10**k for k in range(3, 9)
    ]
    sizes = profiles.section("paper", "matvec")["sizes"]
    assert [int(n) for n in sizes["rows"]] == [10**k for k in range(2, 7)]
    assert [int(n) for n in sizes["cols"]] == [10**k for k in range(2, 7)]
    assert [int(n) for n in sizes["square"]] == [10**k for k in range(2, 5)]


@pytest.mark.parametrize("experiment", ["dot", "matvec"])
@pytest.mark.parametrize(
    "implementation",
    [
        "python",
        "numba",
        "rust",
        "rust_from_python",
        "numpy",
        "rust_tuned",
        "rust_from_python_tuned",
    ],
)
def test_measure_returns_first_call_plus_trials(experiment, implementation):
    module = {"dot": dot, "matvec": matvec}[experiment]
    cell = Cell(
        experiment, implementation, 20, 3 if experiment == "matvec" else 0, n_trials=2, seed=1
    )
    seconds = module.measure(cell)
    assert len(seconds) == 3 and all(s > 0 for s in seconds)


def test_run_cells_writes_raw_rows_metadata_and_single_thread_workers(tmp_path):
    cells = dot.cells([50, 100], 2, 3, implementations=("numpy", "rust_from_python"))
    raw = run_cells(cells, tmp_path, log=lambda _: None)
    assert list(raw.columns) == results.RAW_COLUMNS
    assert len(raw) == len(cells) * 3
    assert raw.groupby(["implementation", "size"])["is_first_call"].sum().eq(1).all()
    assert (raw.loc[raw.is_first_call, "trial"] == 0).all()
    meta = results.read_json(tmp_path / "metadata.json")
    assert meta["cells_done"] == len(cells) == meta["cells_planned"]
    assert meta["machine"]["cpu_model"] and meta["versions"]["numpy"] == np.__version__
    assert meta["rust_build"]["is_release"] is True
    assert meta["worker"]["thread_settings"] == {k: "1" for k in threads.THREAD_VARIABLES}
    assert all(p["num_threads"] == 1 for p in meta["worker"]["threadpools"])
    assert {"commit", "dirty"} <= set(meta["git"])
    assert pd.read_csv(tmp_path / "raw.csv").shape == raw.shape


def test_a_failing_worker_raises_with_its_error(tmp_path):
    bad = Cell("dot", "no_such_implementation", 10, n_trials=1)
    with pytest.raises(RuntimeError, match="unknown dot implementation"):
        run_cells([bad], tmp_path, log=lambda _: None)
    assert not list((tmp_path / "cells").glob("*.csv"))


RUNNER = textwrap.dedent("""
    import sys
    from pathlib import Path
    from tensorbench.experiments import dot
    from tensorbench.harness.runner import run_cells
    cells = dot.cells([10, 20, 30, 40, 50, 60], 2, 0, implementations=("python", "numba"))
    run_cells(cells, Path(sys.argv[1]), jobs=int(sys.argv[2]))
""")


@pytest.mark.parametrize("jobs", [1, 2])
def test_an_interrupted_run_keeps_finished_cells_and_resumes(tmp_path, jobs):
    run_dir = tmp_path / "run"
    proc = subprocess.Popen(
        [sys.executable, "-c", RUNNER, str(run_dir), str(jobs)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    cell_dir = run_dir / "cells"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(list(cell_dir.glob("*.json"))) < 2:
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)  # the runner and its worker, mid-run
    proc.wait()
    # A cell is finished once its provenance is written (after its rows): a kill between
    # the two writes leaves a cell that the next run measures again.
    finished = {
        p.name: p.read_bytes() for p in cell_dir.glob("*.csv") if p.with_suffix(".json").exists()
    }
    assert 2 <= len(finished) < 12, "the kill should land mid-run"
    for content in finished.values():  # finished cells are whole files
        rows = pd.read_csv(pd.io.common.StringIO(content.decode()))
        assert len(rows) == 3 and rows["is_first_call"].sum() == 1

    log = []
    cells = dot.cells([10, 20, 30, 40, 50, 60], 2, 0, implementations=("python", "numba"))
    raw = run_cells(cells, run_dir, log=log.append, jobs=jobs)
    assert any(f"{len(finished)} of 12 cells already on disk" in line for line in log)
    assert sum("[" in line and "]" in line for line in log) == 12 - len(finished)
    for name, content in finished.items():  # kept, not recomputed
        assert (cell_dir / name).read_bytes() == content
    assert len(raw) == 12 * 3
    assert not [p for p in run_dir.rglob("*") if p.name.endswith(".tmp")]


def test_summary_statistics_exclude_the_first_call():
    raw = pd.DataFrame(
        {
            "experiment": "dot",
            "regime": "",
            "variant": "",
            "implementation": "x",
            "n1": 10,
            "n2": 0,
            "size": 10,
            "trial": range(5),
            "seconds": [9.0, 1.0, 2.0, 3.0, 4.0],
            "is_first_call": [True, False, False, False, False],
        }
    )
    row = stats.summarize(raw).iloc[0]
    assert row["n_calls"] == 4 and row["mean"] == 2.5 and row["median"] == 2.5 and row["min"] == 1.0
    assert row["std"] == pytest.approx(np.std([1, 2, 3, 4], ddof=1))
    # t(0.975, 3) = 3.182446305284263
    assert row["ci95"] == pytest.approx(3.182446305284263 * row["std"] / 2)
    assert row["first_call"] == 9.0 and row["first_call_overhead"] == 6.5


def test_speedups_divide_the_baseline_by_each_implementation():
    summary = pd.DataFrame(
        {
            "implementation": ["python", "rust", "python", "rust"],
            "size": [1, 1, 2, 2],
            "mean": [10.0, 2.0, 100.0, 4.0],
        }
    )
    table = stats.speedups(summary, "python")
    assert table.loc[1, "rust"] == 5.0 and table.loc[2, "rust"] == 25.0
    with pytest.raises(ValueError, match="baseline"):
        stats.speedups(summary, "numba")


def test_results_of_machines_and_profiles_never_share_a_folder(tmp_path, monkeypatch):
    monkeypatch.setenv(paths.MACHINE_VARIABLE, "Workstation A")
    a = paths.run_dir("data", "quick", tmp_path)
    b = paths.run_dir("data", "paper", tmp_path)
    monkeypatch.setenv(paths.MACHINE_VARIABLE, "Workstation B")
    c = paths.run_dir("data", "quick", tmp_path)
    assert len({a, b, c}) == 3 and a.parent.name == "workstation-a"
    monkeypatch.delenv(paths.MACHINE_VARIABLE)
    assert paths.machine_label().endswith(f"-{os.cpu_count()}cpu")


def test_timing_refuses_a_debug_build(monkeypatch):
    debug = types.SimpleNamespace(IS_RELEASE_BUILD=False)
    monkeypatch.delenv(build.ALLOW_DEBUG_VARIABLE, raising=False)
    with pytest.raises(build.DebugBuildError, match="debug build"):
        build.require_release_build(debug)
    monkeypatch.setenv(build.ALLOW_DEBUG_VARIABLE, "1")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        build.require_release_build(debug)
    assert any("DEBUG BUILD" in str(w.message) for w in caught)
    build.require_release_build()  # the installed extension is a release build


def test_atomic_write_leaves_the_old_file_when_writing_fails(tmp_path):
    target = tmp_path / "x.json"
    results.atomic_write_json(target, {"a": 1})

    class Unserializable:
        def __str__(self):
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        results.atomic_write_json(target, {"a": Unserializable()})
    assert results.read_json(target) == {"a": 1}
    assert [p.name for p in Path(tmp_path).iterdir()] == ["x.json"]


# --- timing in batches (the overhead studies) and the CI of a median -------------------


def test_batch_timers_call_the_function_exactly_k_times_with_its_arguments():
    seen = []
    calls, empty = timing.batch_timers(lambda a, b: seen.append((a, b)), (1, "two"))
    assert calls.timeit(7) >= 0
    assert seen == [(1, "two")] * 7
    assert empty.timeit(7) >= 0 and len(seen) == 7  # the empty loop calls nothing


def test_time_batched_times_the_first_call_apart_and_pairs_samples_with_empty_loops():
    count = []
    timed = timing.time_batched(
        lambda: count.append(1),
        (),
        3,
        calls_per_sample=4,
        warmup_samples=2,
        loop_after_each_sample=True,
    )
    first, per_call, per_loop = timed["seconds"][0], timed["seconds"][1:], timed["loop_seconds"]
    assert len(count) == 1 + 2 * 4 + 3 * 4  # first call, warm-up, samples
    assert first > 0 and len(per_call) == len(per_loop) == 3
    with pytest.raises(ValueError, match="calls_per_sample"):
        timing.time_batched(lambda: None, (), 3, calls_per_sample=0)


def test_median_ci_brackets_the_median_and_needs_enough_values():
    values = np.arange(1.0, 101.0)
    low, high = stats.median_ci(values)
    assert low < np.median(values) < high
    assert (low, high) == (40.0, 61.0)  # the textbook order statistics for n = 100
    assert all(np.isnan(stats.median_ci([1.0, 2.0, 3.0])))


@pytest.mark.parametrize(
    ("level", "error", "message"),
    [
        (0.0, ValueError, r"level must be between 0 and 1 \(exclusive\), got 0.0"),
        (1, ValueError, r"level must be between 0 and 1 \(exclusive\), got 1"),
        (95, ValueError, r"level must be between 0 and 1 \(exclusive\), got 95"),
        (-0.5, ValueError, r"level must be between 0 and 1 \(exclusive\), got -0.5"),
        (float("nan"), ValueError, r"level must be between 0 and 1 \(exclusive\), got nan"),
        ("0.95", TypeError, "level must be a number, got str"),
        (None, TypeError, "level must be a number, got NoneType"),
    ],
)
def test_median_ci_refuses_a_level_outside_zero_to_one(level, error, message):
    with pytest.raises(error, match=message):
        stats.median_ci(np.arange(100.0), level)


def test_median_ci_refuses_values_that_are_not_one_dimensional():
    with pytest.raises(ValueError, match=r"values must be 1-D, got shape \(10, 10\)"):
        stats.median_ci(np.arange(100.0).reshape(10, 10))
    with pytest.raises(ValueError, match=r"values must be 1-D, got shape \(\)"):
        stats.median_ci(3.0)


def test_time_batched_times_the_first_call_alone_then_powers_of_two():
    calls = []
    timed = timing.time_batched(
        lambda x: calls.append(x) or x, (7,), n_samples=4, min_sample_seconds=0.0
    )
    assert timed["result"] == 7 and timed["calls_per_sample"] == 1
    assert len(timed["seconds"]) == 5 and len(calls) == 1 + 1 + 4
    # A batch never lasts 10 s here, so the calibration doubles up to the cap (no timing
    # decides the outcome).
    timed = timing.time_batched(
        lambda: None, (), n_samples=3, min_sample_seconds=10.0, max_calls_per_sample=8
    )
    assert timed["calls_per_sample"] == 8
    assert all(s >= 0 for s in timed["seconds"]) and timed["empty_loop_seconds"] >= 0
    with pytest.raises(ValueError, match="n_samples"):
        timing.time_batched(lambda: None, (), n_samples=0, min_sample_seconds=0.0)


@pytest.mark.parametrize(
    ("change", "error", "message"),
    [
        (
            {"min_sample_seconds": -1.0},
            ValueError,
            "min_sample_seconds must be at least 0, got -1",
        ),
        ({"min_sample_seconds": float("nan")}, ValueError, "min_sample_seconds must be at least 0"),
        ({"min_sample_seconds": None}, TypeError, "min_sample_seconds must be a number"),
        ({"max_calls_per_sample": 0}, ValueError, "max_calls_per_sample must be at least 1, got 0"),
        ({"max_calls_per_sample": 2.5}, ValueError, "max_calls_per_sample must be a whole number"),
    ],
)
def test_time_batched_refuses_bad_arguments_before_calling_anything(change, error, message):
    calls = []
    with pytest.raises(error, match=message):
        timing.time_batched(
            lambda: calls.append(1), (), **{"n_samples": 1, "min_sample_seconds": 0.0, **change}
        )
    assert calls == []


def test_time_batched_with_a_given_batch_size_calls_exactly_that_many_times():
    calls = []
    timed = timing.time_batched(
        lambda: calls.append(1), (), 2, min_sample_seconds=10.0, calls_per_sample=3
    )
    assert timed["calls_per_sample"] == 3  # no calibration: min_sample_seconds is not used
    assert len(calls) == 1 + 2 * 3 and len(timed["seconds"]) == 3
    assert len(timed["loop_seconds"]) == timing.EMPTY_LOOPS_AFTER  # after the samples
    assert timed["empty_loop_seconds"] == float(np.median(timed["loop_seconds"]))


@pytest.mark.parametrize(
    ("change", "error", "message"),
    [
        ({"calls_per_sample": 0}, ValueError, "calls_per_sample must be at least 1, got 0"),
        ({"calls_per_sample": 2.5}, ValueError, "calls_per_sample must be a whole number"),
        ({"calls_per_sample": "4"}, TypeError, "calls_per_sample must be an integer, got str"),
        ({"warmup_samples": -1}, ValueError, "warmup_samples must be at least 0, got -1"),
        ({"n_samples": True}, TypeError, "n_samples must be an integer, got bool"),
    ],
)
def test_time_batched_refuses_a_bad_batch_size_or_warm_up_before_calling_anything(
    change, error, message
):
    calls = []
    with pytest.raises(error, match=message):
        timing.time_batched(lambda: calls.append(1), (), **{"n_samples": 1, **change})
    assert calls == []


@pytest.mark.parametrize(
    ("value", "error", "message"),
    [
        (-0.5, ValueError, "wait must be at least 0, got -0.5"),
        (float("nan"), ValueError, "wait must be at least 0, got nan"),
        ("1", TypeError, "wait must be a number, got str"),
        (False, TypeError, "wait must be a number, got bool"),
    ],
)
def test_seconds_at_least_zero_names_what_is_wrong(value, error, message):
    with pytest.raises(error, match=message):
        timing.seconds_at_least_zero("wait", value)
    assert timing.seconds_at_least_zero("wait", 0) == 0.0


def test_names_among_accepts_known_names_and_names_what_is_wrong():
    from tensorbench.timing import names_among

    assert names_among("tensors", ("a", "b"), ["a", "b", "c"]) == ["a", "b"]
    with pytest.raises(TypeError, match="tensors must be a list of names"):
        names_among("tensors", "a", ["a"])
    with pytest.raises(ValueError, match=r"unknown tensors \['z'\]"):
        names_among("tensors", ["a", "z"], ["a"])
    with pytest.raises(ValueError, match="tensors must not be empty"):
        names_among("tensors", [], ["a"])
    assert names_among("tensors", [], ["a"], allow_empty=True) == []
