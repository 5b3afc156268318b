"""Per-call overhead of Tensor Train inner-product contractions, called from Python.

The workload of the TT inner-product overhead note (``data/published``): complex128,
physical dimension ``d = 2``, one thread. Arrays are NumPy C-order arrays whose axes are
in the order the note lists them (``README`` of the reference material):

====================  ======================================  ===========================
contraction           definition (plain ``np.einsum``)        output
====================  ======================================  ===========================
``first_site``        ``einsum("sa,sb->ab", bra.conj(), ket)``  env ``[chi_bra, chi_ket]``
``env_bra``           ``einsum("ab,asc->bsc", env, bra.conj())`` tmp ``[chi_ket, d, chi_bra']``
``tmp_ket``           ``einsum("bsc,bse->ce", tmp, ket)``        env ``[chi_bra', chi_ket']``
``site_update``       ``tmp_ket(env_bra(env, bra), ket)``      env ``[chi_bra', chi_ket']``
``chain``             ``env = [[1]]``; ``site_update`` per site   ``<bra|ket>`` (complex)
====================  ======================================  ===========================

with ``first_site`` operands ``[d, chi]``, ``env [chi_bra, chi_ket]`` and site tensors
``[chi_left, d, chi_right]``. The chain has ``L = 32`` sites, bonds ``1, chi, ..., chi, 1``
(64 contractions). Operands come from a seeded generator keyed by (seed, case, chi), so
every implementation sees the same numbers; site tensors are scaled by
``1 / sqrt(d chi_left)`` so the chain's environments stay near 1 (no overflow, no
subnormals).

Implementations (:data:`LABELS`): NumPy ``einsum`` (``optimize=False``); NumPy
``matmul`` on reshaped views (the ``tensordot`` formulation without its Python-level
argument handling); ``opt_einsum`` expressions precompiled for the shapes; direct BLAS
``zgemm`` through SciPy on Fortran-ordered views (no input copies), with the bra
conjugated once before timing and, separately, with a conjugated copy in every call (the
note's lower bound); ``kernels_rs`` from Python, one call per contraction (the chain as a
Python loop of 64 calls), once making a new array per result and once writing into an
``out`` array allocated up front; ``kernels_rs.tt_inner``, the whole chain in one call; and the
same Rust kernels timed inside Rust (``kernels_rs.bench_tt``), the floor. Bra operands
are conjugated by every implementation (inside the timed call unless stated).

Timing. One call can take well under a microsecond, which a single ``perf_counter_ns``
bracket cannot resolve, so each sample times a batch of ``k`` back-to-back calls and
divides by ``k`` (a ``timeit`` loop: function and arguments in local variables, garbage
collector off); ``k`` is the smallest power of two whose batch lasts at least
``min_sample_seconds`` and is recorded per cell. Sample 0 is the first call, timed alone,
so first-call cost stays visible. The Rust floor uses the same scheme with
``std::time::Instant``. Every cell runs in a fresh worker process with all thread pools
at one thread. The statistic is the median over samples, as the note reports for
ITensors.jl. Before the samples are used, the cell's result is checked against the plain
``np.einsum`` reference (max-norm relative error at most :data:`TOLERANCE`).
"""

from __future__ import annotations

import math
import time
import timeit
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tensorbench.build import release_kernels
from tensorbench.experiments.registry import Notebook
from tensorbench.findings import Finding, described
from tensorbench.harness.cell import Cell
from tensorbench.timing import int_at_least, real_number

EXPERIMENT = "tt_overhead"
NOTEBOOKS = (Notebook("tt_overhead"),)
PAIRWISE_CASES = ("first_site", "env_bra", "tmp_ket", "site_update")
CASES = (*PAIRWISE_CASES, "chain")
EINSUM = {
    "first_site": "sa,sb->ab",
    "env_bra": "ab,asc->bsc",
    "tmp_ket": "bsc,bse->ce",
}
TOLERANCE = 1e-12
MAX_CALLS_PER_SAMPLE = 1 << 16

LABELS = {
    "numpy_einsum": "NumPy einsum (optimize=False)",
    "numpy_matmul": "NumPy matmul (tensordot form)",
    "opt_einsum": "opt_einsum, precompiled",
    "scipy_zgemm": "SciPy BLAS zgemm, bra conjugated once",
    "scipy_zgemm_conj_copy": "SciPy BLAS zgemm + conjugated copy per call",
    "rust_from_python": "Rust from Python, one call per contraction",
    "rust_from_python_out": "Rust from Python, one call per contraction, out= preallocated",
    "rust_from_python_chain": "Rust from Python, whole chain in one call",
    "rust": "Rust timed inside Rust (floor)",
}
IMPLEMENTATIONS = tuple(LABELS)
CHAIN_ONLY = ("rust_from_python_chain",)
RUST_IMPLEMENTATIONS = (
    "rust_from_python",
    "rust_from_python_out",
    "rust_from_python_chain",
    "rust",
)
# Cells that also time their call against the in-Rust floor, alternating in one process.
PAIRED = ("rust_from_python", "rust_from_python_out", "rust_from_python_chain")


# --- data ------------------------------------------------------------------------------


def _complex_normal(rng: np.random.Generator, shape, scale: float = 1.0) -> np.ndarray:
    values = rng.standard_normal((*shape, 2)) * (scale / math.sqrt(2.0))
    return np.ascontiguousarray(values[..., 0] + 1j * values[..., 1])


def _site(rng, left: int, d: int, right: int) -> np.ndarray:
    return _complex_normal(rng, (left, d, right), 1.0 / math.sqrt(d * left))


def chain_bonds(chi: int, length: int) -> list[int]:
    """Bond dimensions ``1, chi, ..., chi, 1`` of an ``length``-site chain."""
    chi, length = int_at_least("chi", chi), int_at_least("length", length)
    return [1, *([chi] * (length - 1)), 1]


def operands(case: str, chi: int, seed: int, d: int = 2, length: int = 32) -> tuple:
    """The operands of ``case`` at bond dimension ``chi`` (see the module docstring):
    first_site (bra_first, ket_first); env_bra (env, bra); tmp_ket (tmp, ket);
    site_update (env, bra, ket); chain (bras, kets) as lists of ``length`` site tensors."""
    if case not in CASES:
        raise ValueError(f"case must be one of {CASES}, got {case!r}")
    chi, seed = int_at_least("chi", chi), int_at_least("seed", seed, 0)
    d, length = int_at_least("d", d), int_at_least("length", length)
    rng = np.random.default_rng([seed, CASES.index(case), chi, d, length])
    if case == "first_site":
        return _complex_normal(rng, (d, chi)), _complex_normal(rng, (d, chi))
    if case == "env_bra":
        return _complex_normal(rng, (chi, chi)), _site(rng, chi, d, chi)
    if case == "tmp_ket":
        return _complex_normal(rng, (chi, d, chi)), _site(rng, chi, d, chi)
    if case == "site_update":
        return _complex_normal(rng, (chi, chi)), _site(rng, chi, d, chi), _site(rng, chi, d, chi)
    bonds = chain_bonds(chi, length)
    bras = [_site(rng, bonds[i], d, bonds[i + 1]) for i in range(length)]
    kets = [_site(rng, bonds[i], d, bonds[i + 1]) for i in range(length)]
    return bras, kets


# --- the reference -----------------------------------------------------------------------


def _einsum_site_update(env, bra, ket):
    tmp = np.einsum(EINSUM["env_bra"], env, bra.conj(), optimize=False)
    return np.einsum(EINSUM["tmp_ket"], tmp, ket, optimize=False)


def reference(case: str, ops: tuple):
    """The plain ``np.einsum`` result of ``case`` on ``ops``."""
    if case == "first_site":
        bra_first, ket_first = ops
        return np.einsum(EINSUM[case], bra_first.conj(), ket_first, optimize=False)
    if case == "env_bra":
        env, bra = ops
        return np.einsum(EINSUM[case], env, bra.conj(), optimize=False)
    if case == "tmp_ket":
        return np.einsum(EINSUM[case], *ops, optimize=False)
    if case == "site_update":
        return _einsum_site_update(*ops)
    if case == "chain":
        env = np.ones((1, 1), dtype=np.complex128)
        for bra, ket in zip(*ops, strict=True):
            env = _einsum_site_update(env, bra, ket)
        return complex(env[0, 0])
    raise ValueError(f"case must be one of {CASES}, got {case!r}")


def relative_error(result, expected) -> float:
    """``max |result - expected| / max |expected|`` (arrays or scalars)."""
    result, expected = np.asarray(result), np.asarray(expected)
    if result.shape != expected.shape:
        raise ValueError(f"result shape {result.shape} != expected shape {expected.shape}")
    if expected.size == 0:
        return 0.0
    scale = float(np.max(np.abs(expected)))
    return float(np.max(np.abs(result - expected))) / (scale if scale > 0 else 1.0)


# --- implementations -------------------------------------------------------------------


def _numpy_einsum(case: str) -> Callable:
    einsum = np.einsum
    if case == "first_site":
        return lambda bra, ket: einsum(EINSUM[case], bra.conj(), ket, optimize=False)
    if case == "env_bra":
        return lambda env, bra: einsum(EINSUM[case], env, bra.conj(), optimize=False)
    if case == "tmp_ket":
        return lambda tmp, ket: einsum(EINSUM[case], tmp, ket, optimize=False)
    return _einsum_site_update


def _matmul_env_bra(env, bra):
    chi_bra, d, right = bra.shape
    return (env.T @ bra.conj().reshape(chi_bra, d * right)).reshape(env.shape[1], d, right)


def _matmul_tmp_ket(tmp, ket):
    chi_ket, d, right = ket.shape
    return tmp.reshape(chi_ket * d, tmp.shape[2]).T @ ket.reshape(chi_ket * d, right)


def _numpy_matmul(case: str) -> Callable:
    if case == "first_site":
        return lambda bra, ket: bra.conj().T @ ket
    if case == "env_bra":
        return _matmul_env_bra
    if case == "tmp_ket":
        return _matmul_tmp_ket
    return lambda env, bra, ket: _matmul_tmp_ket(_matmul_env_bra(env, bra), ket)


def _opt_einsum_pair(case: str, first_shape, second_shape) -> Callable:
    import opt_einsum

    expression = opt_einsum.contract_expression(EINSUM[case], first_shape, second_shape)
    if case == "first_site":
        return lambda bra, ket: expression(bra.conj(), ket)
    if case == "env_bra":
        return lambda env, bra: expression(env, bra.conj())
    return expression


def _opt_einsum_site_update(env_shape, bra_shape, ket_shape) -> Callable:
    chi_ket = env_shape[1]
    tmp_shape = (chi_ket, bra_shape[1], bra_shape[2])
    env_bra = _opt_einsum_pair("env_bra", env_shape, bra_shape)
    tmp_ket = _opt_einsum_pair("tmp_ket", tmp_shape, ket_shape)
    return lambda env, bra, ket: tmp_ket(env_bra(env, bra), ket)


# SciPy's zgemm (f2py) copies any input that is not Fortran-contiguous. A C-order matrix
# is a Fortran-order view of its transpose, so every product below is written on
# Fortran-contiguous views (``.T`` of C-order arrays) and no input is ever copied; each
# output comes back in Fortran order, whose ``.T`` is the C-order result.


def _zgemm():
    from scipy.linalg.blas import zgemm

    return zgemm


def _zgemm_first_site(bra_conj, ket):
    # env^T [chi_ket, chi_bra] = ket^T conj(bra): Fortran views ket.T and bra_conj.T.
    return _zgemm()(1.0, ket.T, bra_conj.T, trans_b=1).T


def _zgemm_env_bra(env, bra_conj):
    chi_bra, d, right = bra_conj.shape
    # tmp^T [(d chi_bra'), chi_ket] = conj(bra)^T env (bra as chi_bra x (d chi_bra')).
    out = _zgemm()(1.0, bra_conj.reshape(chi_bra, d * right).T, env.T, trans_b=1)
    return out.T.reshape(env.shape[1], d, right)


def _zgemm_tmp_ket(tmp, ket):
    chi_ket, d, right = ket.shape
    # env'^T [chi_ket', chi_bra'] = ket^T tmp, both as (chi_ket d) x (...).
    out = _zgemm()(
        1.0, ket.reshape(chi_ket * d, right).T, tmp.reshape(chi_ket * d, tmp.shape[2]).T, trans_b=1
    )
    return out.T


def _scipy_zgemm(case: str, conj_copy: bool) -> Callable:
    """Functions whose bra operand is already conjugated (``conj_copy=False``, the caller
    conjugates once before timing) or conjugate it with a copy in every call."""
    zgemm_first_site, zgemm_env_bra = _zgemm_first_site, _zgemm_env_bra
    if conj_copy:
        conj = np.conj
        if case == "first_site":
            return lambda bra, ket: zgemm_first_site(conj(bra), ket)
        if case == "env_bra":
            return lambda env, bra: zgemm_env_bra(env, conj(bra))
        if case == "site_update":
            return lambda env, bra, ket: _zgemm_tmp_ket(zgemm_env_bra(env, conj(bra)), ket)
    else:
        if case == "first_site":
            return zgemm_first_site
        if case == "env_bra":
            return zgemm_env_bra
        if case == "site_update":
            return lambda env, bra_conj, ket: _zgemm_tmp_ket(zgemm_env_bra(env, bra_conj), ket)
    return _zgemm_tmp_ket  # no bra operand: nothing to conjugate


def _chain_loop(site_update: Callable) -> Callable:
    """``<bra|ket>`` as a Python loop of ``site_update(env, bra, ket)`` calls."""

    def chain(bras, kets):
        env = np.ones((1, 1), dtype=np.complex128)
        for bra, ket in zip(bras, kets, strict=True):
            env = site_update(env, bra, ket)
        return complex(env[0, 0])

    return chain


def result_shape(case: str, ops: tuple) -> tuple[int, ...]:
    """The shape of a pairwise contraction's result (the module table's output column)."""
    if case == "first_site":
        return (ops[0].shape[1], ops[1].shape[1])
    if case == "env_bra":
        return (ops[0].shape[1], *ops[1].shape[1:])
    if case == "tmp_ket":
        return (ops[0].shape[2], ops[1].shape[2])
    if case == "site_update":
        return (ops[1].shape[2], ops[2].shape[2])
    raise ValueError(f"case must be one of {PAIRWISE_CASES}, got {case!r}")


def _chain_loop_with_out(kernels, bras, kets) -> Callable:
    """``<bra|ket>`` as a Python loop of ``tt_env_bra`` and ``tt_tmp_ket`` calls that write
    into arrays allocated once, up front (one intermediate and one environment per site):
    what a user who evaluates the same chain shapes repeatedly would do."""
    tmps = [
        np.empty((ket.shape[0], *bra.shape[1:]), dtype=np.complex128)
        for bra, ket in zip(bras, kets, strict=True)
    ]
    envs = [
        np.empty((bra.shape[2], ket.shape[2]), dtype=np.complex128)
        for bra, ket in zip(bras, kets, strict=True)
    ]
    env_bra, tmp_ket = kernels.tt_env_bra, kernels.tt_tmp_ket
    start = np.ones((1, 1), dtype=np.complex128)

    def chain(bras, kets):
        env = start
        for bra, ket, tmp, new in zip(bras, kets, tmps, envs, strict=True):
            env = tmp_ket(env_bra(env, bra, tmp), ket, new)
        return complex(env[0, 0])

    return chain


def prepare(implementation: str, case: str, ops: tuple) -> tuple[Callable, tuple]:
    """``(func, args)`` such that ``func(*args)`` computes ``case`` on ``ops`` the way
    ``implementation`` does. Work that the implementation does once up front (compiling
    opt_einsum expressions, conjugating the bra for ``scipy_zgemm``) happens here, outside
    the timed calls. Not for ``rust`` (timed inside Rust by :func:`measure`)."""
    if implementation not in IMPLEMENTATIONS:
        raise ValueError(f"unknown implementation {implementation!r}; known: {IMPLEMENTATIONS}")
    if implementation == "rust":
        raise ValueError("rust is timed inside Rust by measure(), there is nothing to prepare")
    if case not in CASES:
        raise ValueError(f"case must be one of {CASES}, got {case!r}")
    if implementation in CHAIN_ONLY and case != "chain":
        raise ValueError(f"{implementation} only runs the chain, not {case!r}")
    if implementation == "numpy_einsum":
        if case == "chain":
            return _chain_loop(_einsum_site_update), ops
        return _numpy_einsum(case), ops
    if implementation == "numpy_matmul":
        if case == "chain":
            return _chain_loop(_numpy_matmul("site_update")), ops
        return _numpy_matmul(case), ops
    if implementation == "opt_einsum":
        if case == "chain":
            return _opt_einsum_chain(*ops), ops
        if case == "site_update":
            return _opt_einsum_site_update(*(a.shape for a in ops)), ops
        return _opt_einsum_pair(case, ops[0].shape, ops[1].shape), ops
    if implementation in ("scipy_zgemm", "scipy_zgemm_conj_copy"):
        _zgemm()  # import SciPy before the first timed call
        conj_copy = implementation == "scipy_zgemm_conj_copy"
        if case == "chain":
            site_update = _scipy_zgemm("site_update", conj_copy)
            bras, kets = ops
            if not conj_copy:
                bras = [np.conj(bra) for bra in bras]
            return _chain_loop(site_update), (bras, kets)
        if not conj_copy and case in ("first_site", "env_bra", "site_update"):
            index = 0 if case == "first_site" else 1
            ops = tuple(np.conj(a) if i == index else a for i, a in enumerate(ops))
        return _scipy_zgemm(case, conj_copy), ops
    if implementation == "rust_from_python":
        kernels = release_kernels()
        if case == "chain":
            env_bra, tmp_ket = kernels.tt_env_bra, kernels.tt_tmp_ket
            return _chain_loop(lambda env, bra, ket: tmp_ket(env_bra(env, bra), ket)), ops
        return getattr(kernels, f"tt_{case}"), ops
    if implementation == "rust_from_python_out":
        kernels = release_kernels()
        if case == "chain":
            return _chain_loop_with_out(kernels, *ops), ops
        out = np.empty(result_shape(case, ops), dtype=np.complex128)
        return getattr(kernels, f"tt_{case}"), (*ops, out)
    if implementation == "rust_from_python_chain":
        return release_kernels().tt_inner, ops
    raise ValueError(f"unknown implementation {implementation!r}; known: {IMPLEMENTATIONS}")


def _opt_einsum_chain(bras, kets) -> Callable:
    """The chain with one pair of precompiled expressions per distinct site shape."""
    updates: dict[tuple, Callable] = {}
    for bra, ket in zip(bras, kets, strict=True):
        env_shape = (bra.shape[0], ket.shape[0])
        key = (env_shape, bra.shape, ket.shape)
        if key not in updates:
            updates[key] = _opt_einsum_site_update(env_shape, bra.shape, ket.shape)
    per_site = [
        updates[((b.shape[0], k.shape[0]), b.shape, k.shape)]
        for b, k in zip(bras, kets, strict=True)
    ]

    def chain(bras, kets):
        env = np.ones((1, 1), dtype=np.complex128)
        for update, bra, ket in zip(per_site, bras, kets, strict=True):
            env = update(env, bra, ket)
        return complex(env[0, 0])

    return chain


# --- timing ----------------------------------------------------------------------------


def _seconds(name: str, value) -> float:
    """``value`` as a float, checked to be a number of seconds (0 or more, not NaN)."""
    value = real_number(name, value)
    if not value >= 0:
        raise ValueError(f"{name} must be at least 0, got {value}")
    return value


def _timer(statement: str, func: Callable, args: Sequence) -> timeit.Timer:
    """A ``timeit`` timer with the function and arguments in local variables."""
    names = [f"a{i}" for i in range(len(args))]
    bound = {"_func": func, **{f"_{n}": a for n, a in zip(names, args, strict=True)}}
    setup = "; ".join(["f = _func", *(f"{n} = _{n}" for n in names)])
    return timeit.Timer(statement.format(args=", ".join(names)), setup, time.perf_counter_ns, bound)


def time_batched(
    func: Callable,
    args: Sequence,
    n_samples: int,
    min_sample_seconds: float,
    max_calls_per_sample: int = MAX_CALLS_PER_SAMPLE,
) -> dict:
    """Per-call seconds of ``func(*args)``: element 0 the first call alone, then
    ``n_samples`` batches of ``calls_per_sample`` calls each divided by that count, where
    ``calls_per_sample`` is the smallest power of two whose batch lasts at least
    ``min_sample_seconds`` (the calibration batches are the warm-up). Also returns the
    first call's result and the per-call time of the empty ``timeit`` loop."""
    if n_samples < 1:
        raise ValueError(f"n_samples must be at least 1, got {n_samples}")
    min_sample_seconds = _seconds("min_sample_seconds", min_sample_seconds)
    max_calls_per_sample = int_at_least("max_calls_per_sample", max_calls_per_sample)
    start = time.perf_counter_ns()
    result = func(*args)
    first = (time.perf_counter_ns() - start) * 1e-9
    calls = _timer("f({args})", func, args)
    empty = _timer("pass", func, args)
    per_sample = 1
    while (
        per_sample < max_calls_per_sample and calls.timeit(per_sample) * 1e-9 < min_sample_seconds
    ):
        per_sample *= 2
    seconds = [first]
    seconds += [calls.timeit(per_sample) * 1e-9 / per_sample for _ in range(n_samples)]
    loop = float(np.median([empty.timeit(per_sample) * 1e-9 / per_sample for _ in range(5)]))
    return {
        "seconds": seconds,
        "calls_per_sample": per_sample,
        "result": result,
        "empty_loop_seconds": loop,
    }


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
    min_sample_seconds = _seconds("min_sample_seconds", min_sample_seconds)
    kernels = release_kernels()
    calls = _timer("f({args})", func, args)
    python, rust = [], []
    for _ in range(rounds):
        python.append(calls.timeit(calls_per_sample) * 1e-9 / calls_per_sample)
        seconds, _ = kernels.bench_tt(case, ops, 1, min_sample_seconds)
        rust.append(seconds[1])
    return {"python_seconds": python, "rust_seconds": rust}


# --- cells -----------------------------------------------------------------------------


def cells(params: dict, implementations: Sequence[str] = IMPLEMENTATIONS) -> list[Cell]:
    """Every (implementation, case, chi) of a profile section: each pairwise case of
    ``pairwise_cases`` at every ``pairwise_chi``, and the chain at every ``chain_chi``.
    Ordered by case, then chi, then implementation, so that the implementations compared
    at one (case, chi) are measured within seconds of each other: on a shared machine the
    background load drifts over minutes."""
    implementations = list(implementations)
    unknown = set(implementations) - set(IMPLEMENTATIONS)
    if unknown:
        raise ValueError(f"unknown implementations {sorted(unknown)}; known: {IMPLEMENTATIONS}")
    if not implementations:
        raise ValueError("implementations must not be empty")
    for key in ("pairwise_cases", "pairwise_chi", "chain_chi"):
        if not params[key]:
            raise ValueError(f"{key} must not be empty")
    pairwise_chi = [int_at_least("chi in pairwise_chi", chi) for chi in params["pairwise_chi"]]
    chain_chi = [int_at_least("chi in chain_chi", chi) for chi in params["chain_chi"]]
    n_samples = int_at_least("n_samples", params["n_samples"])
    seed = int_at_least("seed", params["seed"], 0)
    options = {
        "d": int_at_least("physical_dimension", params.get("physical_dimension", 2)),
        "length": int_at_least("chain_length", params.get("chain_length", 32)),
        "min_sample_seconds": _seconds("min_sample_seconds", params["min_sample_seconds"]),
    }
    planned = []
    plan = [(case, pairwise_chi) for case in params["pairwise_cases"]]
    plan.append(("chain", chain_chi))
    for case, chis in plan:
        if case not in CASES:
            raise ValueError(f"case must be one of {CASES}, got {case!r}")
        for chi in chis:
            for impl in implementations:
                if impl in CHAIN_ONLY and case != "chain":
                    continue
                planned.append(
                    Cell(
                        EXPERIMENT,
                        impl,
                        chi,
                        regime="chain" if case == "chain" else "pairwise",
                        variant=case,
                        n_trials=n_samples,
                        seed=seed,
                        options=options,
                    )
                )
    return planned


def measure(cell: Cell) -> dict:
    """Time one cell (see the module docstring) and check its result against the
    reference; ``extra`` records calls_per_sample, the error and the kernel details."""
    case, chi = cell.variant, cell.n1
    d, length = int(cell.options["d"]), int(cell.options["length"])
    min_sample_seconds = float(cell.options["min_sample_seconds"])
    ops = operands(case, chi, cell.seed, d, length)
    extra: dict = {"case": case, "chi": chi, "d": d, "min_sample_seconds": min_sample_seconds}
    if case == "chain":
        extra["length"] = length
    if cell.implementation == "rust":
        kernels = release_kernels()
        seconds, per_sample = kernels.bench_tt(case, ops, cell.n_trials, min_sample_seconds)
        result = (kernels.tt_inner if case == "chain" else getattr(kernels, f"tt_{case}"))(*ops)
        extra.update(calls_per_sample=per_sample, timed_in="rust")
    else:
        func, args = prepare(cell.implementation, case, ops)
        timed = time_batched(func, args, cell.n_trials, min_sample_seconds)
        seconds, result = timed["seconds"], timed["result"]
        extra.update(
            calls_per_sample=timed["calls_per_sample"],
            timed_in="python",
            empty_loop_seconds=timed["empty_loop_seconds"],
        )
        if cell.implementation in PAIRED:
            extra["paired"] = paired_with_floor(
                func, args, case, ops, timed["calls_per_sample"], cell.n_trials, min_sample_seconds
            )
    error = relative_error(result, reference(case, ops))
    if not error <= TOLERANCE:
        raise AssertionError(
            f"{cell.label()}: relative error {error:.3g} against np.einsum exceeds {TOLERANCE}"
        )
    extra["relative_error"] = error
    if cell.implementation in RUST_IMPLEMENTATIONS:
        extra["tt_kernel_info"] = dict(release_kernels().tt_kernel_info())
    return {"seconds": seconds, "extra": extra}


# --- runs and reports ------------------------------------------------------------------


@dataclass
class TtRun:
    """One finished (or resumed) run of the study, read back from disk."""

    profile: str
    raw: object  # pandas.DataFrame of raw per-call seconds (trial 0 = first call)
    summary: object  # pandas.DataFrame from tensorbench.stats.summarize, plus chi/case
    metadata: dict
    data_dir: Path
    figures_dir: Path

    def caption(self) -> str:
        from tensorbench import plotting

        n = int(self.summary["n_calls"].max()) if len(self.summary) else 0
        text = plotting.caption(self.metadata, self.profile, statistic="median")
        text = text.replace(
            "median, bars: 95% CI.",
            f"median of {n} samples (each the mean of a batch of calls) after the first "
            "call, bars: interquartile range.",
        )
        return text


def _summarize(raw):
    from tensorbench import stats

    summary = stats.summarize(raw)
    later = raw[~raw["is_first_call"].astype(bool)]
    quartiles = (
        later.groupby(["variant", "implementation", "n1"])["seconds"]
        .quantile([0.25, 0.75])
        .unstack()
        .rename(columns={0.25: "q25", 0.75: "q75"})
        .reset_index()
    )
    summary = summary.merge(quartiles, on=["variant", "implementation", "n1"], how="left")
    return summary.assign(case=summary["variant"], chi=summary["n1"])


def _load_dir(data_dir: Path, profile: str, results_root) -> TtRun | None:
    from tensorbench import paths, results

    raw = results.load_raw(data_dir)
    if raw.empty:
        return None
    raw["variant"] = raw["variant"].fillna("")
    return TtRun(
        profile=profile,
        raw=raw,
        summary=_summarize(raw),
        metadata=results.read_json(data_dir / "metadata.json"),
        data_dir=data_dir,
        figures_dir=paths.run_dir("figures", profile, results_root),
    )


def cell_sets(profile: str) -> dict[str, list[Cell]]:
    """The study's one cell set, ``tt_overhead``."""
    from tensorbench import profiles

    params = profiles.section(profile, EXPERIMENT)
    return {EXPERIMENT: cells(params, params.get("implementations", IMPLEMENTATIONS))}


def cell_work(cell: Cell) -> float:
    """For run-time estimates: a cell's time is its samples (``n_trials``), not its size."""
    return 1.0


def runs_alone(cell: Cell) -> bool:
    """Every operand fits in the L1/L2 cache (chi <= 32): cells run side by side; the
    Rust-from-Python cells are timed alternately with the floor in their own process."""
    return False


def recorded_findings(profile: str, results_root: str | None = None) -> list[Finding]:
    run = load(profile, results_root)
    return described(EXPERIMENT, findings(run)) if run is not None else []


def run(profile: str, results_root: str | None = None) -> TtRun:
    """Run (or resume) the study at ``profile``; results in
    data/results/<machine>/<profile>/tt_overhead."""
    from tensorbench import paths, profiles
    from tensorbench.harness.runner import run_cells

    params = profiles.section(profile, EXPERIMENT)
    planned = cell_sets(profile)[EXPERIMENT]
    data_dir = paths.run_dir("data", profile, results_root) / EXPERIMENT
    run_cells(
        planned,
        data_dir,
        description={"experiment": EXPERIMENT, "profile": profile, "parameters": params},
    )
    loaded = _load_dir(data_dir, profile, results_root)
    if loaded is None:
        raise RuntimeError(f"no data in {data_dir} after running {len(planned)} cells")
    return loaded


def load(profile: str, results_root: str | None = None) -> TtRun | None:
    """A finished run read back from disk without measuring (None if there is none)."""
    from tensorbench import paths

    return _load_dir(
        paths.run_dir("data", profile, results_root) / EXPERIMENT, profile, results_root
    )


def _published(case: str):
    """The note's published rows of ``case`` (site_update or chain_L32), chi as int, µs."""
    from tensorbench import published

    rows = published.select("tt_note", experiment="tt_inner", case=case)
    return rows.assign(chi=rows["size"].str.removeprefix("chi=").astype(int))


PUBLISHED_SITE_UPDATE = {
    "itensors": "ITensors.jl median",
    "tenferro_normal": "tenferro-rs mean, before the fix",
    "tenferro_openblas_cached_inline": "tenferro-rs OpenBLAS cached mean, after the fix",
    "direct_openblas_2x_zgemm": "direct OpenBLAS 2x zgemm mean",
}
PUBLISHED_CHAIN = {
    "tenferro_fresh_backend": "tenferro-rs fresh backend mean",
    "tenferro_single_session": "tenferro-rs single session mean",
}
# The cases the note published values for: the ones comparison_table and figure show.
COMPARED_CASES = ("site_update", "chain")


def _check_compared(case: str) -> None:
    if case not in COMPARED_CASES:
        raise ValueError(f"case must be one of {COMPARED_CASES} (published data), got {case!r}")


def comparison_table(run: TtRun, case: str, statistic: str = "median"):
    """Our ``statistic`` per implementation (µs) per chi for ``case`` ("site_update" or
    "chain"), with the note's published values beside them (other machine)."""
    _check_compared(case)
    s = run.summary[run.summary["case"] == case]
    ours = s.pivot_table(index="chi", columns="implementation", values=statistic) * 1e6
    ours = ours[[i for i in IMPLEMENTATIONS if i in ours.columns]]
    ours.columns = [f"{i} (us)" for i in ours.columns]
    table = ours.reset_index()
    names = PUBLISHED_SITE_UPDATE if case == "site_update" else PUBLISHED_CHAIN
    published = _published("site_update" if case == "site_update" else "chain_L32")
    for impl, label in names.items():
        rows = published[published["implementation"] == impl].set_index("chi")["value"]
        table[f"published: {label} (us, other machine)"] = table["chi"].map(rows)
    return table


def case_table(run: TtRun, statistic: str = "median"):
    """Every case and chi: our ``statistic`` (µs) per implementation and the ratio Rust
    from Python / Rust inside Rust."""
    s = run.summary
    table = s.pivot_table(index=["case", "chi"], columns="implementation", values=statistic) * 1e6
    table = table[[i for i in IMPLEMENTATIONS if i in table.columns]]
    if {"rust_from_python", "rust"} <= set(table.columns):
        table["python/rust (separate cells)"] = table["rust_from_python"] / table["rust"]
    table = table.reset_index()
    order = {case: i for i, case in enumerate(CASES)}
    return table.sort_values(["case", "chi"], key=lambda c: c.map(order) if c.name == "case" else c)


def figure(run: TtRun, case: str = "site_update"):
    """Median time per call against chi for ``case``, every implementation (bars: the
    interquartile range of the samples), with the note's published values as thin
    dotted lines labelled as measured on another machine."""
    import textwrap

    import matplotlib.pyplot as plt

    from tensorbench import plotting  # one style per implementation, in every figure

    _check_compared(case)
    s = run.summary[run.summary["case"] == case]
    plotting.apply_theme()
    fig, ax = plt.subplots(figsize=(10.5, 5.2))
    for impl in IMPLEMENTATIONS:
        rows = s[s["implementation"] == impl].sort_values("chi")
        if rows.empty:
            continue
        median = rows["median"] * 1e6
        low = (median - rows["q25"] * 1e6).clip(lower=0)
        high = (rows["q75"] * 1e6 - median).clip(lower=0)
        ax.errorbar(
            rows["chi"],
            median,
            yerr=[low, high],
            capsize=3,
            label=LABELS[impl],
            **plotting.style(impl),
        )
    names = PUBLISHED_SITE_UPDATE if case == "site_update" else PUBLISHED_CHAIN
    published = _published("site_update" if case == "site_update" else "chain_L32")
    for impl, label in names.items():
        rows = published[published["implementation"] == impl].sort_values("chi")
        if not rows.empty:
            ax.plot(
                rows["chi"],
                rows["value"],
                linestyle=":",
                linewidth=1,
                label=f"published, other machine: {label}",
                **plotting.style(impl),
            )
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    chis = sorted(set(s["chi"]) | set(published["chi"]))
    if chis:
        ax.set_xticks(chis, [str(c) for c in chis])
        ax.minorticks_off()
    ax.set_xlabel("bond dimension chi (d = 2, complex128)")
    if case == "site_update":
        what = "one site_update (env_bra then tmp_ket)"
    else:
        what = f"the L = {_parameters(run).get('chain_length', 32)} chain <bra|ket>"
    ax.set_ylabel("median time per call (µs)")
    ax.set_title(f"Tensor Train inner product: {what}", fontsize=10)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
    fig.text(0.01, -0.02, "\n".join(textwrap.wrap(run.caption(), 160)), fontsize=7, va="top")
    fig.tight_layout()
    return fig


def cell_extras(run: TtRun):
    """Per cell: case, chi, implementation, calls per sample, relative error against
    np.einsum, and (for the Rust cells) the tiled code path the kernels used."""
    import pandas as pd

    rows = []
    for cell_id, extra in sorted(run.metadata.get("cell_extra", {}).items()):
        rows.append(
            {
                "case": extra.get("case"),
                "chi": extra.get("chi"),
                "implementation": cell_id.split("__")[0],
                "calls_per_sample": extra.get("calls_per_sample"),
                "relative_error": extra.get("relative_error"),
                "tiled_path": extra.get("tt_kernel_info", {}).get("tiled_path", ""),
            }
        )
    return pd.DataFrame(rows)


def accuracy_table(run: TtRun):
    """The largest relative error against np.einsum per implementation and case."""
    extras = cell_extras(run)
    table = extras.pivot_table(
        index="implementation", columns="case", values="relative_error", aggfunc="max"
    )
    return table.reindex([i for i in IMPLEMENTATIONS if i in table.index]).reset_index()


def paired_table(run: TtRun):
    """The alternating measurements of the Rust-from-Python cells: per case and chi, the
    median per-call seconds from Python and inside Rust, their ratio, and the rounds."""
    import pandas as pd

    rows = []
    for cell_id, extra in sorted(run.metadata.get("cell_extra", {}).items()):
        paired = extra.get("paired")
        if not paired:
            continue
        python = float(np.median(paired["python_seconds"]))
        rust = float(np.median(paired["rust_seconds"]))
        # Each round's two samples are seconds apart, so their ratio sees one machine state;
        # its spread over rounds shows how much the ratio itself moves with the load.
        per_round = np.asarray(paired["python_seconds"]) / np.asarray(paired["rust_seconds"])
        rows.append(
            {
                "case": extra["case"],
                "chi": extra["chi"],
                "implementation": cell_id.split("__")[0],
                "python_median_s": python,
                "rust_median_s": rust,
                "ratio": python / rust,
                "round_ratio_q25": float(np.quantile(per_round, 0.25)),
                "round_ratio_median": float(np.median(per_round)),
                "round_ratio_q75": float(np.quantile(per_round, 0.75)),
                "rounds": len(paired["python_seconds"]),
            }
        )
    columns = ["case", "chi", "implementation", "python_median_s", "rust_median_s", "ratio"]
    if not rows:
        extra = ["round_ratio_q25", "round_ratio_median", "round_ratio_q75", "rounds"]
        return pd.DataFrame(columns=[*columns, *extra])
    order = {case: i for i, case in enumerate(CASES)}
    table = pd.DataFrame(rows)
    return table.sort_values(
        ["case", "chi"], key=lambda c: c.map(order) if c.name == "case" else c
    ).reset_index(drop=True)


def _parameters(run: TtRun) -> dict:
    return run.metadata.get("description", {}).get("parameters", {})


def _value(run: TtRun, impl: str, case: str, chi: int, statistic: str = "median") -> float:
    from tensorbench.stats import value_at

    return value_at(run.summary, impl, statistic, variant=case, n1=chi)


def _us(seconds: float) -> str:
    return f"{seconds * 1e6:.3g} µs" if not math.isnan(seconds) else "not measured"


# The targets, used by the verdicts and quoted in their text.
SITE_UPDATE_CHI1_MAX_S = 1.5e-6  # chi = 1 site_update from Python, one Rust call
FLOOR_RATIO_MAX = 5.0  # the same call over the Rust-inside-Rust time
CHAIN_CHI4_MAX_S = 40e-6  # L = 32 chain at chi = 4, one call from Python
BLAS_RATIO_MAX = 1.3  # chi = 32, Rust from Python over direct BLAS zgemm
ARITHMETIC_DOMINATES_RATIO = 1.2  # "at most 20%" over the floor


def _target_us(seconds: float) -> str:
    return f"{seconds * 1e6:g} µs"


def findings(run: TtRun) -> list[str]:
    """The issue's three targets and the note's context, checked against this run."""
    lines = []
    published_su = _published("site_update").set_index(["implementation", "chi"])["value"]
    published_chain = _published("chain_L32").set_index(["implementation", "chi"])["value"]

    py1, rust1 = (_value(run, i, "site_update", 1) for i in ("rust_from_python", "rust"))
    if not math.isnan(py1):
        verdict = "meets" if py1 <= SITE_UPDATE_CHI1_MAX_S else "does NOT meet"
        lines.append(
            f"site_update at chi = 1 from Python, one Rust call (`kernels_rs.tt_site_update`): "
            f"median {_us(py1)} ({verdict} the {_target_us(SITE_UPDATE_CHI1_MAX_S)} target; "
            "published on another machine: "
            f"ITensors.jl {published_su[('itensors', 1)]:g} µs, tenferro-rs "
            f"{published_su[('tenferro_normal', 1)]:g} µs before its fix)."
        )
    paired = paired_table(run)

    def paired_site_update(impl: str):
        if not len(paired):
            return None
        rows = paired[(paired["case"] == "site_update") & (paired["implementation"] == impl)]
        return rows.set_index("chi")

    paired_su = paired_site_update("rust_from_python")
    if paired_su is not None and 1 in paired_su.index:
        p_py, p_rust = paired_su.loc[1, "python_median_s"], paired_su.loc[1, "rust_median_s"]
        ratio = p_py / p_rust
        verdict = "within" if ratio <= FLOOR_RATIO_MAX else "NOT within"
        lines.append(
            f"Timed alternately in one process ({int(paired_su.loc[1, 'rounds'])} rounds, so "
            f"both see the same background load), the chi = 1 site_update takes {_us(p_py)} "
            f"from Python and {_us(p_rust)} inside Rust (medians): the call from Python costs "
            f"{ratio:.1f}x the Rust floor ({verdict} the {FLOOR_RATIO_MAX:g}x target; the ratio "
            "within single "
            f"rounds has median {paired_su.loc[1, 'round_ratio_median']:.1f}x and quartiles "
            f"{paired_su.loc[1, 'round_ratio_q25']:.1f}x to "
            f"{paired_su.loc[1, 'round_ratio_q75']:.1f}x). The difference, "
            f"{_us(p_py - p_rust)}, is the price of crossing the boundary (the PyO3 call, "
            "checking and reading three arrays, making the NumPy result); the floor itself is "
            "a few complex products."
        )
    elif not (math.isnan(py1) or math.isnan(rust1)):
        ratio = py1 / rust1
        verdict = "within" if ratio <= FLOOR_RATIO_MAX else "NOT within"
        lines.append(
            f"The same call timed inside Rust takes {_us(rust1)} (median), so the call from "
            f"Python costs {ratio:.1f}x the Rust floor ({verdict} the {FLOOR_RATIO_MAX:g}x target)."
        )
    paired_out = paired_site_update("rust_from_python_out")
    if paired_out is not None and 1 in paired_out.index:
        o_py, o_rust = paired_out.loc[1, "python_median_s"], paired_out.loc[1, "rust_median_s"]
        lines.append(
            f"With the result array allocated once and passed as `out` "
            f"(`tt_site_update(env, bra, ket, out)`, as with `np.dot`), the same call takes "
            f"{_us(o_py)} against {_us(o_rust)} inside Rust, timed alternately: "
            f"{o_py / o_rust:.1f}x the floor (within single rounds: median "
            f"{paired_out.loc[1, 'round_ratio_median']:.1f}x, quartiles "
            f"{paired_out.loc[1, 'round_ratio_q25']:.1f}x to "
            f"{paired_out.loc[1, 'round_ratio_q75']:.1f}x). Making a new NumPy array for "
            "each result is most of what separates the two."
        )
    if paired_su is not None and len(paired_su):
        ratios = dict(zip(paired_su.index, paired_su["ratio"], strict=True))
        within = [chi for chi, r in ratios.items() if r <= ARITHMETIC_DOMINATES_RATIO]
        listed = ", ".join(f"{r:.2g}x at chi = {chi}" for chi, r in ratios.items())
        excess = f"{(ARITHMETIC_DOMINATES_RATIO - 1) * 100:.0f}%"
        lines.append(
            "Rust from Python over Rust inside Rust, site_update, timed alternately: "
            + listed
            + (
                f"; at most {excess} (arithmetic dominates) at chi = "
                + ", ".join(str(c) for c in within)
                + "."
                if within
                else f"; more than {excess} at every measured chi."
            )
        )
    chis = sorted(run.summary.loc[run.summary["case"] == "site_update", "chi"].unique())
    cell_ratios = {
        chi: _value(run, "rust_from_python", "site_update", chi)
        / _value(run, "rust", "site_update", chi)
        for chi in chis
    }
    below = [chi for chi, r in cell_ratios.items() if r < 0.95]
    if below:
        lines.append(
            "In the separate cells (seconds apart, each in its own process) the call from "
            "Python measured faster than the in-Rust floor at chi = "
            + ", ".join(str(chi) for chi in below)
            + ", which it cannot be: the machine's background load changed between the two "
            "cells. Comparisons between cells carry that noise; the alternating pairs above "
            "do not."
        )
    others = []
    for impl in ("numpy_einsum", "numpy_matmul", "opt_einsum", "scipy_zgemm"):
        value = _value(run, impl, "site_update", 1)
        if not (math.isnan(value) or math.isnan(py1)):
            others.append(f"{LABELS[impl]} {_us(value)} ({value / py1:.0f}x)")
    if others:
        lines.append(
            "At chi = 1 a site_update from Python costs, per call: "
            + "; ".join(others)
            + " — all of it per-call overhead, since the arithmetic is a few complex products."
        )
    chain4 = _value(run, "rust_from_python_chain", "chain", 4)
    length = int(_parameters(run).get("chain_length", 32))
    if not math.isnan(chain4):
        verdict = "meets" if chain4 <= CHAIN_CHI4_MAX_S else "does NOT meet"
        lines.append(
            f"L = {length} chain at chi = 4 in one call from Python (`kernels_rs.tt_inner`): "
            f"median "
            f"{_us(chain4)} ({verdict} the {_target_us(CHAIN_CHI4_MAX_S)} target; published: "
            "tenferro-rs "
            f"{published_chain[('tenferro_single_session', 4)]:g} µs in a single session, "
            f"{published_chain[('tenferro_fresh_backend', 4)]:g} µs with a fresh backend)."
        )
        loop4 = _value(run, "rust_from_python", "chain", 4)
        rust4 = _value(run, "rust", "chain", 4)
        if not math.isnan(loop4):
            lines.append(
                f"The same chain as a Python loop of {2 * length} Rust calls takes "
                f"{_us(loop4)}: {_us((loop4 - chain4) / (2 * length - 1))} more per call than "
                f"one call for the whole chain"
                + (f"; inside Rust the chain takes {_us(rust4)}." if not math.isnan(rust4) else ".")
            )
    for baseline, label in (
        ("scipy_zgemm", "direct BLAS zgemm from SciPy, bra conjugated once"),
        ("scipy_zgemm_conj_copy", "the same with a conjugated copy per call"),
    ):
        rust32 = _value(run, "rust_from_python", "site_update", 32)
        blas32 = _value(run, baseline, "site_update", 32)
        if not (math.isnan(rust32) or math.isnan(blas32)):
            ratio = rust32 / blas32
            verdict = "within" if ratio <= BLAS_RATIO_MAX else "NOT within"
            lines.append(
                f"site_update at chi = 32: Rust from Python {_us(rust32)} vs {label} "
                f"{_us(blas32)}: ratio {ratio:.2f} ({verdict} {BLAS_RATIO_MAX:g}x)."
            )
    return lines
