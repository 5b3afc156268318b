"""Time the TTV kernel on the four layout/order arrangements side by side, as the
``ttv-layout`` cell does (rotated rounds, the second of two in-Rust calls each), and print
the median and fastest round per arrangement and the issue-11 ratios.

A kernel-tuning aid, not a result: the committed figures come from ``make reproduce``.
Run with the project's environment, one thread:

    RAYON_NUM_THREADS=1 .venv/bin/python tools/ttv_order_rounds.py 10 800 1200
"""

from __future__ import annotations

import argparse

import numpy as np

from tensorbench import profiles, tensor_cache
from tensorbench.build import release_kernels
from tensorbench.experiments.ttv_layout import VARIANTS, arrange


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rounds", type=int)
    parser.add_argument("sizes", type=int, nargs="+")
    args = parser.parse_args()
    kernels = release_kernels()
    section = profiles.section("paper", "ttv")
    for n in args.sizes:
        seed = section["seed"] + n  # the Figure 4 tensor of this n
        tensor = tensor_cache.sptenrand((n, n, n), section["density"], seed)
        vector = np.random.default_rng(seed).uniform(0.0, 1.0, n)
        arranged = {v: arrange(tensor.subs, tensor.vals, *v.split("-"), seed) for v in VARIANTS}
        seconds: dict[str, list[float]] = {v: [] for v in VARIANTS}
        for trial in range(args.rounds + 1):
            shift = trial % len(VARIANTS)
            for variant in VARIANTS[shift:] + VARIANTS[:shift]:
                subs, vals = arranged[variant]
                took = kernels.bench_ttv(subs, vals, tensor.shape, vector, section["mode"], 1)
                if trial:  # round 0 warms up
                    seconds[variant].append(took[-1])
        median = {v: float(np.median(s)) for v, s in seconds.items()}
        fastest = {v: min(s) for v, s in seconds.items()}
        print(f"n = {n}, {args.rounds} rounds (ms, median / fastest):")
        for v in VARIANTS:
            print(f"  {v:9s} {median[v] * 1e3:8.2f} / {fastest[v] * 1e3:8.2f}")
        for top, bottom in (
            ("random-C", "sorted-C"),
            ("random-F", "sorted-F"),
            ("sorted-F", "sorted-C"),
            ("random-F", "random-C"),
        ):
            print(f"  {top} / {bottom}: {median[top] / median[bottom]:.2f} (medians)")


if __name__ == "__main__":
    main()
