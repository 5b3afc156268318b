"""The workload: the contractions (cases) and their seeded operands (complex128,
C-order, axes in the note's order; see the package docstring)."""

from __future__ import annotations

import math

import numpy as np

from tensorbench.timing import int_at_least

PAIRWISE_CASES = ("first_site", "env_bra", "tmp_ket", "site_update")


CASES = (*PAIRWISE_CASES, "chain")


EINSUM = {
    "first_site": "sa,sb->ab",
    "env_bra": "ab,asc->bsc",
    "tmp_ket": "bsc,bse->ce",
}


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
