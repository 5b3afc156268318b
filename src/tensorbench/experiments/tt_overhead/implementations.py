"""Every implementation of every case as ``(func, args)``: NumPy einsum and matmul,
opt_einsum, SciPy BLAS zgemm, and kernels_rs from Python (per contraction, with ``out``,
and the whole chain in one call). The in-Rust floor is timed by :mod:`.measurement`."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from tensorbench.build import release_kernels
from tensorbench.experiments.tt_overhead.reference import einsum_site_update
from tensorbench.experiments.tt_overhead.workload import CASES, EINSUM, PAIRWISE_CASES

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


def _numpy_einsum(case: str) -> Callable:
    einsum = np.einsum
    if case == "first_site":
        return lambda bra, ket: einsum(EINSUM[case], bra.conj(), ket, optimize=False)
    if case == "env_bra":
        return lambda env, bra: einsum(EINSUM[case], env, bra.conj(), optimize=False)
    if case == "tmp_ket":
        return lambda tmp, ket: einsum(EINSUM[case], tmp, ket, optimize=False)
    return einsum_site_update


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
    the timed calls. Not for ``rust`` (timed inside Rust by :func:`.measurement.measure`)."""
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
            return _chain_loop(einsum_site_update), ops
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
