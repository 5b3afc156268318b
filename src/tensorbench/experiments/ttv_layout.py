"""The TTV "input layout and order" cell set (issue 11): the Rust kernel on the Figure 4
tensors with their subscripts in four arrangements.

* ``sorted-C``: as ``pyttb.sptenrand`` makes them (rows sorted, C order);
* ``random-C``: the same nonzeros in a seeded random order;
* ``sorted-F`` / ``random-F``: those two with Fortran-ordered subscripts
  (``np.asfortranarray``), pyttb's own layout for results and one column per mode.

One cell per n times ``kernels_rs.bench_ttv`` (inside Rust) on each arrangement in turn,
``n_trials`` rounds after a warm-up round, the order rotated from round to round: the
ratios the issue sets targets for are measured side by side, so a machine that slows down
for a while slows every arrangement alike. The report
(:mod:`tensorbench.experiments.ttv_layout_report`) sets each ratio against the issue's
targets. The tensors are the Figure 4 ones (same seed per n, so the same cache entries),
multiplied along the same mode.
"""

from __future__ import annotations

import numpy as np

from tensorbench.experiments.dense_impls import DEFAULT_BANDWIDTH_BYTES, bandwidth_cell
from tensorbench.harness.cell import Cell
from tensorbench.timing import int_at_least, real_number

REGIME = "layout"
ORDERS = ("sorted", "random")
LAYOUTS = ("C", "F")
VARIANTS = tuple(f"{order}-{layout}" for order in ORDERS for layout in LAYOUTS)
ROUNDS = "rounds"  # the variant of a cell that times every arrangement in rounds
TENSOR_ORDER = 3  # n x n x n, as in Figure 4


def layout_cells(
    sizes,
    n_trials: int,
    seed: int,
    density: float,
    mode: int,
    bandwidth_bytes: int = DEFAULT_BANDWIDTH_BYTES,
    experiment: str = "ttv",
) -> list[Cell]:
    """One Rust cell per n (every arrangement, in rounds), plus the read-bandwidth cell.
    The tensor's seed is ``seed + n`` (the Figure 4 tensor of that n); the random order
    is drawn from it."""
    if isinstance(sizes, str):
        raise TypeError(f"sizes must be a list of sizes, got the string {sizes!r}")
    sizes = [int_at_least("size", n) for n in sizes]
    if not sizes:
        raise ValueError("sizes must not be empty")
    n_trials = int_at_least("n_trials", n_trials)
    seed = int_at_least("seed", seed, 0)
    density = real_number("density", density)
    if not 0 < density <= 1:
        raise ValueError(f"density must be in (0, 1], got {density}")
    mode = int_at_least("mode", mode, 0)
    if mode >= TENSOR_ORDER:
        raise ValueError(
            f"mode must be below {TENSOR_ORDER} (the tensors are n x n x n), got {mode}"
        )
    bandwidth_bytes = int_at_least("bandwidth_bytes", bandwidth_bytes)
    cells = [
        Cell(
            experiment,
            "rust",
            n,
            regime=REGIME,
            variant=ROUNDS,
            n_trials=n_trials,
            seed=seed + n,
            options={"density": density, "mode": mode},
        )
        for n in sizes
    ]
    passes = max(n_trials, 10)
    return [*cells, bandwidth_cell(experiment, passes, seed, bandwidth_bytes)]


def arrange(subs: np.ndarray, vals: np.ndarray, order: str, layout: str, seed: int):
    """``subs`` and ``vals`` in the given row order ("sorted": as given; "random": a
    permutation drawn from ``seed``) and subscript layout ("C" or "F")."""
    if order not in ORDERS:
        raise ValueError(f"order must be one of {list(ORDERS)}, got {order!r}")
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {list(LAYOUTS)}, got {layout!r}")
    if order == "random":
        rows = np.random.default_rng(seed).permutation(len(vals))
        subs, vals = subs[rows], vals[rows]
    subs = np.asfortranarray(subs) if layout == "F" else np.ascontiguousarray(subs)
    return subs, np.ascontiguousarray(vals)


def measure(cell: Cell, tensor, vector: np.ndarray) -> list[dict]:
    """Records of a warm-up round (marked as the first call) and ``n_trials`` rounds of
    one in-Rust call on each arrangement (the second of two back to back), in an order
    rotated by one each round."""
    from tensorbench.build import release_kernels

    kernels = release_kernels()
    mode = int(cell.options["mode"])
    arranged = {}
    for variant in VARIANTS:
        order, layout = variant.split("-")
        arranged[variant] = arrange(tensor.subs, tensor.vals, order, layout, cell.seed)
    records = []
    for trial in range(cell.n_trials + 1):
        shift = trial % len(VARIANTS)
        for variant in VARIANTS[shift:] + VARIANTS[:shift]:
            subs, vals = arranged[variant]
            # The second of two back-to-back calls: each sample a warm call, as before.
            seconds = kernels.bench_ttv(subs, vals, tensor.shape, vector, mode, 1)[-1]
            records.append(
                {
                    "experiment": cell.experiment,
                    "regime": cell.regime,
                    "variant": variant,
                    "implementation": cell.implementation,
                    "n1": cell.n1,
                    "n2": cell.n2,
                    "size": cell.size,
                    "trial": trial,
                    "seconds": seconds,
                    "is_first_call": trial == 0,
                }
            )
    return records
