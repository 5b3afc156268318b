"""Thread scaling of the kernels_rs kernels called from Python: 1 thread to every core.

One cell set, ``threads``: one cell per kernel of the profile (``mttkrp``, ``innerprod``,
``ttv``, ``dot``, ``matvec``) and size. Each cell runs alone and unpinned, in one worker
process, and times the kernel called from Python with ``threads=k`` for every thread count
k (powers of two up to the cores this process may use, and that count itself),
interleaved round by round, so every ratio between thread counts is measured side by
side under the same conditions. The GIL is released while a large call runs.

Small calls take microseconds, so each sample is a batch of calls (as many as the
1-thread call needs to last ``min_sample_seconds``, the same batch for every k), divided
by the batch size; each k's first call is timed alone first. The raw rows of a cell carry
the thread count in their ``variant`` (``<kernel>-t<k>``). From these the notebook shows
the speedup and parallel efficiency per size, the size below which the call on one thread
(inline, no pool) beats the pool, and that the smallest sizes are never slower with more
threads (tiny calls run inline on the calling thread).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from tensorbench.build import release_kernels
from tensorbench.experiments.registry import Notebook
from tensorbench.findings import Finding
from tensorbench.harness.cell import Cell
from tensorbench.results import cell_rows
from tensorbench.timing import (
    MAX_CALLS_PER_SAMPLE,
    batch_timers,
    int_at_least,
    real_number,
    seconds_per_call,
    time_first_call,
)

EXPERIMENT = "threads"
NOTEBOOKS = (Notebook("threads"),)
IMPLEMENTATION = "rust_from_python"
DENSITY = 0.01  # the sptenrand tensors of the TTV and MTTKRP experiments
RANK = 16


@dataclass(frozen=True)
class Kernel:
    """How to make a kernel's inputs for a size and call it on ``threads`` threads."""

    size_name: str  # what the size is, for the axis label
    make: Callable[[int, int], tuple]  # (size, seed) -> inputs
    call: Callable[[tuple, int], object]  # (inputs, threads) -> result
    bytes_of: Callable[[tuple], int]  # inputs -> bytes the call must read


def _sptensor(n: int, seed: int):
    from tensorbench import tensor_cache

    return tensor_cache.sptenrand((n, n, n), DENSITY, seed)


def _tensor_bytes(tensor) -> int:
    return int(tensor.subs.nbytes + tensor.vals.nbytes)


def _mttkrp_inputs(n: int, seed: int) -> tuple:
    tensor = _sptensor(n, seed)
    rng = np.random.default_rng(seed + RANK)
    return tensor, [rng.uniform(0.0, 1.0, (n, RANK)) for _ in range(3)]


def _mttkrp(inputs: tuple, threads: int):
    import kernels_rs

    tensor, factors = inputs
    return kernels_rs.mttkrp(tensor.subs, tensor.vals, tensor.shape, factors, 0, threads=threads)


def _innerprod(inputs: tuple, threads: int):
    import kernels_rs

    tensor, factors = inputs
    weights = np.ones(RANK)
    return kernels_rs.innerprod_ktensor(
        tensor.subs, tensor.vals, tensor.shape, weights, factors, threads=threads
    )


def _ttv_inputs(n: int, seed: int) -> tuple:
    tensor = _sptensor(n, seed)
    return tensor, np.random.default_rng(seed).uniform(0.0, 1.0, n)


def _ttv(inputs: tuple, threads: int):
    import kernels_rs

    tensor, vector = inputs
    return kernels_rs.ttv(tensor.subs, tensor.vals, tensor.shape, vector, 1, threads=threads)


def _dot_inputs(n: int, seed: int) -> tuple:
    rng = np.random.default_rng(seed)
    return rng.uniform(0.0, 1.0, n), rng.uniform(0.0, 1.0, n)


def _dot(inputs: tuple, threads: int):
    import kernels_rs

    return kernels_rs.dot(*inputs, threads=threads)


def _matvec_inputs(n: int, seed: int) -> tuple:
    rng = np.random.default_rng(seed)
    return rng.uniform(0.0, 1.0, (n, n)), rng.uniform(0.0, 1.0, n)


def _matvec(inputs: tuple, threads: int):
    import kernels_rs

    return kernels_rs.matvec(*inputs, threads=threads)


KERNELS: dict[str, Kernel] = {
    "mttkrp": Kernel(
        "n (n x n x n sptenrand, density 0.01; R = 16, mode 1)",
        _mttkrp_inputs,
        _mttkrp,
        lambda inputs: _tensor_bytes(inputs[0]),
    ),
    "innerprod": Kernel(
        "n (n x n x n sptenrand, density 0.01; ktensor of rank 16)",
        _mttkrp_inputs,
        _innerprod,
        lambda inputs: _tensor_bytes(inputs[0]),
    ),
    "ttv": Kernel(
        "n (n x n x n sptenrand, density 0.01; mode 2)",
        _ttv_inputs,
        _ttv,
        lambda inputs: _tensor_bytes(inputs[0]),
    ),
    "dot": Kernel(
        "vector length",
        _dot_inputs,
        _dot,
        lambda inputs: int(inputs[0].nbytes + inputs[1].nbytes),
    ),
    "matvec": Kernel(
        "n (n x n matrix, C order)",
        _matvec_inputs,
        _matvec,
        lambda inputs: int(inputs[0].nbytes + inputs[1].nbytes),
    ),
}
SPARSE = ("mttkrp", "innerprod", "ttv")


def thread_counts(cores: int) -> list[int]:
    """1, 2, 4, ... below ``cores``, and ``cores`` itself."""
    cores = int_at_least("cores", cores)
    counts = [1]
    while counts[-1] * 2 < cores:
        counts.append(counts[-1] * 2)
    if counts[-1] != cores:
        counts.append(cores)
    return counts


def all_cores() -> int:
    from tensorbench.harness.runner import usable_cpus

    return max(1, len(usable_cpus()))


def scaling_cells(
    kernels: dict, n_samples: int, min_sample_seconds: float, seed: int, cores: int | None = None
) -> list[Cell]:
    """One cell per (kernel, size); ``kernels`` maps each kernel name to its sizes. A
    cell's ``threads`` is the largest count it times (every count of
    :func:`thread_counts` up to it). The seed of a sparse kernel's tensor is
    ``seed + n`` (the other experiments' tensors, from the same cache)."""
    if not isinstance(kernels, dict) or not kernels:
        raise TypeError("kernels must be a non-empty mapping of kernel name -> sizes")
    unknown = sorted(set(kernels) - set(KERNELS))
    if unknown:
        raise ValueError(f"unknown kernels {unknown}; known: {list(KERNELS)}")
    n_samples = int_at_least("n_samples", n_samples)
    min_sample_seconds = real_number("min_sample_seconds", min_sample_seconds)
    if not min_sample_seconds >= 0:
        raise ValueError(f"min_sample_seconds must be >= 0, got {min_sample_seconds}")
    seed = int_at_least("seed", seed, 0)
    most = thread_counts(all_cores() if cores is None else cores)[-1]
    cells = []
    for name, sizes in kernels.items():
        sizes = [int_at_least(f"{name} size", s) for s in sizes]
        if not sizes:
            raise ValueError(f"kernel {name!r} has no sizes")
        for size in sizes:
            cells.append(
                Cell(
                    EXPERIMENT,
                    IMPLEMENTATION,
                    size,
                    regime=name,
                    variant=name,  # the cell's file name must be unique per kernel
                    n_trials=n_samples,
                    seed=seed + size if name in SPARSE else seed,
                    options={"min_sample_seconds": min_sample_seconds},
                    threads=most,
                )
            )
    return cells


def _calls_per_sample(timer, min_sample_seconds: float) -> int:
    calls = 1
    while calls < MAX_CALLS_PER_SAMPLE and timer.timeit(calls) * 1e-9 < min_sample_seconds:
        calls *= 2
    return calls


def measure(cell: Cell) -> dict:
    """Raw rows for every thread count up to ``cell.threads``: each count's first call,
    then ``n_trials`` samples, the counts interleaved round by round; the extra records
    the bytes read, the batch size and how far each count's result is from 1 thread's."""
    release_kernels()
    kernel = KERNELS[cell.regime]
    inputs = kernel.make(cell.n1, cell.seed)
    counts = thread_counts(cell.threads)
    rows: dict[int, list[float]] = {}
    results = {}
    for t in counts:
        first, results[t] = time_first_call(kernel.call, (inputs, t))
        rows[t] = [first]
    timers = {t: batch_timers(kernel.call, (inputs, t))[0] for t in counts}
    calls = _calls_per_sample(timers[1], float(cell.options["min_sample_seconds"]))
    for _ in range(cell.n_trials):
        for t in counts:
            rows[t].append(seconds_per_call(timers[t], calls))
    records = []
    for t in counts:
        sub = Cell(**{**cell.parameters(), "variant": f"{cell.regime}-t{t}", "threads": t})
        records += cell_rows(sub, rows[t]).to_dict("records")
    extra = {
        "input_bytes": kernel.bytes_of(inputs),
        "thread_counts": counts,
        "calls_per_sample": calls,
        "max_relative_difference_vs_1_thread": max(
            _relative_difference(results[t], results[1]) for t in counts
        ),
    }
    if cell.regime in SPARSE:
        extra["nnz"] = int(inputs[0].nnz)
    return {"records": records, "extra": extra}


def _values(result) -> np.ndarray:
    """The numbers of a kernel's result (ttv returns (subs, vals, shape) or a float)."""
    if isinstance(result, tuple):
        return np.asarray(result[1], dtype=float).ravel()
    return np.atleast_1d(np.asarray(result, dtype=float)).ravel()


def _relative_difference(got, reference) -> float:
    a, b = _values(got), _values(reference)
    if a.shape != b.shape:
        return float("inf")
    if not b.size:
        return 0.0
    scale = float(np.max(np.abs(b)))
    diff = float(np.max(np.abs(a - b)))
    return diff / scale if scale else diff


def prepare_inputs(cells: list[Cell]) -> None:
    from tensorbench import tensor_cache

    pending = {(c.n1, c.seed) for c in cells if c.regime in SPARSE}
    for n, seed in sorted(pending):
        tensor_cache.ensure((n, n, n), DENSITY, seed)


def cell_work(cell: Cell) -> float:
    """Each cell runs its samples for about n_trials x min_sample_seconds per thread count."""
    counts = len(thread_counts(cell.threads))
    return float(cell.n_trials) * counts * max(float(cell.options["min_sample_seconds"]), 1e-4)


def runs_alone(cell: Cell) -> bool:
    """Every cell: thread scaling needs the whole machine."""
    return True


def params(profile: str) -> dict:
    from tensorbench import profiles

    return dict(profiles.section(profile, EXPERIMENT))


def cells_of(profile: str) -> list[Cell]:
    p = params(profile)
    return scaling_cells(p["kernels"], p["n_samples"], p["min_sample_seconds"], p["seed"])


def cell_sets(profile: str) -> dict[str, list[Cell]]:
    return {EXPERIMENT: cells_of(profile)}


def run(profile: str, results_root: str | None = None):
    from tensorbench.experiments import dense_report

    description = {"experiment": EXPERIMENT, "profile": profile, "parameters": params(profile)}
    return dense_report.execute(EXPERIMENT, cells_of(profile), profile, results_root, description)


def load(profile: str, results_root: str | None = None):
    from tensorbench.experiments import dense_report

    return dense_report.load(EXPERIMENT, profile, results_root)


def recorded_findings(profile: str, results_root: str | None = None) -> list[Finding]:
    from tensorbench.experiments import threads_report

    run_ = load(profile, results_root)
    return threads_report.findings(run_) if run_ is not None else []
