"""Memory layout and the paper's open question (Section 4.2): at the largest matvec sizes
the paper saw Rust timed inside Rust, and Numba, slower than Rust called from Python.

Three cell sets:

``layout-orders``
    square matvec (Figure 3c's sizes) with the matrix in C and in Fortran order, for every
    implementation of :mod:`tensorbench.experiments.matvec`; each cell's ``variant`` is
    the order. Data are drawn in memory order either way (a Fortran matrix is the
    transpose of a C-drawn one), so each layout is generated as it is stored.
``layout-causes``
    one cell per candidate cause, at the largest size: the paper's Rust loop
    (``kernels_rs.matvec_loop``) under two or more conditions that differ in that cause
    only, measured in interleaved rounds in one process (records with a ``condition``
    and the minor page faults of each timed call). :mod:`layout_report` turns each pair
    of conditions into a ratio with a CI and a verdict by a written rule.
``layout-blas``
    the tuned ``kernels_rs.matvec`` against NumPy/OpenBLAS ``a @ x`` side by side (issue
    11's target: at least 0.95x BLAS's speed), one cell per Figure 3 shape (the matvec
    profile's three regimes, plus ``blas.extra_square_sizes``) and order: the same
    matrix and vector, drawn once, timed under the two conditions ``blas`` and ``tuned``
    in ``blas.rounds`` rounds that alternate which goes first. Each sample is a batch of
    back-to-back calls lasting at least ``blas.min_sample_seconds`` (one call at the
    large sizes), net of the empty ``timeit`` loop timed beside it.
"""

from __future__ import annotations

import resource
import time

import numpy as np

from tensorbench.experiments import dense_impls
from tensorbench.experiments.dense_impls import (
    BANDWIDTH,
    DEFAULT_BANDWIDTH_BYTES,
    IMPLEMENTATIONS,
    bandwidth_cell,
    measure_bandwidth,
)
from tensorbench.experiments.registry import Notebook
from tensorbench.harness.cell import Cell
from tensorbench.timing import (
    batch_timers,
    int_at_least,
    seconds_at_least_zero,
    seconds_per_call,
    time_calls,
)

EXPERIMENT = "layout"
NOTEBOOKS = (Notebook("layout"),)
ORDERS = ("C", "F")
ORDERS_SET = f"{EXPERIMENT}-orders"
CAUSES_SET = f"{EXPERIMENT}-causes"
BLAS_SET = f"{EXPERIMENT}-blas"
BLAS_IMPLEMENTATION = "tuned_vs_blas"  # the cell's name: both conditions in one process
BLAS_CONDITIONS = ("blas", "tuned")
# A shape shared by several Figure 3 regimes (n x n where n is the fixed dimension) is
# measured once, under the first of these that has it.
BLAS_REGIME_PREFERENCE = ("square", "rows", "cols")
DEFAULT_MIN_SAMPLE_SECONDS = 1e-3
MAX_CALLS_PER_SAMPLE = 1 << 14

# Each cause's conditions; the first differs from the second in that cause only.
CONDITIONS = {
    # Pages of the matrix first touched inside the timed call (np.zeros: calloc, mapped on
    # first access) or before it (the same zeros written once first).
    "first_touch": ("untouched", "touched", "from_python", "in_rust"),
    # A C-order matrix written column by column (strided) or row by row, then read by rows.
    "generation_layout": ("by_columns", "by_rows"),
    # The row-by-row loop on a matrix stored by columns (strided reads) or by rows.
    "loop_order": ("against_layout", "along_layout"),
    # The call right after the data were drawn (as the paper timed), after one untimed call
    # on the same data, or after reading a buffer larger than the caches.
    "cache_state": ("after_generation", "after_warmup", "after_flush"),
}
CAUSES = tuple(CONDITIONS)
RECORD_COLUMNS = [
    "experiment",
    "regime",
    "variant",
    "implementation",
    "n1",
    "n2",
    "size",
    "condition",
    "trial",
    "seconds",
    "minor_faults",
    "is_first_call",
]
BLAS_RECORD_COLUMNS = [*RECORD_COLUMNS, "calls_per_sample"]
CAUSE_KERNEL = "rust_from_python"  # the paper's Rust loop, called from Python


def bytes_moved(n1, n2):
    """Bytes an n1 x n2 float64 matvec must move: the matrix, x, and the result."""
    return 8 * (n1 * n2 + n2 + n1)


def params(profile: str) -> dict:
    from tensorbench import profiles

    return profiles.section(profile, EXPERIMENT)


def order_cells(profile: str) -> list[Cell]:
    """Every (implementation, order, n) of ``profile``, with the bandwidth probe."""
    p = params(profile)
    caps = p.get("max_elements") or {}
    cells = []
    for impl in IMPLEMENTATIONS:
        for order in ORDERS:
            for i, n in enumerate(p["sizes"]):
                n = int_at_least("layout size", n)
                if n * n <= float(caps.get(impl, float("inf"))):
                    cells.append(
                        Cell(
                            EXPERIMENT,
                            impl,
                            n,
                            n,
                            regime="orders",
                            variant=order,
                            n_trials=p["n_trials"],
                            seed=p["seed"] + i,
                        )
                    )
    cells.append(
        bandwidth_cell(
            EXPERIMENT,
            p["n_trials"],
            p["seed"],
            p.get("bandwidth_bytes", DEFAULT_BANDWIDTH_BYTES),
        )
    )
    return cells


def cause_cells(profile: str) -> list[Cell]:
    """One cell per cause at ``causes.n``, ``causes.rounds`` interleaved rounds."""
    c = params(profile)["causes"]
    n = int_at_least("causes.n", c["n"])
    rounds = int_at_least("causes.rounds", c["rounds"], 2)
    flush = int_at_least("causes.flush_bytes", c["flush_bytes"], 8)
    return [
        Cell(
            EXPERIMENT,
            CAUSE_KERNEL,
            n,
            n,
            regime="causes",
            variant=cause,
            n_trials=rounds,
            seed=int(c["seed"]) + k,
            options={"flush_bytes": flush},
        )
        for k, cause in enumerate(CAUSES)
    ]


def blas_shapes(profile: str) -> list[tuple[str, int, int]]:
    """(regime, n1, n2) of every Figure 3 shape of ``profile`` (its ``matvec`` section)
    and of ``layout.blas.extra_square_sizes``, each shape once (see
    :data:`BLAS_REGIME_PREFERENCE`), ordered by regime then size."""
    from tensorbench import profiles
    from tensorbench.experiments import matvec

    figure = profiles.section(profile, matvec.EXPERIMENT)
    fixed = int_at_least("matvec.fixed", figure["fixed"])
    extra = params(profile)["blas"].get("extra_square_sizes") or []
    if not isinstance(extra, list):
        raise TypeError(f"blas.extra_square_sizes must be a list, got {extra!r}")
    sizes = {
        regime: [int_at_least(f"matvec.sizes.{regime}", n) for n in figure["sizes"][regime]]
        for regime in matvec.REGIMES
    }
    sizes["square"] += [int_at_least("blas.extra_square_sizes", n) for n in extra]
    seen, out = set(), []
    for regime in BLAS_REGIME_PREFERENCE:
        for n in sizes[regime]:
            shape = matvec.shape(regime, n, fixed)
            if shape not in seen:
                seen.add(shape)
                out.append((regime, *shape))
    ranks = {regime: i for i, regime in enumerate(matvec.REGIMES)}
    return sorted(out, key=lambda r: (ranks[r[0]], r[1] * r[2], r[1]))


def blas_cells(profile: str) -> list[Cell]:
    """One cell per (Figure 3 shape, order): ``blas.rounds`` rounds of both conditions."""
    b = params(profile)["blas"]
    if not isinstance(b, dict):
        raise TypeError(f"layout.blas must be a mapping, got {b!r}")
    rounds = int_at_least("blas.rounds", b["rounds"], 2)
    seed = int_at_least("blas.seed", b["seed"], 0)
    min_seconds = seconds_at_least_zero(
        "blas.min_sample_seconds", b.get("min_sample_seconds", DEFAULT_MIN_SAMPLE_SECONDS)
    )
    return [
        Cell(
            EXPERIMENT,
            BLAS_IMPLEMENTATION,
            n1,
            n2,
            regime=regime,
            variant=order,
            n_trials=rounds,
            seed=seed + k,
            options={"min_sample_seconds": min_seconds},
        )
        for k, (regime, n1, n2) in enumerate(blas_shapes(profile))
        for order in ORDERS
    ]


def cell_sets(profile: str) -> dict[str, list[Cell]]:
    return {
        ORDERS_SET: order_cells(profile),
        CAUSES_SET: cause_cells(profile),
        BLAS_SET: blas_cells(profile),
    }


def runs_alone(cell: Cell) -> bool:
    if cell.regime == "causes" or cell.implementation == BLAS_IMPLEMENTATION:
        return True
    return dense_impls.runs_alone(cell, bytes_moved(cell.n1, cell.n2))


# --- measuring --------------------------------------------------------------------


def draw_matrix(rng: np.random.Generator, n1: int, n2: int, order: str) -> np.ndarray:
    """Uniform [0, 1) values in ``order``, drawn in memory order."""
    if order == "C":
        return rng.uniform(0.0, 1.0, (n1, n2))
    if order == "F":
        return rng.uniform(0.0, 1.0, (n2, n1)).T
    raise ValueError(f"order must be 'C' or 'F', got {order!r}")


def measure(cell: Cell):
    if cell.implementation == BANDWIDTH:
        return measure_bandwidth(cell)
    if cell.regime == "causes":
        return {"records": measure_cause(cell)}
    if cell.implementation == BLAS_IMPLEMENTATION:
        return {"records": measure_blas(cell)}
    return measure_order(cell)


def measure_order(cell: Cell) -> list[float]:
    """Seconds of the first and of ``n_trials`` later calls, fresh data in ``variant``."""
    from tensorbench.experiments import matvec

    order = cell.variant
    if cell.implementation in ("rust", "rust_tuned"):
        from tensorbench.build import release_kernels

        form = "tuned" if cell.implementation == "rust_tuned" else "loop"
        return list(
            release_kernels().bench_matvec(
                form, cell.n1, cell.n2, cell.n_trials, cell.seed, layout=order
            )
        )
    func = matvec.kernel(cell.implementation)
    rng = np.random.default_rng(cell.seed)

    def fresh_operands():
        return draw_matrix(rng, cell.n1, cell.n2, order), rng.uniform(0.0, 1.0, cell.n2)

    return time_calls(func, fresh_operands, cell.n_trials)


def minor_faults() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def timed(func, *args) -> tuple[float, int]:
    """Seconds and minor page faults of one call ``func(*args)``."""
    faults = minor_faults()
    start = time.perf_counter_ns()
    func(*args)
    stop = time.perf_counter_ns()
    return (stop - start) * 1e-9, minor_faults() - faults


def condition_runner(cause: str, n1: int, n2: int, rng: np.random.Generator, flush: np.ndarray):
    """``run(condition) -> (seconds, faults)`` for the conditions of ``cause``: the data
    are made untimed, then one call of the paper's Rust loop is timed."""
    from tensorbench.build import release_kernels

    kernel = release_kernels().matvec_loop

    def x():
        return rng.uniform(0.0, 1.0, n2)

    def run(condition: str) -> tuple[float, int]:
        if condition == "untouched":
            a = np.zeros((n1, n2))
        elif condition == "touched":
            a = np.zeros((n1, n2))
            a.fill(0.0)
        elif condition in ("by_rows", "along_layout", "after_generation", "from_python"):
            a = draw_matrix(rng, n1, n2, "C")
        elif condition == "by_columns":
            a = np.empty((n1, n2))
            for j in range(n2):
                a[:, j] = rng.uniform(0.0, 1.0, n1)
        elif condition == "against_layout":
            a = draw_matrix(rng, n1, n2, "F")
        elif condition in ("after_warmup", "after_flush"):
            a = draw_matrix(rng, n1, n2, "C")
            vector = x()
            if condition == "after_warmup":
                kernel(a, vector)
            else:
                float(flush.sum())
            return timed(kernel, a, vector)
        else:
            raise ValueError(f"unknown condition {condition!r} of cause {cause!r}")
        return timed(kernel, a, x())

    return run


def measure_cause(cell: Cell) -> list[dict]:
    """Records of ``n_trials`` rounds (plus a first, warm-up round, marked as the first
    call) of every condition of the cause ``cell.variant``, in rotated order per round.
    ``in_rust`` (first_touch only) is the paper's in-Rust timer of the same loop, whose
    page faults per timed call are counted inside Rust."""
    cause = cell.variant
    if cause not in CONDITIONS:
        raise ValueError(f"unknown cause {cause!r}; known: {', '.join(CAUSES)}")
    rng = np.random.default_rng(cell.seed)
    flush_bytes = int(cell.options.get("flush_bytes", 8 << 20))
    flush = np.ones(flush_bytes // 8 if cause == "cache_state" else 1)
    run = condition_runner(cause, cell.n1, cell.n2, rng, flush)
    python_conditions = [c for c in CONDITIONS[cause] if c != "in_rust"]
    records = []

    def record(condition, trial, seconds, faults):
        records.append(
            {
                "experiment": EXPERIMENT,
                "regime": cell.regime,
                "variant": cause,
                "implementation": cell.implementation,
                "n1": cell.n1,
                "n2": cell.n2,
                "size": cell.size,
                "condition": condition,
                "trial": trial,
                "seconds": seconds,
                "minor_faults": faults,
                "is_first_call": trial == 0,
            }
        )

    for trial in range(cell.n_trials + 1):
        shift = trial % len(python_conditions)
        for condition in python_conditions[shift:] + python_conditions[:shift]:
            record(condition, trial, *run(condition))
    if "in_rust" in CONDITIONS[cause]:
        from tensorbench.build import release_kernels

        got = release_kernels().bench_matvec_faults(
            "loop", cell.n1, cell.n2, cell.n_trials, cell.seed
        )
        for trial, (seconds, faults) in enumerate(
            zip(got["seconds"], got["minor_faults"], strict=True)
        ):
            record("in_rust", trial, seconds, faults)
    return records


def blas_kernels() -> dict:
    """The two conditions' callables ``f(a, x)``: NumPy's ``a @ x`` and the tuned kernel."""
    import operator

    from tensorbench.build import release_kernels

    return {"blas": operator.matmul, "tuned": release_kernels().matvec}


def calls_per_sample(timer, min_seconds: float) -> int:
    """The smallest power of two (up to :data:`MAX_CALLS_PER_SAMPLE`) of back-to-back
    calls of ``timer``'s statement that last at least ``min_seconds``."""
    calls = 1
    while calls < MAX_CALLS_PER_SAMPLE and timer.timeit(calls) * 1e-9 < min_seconds:
        calls *= 2
    return calls


def measure_blas(cell: Cell) -> list[dict]:
    """Records of ``n_trials`` rounds (plus a first, warm-up round, marked as the first
    call) of both conditions on one matrix in order ``cell.variant`` and one vector,
    drawn once; the conditions alternate which goes first. Both use the batch size of
    the slower one, calibrated before the rounds; a sample's ``seconds`` are per call,
    net of the empty loop of the same length timed right after it, and its
    ``minor_faults`` those of the whole sample."""
    order = cell.variant
    if order not in ORDERS:
        raise ValueError(f"order must be 'C' or 'F', got {order!r}")
    rng = np.random.default_rng(cell.seed)
    a = draw_matrix(rng, cell.n1, cell.n2, order)
    x = rng.uniform(0.0, 1.0, cell.n2)
    min_seconds = float(cell.options.get("min_sample_seconds", DEFAULT_MIN_SAMPLE_SECONDS))
    timers = {name: batch_timers(func, (a, x)) for name, func in blas_kernels().items()}
    calls = max(calls_per_sample(timers[name][0], min_seconds) for name in BLAS_CONDITIONS)
    records = []
    for trial in range(cell.n_trials + 1):
        first = trial % len(BLAS_CONDITIONS)
        for condition in BLAS_CONDITIONS[first:] + BLAS_CONDITIONS[:first]:
            calls_timer, empty_timer = timers[condition]
            faults = minor_faults()
            seconds = seconds_per_call(calls_timer, calls)
            faults = minor_faults() - faults
            seconds -= seconds_per_call(empty_timer, calls)
            records.append(
                {
                    "experiment": EXPERIMENT,
                    "regime": cell.regime,
                    "variant": order,
                    "implementation": cell.implementation,
                    "n1": cell.n1,
                    "n2": cell.n2,
                    "size": cell.size,
                    "condition": condition,
                    "trial": trial,
                    "seconds": seconds,
                    "minor_faults": faults,
                    "is_first_call": trial == 0,
                    "calls_per_sample": calls,
                }
            )
    return records


# --- reading back -----------------------------------------------------------------


def load(profile: str, results_root: str | None = None):
    """The finished orders run (a DenseRun, column ``n``) and the causes' raw records
    (a DataFrame, possibly empty); None for the run when it has no data."""
    from tensorbench import paths, results
    from tensorbench.experiments import dense_report

    orders = dense_report.load(ORDERS_SET, profile, results_root)
    if orders is not None:
        orders.summary["n"] = orders.summary["n1"]
        orders.summary["order"] = orders.summary["variant"]
    causes = results.load_raw(paths.run_dir("data", profile, results_root) / CAUSES_SET)
    return orders, causes


def load_blas(profile: str, results_root: str | None = None):
    """The blas-vs-tuned records (a DataFrame, possibly empty), the run's metadata, and
    the bandwidth curve measured in the same profile folder (a BandwidthRun, or None
    when that experiment has not run there)."""
    from tensorbench import paths, results
    from tensorbench.experiments import bandwidth

    base = paths.run_dir("data", profile, results_root)
    records = results.load_raw(base / BLAS_SET)
    metadata_path = base / BLAS_SET / "metadata.json"
    metadata = results.read_json(metadata_path) if metadata_path.exists() else {}
    return records, metadata, bandwidth.load_dir(base, profile)


def run(profile: str, results_root: str | None = None):
    """Run (or resume) every cell set of ``profile``; returns :func:`load`'s pair (the
    blas comparison is read back by :func:`load_blas`)."""
    from tensorbench import paths
    from tensorbench.harness.runner import run_cells

    base = paths.run_dir("data", profile, results_root)
    for name, cells in cell_sets(profile).items():
        run_cells(
            cells,
            base / name,
            description={"experiment": EXPERIMENT, "cell_set": name, "profile": profile},
            alone=runs_alone,
            columns={CAUSES_SET: RECORD_COLUMNS, BLAS_SET: BLAS_RECORD_COLUMNS}.get(name),
        )
    return load(profile, results_root)


def recorded_findings(profile: str, results_root: str | None = None):
    from tensorbench.experiments import layout_report

    orders, causes = load(profile, results_root)
    blas, _, bw_run = load_blas(profile, results_root)
    return layout_report.findings(orders, causes, params_or_none(profile), blas=blas, bw_run=bw_run)


def params_or_none(profile: str) -> dict | None:
    try:
        return params(profile)
    except (KeyError, ValueError, FileNotFoundError):
        return None
