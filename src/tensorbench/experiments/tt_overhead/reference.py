"""The reference every cell's result is checked against: plain ``np.einsum``
(``optimize=False``), and the relative error allowed."""

from __future__ import annotations

import numpy as np

from tensorbench.experiments.tt_overhead.workload import CASES, EINSUM

TOLERANCE = 1e-12


def einsum_site_update(env, bra, ket):
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
        return einsum_site_update(*ops)
    if case == "chain":
        env = np.ones((1, 1), dtype=np.complex128)
        for bra, ket in zip(*ops, strict=True):
            env = einsum_site_update(env, bra, ket)
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
