"""The TT inner-product overhead study: every implementation agrees with np.einsum,
the data are deterministic and shared, cells follow the profiles, the pairing with the
Rust floor refuses bad arguments, and the notebook runs end to end at the smoke profile.
(The batch timer they share with call_overhead is tested in test_timing.py.)"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from conftest import data_dir, figures_dir, run_notebook

from tensorbench import profiles
from tensorbench.experiments import tt_overhead as tt
from tensorbench.harness.cell import Cell

PYTHON_TIMED = [i for i in tt.IMPLEMENTATIONS if i != "rust"]


def implementations_for(case):
    return [i for i in PYTHON_TIMED if case == "chain" or i not in tt.CHAIN_ONLY]


@pytest.mark.parametrize("case", tt.CASES)
@pytest.mark.parametrize("chi", [1, 2, 3, 8, 32])
def test_every_implementation_matches_the_einsum_reference(case, chi):
    ops = tt.operands(case, chi, seed=1, length=8 if chi == 32 else 32)
    expected = tt.reference(case, ops)
    for impl in implementations_for(case):
        func, args = tt.prepare(impl, case, ops)
        result = func(*args)
        assert tt.relative_error(result, expected) <= tt.TOLERANCE, impl
        if case != "chain":
            assert np.asarray(result).shape == expected.shape, impl


@pytest.mark.parametrize("case", tt.PAIRWISE_CASES)
def test_out_implementation_writes_into_one_preallocated_array(case):
    ops = tt.operands(case, 3, seed=2)
    func, args = tt.prepare("rust_from_python_out", case, ops)
    out = args[-1]
    assert out.shape == tt.result_shape(case, ops) == tt.reference(case, ops).shape
    assert all(not np.shares_memory(out, op) for op in ops)
    assert func(*args) is out and func(*args) is out


def test_reference_is_the_plain_einsum_definition():
    rng = np.random.default_rng(0)
    env = rng.standard_normal((3, 4)) + 1j * rng.standard_normal((3, 4))
    bra = rng.standard_normal((3, 2, 5)) + 1j * rng.standard_normal((3, 2, 5))
    ket = rng.standard_normal((4, 2, 6)) + 1j * rng.standard_normal((4, 2, 6))
    loops = np.zeros((5, 6), dtype=complex)
    for a in range(3):
        for b in range(4):
            for s in range(2):
                loops += env[a, b] * np.outer(bra[a, s].conj(), ket[b, s])
    np.testing.assert_allclose(tt.reference("site_update", (env, bra, ket)), loops, rtol=1e-13)


def test_operands_are_deterministic_and_shaped_as_the_note_says():
    first = tt.operands("site_update", 4, seed=9)
    again = tt.operands("site_update", 4, seed=9)
    for x, y in zip(first, again, strict=True):
        np.testing.assert_array_equal(x, y)
        assert x.dtype == np.complex128 and x.flags.c_contiguous
    assert [a.shape for a in first] == [(4, 4), (4, 2, 4), (4, 2, 4)]
    assert not np.array_equal(first[0], tt.operands("site_update", 4, seed=10)[0])
    assert [a.shape for a in tt.operands("first_site", 3, 0)] == [(2, 3), (2, 3)]
    bras, kets = tt.operands("chain", 5, 0, length=32)
    assert len(bras) == len(kets) == 32
    assert bras[0].shape == (1, 2, 5) and bras[-1].shape == (5, 2, 1)
    assert all(b.shape == (5, 2, 5) for b in bras[1:-1])
    assert tt.chain_bonds(4, 3) == [1, 4, 4, 1]


def test_prepare_leaves_the_callers_operands_alone_and_refuses_nonsense():
    ops = tt.operands("site_update", 2, 0)
    copies = [a.copy() for a in ops]
    for impl in implementations_for("site_update"):
        func, args = tt.prepare(impl, "site_update", ops)
        func(*args)
    for a, b in zip(ops, copies, strict=True):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="only runs the chain"):
        tt.prepare("rust_from_python_chain", "site_update", ops)
    with pytest.raises(ValueError, match="unknown implementation"):
        tt.prepare("fortran", "site_update", ops)
    with pytest.raises(ValueError, match="case must be one of"):
        tt.operands("triple", 2, 0)


@pytest.mark.parametrize(
    ("change", "error", "message"),
    [
        ({"case": "triple"}, ValueError, "case must be one of"),
        ({"chi": 0}, ValueError, "chi must be at least 1, got 0"),
        ({"chi": -2}, ValueError, "chi must be at least 1, got -2"),
        ({"chi": 2.5}, ValueError, "chi must be a whole number, got 2.5"),
        ({"chi": "2"}, TypeError, "chi must be an integer, got str '2'"),
        ({"d": 0}, ValueError, "d must be at least 1, got 0"),
        ({"d": None}, TypeError, "d must be an integer, got NoneType"),
        ({"length": 0}, ValueError, "length must be at least 1, got 0"),
        ({"case": "chain", "length": -1}, ValueError, "length must be at least 1, got -1"),
        ({"seed": -1}, ValueError, "seed must be at least 0, got -1"),
    ],
)
def test_operands_refuse_bad_arguments(change, error, message):
    with pytest.raises(error, match=message):
        tt.operands(**{"case": "site_update", "chi": 2, "seed": 0, **change})


def test_operands_take_a_whole_float_chi_as_the_same_chi():
    for x, y in zip(tt.operands("env_bra", 3.0, 1), tt.operands("env_bra", 3, 1), strict=True):
        np.testing.assert_array_equal(x, y)


@pytest.mark.parametrize(
    ("chi", "length", "error", "message"),
    [
        (0, 3, ValueError, "chi must be at least 1, got 0"),
        (True, 3, TypeError, "chi must be an integer, got bool"),
        (4, 0, ValueError, "length must be at least 1, got 0"),
    ],
)
def test_chain_bonds_refuse_a_bond_below_one_and_an_empty_chain(chi, length, error, message):
    with pytest.raises(error, match=message):
        tt.chain_bonds(chi, length)


@pytest.mark.parametrize(
    ("implementation", "case", "message"),
    [
        ("rust", "site_update", "rust is timed inside Rust by measure"),
        ("fortran", "chain", r"unknown implementation 'fortran'; known: \('numpy_einsum'"),
        ("numpy_einsum", "trace", "case must be one of"),
    ],
)
def test_prepare_refuses_unknown_implementations_and_cases(implementation, case, message):
    with pytest.raises(ValueError, match=message):
        tt.prepare(implementation, case, tt.operands("site_update", 1, 0))


@pytest.mark.parametrize(
    ("change", "error", "message"),
    [
        ({"calls_per_sample": 0}, ValueError, "calls_per_sample must be at least 1, got 0"),
        ({"rounds": 0}, ValueError, "rounds must be at least 1, got 0"),
        ({"rounds": "3"}, TypeError, "rounds must be an integer, got str"),
        ({"min_sample_seconds": -1e-6}, ValueError, "min_sample_seconds must be at least 0"),
        ({"case": "trace"}, ValueError, "case must be one of"),
    ],
)
def test_paired_with_floor_refuses_bad_arguments_before_calling_anything(change, error, message):
    calls = []
    arguments = {
        "case": "site_update",
        "ops": (),
        "calls_per_sample": 1,
        "rounds": 1,
        "min_sample_seconds": 0.0,
    }
    with pytest.raises(error, match=message):
        tt.paired_with_floor(lambda: calls.append(1), (), **{**arguments, **change})
    assert calls == []


@pytest.mark.parametrize("profile", profiles.PROFILES)
def test_cells_follow_the_profile(profile):
    params = profiles.section(profile, tt.EXPERIMENT)
    planned = tt.cells(params)
    ids = [c.cell_id for c in planned]
    assert len(ids) == len(set(ids))
    pairwise = [c for c in planned if c.variant != "chain"]
    chain = [c for c in planned if c.variant == "chain"]
    n_pairwise_impls = len(tt.IMPLEMENTATIONS) - len(tt.CHAIN_ONLY)
    assert len(pairwise) == len(params["pairwise_cases"]) * len(params["pairwise_chi"]) * (
        n_pairwise_impls
    )
    assert len(chain) == len(params["chain_chi"]) * len(tt.IMPLEMENTATIONS)
    assert not any(c.implementation in tt.CHAIN_ONLY for c in pairwise)
    assert {c.n_trials for c in planned} == {params["n_samples"]}
    if profile == "paper":  # the note's lists
        assert params["pairwise_chi"] == [1, 2, 4, 8, 16, 32]
        assert params["chain_chi"] == [4, 8, 16, 32, 64]
        assert set(params["pairwise_cases"]) == set(tt.PAIRWISE_CASES)
        assert params["physical_dimension"] == 2 and params["chain_length"] == 32


def test_cells_refuse_unknown_cases_and_implementations():
    params = profiles.section("smoke", tt.EXPERIMENT)
    with pytest.raises(ValueError, match="unknown implementations"):
        tt.cells(params, ["numpy_einsum", "julia"])
    with pytest.raises(ValueError, match="case must be one of"):
        tt.cells({**params, "pairwise_cases": ["trace"]})


@pytest.mark.parametrize(
    ("change", "error", "message"),
    [
        ({"pairwise_cases": []}, ValueError, "pairwise_cases must not be empty"),
        ({"pairwise_chi": []}, ValueError, "pairwise_chi must not be empty"),
        ({"chain_chi": []}, ValueError, "chain_chi must not be empty"),
        ({"pairwise_chi": [1, 0]}, ValueError, "chi in pairwise_chi must be at least 1, got 0"),
        ({"chain_chi": [-4]}, ValueError, "chi in chain_chi must be at least 1, got -4"),
        ({"chain_chi": ["4"]}, TypeError, "chi in chain_chi must be an integer, got str"),
        ({"n_samples": 0}, ValueError, "n_samples must be at least 1, got 0"),
        ({"seed": -1}, ValueError, "seed must be at least 0, got -1"),
        ({"physical_dimension": 0}, ValueError, "physical_dimension must be at least 1, got 0"),
        ({"chain_length": 0}, ValueError, "chain_length must be at least 1, got 0"),
        ({"min_sample_seconds": -1e-5}, ValueError, "min_sample_seconds must be at least 0"),
        ({"min_sample_seconds": "1e-5"}, TypeError, "min_sample_seconds must be a number"),
    ],
)
def test_cells_refuse_bad_profile_parameters(change, error, message):
    params = {**profiles.section("smoke", tt.EXPERIMENT), **change}
    with pytest.raises(error, match=message):
        tt.cells(params)


def test_cells_refuse_an_empty_list_of_implementations():
    with pytest.raises(ValueError, match="implementations must not be empty"):
        tt.cells(profiles.section("smoke", tt.EXPERIMENT), [])


@pytest.mark.parametrize("show", [tt.comparison_table, tt.figure])
@pytest.mark.parametrize("case", ["env_bra", "tmp_ket", "first_site", "chain_L32"])
def test_comparison_table_and_figure_refuse_cases_without_published_data(show, case, tmp_path):
    run = tt.TtRun("smoke", pd.DataFrame(), pd.DataFrame(), {}, tmp_path, tmp_path)
    with pytest.raises(ValueError, match=r"case must be one of \('site_update', 'chain'\)"):
        show(run, case)


@pytest.mark.parametrize("impl", tt.IMPLEMENTATIONS)
def test_measure_returns_first_call_samples_and_extras(impl):
    case = "chain" if impl in tt.CHAIN_ONLY else "site_update"
    cell = Cell(
        tt.EXPERIMENT,
        impl,
        2,
        regime="chain" if case == "chain" else "pairwise",
        variant=case,
        n_trials=3,
        seed=5,
        options={"d": 2, "length": 4, "min_sample_seconds": 1e-5},
    )
    measured = tt.measure(cell)
    assert len(measured["seconds"]) == 4 and all(s > 0 for s in measured["seconds"])
    extra = measured["extra"]
    assert extra["relative_error"] <= tt.TOLERANCE
    assert extra["calls_per_sample"] >= 1 and extra["timed_in"] in {"python", "rust"}
    if impl in tt.RUST_IMPLEMENTATIONS:
        assert extra["tt_kernel_info"]["tiled_path"].startswith("tiled-")
    if impl in tt.PAIRED:
        paired = extra["paired"]
        assert len(paired["python_seconds"]) == len(paired["rust_seconds"]) == 3
        assert all(s > 0 for s in paired["python_seconds"] + paired["rust_seconds"])


# --- the notebook ------------------------------------------------------------------------


@pytest.mark.notebooks
def test_tt_overhead_notebook_writes_tables_figures_and_findings(smoke_root):
    nb = run_notebook("tt_overhead", smoke_root)
    figures = figures_dir(smoke_root)
    for stem in ("fig_tt_site_update", "fig_tt_chain"):
        assert (figures / f"{stem}.png").stat().st_size > 10_000
        assert (figures / f"{stem}.pdf").exists()
    site = pd.read_csv(figures / "tt_site_update.csv")
    assert "rust_from_python (us)" in site and "rust (us)" in site
    assert any(c.startswith("published: ITensors.jl") for c in site.columns)
    assert site.loc[site["chi"] == 1].filter(like="ITensors").iloc[0, 0] == pytest.approx(3.26)
    chain = pd.read_csv(figures / "tt_chain.csv")
    assert "rust_from_python_chain (us)" in chain
    assert any("single session" in c for c in chain.columns)
    accuracy = pd.read_csv(figures / "tt_accuracy.csv")
    assert (accuracy.drop(columns="implementation").fillna(0) <= tt.TOLERANCE).all().all()
    raw = pd.read_csv(data_dir(smoke_root) / tt.EXPERIMENT / "raw.csv")
    assert set(raw["implementation"]) == set(tt.IMPLEMENTATIONS)
    paired = pd.read_csv(figures / "tt_paired.csv")
    assert set(paired["implementation"]) == set(tt.PAIRED)
    assert (paired["ratio"] > 0).all()
    text = json.dumps(nb)
    assert "site_update at chi = 1 from Python" in text  # findings computed from the data
    assert "Timed alternately in one process" in text
    assert "L = 32 chain at chi = 4 in one call" in text
