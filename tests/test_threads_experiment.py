"""The thread-scaling experiment's cells and report (timings are not tested)."""

from __future__ import annotations

import pandas as pd
import pytest

from tensorbench.experiments import threads, threads_report
from tensorbench.experiments.dense_report import DenseRun


def test_thread_counts_are_powers_of_two_and_the_core_count():
    assert threads.thread_counts(1) == [1]
    assert threads.thread_counts(2) == [1, 2]
    assert threads.thread_counts(6) == [1, 2, 4, 6]
    assert threads.thread_counts(8) == [1, 2, 4, 8]
    with pytest.raises(ValueError, match="cores must be at least 1"):
        threads.thread_counts(0)


def test_one_cell_per_kernel_and_size_times_every_thread_count():
    cells = threads.scaling_cells({"mttkrp": [5, 10], "innerprod": [5]}, 3, 0.001, 7, cores=4)
    assert len(cells) == 3
    assert len({c.cell_id for c in cells}) == len(cells)
    assert {c.threads for c in cells} == {4}
    assert all(threads.runs_alone(c) for c in cells)
    assert {c.seed for c in cells if c.n1 == 10} == {17}
    with pytest.raises(ValueError, match="unknown kernels"):
        threads.scaling_cells({"gemm": [5]}, 3, 0.001, 7)
    with pytest.raises(TypeError, match="non-empty mapping"):
        threads.scaling_cells([], 3, 0.001, 7)
    with pytest.raises(ValueError, match="has no sizes"):
        threads.scaling_cells({"dot": []}, 3, 0.001, 7)
    with pytest.raises(ValueError, match="min_sample_seconds must be"):
        threads.scaling_cells({"dot": [5]}, 3, -1.0, 7)


def test_a_cell_measures_every_count_in_one_process():
    (cell,) = threads.scaling_cells({"dot": [3000]}, 2, 0.0, 7, cores=2)
    report = threads.measure(cell)
    rows = pd.DataFrame(report["records"])
    assert sorted(set(rows["variant"])) == ["dot-t1", "dot-t2"]
    assert (rows.groupby("variant").size() == 3).all()  # the first call and 2 samples
    assert report["extra"]["thread_counts"] == [1, 2]
    assert report["extra"]["max_relative_difference_vs_1_thread"] == 0.0


def _run(points):
    rows = []
    for kernel, size, t, mean, half in points:
        rows.append(
            {
                "implementation": "rust_from_python",
                "regime": kernel,
                "n1": size,
                "size": size,
                "variant": f"{kernel}-t{t}",
                "mean": mean,
                "ci95_low": mean - half,
                "ci95_high": mean + half,
                "n_calls": 5,
            }
        )
    return DenseRun("threads", "test", pd.DataFrame(), pd.DataFrame(rows), {}, None, None)


def test_the_pool_pays_from_the_first_size_that_stays_faster_and_slow_tiny_calls_are_caught():
    run = _run(
        [
            ("dot", 10, 1, 1.0, 0.01),
            ("dot", 10, 2, 1.0, 0.01),
            ("dot", 100, 1, 2.0, 0.01),
            ("dot", 100, 2, 1.5, 0.01),
            ("dot", 1000, 1, 4.0, 0.01),
            ("dot", 1000, 2, 4.0, 0.01),
            ("dot", 10000, 1, 8.0, 0.01),
            ("dot", 10000, 2, 4.4, 0.01),
            ("ttv", 10, 1, 1.0, 0.01),
            ("ttv", 10, 2, 1.5, 0.01),
        ]
    )
    table = threads_report.scaling_table(run)
    assert threads_report.pool_pays_from(table, "dot") == 10000
    assert threads_report.pool_pays_from(table, "ttv") is None
    row = table[(table["kernel"] == "dot") & (table["size"] == 10000) & (table["threads"] == 2)]
    assert row["efficiency"].iloc[0] == pytest.approx(8.0 / 4.4 / 2)
    texts = [f.text for f in threads_report.findings(run)]
    assert any("SLOWER than 1 thread at sizes 10" in t for t in texts if t.startswith("sparse TTV"))
    assert any("no size is significantly slower" in t for t in texts if t.startswith("dot"))
    dot = next(t for t in texts if t.startswith("dot"))
    assert "1.82x as fast as on 1 thread at size 10,000" in dot
    assert "the pool pays from size 10,000 up" in dot


def test_a_size_that_is_faster_without_every_larger_one_is_named_not_hidden():
    run = _run(
        [
            ("ttv", 400, 1, 2.6, 0.01),
            ("ttv", 400, 2, 1.4, 0.01),
            ("ttv", 800, 1, 13.1, 1.0),
            ("ttv", 800, 2, 12.3, 1.0),
        ]
    )
    table = threads_report.scaling_table(run)
    assert threads_report.pool_pays_from(table, "ttv") is None
    (text,) = [f.text for f in threads_report.findings(run) if f.text.startswith("sparse TTV")]
    assert "significantly faster than 1 thread only at size 400, not at every size above" in text
