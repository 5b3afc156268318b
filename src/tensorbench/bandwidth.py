"""The check the read-bandwidth probe must pass: in one process, side by side,
``kernels_rs.read_bandwidth`` against the rates at which NumPy reads memory, ``np.sum``
of one array and ``np.dot`` of two different arrays, each array ``n_bytes`` (512 MiB by
default). The probe is an upper bound only if it is at least ``TARGET`` times the faster
of the two. Run it on a quiet machine: ``python -m tensorbench.bandwidth``."""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

DEFAULT_BYTES = 512 << 20
#: read_bandwidth() must reach this fraction of the best NumPy read rate.
TARGET = 0.95


def _best_seconds(func, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        func()
        best = min(best, time.perf_counter() - start)
    return best


def numpy_read_rates(n_bytes: int = DEFAULT_BYTES, repeats: int = 5, seed: int = 0) -> dict:
    """Bytes per second (best of ``repeats``) of ``np.sum(a)`` (reads ``a``: n_bytes),
    ``np.dot(a, b)`` (reads both: 2 n_bytes) and ``kernels_rs.read_bandwidth(n_bytes,
    repeats)``, measured in this process in turn, with their ratio and verdict."""
    from tensorbench.build import release_kernels

    if int(n_bytes) < 8 or int(repeats) < 1:
        raise ValueError(f"need n_bytes >= 8 and repeats >= 1, got {n_bytes}, {repeats}")
    n = int(n_bytes) // 8
    rng = np.random.default_rng(seed)
    a, b = rng.uniform(0.0, 1.0, n), rng.uniform(0.0, 1.0, n)
    kernels = release_kernels()
    rates = {
        "numpy_sum": 8 * n / _best_seconds(lambda: np.sum(a), repeats),
        "numpy_dot": 16 * n / _best_seconds(lambda: np.dot(a, b), repeats),
        "read_bandwidth": float(kernels.read_bandwidth(8 * n, repeats)),
    }
    best_numpy = max(rates["numpy_sum"], rates["numpy_dot"])
    ratio = rates["read_bandwidth"] / best_numpy
    return {
        "n_bytes": 8 * n,
        "repeats": int(repeats),
        **rates,
        "ratio_to_best_numpy": ratio,
        "target": TARGET,
        "meets_target": bool(ratio >= TARGET),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n-bytes", type=int, default=DEFAULT_BYTES)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    print(json.dumps(numpy_read_rates(args.n_bytes, args.repeats), indent=2))
    return 0


if __name__ == "__main__":  # pragma: no cover - a command-line entry point
    raise SystemExit(main())
