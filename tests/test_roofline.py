"""The roofline: kernel cells placed against the bound of their level, probe errors drawn
and counted as such, and the roofline notebook at the smoke profile."""

from __future__ import annotations

import json

import matplotlib
import pandas as pd
import pytest
from conftest import data_dir, figures_dir, run_notebook

from tensorbench.experiments import bandwidth, roofline
from tensorbench.experiments.bandwidth_levels import NO_BOUND, PROBE_ERROR, WITHIN

matplotlib.use("Agg")

KIB, MIB = 1 << 10, 1 << 20
CACHES = {"L1": 32 * KIB, "L2": 1 * MIB, "L3": 32 * MIB}
CURVE = pd.DataFrame(
    {
        "kernel": "read",
        "working_set_bytes": [16 * KIB, 256 * KIB, 8 * MIB, 256 * MIB],
        "bytes_per_second": [200e9, 100e9, 40e9, 10e9],
    }
)


def cells():
    return pd.DataFrame(
        {
            "experiment": ["dot", "dot", "matvec-square", "ttv"],
            "implementation": ["rust_tuned", "numpy", "rust_from_python_tuned", "rust"],
            "size": [1000, 10**6, 2000, 800],
            # 16 KB at 100 GB/s: within L1's 200; 16 MB at 80 GB/s: faster than the L3's
            # 40 (a probe error); 32 MB at 20 GB/s: within L3; 8 GB at 5 GB/s: DRAM's 10.
            "bytes_moved": [16e3, 16e6, 32e6, 8e9],
            "seconds": [16e3 / 100e9, 16e6 / 80e9, 32e6 / 20e9, 8e9 / 5e9],
        }
    )


class FakeRun:
    curve = CURVE
    caches = CACHES

    def caption(self):
        return "a synthetic run"


def test_each_cell_gets_the_bound_of_its_level_and_a_status():
    placed = roofline.place(cells(), CURVE, CACHES)
    assert list(placed.columns) == roofline.POINT_COLUMNS
    assert list(placed["level"]) == ["L1", "L3", "L3", "DRAM"]
    assert list(placed["bound_bytes_per_second"]) == [200e9, 40e9, 40e9, 10e9]
    assert list(placed["status"]) == [WITHIN, PROBE_ERROR, WITHIN, WITHIN]
    assert placed["fraction_of_bound"].round(6).tolist() == [0.5, 2.0, 0.5, 0.5]


def test_a_level_without_points_gives_no_bound_not_a_verdict():
    placed = roofline.place(cells(), CURVE.iloc[:1], CACHES)
    assert list(placed["status"]) == [WITHIN, NO_BOUND, NO_BOUND, NO_BOUND]


def test_a_probe_error_is_drawn_as_one_never_as_within_the_limit():
    placed = roofline.place(cells(), CURVE, CACHES)
    fig = roofline.roofline_figure(placed, FakeRun(), "test")
    ax = fig.axes[0]
    by_label = {line.get_label(): line for line in ax.get_lines()}
    error = by_label["probe error (faster than its bound)"]
    assert list(error.get_xdata()) == [16e6]
    # The implementation whose only cell is a probe error has no ordinary point.
    assert not any(label.startswith("dot: NumPy") for label in by_label)
    assert "dot: Rust (tuned)" in by_label
    text = roofline.roofline_alt(placed)
    assert "1 cells faster than their bound" in text


def test_the_summary_counts_within_and_probe_errors_per_implementation():
    table = roofline.summary_table(roofline.place(cells(), CURVE, CACHES))
    numpy = table[table["implementation"] == "numpy"].iloc[0]
    assert (numpy["within"], numpy["probe_errors"]) == (0, 1)
    lines = roofline.findings_lines(roofline.place(cells(), CURVE, CACHES))
    assert lines[0].startswith("4 kernel cells placed: 3 within their bound, 1 probe errors")
    assert any(line.startswith("Probe error: dot numpy") for line in lines)


def test_the_bound_line_steps_down_at_each_level():
    line = roofline.bound_line(CURVE, CACHES, 1e3, 1e9)
    rates = (line["bytes"] / line["seconds"]).dropna()
    assert (rates.diff().dropna() <= 1e-6 * rates.max()).all()  # never up (to rounding)
    assert rates.max() == pytest.approx(200e9) and rates.min() == pytest.approx(10e9)
    assert set(line["level"]) == {"L1", "L2", "L3", "DRAM"}


@pytest.mark.notebooks
def test_the_roofline_notebook_shows_the_curve_and_places_the_kernels(smoke_root):
    nb = run_notebook("roofline", smoke_root)
    figures = figures_dir(smoke_root)
    for stem in ("bandwidth_curve", "roofline"):
        assert (figures / f"{stem}.png").stat().st_size > 10_000
    plateaus = pd.read_csv(figures / "bandwidth_plateaus.csv")
    assert {"L1", "L2", "DRAM"} <= set(plateaus["level"])
    raw = pd.read_csv(data_dir(smoke_root) / bandwidth.CURVE_SET / "raw.csv")
    assert set(raw["kernel"]) == {"read", "copy"}
    text = json.dumps(nb)
    assert "read_bandwidth() on 8 MiB read at" in text  # the NumPy comparison, from data
    assert "Plateaus of the read curve" in text


def test_the_level_bound_for_the_runtime_figures_names_its_levels():
    rows = pd.DataFrame({"size": [1000, 10**6, 10**8]})
    bound = roofline.level_bound(rows, "size", lambda r: 16 * r["size"], FakeRun())
    assert list(bound["level"]) == ["L1", "L3", "DRAM"]
    assert bound["seconds"].tolist() == pytest.approx([16e3 / 200e9, 16e6 / 40e9, 16e8 / 10e9])
    label = roofline.level_bound_label(bound)
    assert "L1 200.0 GB/s, L3 40.0 GB/s, DRAM 10.0 GB/s" in label
    empty = roofline.level_bound(rows, "size", lambda r: 16 * r["size"], None)
    assert empty.empty and "no bandwidth curve" in roofline.level_bound_label(empty)


def _curve_on_disk(base, caches=CACHES):
    """A bandwidth-curve folder under ``base`` holding CURVE as raw records."""
    folder = base / bandwidth.CURVE_SET
    folder.mkdir(parents=True)
    raw = CURVE.assign(
        experiment="bandwidth",
        implementation="read",
        n1=CURVE["working_set_bytes"],
        streams=1,
        unroll=1,
        isa="avx2",
        bytes_per_pass=CURVE["working_set_bytes"],
        write_allocate_bytes=0,
        passes_per_timing=1,
        timing=0,
        seconds=CURVE["working_set_bytes"] / CURVE["bytes_per_second"],
        is_first_call=False,
    )[bandwidth.CURVE_COLUMNS]
    raw.to_csv(folder / "raw.csv", index=False)
    meta = {"cell_extra": {"read__16384": {"cache_bytes": caches}}}
    (folder / "metadata.json").write_text(json.dumps(meta))


def _dense_run(base):
    from tensorbench.experiments.dense_report import DenseRun

    summary = pd.DataFrame(
        {
            "implementation": "rust_tuned",
            "size": [1000, 10**6, 10**8],
            "mean": [1e-7, 1e-3, 0.2],
            "ci95_low": [1e-7, 1e-3, 0.2],
            "ci95_high": [1e-7, 1e-3, 0.2],
            "n_calls": 2,
        }
    )
    return DenseRun("dot", "smoke", summary, summary, {}, base / "dot", base)


def test_the_dense_figure_draws_the_bound_of_each_sizes_level(tmp_path):
    from tensorbench.experiments import dense_report

    run = _dense_run(tmp_path)
    kwargs = {"x": "size", "xlabel": "n", "title": "t", "bytes_of": lambda r: 16 * r["size"]}
    # No curve on disk (and, here, no read_bandwidth cell): no level bound is drawn.
    without = dense_report.figure(run, **kwargs)
    assert not any("of the level" in x.get_label() for x in without.axes[0].get_lines())
    _curve_on_disk(tmp_path)
    fig = dense_report.figure(run, **kwargs)
    labels = [" ".join(t.get_text().split()) for t in fig.axes[0].get_legend().get_texts()]
    assert any("L1 200.0 GB/s, L3 40.0 GB/s, DRAM 10.0 GB/s" in t for t in labels), labels
    line = next(x for x in fig.axes[0].get_lines() if "of the level" in x.get_label())
    assert list(line.get_ydata()) == pytest.approx([16e3 / 200e9, 16e6 / 40e9, 16e8 / 10e9])


def test_the_ttv_bound_is_the_level_the_input_lives_in_and_names_the_dram_ratio(tmp_path):
    from tensorbench.experiments import ttv_layout_report, ttv_report
    from tensorbench.experiments.dense_impls import BANDWIDTH
    from tensorbench.experiments.dense_report import DenseRun

    n, nnz = 300, 270_000
    input_bytes = 32 * nnz  # 8.64 MB: the L3 of CACHES, whose plateau is 40 GB/s
    rows = [{"implementation": "rust", "variant": "sorted-C", "n1": n, "size": n, "mean": 1e-3}]
    # The run's own DRAM probe: 1e9 bytes in 0.1 s.
    rows.append(
        {"implementation": BANDWIDTH, "variant": "", "n1": 10**9, "size": 10**9, "min": 0.1}
    )
    extra = {f"rust__{n}__sorted-C": {"nnz": nnz, "input_bytes": input_bytes}}
    run = DenseRun(
        "ttv-layout",
        "smoke",
        pd.DataFrame(),
        pd.DataFrame(rows),
        {"cell_extra": extra},
        tmp_path / "ttv-layout",
        tmp_path,
    )
    # Without a curve on disk: the probe's DRAM rate.
    assert ttv_report.bound(run)["seconds"].tolist() == pytest.approx([input_bytes / 10e9])
    _curve_on_disk(tmp_path)
    limit = ttv_report.bound(run).iloc[0]
    assert (limit["level"], limit["bytes_per_second"]) == ("L3", 40e9)
    assert limit["seconds"] == pytest.approx(input_bytes / 40e9)
    assert limit["dram_seconds"] == pytest.approx(input_bytes / 10e9)
    assert "L3 40.0 GB/s" in ttv_report.bound_text(run)
    (finding,) = ttv_layout_report.findings(run)
    assert f"{1e-3 / (input_bytes / 40e9):.2f}x" in finding.text
    assert f"{1e-3 / (input_bytes / 10e9):.2f}x the DRAM read time" in finding.text
