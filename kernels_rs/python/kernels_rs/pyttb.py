"""Drop-in acceleration of pyttb's sparse tensor methods with the kernels_rs kernels.

>>> import kernels_rs.pyttb
>>> kernels_rs.pyttb.enable()      # pyttb.sptensor.{ttv, mttkrp, innerprod} now use Rust
>>> M, _, out = pyttb.cp_als(X, 16)  # unchanged user code, faster

``enable()`` replaces ``pyttb.sptensor.ttv``, ``pyttb.sptensor.mttkrp`` and
``pyttb.sptensor.innerprod`` with versions that behave as pyttb 1.8.6's (the results,
their types and layouts, and for bad input the same exceptions, because anything the
fast path does not handle is passed to pyttb's own method); ``disable()`` puts pyttb's
own function objects back; ``enabled()`` is a context manager; ``is_enabled()`` says.

What runs in Rust, and how it compares with pyttb:

* ``mttkrp`` (a list of factor matrices or a ktensor, any mode, order >= 2): one pass
  over the nonzeros (``kernels_rs.mttkrp``) instead of R TTVs. On one thread bitwise
  pyttb's result (the same products, each output row summed in input order); a call
  split between threads sums each row in a few pieces, equal to rounding.
* ``ttv`` with one or more vectors leaving at least one mode: the last vector's product
  and the aggregation of equal subscripts run in ``kernels_rs.ttv`` (the other vectors'
  products in NumPy, as pyttb computes them); same result type. On one thread bitwise
  pyttb's result; a large call split between threads sums each output cell in a few
  pieces (one per thread), equal to rounding.
* ``ttv`` multiplying every mode (a scalar) and ``innerprod`` with a ktensor: one pass
  (``kernels_rs.innerprod_ktensor``). pyttb sums these with NumPy's pairwise sum, so the
  value differs from pyttb's in rounding (relative differences of order 1e-16 x the
  condition number of the sum).

Passed to pyttb's own method (so exactly pyttb's behaviour, errors included): empty
tensors, non-float64 values, complex or non-array multiplicands, factor matrices whose
shapes pyttb would refuse or read partly, and innerprod with anything but a ktensor.

The threaded kernels use ``kernels_rs.get_num_threads()`` threads (see there).
``call_counts()`` counts the Rust kernel calls made through this module, and
``fallback_counts()`` the calls passed to pyttb, so tests can show which path ran.
"""

from __future__ import annotations

import contextlib
import functools
import math
import threading
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pyttb as ttb
from pyttb.pyttb_utils import get_mttkrp_factors, tt_dimscheck

from kernels_rs import _kernels_rs as _rust

__all__ = [
    "call_counts",
    "disable",
    "enable",
    "enabled",
    "fallback_counts",
    "is_enabled",
    "replaced",
    "reset_counts",
]

_METHODS = ("ttv", "mttkrp", "innerprod")
_lock = threading.Lock()
# pyttb's own functions, saved by enable() and put back by disable().
_originals: dict[str, Callable[..., Any]] = {}
_kernel_calls = dict.fromkeys(("ttv", "mttkrp", "innerprod_ktensor"), 0)
_fallbacks = dict.fromkeys(_METHODS, 0)


class _Fallback(Exception):
    """The fast path does not handle this call: pyttb's own method must."""


def _original(name: str) -> Callable[..., Any]:
    # While enabled, _originals holds pyttb's function; a replacement called directly
    # (enabled or not) falls back to whatever the class has when it is not ours.
    if name in _originals:
        return _originals[name]
    method = ttb.sptensor.__dict__[name]
    if method is _REPLACEMENTS[name]:  # pragma: no cover - enable() saves the original
        raise RuntimeError(f"pyttb's original sptensor.{name} is lost")
    return method


def _delegating(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Wrap a fast path so that a _Fallback from it runs pyttb's original instead."""

    def decorate(fast: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(getattr(ttb.sptensor, name))
        def method(self: ttb.sptensor, *args: Any, **kwargs: Any) -> Any:
            try:
                return fast(self, *args, **kwargs)
            except _Fallback:
                _fallbacks[name] += 1
                return _original(name)(self, *args, **kwargs)

        return method

    return decorate


def _float_array(x: Any) -> np.ndarray:
    """`x` as float64 exactly as NumPy would convert it when multiplying float64 values
    (bool, integer and real floats); anything else is for pyttb to handle."""
    if type(x) is not np.ndarray or x.dtype.kind not in "biuf":
        raise _Fallback
    return np.asarray(x, dtype=np.float64)


def _checked_values(S: ttb.sptensor) -> np.ndarray:
    """The values of a non-empty sptensor with float64 values, as pyttb stores them."""
    vals = S.vals
    if S.nnz == 0 or type(vals) is not np.ndarray or vals.dtype != np.float64:
        raise _Fallback
    if vals.shape != (S.nnz, 1):
        raise _Fallback
    return vals


def _kernel_subs(S: ttb.sptensor) -> np.ndarray:
    """The subscripts as the Rust kernels read them in place (int32 or int64)."""
    subs = S.subs
    if type(subs) is not np.ndarray or subs.ndim != 2 or subs.dtype.kind not in "iu":
        raise _Fallback
    if subs.dtype not in (np.int64, np.int32):
        subs = subs.astype(np.int64)
    return subs


@_delegating("mttkrp")
def _mttkrp(self: ttb.sptensor, U: Any, n: Any) -> np.ndarray:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise _Fallback
    ndims = self.ndims
    if ndims < 2 or not 0 <= n < ndims:
        raise _Fallback
    n = int(n)
    vals = _checked_values(self)
    subs = _kernel_subs(self)
    try:
        factors = get_mttkrp_factors(U, n, ndims)
        rank = factors[1 if n == 0 else 0].shape[1]
    except Exception as error:
        raise _Fallback from error
    checked: list[np.ndarray | None] = []
    for m, factor in enumerate(factors):
        if m == n:
            checked.append(None)  # pyttb does not read it either
            continue
        factor = _float_array(factor)
        # pyttb reads the first `rank` columns of each factor and asserts on a wrong row
        # count: leave both to it.
        if factor.shape != (self.shape[m], rank):
            raise _Fallback
        checked.append(factor)
    _kernel_calls["mttkrp"] += 1
    out = _rust.mttkrp(subs, vals, self.shape, checked, n)
    return np.asfortranarray(out)  # pyttb's V is np.zeros(..., order="F")


def _ttv_arguments(
    S: ttb.sptensor, vector: Any, dims: Any, exclude_dims: Any
) -> tuple[np.ndarray, list[np.ndarray], np.ndarray]:
    """pyttb's checks of ttv's arguments: (sorted dims, their vectors, remaining dims)."""
    try:
        # pyttb's test for "one vector, not a list of them".
        if len(vector) > 0 and isinstance(vector[0], (int, float, np.int_, np.float64)):
            vector = np.array([vector])
        sdims, vidx = tt_dimscheck(S.ndims, len(vector), dims, exclude_dims)
        remdims = np.setdiff1d(np.arange(0, S.ndims), sdims).astype(int)
        vectors = [vector[vidx[i]] for i in range(sdims.size)]
    except Exception as error:
        raise _Fallback from error
    if sdims.size == 0:
        raise _Fallback
    checked = []
    for dim, w in zip(sdims, vectors, strict=True):
        w = _float_array(w)
        if w.shape != (S.shape[dim],):
            raise _Fallback  # pyttb asserts "Multiplicand is wrong size"
        checked.append(w)
    return sdims, checked, remdims


@_delegating("ttv")
def _ttv(
    self: ttb.sptensor,
    vector: Any,
    dims: Any = None,
    exclude_dims: Any = None,
) -> ttb.sptensor | ttb.tensor | float:
    vals = _checked_values(self)
    sdims, vectors, remdims = _ttv_arguments(self, vector, dims, exclude_dims)
    subs = _kernel_subs(self)

    if remdims.size == 0:
        # Every mode: the inner product with a rank-1 ktensor of the vectors.
        factors = [w[:, None] for w in vectors]
        _kernel_calls["innerprod_ktensor"] += 1
        return _rust.innerprod_ktensor(subs, vals, self.shape, np.ones(1), factors)

    # pyttb multiplies the values by each vector in ascending mode order; the last
    # product and the aggregation over the remaining modes run in kernels_rs.ttv.
    newvals = vals
    for dim, w in zip(sdims[:-1], vectors[:-1], strict=True):
        newvals = newvals * w[subs[:, dim]][:, None]
    # The kernel multiplies along one column and keeps the others in order: give it the
    # remaining modes and the last multiplied one.
    last = int(sdims[-1])
    columns = sorted([*remdims.tolist(), last])
    kept = subs if len(columns) == self.ndims else subs[:, columns]
    kept = np.asarray(kept, dtype=np.int64)
    shape = tuple(self.shape[j] for j in columns)
    _kernel_calls["ttv"] += 1
    newsubs, sums, newshape = _rust.ttv(kept, newvals, shape, vectors[-1], columns.index(last))
    newsiz = np.array(self.shape, dtype=int)[remdims]

    if remdims.size == 1:
        # pyttb's vector case: a dense vector of sums, returned sparse when at most half
        # of it is nonzero (built as pyttb builds it).
        cvec = np.zeros(newsiz[0])
        cvec[newsubs[:, 0]] = sums[:, 0]
        if np.count_nonzero(cvec) <= 0.5 * newsiz:
            return ttb.sptensor.from_aggregator(
                np.arange(0, newsiz.item())[:, None],
                cvec.reshape((len(cvec), 1)),
                tuple(newsiz),
            )
        return ttb.tensor(cvec, tuple(newsiz), copy=False)

    # pyttb's multiway case: from_aggregator's result (rows sorted, zeros dropped, subs
    # C-ordered as np.unique returns them), dense when more than half is nonzero.
    c = ttb.sptensor(np.ascontiguousarray(newsubs), sums, tuple(newshape), copy=False)
    if c.nnz > 0.5 * math.prod(newsiz):
        return c.to_tensor()
    return c


@_delegating("innerprod")
def _innerprod(self: ttb.sptensor, other: Any) -> float:
    if type(other) is not ttb.ktensor or other.shape != self.shape:
        raise _Fallback
    vals = _checked_values(self)
    subs = _kernel_subs(self)
    weights = _float_array(other.weights)
    factors = [_float_array(f) for f in other.factor_matrices]
    rank = weights.shape[0] if weights.ndim == 1 else -1
    if rank < 1 or any(f.shape != (n, rank) for f, n in zip(factors, self.shape, strict=True)):
        raise _Fallback
    _kernel_calls["innerprod_ktensor"] += 1
    return _rust.innerprod_ktensor(subs, vals, self.shape, weights, factors)


_REPLACEMENTS: dict[str, Callable[..., Any]] = {
    "ttv": _ttv,
    "mttkrp": _mttkrp,
    "innerprod": _innerprod,
}


def enable() -> None:
    """Replace pyttb.sptensor's ttv, mttkrp and innerprod with the Rust-backed versions."""
    with _lock:
        if _originals:
            return
        for name in _METHODS:
            _originals[name] = ttb.sptensor.__dict__[name]
        for name in _METHODS:
            setattr(ttb.sptensor, name, _REPLACEMENTS[name])


def disable() -> None:
    """Put pyttb's own methods back (the very function objects enable() replaced)."""
    with _lock:
        for name, original in _originals.items():
            setattr(ttb.sptensor, name, original)
        _originals.clear()


def replaced() -> dict[str, bool]:
    """For each of ttv, mttkrp and innerprod: whether pyttb.sptensor's is the Rust-backed."""
    return {name: ttb.sptensor.__dict__[name] is _REPLACEMENTS[name] for name in _METHODS}


def is_enabled() -> bool:
    """Whether pyttb.sptensor's methods are the Rust-backed ones."""
    return all(replaced().values())


@contextlib.contextmanager
def enabled() -> Iterator[None]:
    """Acceleration on inside the block; afterwards as it was before."""
    was_enabled = is_enabled()
    enable()
    try:
        yield
    finally:
        if not was_enabled:
            disable()


def call_counts() -> dict[str, int]:
    """Rust kernel calls made by the replaced methods, by kernel, since the last reset."""
    return dict(_kernel_calls)


def fallback_counts() -> dict[str, int]:
    """Calls of the replaced methods passed to pyttb's own, by method."""
    return dict(_fallbacks)


def reset_counts() -> None:
    """Set every count to zero."""
    for counts in (_kernel_calls, _fallbacks):
        for key in counts:
            counts[key] = 0
