"""The Rust-from-Python cells timed alternately with the same contraction inside Rust, so
that both see the same background load."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from tensorbench.build import release_kernels
from tensorbench.experiments.tt_overhead.workload import CASES
from tensorbench.timing import batch_timers, int_at_least, seconds_at_least_zero, seconds_per_call

# Cells that also time their call against the in-Rust floor, alternating in one process.
PAIRED = ("rust_from_python", "rust_from_python_out", "rust_from_python_chain")


def paired_with_floor(
    func: Callable,
    args: Sequence,
    case: str,
    ops: tuple,
    calls_per_sample: int,
    rounds: int,
    min_sample_seconds: float,
) -> dict:
    """Per-call seconds of ``func(*args)`` from Python and of the same contraction timed
    inside Rust (``kernels_rs.bench_tt``), alternating one sample of each ``rounds``
    times in this process, so that both see the same background load; their ratio is
    robust to load that drifts between cells."""
    if case not in CASES:
        raise ValueError(f"case must be one of {CASES}, got {case!r}")
    calls_per_sample = int_at_least("calls_per_sample", calls_per_sample)
    rounds = int_at_least("rounds", rounds)
    min_sample_seconds = seconds_at_least_zero("min_sample_seconds", min_sample_seconds)
    kernels = release_kernels()
    calls, _ = batch_timers(func, args)
    python, rust = [], []
    for _ in range(rounds):
        python.append(seconds_per_call(calls, calls_per_sample))
        seconds, _ = kernels.bench_tt(case, ops, 1, min_sample_seconds)
        rust.append(seconds[1])
    return {"python_seconds": python, "rust_seconds": rust}
