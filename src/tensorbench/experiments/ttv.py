"""Sparse tensor times vector (paper Section 3.3 / 4.3, Figure 4), and the real tensors.

Three cell sets, each its own folder under ``data/results/<machine>/<profile>/``:

* ``ttv``: the paper's experiment. n x n x n tensors from ``pyttb.sptenrand`` (density
  0.01, seeded; one tensor per size for all trials and implementations, cached on disk
  by :mod:`tensorbench.tensor_cache`) times a uniform random vector along the paper's
  second dimension (pyttb ``dims=1``).
* ``ttv-frostt``: every mode of each real tensor in ``data/inputs/tns`` (FROSTT format).
* ``ttv-headline``: a few trials at n = 1200 only (profile section ``headline``, in the
  paper profile), the measurement behind the ">= 100x faster than pyttb at n = 1200"
  check. A profile without that section has no such cell set, and its notebook says so.
* ``ttv-layout``: the Rust kernel on the same tensors with sorted or random row order and
  C- or F-ordered subscripts (profile section ``layout``; :mod:`.ttv_layout`).

Every cell runs in a fresh worker (``measure``), which also records the tensor's size in
bytes, the number of output nonzeros and the peak memory of one more, untimed call
(above the resident size before it, after the timed calls' freed memory was returned to
the system). The ``ttv`` and ``ttv-headline`` runs also measure the single-core read
bandwidth (a ``read_bandwidth`` cell, as in the dense experiments), from which the
figure draws the memory-traffic bound: bytes of ``subs`` + ``vals`` / bandwidth.
"""

from __future__ import annotations

import math
from functools import cache
from pathlib import Path

import numpy as np

from tensorbench import paths
from tensorbench.build import release_kernels
from tensorbench.experiments import ttv_layout
from tensorbench.experiments.dense_impls import (
    BANDWIDTH,
    DEFAULT_BANDWIDTH_BYTES,
    bandwidth_cell,
    measure_bandwidth,
)
from tensorbench.experiments.registry import Notebook
from tensorbench.findings import Finding
from tensorbench.harness.cell import Cell
from tensorbench.timing import int_at_least, names_among, real_number, time_calls

EXPERIMENT = "ttv"
NOTEBOOKS = (Notebook("ttv"),)
# pyttb's ttv and the paper's Python baseline spend their time in the interpreter and in
# NumPy calls on small pieces: they run side by side with JOBS > 1.
INTERPRETER_BOUND = ("pyttb", "python")
IMPLEMENTATIONS = ("pyttb", "python", "numba", "rust", "rust_from_python")
RANDOM, FROSTT = "sptenrand", "frostt"
RUN_NAMES = {
    "main": "ttv",
    "frostt": "ttv-frostt",
    "headline": "ttv-headline",
    "layout": "ttv-layout",
}
ORDER = 3  # the sptenrand tensors are n x n x n


def tns_dir() -> Path:
    return paths.inputs_dir() / "tns"


# --- cells ------------------------------------------------------------------------------


def random_cells(
    sizes,
    n_trials: int,
    seed: int,
    density: float,
    mode: int,
    implementations=IMPLEMENTATIONS,
    bandwidth_bytes: int = DEFAULT_BANDWIDTH_BYTES,
) -> list[Cell]:
    """One cell per (implementation, n), plus the read-bandwidth cell. The tensor's seed
    is ``seed + n``, so every implementation of a size multiplies the same tensor by the
    same vector."""
    sizes = [int_at_least("size", n) for n in sizes]
    if not sizes:
        raise ValueError("sizes must not be empty")
    n_trials = int_at_least("n_trials", n_trials)
    seed = int_at_least("seed", seed, 0)
    density = real_number("density", density)
    if not 0 < density <= 1:
        raise ValueError(f"density must be in (0, 1], got {density}")
    mode = int_at_least("mode", mode, 0)
    if mode >= ORDER:
        raise ValueError(f"mode must be below {ORDER} (the tensors are n x n x n), got {mode}")
    # No implementation at all leaves the bandwidth cell alone (a test's way to get it).
    implementations = names_among(
        "implementations", implementations, IMPLEMENTATIONS, allow_empty=True
    )
    bandwidth_bytes = int_at_least("bandwidth_bytes", bandwidth_bytes)
    cells = [
        Cell(
            EXPERIMENT,
            impl,
            n,
            regime=RANDOM,
            n_trials=n_trials,
            seed=seed + n,
            options={"density": density, "mode": mode},
        )
        for impl in implementations
        for n in sizes
    ]
    # At least 10 passes: the bound uses the best one, and this host's bandwidth varies.
    passes = max(n_trials, 10)
    return [*cells, bandwidth_cell(EXPERIMENT, passes, seed, bandwidth_bytes)]


@cache
def _tns_summary(name: str) -> tuple[tuple[int, ...], int]:
    from tensorbench.tns import read_tns

    tensor = read_tns(tns_dir() / f"{name}.tns")
    return tuple(tensor.shape), int(tensor.nnz)


def frostt_cells(tensors, n_trials: int, seed: int, implementations) -> list[Cell]:
    """One cell per (implementation, tensor, mode); the variant names the mode 1-based as
    the FROSTT and Kolda-Bader texts do ("med-mode3" is pyttb ``dims=2``)."""
    tensors = names_among("tensors", tensors, sorted(p.stem for p in tns_dir().glob("*.tns")))
    n_trials = int_at_least("n_trials", n_trials)
    seed = int_at_least("seed", seed, 0)
    implementations = names_among("implementations", implementations, IMPLEMENTATIONS)
    cells = []
    for name in tensors:
        shape, nnz = _tns_summary(name)
        for mode in range(len(shape)):
            for impl in implementations:
                cells.append(
                    Cell(
                        EXPERIMENT,
                        impl,
                        nnz,
                        regime=FROSTT,
                        variant=f"{name}-mode{mode + 1}",
                        n_trials=n_trials,
                        seed=seed,
                        options={"tensor": name, "mode": mode},
                    )
                )
    return cells


# --- one cell in a worker -----------------------------------------------------------------


def load_tensor(cell: Cell):
    """The cell's tensor: from the sptenrand cache, or read from data/inputs/tns."""
    if cell.regime in (RANDOM, ttv_layout.REGIME):
        from tensorbench import tensor_cache

        n = cell.n1
        return tensor_cache.sptenrand((n, n, n), cell.options["density"], cell.seed)
    if cell.regime == FROSTT:
        from tensorbench.tns import read_tns

        return read_tns(tns_dir() / f"{cell.options['tensor']}.tns")
    raise ValueError(f"unknown ttv regime {cell.regime!r}")


def make_vector(length: int, seed: int) -> np.ndarray:
    """The multiplicand: uniform on [0, 1) like the paper's data, seeded by the cell."""
    return np.random.default_rng(seed).uniform(0.0, 1.0, length)


def describe(tensor, mode: int) -> dict:
    """Sizes that the report needs next to the timings."""
    import pyttb as ttb

    if not isinstance(tensor, ttb.sptensor):
        raise TypeError(f"tensor must be a pyttb.sptensor, got {type(tensor).__name__}")
    mode = int_at_least("mode", mode, 0)
    if mode >= len(tensor.shape):
        raise ValueError(f"mode must be below the tensor's order {len(tensor.shape)}, got {mode}")
    out_shape = [int(n) for j, n in enumerate(tensor.shape) if j != mode]
    return {
        "shape": [int(n) for n in tensor.shape],
        "mode": int(mode),
        "nnz": int(tensor.nnz),
        # The bytes any TTV must read: every subscript and value once (the vector is small).
        "input_bytes": int(tensor.subs.nbytes + tensor.vals.nbytes) if tensor.nnz else 0,
        "output_cells": math.prod(out_shape),
    }


def measure(cell: Cell) -> dict | list[float]:
    """Seconds of the first call and ``n_trials`` later calls on the same tensor, plus
    the cell's sizes and peak memory (or the read-bandwidth passes)."""
    from tensorbench.experiments import ttv_impls
    from tensorbench.peak_memory import PeakMemory, release_free_memory

    if cell.implementation == BANDWIDTH:
        return measure_bandwidth(cell)
    tensor = load_tensor(cell)
    mode = int(cell.options["mode"])
    vector = make_vector(tensor.shape[mode], cell.seed)
    extra = describe(tensor, mode)
    if cell.regime == ttv_layout.REGIME:
        return {"records": ttv_layout.measure(cell, tensor, vector), "extra": extra}
    if cell.implementation == "rust":
        kernels = release_kernels()
        seconds = kernels.bench_ttv(
            tensor.subs, tensor.vals, tensor.shape, vector, mode, cell.n_trials
        )
        # The in-Rust timer's kernel, called once from here for its memory.
        func = ttv_impls.ttv_kernel_only
    else:
        if cell.implementation == "rust_from_python":
            release_kernels()
        if cell.implementation not in ttv_impls.IMPLEMENTATIONS:
            raise ValueError(f"unknown ttv implementation {cell.implementation!r}")
        func = ttv_impls.IMPLEMENTATIONS[cell.implementation]
        seconds = time_calls(func, lambda: (tensor, vector, mode), cell.n_trials)
    # One more call, untimed, for its working memory: with the freed memory of the timed
    # calls handed back to the system, the growth of the resident size is this call's.
    peak = PeakMemory()
    extra["freed_memory_released"] = release_free_memory()
    peak.start()
    result = func(tensor, vector, mode)
    peak.stop()
    del result
    extra.update(peak.report())
    if tensor.ndims > 1:
        import kernels_rs

        extra["output_nnz"] = len(
            kernels_rs.ttv(tensor.subs, tensor.vals, tensor.shape, vector, mode)[1]
        )
    return {"seconds": seconds, "extra": extra}


# --- runs -----------------------------------------------------------------------------------


def prepare_inputs(cells: list[Cell]) -> None:
    """Generate (once, with progress) every sptenrand tensor that ``cells`` (the pending
    ones, as the runner passes them) need."""
    from tensorbench import tensor_cache

    pending = {
        (c.n1, c.options["density"], c.seed)
        for c in cells
        if c.regime in (RANDOM, ttv_layout.REGIME)
    }
    for n, density, seed in sorted(pending):
        tensor_cache.ensure((n, n, n), density, seed)


def input_bytes(cell: Cell) -> int:
    """Bytes of ``subs`` and ``vals`` a cell's TTV reads (int64 subscripts, float64 values):
    the expected count for sptenrand, the exact count for the FROSTT tensors."""
    if cell.regime in (RANDOM, ttv_layout.REGIME):
        nnz = float(cell.options["density"]) * cell.n1**ORDER
        return int(nnz * (8 * ORDER + 8))
    if cell.regime == FROSTT:
        shape, nnz = _tns_summary(cell.options["tensor"])
        return nnz * (8 * len(shape) + 8)
    return 0


def cell_work(cell: Cell) -> float:
    """What a cell's time grows with, for run-time estimates: the bytes of its input."""
    return cell.n1 if cell.implementation == BANDWIDTH else max(input_bytes(cell), 1)


def runs_alone(cell: Cell) -> bool:
    """Alone: the bandwidth probe, and compiled kernels whose input does not fit in one
    core's private L2 cache; pyttb and the Python baseline run side by side."""
    from tensorbench.machine import cache_bytes

    if cell.implementation == BANDWIDTH:
        return True
    if cell.implementation in INTERPRETER_BOUND:
        return False
    return input_bytes(cell) > cache_bytes(2, 1 << 20)


def _execute(run: str, cells: list[Cell], profile: str, results_root, params: dict):
    from tensorbench.experiments import dense_report

    name = RUN_NAMES[run]
    description = {"experiment": EXPERIMENT, "run": name, "profile": profile, "parameters": params}
    return dense_report.execute(name, cells, profile, results_root, description)


def main_params(profile: str) -> dict:
    from tensorbench import profiles

    params = {k: v for k, v in profiles.section(profile, EXPERIMENT).items() if k != "frostt"}
    params.pop("headline", None)
    params.pop("layout", None)
    return params


def main_cells(profile: str) -> list[Cell]:
    """The paper's experiment (Figure 4) of ``profile``."""
    params = main_params(profile)
    return random_cells(
        params["sizes"],
        params["n_trials"],
        params["seed"],
        params["density"],
        params["mode"],
        params.get("implementations", IMPLEMENTATIONS),
        params.get("bandwidth_bytes", DEFAULT_BANDWIDTH_BYTES),
    )


def run(profile: str, results_root: str | None = None):
    """Run (or resume) the paper's experiment (Figure 4) of ``profile``."""
    return _execute("main", main_cells(profile), profile, results_root, main_params(profile))


def frostt_params(profile: str) -> dict:
    from tensorbench import profiles

    section = profiles.section(profile, EXPERIMENT)
    return {**section["frostt"], "seed": section["seed"]}


def frostt_profile_cells(profile: str) -> list[Cell]:
    """Every mode of every real tensor the profile lists."""
    params = frostt_params(profile)
    return frostt_cells(
        params["tensors"], params["n_trials"], params["seed"], params["implementations"]
    )


def run_frostt(profile: str, results_root: str | None = None):
    """Run (or resume) every mode of every real tensor the profile lists."""
    return _execute(
        "frostt", frostt_profile_cells(profile), profile, results_root, frostt_params(profile)
    )


def headline_params(profile: str) -> dict | None:
    from tensorbench import profiles

    section = profiles.section(profile, EXPERIMENT)
    if "headline" not in section:
        return None
    return {
        **section["headline"],
        "seed": section["seed"],
        "density": section["density"],
        "mode": section["mode"],
    }


def headline_cells(profile: str) -> list[Cell]:
    """The profile's ``headline`` cells (n = 1200, a few trials); none without the section."""
    params = headline_params(profile)
    if params is None:
        return []
    return random_cells(
        [params["n"]],
        params["n_trials"],
        params["seed"],
        params["density"],
        params["mode"],
        params["implementations"],
        params.get("bandwidth_bytes", DEFAULT_BANDWIDTH_BYTES),
    )


def run_headline(profile: str, results_root: str | None = None):
    """Run (or resume) the profile's headline cells; None when the profile has none."""
    params = headline_params(profile)
    if params is None:
        return None
    return _execute("headline", headline_cells(profile), profile, results_root, params)


def layout_params(profile: str) -> dict | None:
    from tensorbench import profiles

    section = profiles.section(profile, EXPERIMENT)
    if "layout" not in section:
        return None
    return {
        **section["layout"],
        "seed": section["seed"],
        "density": section["density"],
        "mode": section["mode"],
    }


def layout_profile_cells(profile: str) -> list[Cell]:
    """The profile's "input layout and order" cells; none without its ``layout`` section."""
    params = layout_params(profile)
    if params is None:
        return []
    return ttv_layout.layout_cells(
        params["sizes"],
        params["n_trials"],
        params["seed"],
        params["density"],
        params["mode"],
        params.get("bandwidth_bytes", DEFAULT_BANDWIDTH_BYTES),
        EXPERIMENT,
    )


def run_layout(profile: str, results_root: str | None = None):
    """Run (or resume) the profile's layout cells; None when the profile has none."""
    params = layout_params(profile)
    if params is None:
        return None
    return _execute("layout", layout_profile_cells(profile), profile, results_root, params)


def cell_sets(profile: str) -> dict[str, list[Cell]]:
    """``ttv`` (Figure 4), ``ttv-frostt`` and, where the profile has them,
    ``ttv-headline`` and ``ttv-layout``."""
    sets = {
        RUN_NAMES["main"]: main_cells(profile),
        RUN_NAMES["frostt"]: frostt_profile_cells(profile),
    }
    headline = headline_cells(profile)
    if headline:
        sets[RUN_NAMES["headline"]] = headline
    layout = layout_profile_cells(profile)
    if layout:
        sets[RUN_NAMES["layout"]] = layout
    return sets


def load(run: str, profile: str, results_root: str | None = None):
    """A finished run ("main", "frostt", "headline" or "layout") read back from disk, or
    None."""
    from tensorbench.experiments import dense_report

    if run not in RUN_NAMES:
        raise ValueError(f"run must be one of {list(RUN_NAMES)}, got {run!r}")
    return dense_report.load(RUN_NAMES[run], profile, results_root)


def recorded_findings(profile: str, results_root: str | None = None) -> list[Finding]:
    """The findings of the cell sets on disk."""
    from tensorbench.experiments import ttv_report

    out: list[Finding] = []
    main = load("main", profile, results_root)
    if main is not None:
        out += ttv_report.speedup_findings(main, f"Figure 4 run ({profile} profile)")
    headline = load("headline", profile, results_root)
    if headline is not None:
        out += ttv_report.speedup_findings(headline, "n = 1200 check")
    frostt = load("frostt", profile, results_root)
    if frostt is not None:
        out += ttv_report.frostt_findings(frostt)
    layout = load("layout", profile, results_root)
    if layout is not None:
        from tensorbench.experiments import ttv_layout_report

        out += ttv_layout_report.findings(layout)
    return out
