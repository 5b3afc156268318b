"""The TTV experiment's parts: cells, the sptenrand cache, peak memory, one cell measured
in-process for every implementation, and the notebook end to end at the smoke profile."""

# ruff: noqa: NPY002 (pyttb.sptenrand only draws from NumPy's legacy global generator)

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import pyttb as ttb
from conftest import data_dir, figures_dir, run_notebook

from tensorbench import tensor_cache
from tensorbench.experiments import ttv
from tensorbench.experiments.dense_impls import BANDWIDTH
from tensorbench.peak_memory import PeakMemory


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv(tensor_cache.CACHE_VARIABLE, str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.fixture(scope="module")
def shared_cache(tmp_path_factory):
    """One cache for the module, so a tensor is generated once for all implementations."""
    with pytest.MonkeyPatch.context() as patch:
        root = tmp_path_factory.mktemp("cache")
        patch.setenv(tensor_cache.CACHE_VARIABLE, str(root))
        yield root


def test_random_cells_share_one_tensor_per_size():
    cells = ttv.random_cells([10, 20], 3, 100, 0.01, 1, ("pyttb", "rust"), bandwidth_bytes=1024)
    kernels = [c for c in cells if c.implementation != BANDWIDTH]
    assert len(kernels) == 4 and len(cells) == 5
    assert {c.seed for c in kernels if c.n1 == 20} == {120}
    assert len({c.cell_id for c in cells}) == len(cells)
    assert all(c.options == {"density": 0.01, "mode": 1} for c in kernels)


def test_frostt_cells_cover_every_mode_with_distinct_ids():
    cells = ttv.frostt_cells(["small", "med4"], 2, 1, ["pyttb", "rust_from_python"])
    assert len(cells) == (3 + 4) * 2
    assert len({c.cell_id for c in cells}) == len(cells)
    assert {c.variant for c in cells if c.options["tensor"] == "med4"} == {
        f"med4-mode{k}" for k in (1, 2, 3, 4)
    }
    assert {c.n1 for c in cells if c.options["tensor"] == "med4"} == {100_000}


def test_generate_is_seeded_pyttb_sptenrand_and_restores_the_global_state():
    # pyttb draws from the legacy global generator, so this test uses it too.
    np.random.seed(99)
    before = np.random.get_state()[1].copy()
    a = tensor_cache.generate((6, 7, 8), 0.05, 3)
    np.testing.assert_array_equal(np.random.get_state()[1], before)
    np.random.seed(3)
    b = ttb.sptenrand((6, 7, 8), density=0.05)
    assert a.isequal(b) and a.nnz > 0


def test_cache_generates_once_then_loads_and_regenerates_a_corrupt_entry(cache):
    logs = []
    meta = tensor_cache.ensure((9, 9, 9), 0.02, 5, log=logs.append)
    assert meta["nnz"] > 0 and meta["generator"] == "pyttb.sptenrand"
    assert any("generating" in line for line in logs)
    folder = tensor_cache.folder_of((9, 9, 9), 0.02, 5)
    assert folder.parent.parent == cache and tensor_cache.is_valid(folder)
    logs.clear()
    loaded = tensor_cache.sptenrand((9, 9, 9), 0.02, 5, log=logs.append)
    assert logs == []  # from the cache
    assert loaded.isequal(tensor_cache.generate((9, 9, 9), 0.02, 5))
    subs = np.load(folder / "subs.npy")
    subs[0, 0] = (subs[0, 0] + 1) % 9
    np.save(folder / "subs.npy", subs)
    assert not tensor_cache.is_valid(folder)
    again = tensor_cache.sptenrand((9, 9, 9), 0.02, 5, log=logs.append)
    assert any("does not match its checksums" in line for line in logs)
    assert again.isequal(loaded) and tensor_cache.is_valid(folder)


def test_peak_memory_sees_a_large_allocation():
    peak = PeakMemory()
    peak.start()
    block = np.ones(64 << 20, dtype=np.uint8)  # 64 MiB, touched
    del block
    peak.stop()
    report = peak.report()
    if report["peak_method"].startswith("VmHWM"):
        assert report["peak_above_start_bytes"] >= 60 << 20
    assert report["peak_rss_bytes"] > 0


@pytest.mark.parametrize("implementation", ttv.IMPLEMENTATIONS)
def test_measure_one_random_cell_in_process(shared_cache, implementation):
    (cell,) = [
        c
        for c in ttv.random_cells([12], 2, 7, 0.02, 1, (implementation,), bandwidth_bytes=1024)
        if c.implementation == implementation
    ]
    result = ttv.measure(cell)
    assert len(result["seconds"]) == 3 and all(s >= 0 for s in result["seconds"])
    extra = result["extra"]
    assert extra["shape"] == [12, 12, 12] and extra["mode"] == 1
    assert extra["input_bytes"] == extra["nnz"] * 4 * 8
    assert extra["output_cells"] == 144 and 0 < extra["output_nnz"] <= 144
    assert extra["peak_above_start_bytes"] >= 0


def test_measure_a_real_tensor_cell_and_the_bandwidth_cell():
    (cell,) = [
        c
        for c in ttv.frostt_cells(["small"], 1, 3, ["rust_from_python"])
        if c.variant.endswith("3")
    ]
    extra = ttv.measure(cell)["extra"]
    assert extra["shape"] == [2, 3, 2] and extra["mode"] == 2 and extra["output_cells"] == 6
    (bandwidth,) = ttv.random_cells([10], 2, 1, 0.01, 1, (), 1 << 20)
    assert bandwidth.implementation == BANDWIDTH and bandwidth.n_trials == 10  # >= 10 passes
    assert len(ttv.measure(bandwidth)) == 11


@pytest.mark.notebooks
def test_ttv_notebook_produces_figure_4_and_the_tables(smoke_root):
    nb = run_notebook("ttv", smoke_root)
    figures = figures_dir(smoke_root)
    assert (figures / "fig4_ttv.png").stat().st_size > 10_000
    assert (figures / "fig4_ttv.pdf").exists()
    for stem in ("ttv_runtimes", "speedups_ttv", "ttv_frostt"):
        assert (figures / f"{stem}.csv").exists() and (figures / f"{stem}.md").exists()
    raw = pd.read_csv(data_dir(smoke_root) / "ttv" / "raw.csv")
    assert set(raw["implementation"]) == {*ttv.IMPLEMENTATIONS, BANDWIDTH}
    real = pd.read_csv(figures / "ttv_frostt.csv")
    assert list(real["mode"]) == [1, 2, 3] and (real["rust_from_python_vs_pyttb_x"] > 0).all()
    text = json.dumps(nb)
    assert "Rust from Python over pyttb" in text  # findings computed from the data
