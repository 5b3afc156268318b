"""The sparse tensor times vector (TTV) implementations of the TTV experiment.

Every implementation computes ``tensor x_mode vector`` for a ``pyttb.sptensor`` and a
0-based ``mode`` (pyttb's ``dims``) and returns what pyttb would return without its
dense conversion: a ``pyttb.sptensor`` (a float for an order-1 tensor).

* ``pyttb``: ``pyttb.sptensor.ttv`` as shipped (it may return a dense ``pyttb.tensor``
  when more than half of the result is nonzero).
* ``python``: the paper's Python baseline, pyttb 1.8.6's ``ttv`` with its error checks
  and the dense conversion removed (a copy written here; pyttb itself is not edited).
* ``rust_from_python``: ``kernels_rs.ttv`` returns ``newsubs, newvals, newshape`` and the
  ``pyttb.sptensor`` is built in Python, as in the paper.
* ``numba``: the Rust kernel's algorithm (dense accumulator or stable key sort, with
  every subscript range-checked) in Numba, the paper's future work.

Both compiled kernels return ``newsubs`` in Fortran order: pyttb's constructor checks it
with ``np.max(subs, axis=0)``, which takes ~45 ms on a C-ordered 1.44M x 2 array and ~2 ms
on a Fortran-ordered one.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pyttb as ttb
from pyttb.pyttb_utils import accumarray

# Same choice as kernels_rs (DENSE_OUTPUT_CELLS_PER_NONZERO in kernels_rs/src/sparse.rs).
DENSE_OUTPUT_CELLS_PER_NONZERO = 4


def ttv_pyttb(tensor: ttb.sptensor, vector: np.ndarray, mode: int):
    return tensor.ttv(vector, mode)


def ttv_python(tensor: ttb.sptensor, vector: np.ndarray, mode: int):
    """pyttb 1.8.6 ``sptensor.ttv`` for one vector, minus its checks (``tt_dimscheck``,
    the multiplicand size assert) and minus the conversion of a dense-enough result to
    a ``pyttb.tensor``: the paper's Python implementation."""
    remdims = np.setdiff1d(np.arange(0, tensor.ndims), [mode]).astype(int)
    newvals = tensor.vals.copy("K")
    subs = tensor.subs.copy("K")
    if subs.size == 0:
        newsubs = np.array([], dtype=int)
    else:
        idx = subs[:, mode]
        bigw = vector[idx][:, None]
        newvals = newvals * bigw
        newsubs = subs[:, remdims].astype(int)
    if remdims.size == 0:
        return np.sum(newvals).item()
    newsiz = np.array(tensor.shape, dtype=int)[remdims]
    if remdims.size == 1:
        if newvals.size == 0:
            return ttb.sptensor(shape=tuple(newsiz))
        cvec = accumarray(newsubs.transpose()[0], newvals.transpose()[0], size=newsiz[0])
        return ttb.sptensor.from_aggregator(
            np.arange(0, newsiz.item())[:, None], cvec.reshape((len(cvec), 1)), tuple(newsiz)
        )
    return ttb.sptensor.from_aggregator(newsubs, newvals, tuple(newsiz))


def _sptensor(result):
    """The paper's last step: a ``pyttb.sptensor`` from the kernel's three arrays."""
    if isinstance(result, float):
        return result
    newsubs, newvals, newshape = result
    # The arrays are fresh and owned by the result, so no defensive copy is needed.
    return ttb.sptensor(newsubs, newvals, newshape, copy=False)


def ttv_rust_from_python(tensor: ttb.sptensor, vector: np.ndarray, mode: int):
    import kernels_rs

    return _sptensor(kernels_rs.ttv(tensor.subs, tensor.vals, tensor.shape, vector, mode))


def ttv_kernel_only(tensor: ttb.sptensor, vector: np.ndarray, mode: int):
    """``kernels_rs.ttv``'s three arrays, without building the ``pyttb.sptensor``: what
    the in-Rust timer ("rust") times."""
    import kernels_rs

    return kernels_rs.ttv(tensor.subs, tensor.vals, tensor.shape, vector, mode)


def ttv_numba(tensor: ttb.sptensor, vector: np.ndarray, mode: int):
    """The Rust kernel's algorithm compiled by Numba; same contract as ``kernels_rs.ttv``
    for the tensors of this experiment (output spaces below 2^63 cells)."""
    order = tensor.ndims
    if not 0 <= mode < order:
        raise ValueError(f"mode must be in [0, {order}), got {mode}")
    vector = np.ascontiguousarray(vector, dtype=np.float64)
    if vector.shape != (tensor.shape[mode],):
        raise ValueError(f"vector must have shape ({tensor.shape[mode]},), got {vector.shape}")
    shape = np.asarray(tensor.shape, dtype=np.int64)
    if tensor.nnz == 0:
        subs = np.zeros((0, order), dtype=np.int64)
        vals = np.zeros(0, dtype=np.float64)
    else:
        subs = np.ascontiguousarray(tensor.subs, dtype=np.int64)
        vals = np.ascontiguousarray(tensor.vals, dtype=np.float64).reshape(-1)
    kernels = _numba_kernels()
    if order == 1:
        return float(kernels["scalar"](subs, vals, shape, vector))
    strides, cells = _key_strides(tensor.shape, mode)
    if cells > np.iinfo(np.int64).max:
        raise ValueError("the Numba TTV needs an output space below 2^63 cells")
    if cells <= DENSE_OUTPUT_CELLS_PER_NONZERO * tensor.nnz:
        newsubs, newvals = kernels["dense"](subs, vals, shape, vector, mode, strides, cells)
    else:
        newsubs, newvals = kernels["sort"](subs, vals, shape, vector, mode, strides)
    newshape = tuple(int(n) for j, n in enumerate(tensor.shape) if j != mode)
    return _sptensor((newsubs, newvals, newshape))


def _key_strides(shape, mode) -> tuple[np.ndarray, int]:
    """Row-major strides of the output space over the input's columns (0 at ``mode``)
    and its number of cells (a Python int, so it cannot overflow)."""
    strides = np.zeros(len(shape), dtype=np.int64)
    cells = 1
    for j in reversed(range(len(shape))):
        if j != mode:
            strides[j] = min(cells, np.iinfo(np.int64).max)
            cells *= int(shape[j])
    return strides, cells


@cache
def _numba_kernels() -> dict:
    """Compiled lazily so that importing this module does not start Numba."""
    import numba

    @numba.njit(cache=False)
    def check_row(subs, shape, i):
        for j in range(subs.shape[1]):
            s = subs[i, j]
            if s < 0 or s >= shape[j]:
                raise ValueError("subscript out of range")

    @numba.njit(cache=False)
    def scalar(subs, vals, shape, vector):
        total = 0.0
        for i in range(subs.shape[0]):
            check_row(subs, shape, i)
            total += vals[i] * vector[subs[i, 0]]
        return total

    @numba.njit(cache=False)
    def emit(acc, out_shape, nonzeros):
        out_order = out_shape.shape[0]
        # Column-major like the Rust kernel's output (a transposed C array is F-ordered).
        newsubs = np.empty((out_order, nonzeros), dtype=np.int64).T
        newvals = np.empty((nonzeros, 1), dtype=np.float64)
        last = out_shape[out_order - 1]
        prefix = np.zeros(out_order, dtype=np.int64)
        k = 0
        for start in range(0, acc.shape[0], last):
            for c in range(last):
                v = acc[start + c]
                if v != 0.0:
                    for j in range(out_order - 1):
                        newsubs[k, j] = prefix[j]
                    newsubs[k, out_order - 1] = c
                    newvals[k, 0] = v
                    k += 1
            for j in range(out_order - 2, -1, -1):
                prefix[j] += 1
                if prefix[j] < out_shape[j]:
                    break
                prefix[j] = 0
        return newsubs, newvals

    @numba.njit(cache=False)
    def dense(subs, vals, shape, vector, mode, strides, cells):
        nnz, order = subs.shape
        acc = np.zeros(cells, dtype=np.float64)
        for i in range(nnz):
            check_row(subs, shape, i)
            key = 0
            for j in range(order):
                key += subs[i, j] * strides[j]
            acc[key] += vals[i] * vector[subs[i, mode]]
        nonzeros = 0
        for v in acc:
            if v != 0.0:
                nonzeros += 1
        out_shape = np.empty(order - 1, dtype=np.int64)
        k = 0
        for j in range(order):
            if j != mode:
                out_shape[k] = shape[j]
                k += 1
        return emit(acc, out_shape, nonzeros)

    @numba.njit(cache=False)
    def sort(subs, vals, shape, vector, mode, strides):
        nnz, order = subs.shape
        keys = np.empty(nnz, dtype=np.int64)
        terms = np.empty(nnz, dtype=np.float64)
        for i in range(nnz):
            check_row(subs, shape, i)
            key = 0
            for j in range(order):
                key += subs[i, j] * strides[j]
            keys[i] = key
            terms[i] = vals[i] * vector[subs[i, mode]]
        # Stable, so each group sums in input order, like the Rust kernel.
        perm = np.argsort(keys, kind="mergesort")
        out_keys = np.empty(nnz, dtype=np.int64)
        out_vals = np.empty(nnz, dtype=np.float64)
        kept = 0
        start = 0
        while start < nnz:
            key = keys[perm[start]]
            total = 0.0
            end = start
            while end < nnz and keys[perm[end]] == key:
                total += terms[perm[end]]
                end += 1
            if total != 0.0:
                out_keys[kept] = key
                out_vals[kept] = total
                kept += 1
            start = end
        newsubs = np.empty((order - 1, kept), dtype=np.int64).T
        newvals = np.empty((kept, 1), dtype=np.float64)
        for k in range(kept):
            rest = out_keys[k]
            c = 0
            for j in range(order):
                if j != mode:
                    newsubs[k, c] = rest // strides[j]
                    rest = rest % strides[j]
                    c += 1
            newvals[k, 0] = out_vals[k]
        return newsubs, newvals

    return {"scalar": scalar, "dense": dense, "sort": sort}


IMPLEMENTATIONS = {
    "pyttb": ttv_pyttb,
    "python": ttv_python,
    "rust_from_python": ttv_rust_from_python,
    "numba": ttv_numba,
}


def as_coo(result, order: int) -> tuple[np.ndarray, np.ndarray, tuple[int, ...]]:
    """Any TTV result (``sptensor``, dense ``pyttb.tensor``) as sorted, zero-free
    ``(subs (m, order), vals (m,), shape)``: one form to compare implementations in."""
    if isinstance(result, ttb.tensor):
        result = result.to_sptensor()
    shape = tuple(int(n) for n in result.shape)
    if result.nnz == 0:
        return np.zeros((0, order), dtype=np.int64), np.zeros(0), shape
    subs = np.asarray(result.subs, dtype=np.int64).reshape(result.nnz, order)
    vals = np.asarray(result.vals, dtype=np.float64).reshape(result.nnz)
    keep = vals != 0
    subs, vals = subs[keep], vals[keep]
    perm = np.lexsort(subs.T[::-1]) if order else np.arange(len(vals))
    return subs[perm], vals[perm], shape
