"""The MTTKRP experiment's cells, implementations and report (timings are not tested)."""

from __future__ import annotations

import kernels_rs.pyttb
import numpy as np
import pandas as pd
import pytest
import pyttb as ttb

import kernels_rs
from tensorbench.experiments import mttkrp, mttkrp_impls, mttkrp_report
from tensorbench.experiments.dense_report import DenseRun


def _tensor(shape, nnz, seed):
    rng = np.random.default_rng(seed)
    subs = np.column_stack([rng.integers(0, n, nnz) for n in shape]).astype(np.int64)
    return ttb.sptensor(subs, rng.uniform(-1, 1, (nnz, 1)), shape)


@pytest.mark.parametrize("mode", [0, 1, 2])
def test_numba_one_pass_equals_the_rust_kernel_and_pyttb(mode):
    tensor = _tensor((7, 5, 6), 60, mode)
    factors = mttkrp_impls.factor_matrices(tensor.shape, 3, 1)
    got = mttkrp_impls.mttkrp_numba(tensor, factors, mode)
    rust = kernels_rs.mttkrp(tensor.subs, tensor.vals, tensor.shape, factors, mode, threads=1)
    np.testing.assert_allclose(got, rust, rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(got, tensor.mttkrp(factors, mode), rtol=1e-12, atol=1e-12)


def test_numba_one_pass_refuses_bad_input_and_handles_empty():
    tensor = _tensor((4, 4, 4), 10, 0)
    factors = mttkrp_impls.factor_matrices(tensor.shape, 2, 0)
    with pytest.raises(ValueError, match="mode must be in"):
        mttkrp_impls.mttkrp_numba(tensor, factors, 3)
    with pytest.raises(ValueError, match="factor 1 must have shape"):
        mttkrp_impls.mttkrp_numba(tensor, [factors[0], factors[1][:3], factors[2]], 0)
    bad = _tensor((4, 4, 4), 3, 1)
    bad.subs[1, 2] = 9  # pyttb checks subscripts when it builds a tensor, not after
    with pytest.raises(ValueError, match="subscript out of range"):
        mttkrp_impls.mttkrp_numba(bad, factors, 0)
    empty = ttb.sptensor(shape=(4, 4, 4))
    assert not mttkrp_impls.mttkrp_numba(empty, factors, 1).any()


def test_acceleration_switches_the_drop_in_and_restores_the_thread_count():
    before = kernels_rs.get_num_threads()
    with mttkrp_impls.acceleration("rust_all_cores", 3):
        assert kernels_rs.pyttb.is_enabled() and kernels_rs.get_num_threads() == 3
    assert not kernels_rs.pyttb.is_enabled() and kernels_rs.get_num_threads() == before
    with mttkrp_impls.acceleration("pyttb", 3):
        assert not kernels_rs.pyttb.is_enabled() and kernels_rs.get_num_threads() == before


def test_accelerated_cp_als_gives_stock_pyttbs_fit():
    tensor = _tensor((9, 8, 7), 120, 3)
    init = mttkrp_impls.initial_guess(tensor.shape, 3, 5)
    _, stock = mttkrp_impls.cp_als("pyttb", tensor, init, 4)
    with mttkrp_impls.acceleration("rust_from_python", 1):
        _, fast = mttkrp_impls.cp_als("rust_from_python", tensor, init, 4)
    assert stock["iters"] == fast["iters"]  # pyttb reports the last iteration, from 0
    assert abs(stock["fit"] - fast["fit"]) <= 1e-10 * abs(stock["fit"])
    with pytest.raises(ValueError, match="unknown cp_als implementation"):
        mttkrp_impls.cp_als("numba", tensor, init, 1)


def test_cells_cover_every_rank_and_mode_and_check_their_arguments():
    cells = mttkrp.mttkrp_cells([10, 20], [4, 8], [0, 1, 2], 2, 7, 0.01)
    kernels = [c for c in cells if c.implementation != "read_bandwidth"]
    assert len(kernels) == 2 * 2 * 3 * len(mttkrp_impls.MTTKRP_IMPLEMENTATIONS)
    assert len({c.cell_id for c in cells}) == len(cells)
    assert {c.threads for c in kernels if c.implementation == "rust_all_cores"} == {
        mttkrp.all_cores()
    }
    assert {c.threads for c in kernels if c.implementation != "rust_all_cores"} == {1}
    assert {c.seed for c in kernels if c.n1 == 10} == {17}
    with pytest.raises(ValueError, match="modes must be below 3"):
        mttkrp.mttkrp_cells([10], [4], [3], 2, 7, 0.01)
    with pytest.raises(ValueError, match="density must be in"):
        mttkrp.mttkrp_cells([10], [4], [0], 2, 7, 1.5)
    with pytest.raises(TypeError, match="list of names"):
        mttkrp.mttkrp_cells([10], [4], [0], 2, 7, 0.01, "pyttb")
    with pytest.raises(ValueError, match="unknown implementations"):
        mttkrp.mttkrp_cells([10], [4], [0], 2, 7, 0.01, ["splatt"])
    with pytest.raises(ValueError, match="must not be empty"):
        mttkrp.mttkrp_cells([], [4], [0], 2, 7, 0.01)


def test_multi_threaded_and_large_cells_run_alone_pyttb_side_by_side():
    cells = {
        (c.implementation, c.n1): c for c in mttkrp.mttkrp_cells([10, 800], [16], [0], 1, 0, 0.01)
    }
    assert mttkrp.runs_alone(cells[("rust_all_cores", 10)]) == (mttkrp.all_cores() > 1)
    assert not mttkrp.runs_alone(cells[("pyttb", 800)])
    assert mttkrp.runs_alone(cells[("rust_from_python", 800)])
    assert not mttkrp.runs_alone(cells[("rust_from_python", 10)])


def _run(summary: pd.DataFrame, extra: dict, wall: dict) -> DenseRun:
    return DenseRun(
        "mttkrp",
        "test",
        pd.DataFrame(),
        summary,
        {"cell_extra": extra, "cell_wall_seconds": wall},
        None,
        None,
    )


def test_the_report_checks_the_issues_targets_from_the_data():
    rows, extra, wall = [], {}, {}
    best = {"pyttb": 0.3, "numba": 0.004, "rust_from_python": 0.0019, "rust_all_cores": 0.001}
    for impl, seconds in best.items():
        for mode in (1, 2, 3):
            variant = f"R16-mode{mode}"
            rows.append(
                {
                    "implementation": impl,
                    "n1": 400,
                    "size": 400,
                    "variant": variant,
                    "mean": seconds * 1.1,
                    "min": seconds,
                    "n_calls": 3,
                }
            )
            cell_id = f"{impl}__400__{variant}" + ("__t2" if impl == "rust_all_cores" else "")
            extra[cell_id] = {
                "nnz": 640000,
                "input_bytes": 20_000_000,
                "max_relative_difference": 1e-16,
                "rust_kernel_calls": 4,
                "pyttb_fallbacks": 0,
            }
            wall[cell_id] = 1.0
    rows.append(
        {
            "implementation": "read_bandwidth",
            "n1": 1 << 29,
            "size": 1 << 29,
            "variant": "",
            "mean": 0.05,
            "min": 0.05,
            "n_calls": 10,
        }
    )
    run = _run(pd.DataFrame(rows), extra, wall)
    best_of = mttkrp_report.best_of_table(run)
    assert best_of["rust_from_python_vs_pyttb_x"].round(6).tolist() == [round(0.3 / 0.0019, 6)] * 3
    findings = mttkrp_report.mttkrp_findings(run)
    target = next(f for f in findings if f.claim.startswith("MTTKRP"))
    assert target.verdict == "held"  # 158x >= 150x
    scaling = mttkrp_report.scaling_table(run)
    assert scaling["threads"].tolist() == [2] and scaling["efficiency"].iloc[0] == pytest.approx(
        0.95
    )
    # One slow mode is enough to miss the target.
    slow = pd.DataFrame(rows)
    slow.loc[
        (slow["implementation"] == "rust_from_python") & (slow["variant"] == "R16-mode2"), "min"
    ] = 0.003
    target = next(
        f
        for f in mttkrp_report.mttkrp_findings(_run(slow, extra, wall))
        if f.claim.startswith("MTTKRP")
    )
    assert target.verdict == "did not hold"


def _bound_text(findings) -> str:
    return next(f.text for f in findings if "target was set against" in f.text)


def test_the_report_says_what_the_ratio_target_asks_against_the_bound():
    rows, extra, wall = [], {}, {}
    for impl, seconds in {"pyttb": 0.3, "rust_from_python": 0.0025}.items():
        for mode in (1, 2, 3):
            rows.append(
                {
                    "implementation": impl,
                    "n1": 400,
                    "size": 400,
                    "variant": f"R16-mode{mode}",
                    "mean": seconds,
                    "min": seconds,
                    "n_calls": 3,
                }
            )
            extra[f"{impl}__400__R16-mode{mode}"] = {"input_bytes": 20_000_000}
    bandwidth_row = {"implementation": "read_bandwidth", "n1": 1 << 29, "size": 1 << 29}
    rows.append({**bandwidth_row, "variant": "", "mean": 0.05, "min": 0.05, "n_calls": 10})
    frame = pd.DataFrame(rows)
    # 2^29 bytes in 50 ms: 20 MB need 1.86 ms; 0.3 s / 150 = 2.0 ms is 1.1x that.
    text = _bound_text(mttkrp_report.mttkrp_findings(_run(frame, extra, wall)))
    assert "asks for 2.00 ms per mode: 1.1x the time reading the COO input once" in text
    # pyttb at 0.2 s asks for 1.33 ms: below the bound, so nothing reading the input can.
    frame.loc[frame["implementation"] == "pyttb", "min"] = 0.2
    text = _bound_text(mttkrp_report.mttkrp_findings(_run(frame, extra, wall)))
    assert "asks for 1.33 ms per mode: less than reading the COO input once" in text


def test_the_cp_als_report_compares_fits_and_speed():
    rows, extra = [], {}
    for impl, seconds, fit in (("pyttb", 3.0, 0.5), ("rust_from_python", 0.05, 0.5 + 1e-12)):
        rows.append(
            {
                "implementation": impl,
                "n1": 400,
                "size": 400,
                "variant": "R16-it10",
                "mean": seconds,
                "min": seconds,
                "n_calls": 2,
            }
        )
        extra[f"{impl}__400__R16-it10"] = {
            "rank": 16,
            "iterations_asked": 10,
            "fits": [fit, fit],
            "rust_kernel_calls": 0 if impl == "pyttb" else 60,
        }
    run = _run(pd.DataFrame(rows), extra, {})
    table = mttkrp_report.cp_als_table(run)
    assert table["speedup_vs_pyttb_x"].tolist() == [1.0, 60.0]
    findings = {f.claim: f for f in mttkrp_report.cp_als_findings(run) if f.claim}
    assert [f.verdict for f in findings.values()] == ["held", "held"]
    rows[1]["mean"] = 0.1
    extra["rust_from_python__400__R16-it10"]["fits"] = [0.5001, 0.5001]
    findings = [
        f for f in mttkrp_report.cp_als_findings(_run(pd.DataFrame(rows), extra, {})) if f.claim
    ]
    assert [f.verdict for f in findings] == ["did not hold", "did not hold"]
