"""Adversarial cases for every public function of kernels_rs, and the worker that runs them.

A case is plain JSON (so hypothesis can draw it and a report can print it):

    {"fn": "tt_env_bra", "args": [ARG, ...], "kwargs": {"out": ARG}}

where an ARG describes how to build one argument (``build``): an array of any dtype,
shape and layout, a Python literal, a huge int, a sequence with a lying ``__len__``, or
an ``out`` that shares memory with another argument by one of several routes. The
*oracle* (``ORACLES``) says, for the built arguments, what the call must do: return a
value equal to NumPy's (or the definition's), or raise a given exception type. Nothing
here knows how kernels_rs is written: the oracles restate the documented contract.

The worker (``python tests/fuzz_cases.py``) reads one case per line on stdin and answers
one JSON line per case: ``{"outcome": "ok"}``, or ``{"outcome": "fail", "why": ...}``.
It runs in a subprocess of the test, so an abort or a segfault is seen as a dead worker
(and a failed case), not a dead test run.

A case ``{"fn": "__pyttb__", "method": "ttv" | "mttkrp" | "innerprod", "args":
[SPTENSOR, ARG, ...]}`` is not checked by an oracle but by pyttb itself
(``run_pyttb_case``): the method called with the drop-in disabled and then enabled must
give the same result or raise the same exception with the same message.
"""

from __future__ import annotations

import collections.abc
import itertools
import json
import os
import sys
import traceback
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

# --- building arguments -----------------------------------------------------------

DTYPES = {
    "complex128": np.complex128,
    "float64": np.float64,
    "int64": np.int64,
    "complex64": np.complex64,
    "float32": np.float32,
    "int32": np.int32,
    "bool": np.bool_,
    "object": object,
}

#: Layouts an array argument can have. "byteswapped" is the non-native byte order.
LAYOUTS = (
    "C",
    "F",
    "reversed",
    "strided",
    "unaligned",
    "readonly",
    "byteswapped",
    "broadcast",
    "frombuffer",
    "subclass",
    "noncontig_field",
)


class _Subclass(np.ndarray):
    """A plain ndarray subclass: accepted, read as the base class."""


def _values(rng: np.random.Generator, shape, dtype, values: str) -> np.ndarray:
    size = int(np.prod(shape, dtype=np.int64))
    if np.dtype(dtype).kind == "c":
        data = rng.standard_normal(size) + 1j * rng.standard_normal(size)
    elif np.dtype(dtype).kind in "iub":
        data = rng.integers(0, 3, size)
    elif np.dtype(dtype) == np.dtype(object):
        data = np.array([complex(v) for v in rng.standard_normal(size)], dtype=object)
    else:
        data = rng.standard_normal(size)
    if values in ("special", "nonfinite") and size:
        specials = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1e300, 5e-324])
        if values == "nonfinite":  # no magnitudes whose products overflow or underflow
            specials = specials[:5]
        picks = rng.integers(0, len(specials), size)
        where = rng.random(size) < 0.3
        if np.dtype(dtype).kind == "c":
            data = np.where(where, specials[picks] + 1j * specials[picks[::-1]], data)
        elif np.dtype(dtype).kind == "f":
            data = np.where(where, specials[picks], data)
    return np.asarray(data).astype(dtype).reshape(shape)


def build_array(spec: dict, keep: list) -> np.ndarray:
    """The array described by ``spec``: shape, dtype, layout, seed, values."""
    shape = tuple(spec["shape"])
    dtype = DTYPES[spec.get("dtype", "complex128")]
    layout = spec.get("layout", "C")
    rng = np.random.default_rng(spec.get("seed", 0))
    if layout == "broadcast":
        # One element seen at every index: stride 0 on every axis (any extents).
        one = _values(rng, (1,) * len(shape), dtype, spec.get("values", "normal"))
        return np.broadcast_to(one, shape)
    values = _values(rng, shape, dtype, spec.get("values", "normal"))
    if layout == "C":
        return values
    if layout == "F":
        return np.asfortranarray(values)
    if layout == "reversed":
        # Negative strides on every axis, same values.
        flipped = np.ascontiguousarray(values[tuple(slice(None, None, -1) for _ in shape)])
        return flipped[tuple(slice(None, None, -1) for _ in shape)]
    if layout == "strided":
        wide = np.zeros((*shape[:-1], 2 * shape[-1]) if shape else (2,), dtype)
        if not shape:
            wide[0] = values
            return wide[0:1].reshape(())
        wide[..., ::2] = values
        return wide[..., ::2]
    if layout == "unaligned":
        itemsize = np.dtype(dtype).itemsize
        raw = bytearray(values.nbytes + itemsize + 1)
        keep.append(raw)
        out = np.frombuffer(raw, dtype, count=values.size, offset=1).reshape(shape)
        out[...] = values
        return out
    if layout == "readonly":
        values.setflags(write=False)
        return values
    if layout == "byteswapped":
        return values.astype(np.dtype(dtype).newbyteorder())
    if layout == "frombuffer":
        raw = bytearray(values.nbytes)
        keep.append(raw)
        out = np.frombuffer(raw, dtype, count=values.size).reshape(shape)
        out[...] = values
        return out
    if layout == "subclass":
        return values.view(_Subclass)
    if layout == "noncontig_field":
        # A field of a structured array: strides that are not whole elements.
        rec = np.zeros(shape, dtype=[("pad", "u1"), ("x", dtype)])
        rec["x"] = values
        return rec["x"]
    raise ValueError(f"unknown layout {layout}")


class LyingSequence(collections.abc.Sequence):
    """A sequence whose ``__len__`` says ``len`` and whose items are ``item`` (built
    anew per index) up to ``real`` of them, then IndexError."""

    def __init__(self, length: int, item: Callable[[], Any], real: int):
        self.length, self.item, self.real = length, item, real

    def __len__(self):
        return self.length

    def __getitem__(self, index):
        if not 0 <= index < min(self.real, self.length):
            raise IndexError(index)
        return self.item()


class ArrayInterfaceAlias:
    """Exposes another array's memory (from ``address``) through ``__array_interface__``,
    so ``np.asarray`` makes an array with another base object."""

    def __init__(self, owner: np.ndarray, address: int, shape, typestr: str):
        self.owner = owner  # keeps the memory alive
        self.__array_interface__ = {
            "data": (address, False),
            "shape": tuple(shape),
            "typestr": typestr,
            "version": 3,
        }


def build_alias(spec: dict, args: list, keep: list) -> np.ndarray:
    """An ``out`` of ``spec["shape"]`` sharing memory with argument ``spec["of"]`` by
    ``spec["route"]``, starting ``spec["offset"]`` elements into it (the argument's values
    are kept: it is rebuilt over the shared memory)."""
    index, route, shape = spec["of"], spec["route"], tuple(spec["shape"])
    source = args[index]
    dtype = source.dtype
    n_out = int(np.prod(shape, dtype=np.int64))
    offset = spec.get("offset", 0)
    if route == "same":
        return source
    if route == "transposed_same":
        return source.T.reshape(shape) if source.T.shape == shape else source
    total = max(source.size, offset + n_out) + 1
    values = np.array(source)
    if route in ("frombuffer", "interface", "memoryview", "byte_offset"):
        item = dtype.itemsize
        raw = bytearray(total * item + 1)
        keep.append(raw)
        new_source = np.frombuffer(raw, dtype, count=source.size).reshape(source.shape)
        new_source[...] = values
        args[index] = new_source
        # byte_offset: out starts one byte later, so it is unaligned and overlaps the input.
        start = offset * item + (1 if route == "byte_offset" else 0)
        if route in ("frombuffer", "byte_offset"):
            out = np.frombuffer(raw, dtype, count=n_out, offset=start)
        elif route == "memoryview":
            out = np.asarray(memoryview(raw)[start : start + n_out * item]).view(dtype)
        else:
            address = new_source.__array_interface__["data"][0] + start
            holder = ArrayInterfaceAlias(new_source, address, (n_out,), dtype.str)
            keep.append(holder)
            out = np.asarray(holder)
        return out.reshape(shape)
    if route in ("view", "reversed_view"):
        base = np.zeros(total, dtype)
        new_source = base[: source.size].reshape(source.shape)
        new_source[...] = values
        args[index] = new_source
        window = base[offset : offset + n_out]
        if route == "reversed_view":
            # The same bytes seen backwards: a negative stride over the input's memory.
            window = base[offset : offset + n_out][::-1]
        return window.reshape(shape) if route == "view" else window.reshape(shape[::-1]).T
    raise ValueError(f"unknown alias route {route}")


def build(spec: Any, args: list, keep: list) -> Any:
    """One argument from its spec (see the module docstring)."""
    if not isinstance(spec, dict):
        return spec
    if "array" in spec:
        return build_array(spec["array"], keep)
    if "py" in spec:
        return spec["py"]
    if "npint" in spec:
        return np.int64(spec["npint"])  # an integer through __index__, not a Python int
    if "int" in spec:
        return int(spec["int"])  # a decimal string: ints beyond 64 bits survive JSON
    if "list" in spec:
        return [build(item, args, keep) for item in spec["list"]]
    if "tuple" in spec:
        return tuple(build(item, args, keep) for item in spec["tuple"])
    if "lying" in spec:
        lying = spec["lying"]
        return LyingSequence(
            int(lying["len"]), lambda: build(lying["item"], args, keep), lying.get("real", 2)
        )
    if "alias" in spec:
        return build_alias(spec["alias"], args, keep)
    if "subs" in spec:
        return build_subs(spec)
    if "coo" in spec:
        return build_coo_subs(spec["coo"], keep)
    if "sptensor" in spec:
        return build_sptensor(spec["sptensor"], keep)
    if "ktensor" in spec:
        import pyttb

        k = spec["ktensor"]
        factors = [build(f, args, keep) for f in k["factors"]]
        return pyttb.ktensor(factors, build(k["weights"], args, keep))
    if "tensor" in spec:
        import pyttb

        return pyttb.tensor(build(spec["tensor"], args, keep))
    raise ValueError(f"unknown argument spec {spec}")


def build_subs(spec: dict) -> np.ndarray:
    """COO subscripts (int64, nnz x order) with the given rows, in a layout."""
    nnz, order = spec["shape"]
    subs = np.array(spec["subs"], dtype=np.int64).reshape(nnz, order)
    layout = spec.get("layout", "C")
    if layout == "F":
        return np.asfortranarray(subs)
    if layout == "strided":
        wide = np.zeros((nnz, 2 * order), np.int64)
        wide[:, ::2] = subs
        return wide[:, ::2]
    if layout == "reversed":
        return np.ascontiguousarray(subs[::-1, ::-1])[::-1, ::-1]
    return subs


def coo_subs(nnz: int, dims, seed: int, duplicates: bool = False) -> np.ndarray:
    """``nnz`` random subscripts (int64, nnz x len(dims)) in range; with ``duplicates``
    the second half repeats the first."""
    rng = np.random.default_rng(seed)
    subs = rng.integers(0, dims, size=(nnz, len(dims))) if nnz else np.zeros((0, len(dims)))
    subs = subs.astype(np.int64)
    if duplicates and nnz > 1:
        subs[nnz // 2 :] = subs[: nnz - nnz // 2]
    return subs


def build_coo_subs(spec: dict, keep: list) -> np.ndarray:
    """COO subscripts drawn in the worker (cases with many nonzeros stay small JSON):
    nnz, dims, seed, dtype (int64 or another), layout, duplicates, and ``bad`` = [row,
    column, value] to put one subscript out of range. Layout "broadcast" repeats one
    random row (nnz may then be huge)."""
    nnz, dims = int(spec["nnz"]), spec["dims"]
    dtype = np.dtype(DTYPES[spec.get("dtype", "int64")])
    layout = spec.get("layout", "C")
    if layout == "broadcast":
        row = coo_subs(1, dims, spec.get("seed", 0)).astype(dtype)
        return np.broadcast_to(row, (nnz, len(dims)))
    subs = coo_subs(nnz, dims, spec.get("seed", 0), spec.get("duplicates", False))
    if spec.get("bad"):
        row, column, value = spec["bad"]
        subs[row, column] = int(value)
    with np.errstate(over="ignore"):
        subs = subs.astype(dtype)  # an out-of-range value may wrap in int32: still bad
    if layout == "readonly":
        subs.setflags(write=False)
        return subs
    if layout == "byteswapped":
        return subs.astype(subs.dtype.newbyteorder())
    out = build_array(
        {"shape": list(subs.shape), "dtype": spec.get("dtype", "int64"), "layout": layout}, keep
    )
    out[...] = subs
    return out
    raise ValueError(f"unknown subs layout {layout}")


def build_sptensor(spec: dict, keep: list):
    """A pyttb.sptensor from subscripts (int64 or int32, C or F order, duplicates kept:
    pyttb's constructor does not aggregate), values (nnz,) or (nnz, 1) and a shape; nnz
    = 0 is pyttb's empty tensor of that shape."""
    import pyttb

    dims = tuple(spec["dims"])
    nnz = spec["nnz"]
    if nnz == 0:
        return pyttb.sptensor(shape=dims)
    subs = coo_subs(nnz, dims, spec["seed"], spec.get("duplicates", False))
    subs = subs.astype(DTYPES[spec.get("dtype", "int64")])
    if spec.get("layout", "C") == "F":
        subs = np.asfortranarray(subs)
    rng = np.random.default_rng(spec["seed"] + 1)
    vals = _values(rng, (nnz, 1), DTYPES[spec.get("vals_dtype", "float64")], spec["values"])
    if spec.get("vals_1d"):
        vals = vals[:, 0].copy()
    return pyttb.sptensor(subs, vals, dims)


def build_call(case: dict) -> tuple[list, dict, list]:
    """The positional and keyword arguments of ``case`` (aliases last: they rebuild the
    argument they share memory with), and the objects that keep buffers alive."""
    keep: list = []
    args: list = []
    for spec in case.get("args", []):
        args.append(build(spec, args, keep))
    kwargs = {}
    for name, spec in case.get("kwargs", {}).items():
        kwargs[name] = build(spec, args, keep)
    return args, kwargs, keep


# --- the contract -------------------------------------------------------------------


class Refuse(Exception):
    """Raised by an oracle: the call must raise ``kind`` (an exception type name, or a
    tuple of acceptable ones)."""

    def __init__(self, kind, why: str = ""):
        super().__init__(why)
        self.kind = (kind,) if isinstance(kind, str) else tuple(kind)


#: Bytes beyond which no allocation succeeds on any machine this suite runs on (1 TiB);
#: the cases keep every size either far below it or far above it.
IMPOSSIBLE_BYTES = 2**40


def need_array(x, name: str, dtype, ndim=None):
    """The contract's type checks: an ndarray (TypeError otherwise) of ``ndim`` axes
    (ValueError) and exactly ``dtype`` in native byte order (TypeError)."""
    if not isinstance(x, np.ndarray):
        raise Refuse("TypeError", f"{name} is not an ndarray")
    if ndim is not None and x.ndim != ndim:
        if x.dtype != np.dtype(dtype):
            raise Refuse(("TypeError", "ValueError"), f"{name}: wrong ndim and dtype")
        raise Refuse("ValueError", f"{name} has {x.ndim} axes")
    if x.dtype != np.dtype(dtype) or not x.dtype.isnative:
        raise Refuse("TypeError", f"{name} has dtype {x.dtype}")
    return x


def nbytes(shape, itemsize=16) -> int:
    return int(np.prod([int(n) for n in shape], dtype=object)) * itemsize


def copy_too_big(x: np.ndarray) -> bool:
    """Whether the C-order copy of ``x`` (a broadcast array, say) cannot be allocated."""
    return nbytes(x.shape, x.dtype.itemsize) > IMPOSSIBLE_BYTES


def need_out(out, shape):
    if out is None:
        return
    need_array(out, "out", np.complex128, len(shape))
    if out.shape != tuple(shape):
        raise Refuse("ValueError", "out has the wrong shape")
    if not out.flags.writeable:
        raise Refuse("ValueError", "out is read-only")


def check_first_site(bra, ket):
    b = need_array(bra, "bra_first", np.complex128, 2)
    k = need_array(ket, "ket_first", np.complex128, 2)
    if b.shape[0] != k.shape[0]:
        raise Refuse("ValueError", "d differs")
    return [b, k], (b.shape[1], k.shape[1]), lambda b, k: np.einsum("sa,sb->ab", b.conj(), k)


def check_env_bra(env, bra):
    e = need_array(env, "env", np.complex128, 2)
    b = need_array(bra, "bra", np.complex128, 3)
    if e.shape[0] != b.shape[0]:
        raise Refuse("ValueError", "chi_bra differs")
    shape = (e.shape[1], b.shape[1], b.shape[2])
    return [e, b], shape, lambda e, b: np.einsum("ab,asc->bsc", e, b.conj())


def check_tmp_ket(tmp, ket):
    t = need_array(tmp, "tmp", np.complex128, 3)
    k = need_array(ket, "ket", np.complex128, 3)
    if t.shape[:2] != k.shape[:2]:
        raise Refuse("ValueError", "contracted axes differ")
    return [t, k], (t.shape[2], k.shape[2]), lambda t, k: np.einsum("bsc,bse->ce", t, k)


def check_site_update(env, bra, ket):
    e = need_array(env, "env", np.complex128, 2)
    b = need_array(bra, "bra", np.complex128, 3)
    k = need_array(ket, "ket", np.complex128, 3)
    if e.shape[0] != b.shape[0] or e.shape[1] != k.shape[0] or b.shape[1] != k.shape[1]:
        raise Refuse("ValueError", "bonds differ")

    def compute(e, b, k):
        if nbytes((k.shape[0], b.shape[1], b.shape[2])) > IMPOSSIBLE_BYTES:
            raise Refuse("MemoryError", "the intermediate cannot be allocated")
        return np.einsum("bsc,bse->ce", np.einsum("ab,asc->bsc", e, b.conj()), k)

    return [e, b, k], (b.shape[2], k.shape[2]), compute


def tt_finish(items, shape, out, compute):
    """The contract once the operands passed their checks: ``out`` checked, an
    impossible result a MemoryError, all zeros when an operand is empty (nothing is
    read), an operand whose copy is impossible a MemoryError, else the definition."""
    need_out(out, shape)
    if nbytes(shape) > IMPOSSIBLE_BYTES:
        raise Refuse("MemoryError", "the result cannot be allocated")
    if any(x.size == 0 for x in items):
        return np.zeros(shape, complex)
    if any(copy_too_big(x) for x in items):
        raise Refuse("MemoryError", "an operand's copy cannot be allocated")
    return compute(*[np.array(x) for x in items])


def _tt_oracle(checker):
    def oracle(*operands, out=None):
        items, shape, compute = checker(*operands)
        return tt_finish(items, shape, out, compute)

    return oracle


def _length(items) -> int:
    """The length of a sequence argument; one that cannot be held is a MemoryError."""
    try:
        length = len(items)
    except OverflowError:
        raise Refuse("MemoryError", "length beyond Py_ssize_t") from None
    if length * 8 > IMPOSSIBLE_BYTES:
        raise Refuse("MemoryError", f"{length} items")
    return length


def _sites(items, name):
    # A list of site tensors must be a collections.abc.Sequence (an ndarray of one more
    # axis is refused); shape and operands take anything with __getitem__.
    if isinstance(items, (str, bytes)) or not isinstance(items, collections.abc.Sequence):
        raise Refuse("TypeError", f"{name} is not a sequence")
    length = _length(items)
    sites = []
    for i in range(length):
        try:
            item = items[i]
        except IndexError:
            raise Refuse("IndexError", "the sequence lied about its length") from None
        sites.append(need_array(item, f"{name}[{i}]", np.complex128, 3))
    return sites


def check_chain(bras, kets):
    b, k = _sites(bras, "bras"), _sites(kets, "kets")
    if not b or not k or len(b) != len(k):
        raise Refuse("ValueError", "site counts")
    for chain in (b, k):
        if chain[0].shape[0] != 1 or chain[-1].shape[2] != 1:
            raise Refuse("ValueError", "boundary bonds")
        if any(x.shape[2] != y.shape[0] for x, y in itertools.pairwise(chain)):
            raise Refuse("ValueError", "consecutive bonds")
    if any(x.shape[1] != y.shape[1] for x, y in zip(b, k, strict=True)):
        raise Refuse("ValueError", "physical dimensions")
    return b, k


def oracle_inner(bras, kets):
    b, k = check_chain(bras, kets)
    if any(x.size == 0 for x in b + k):
        return 0j
    if any(copy_too_big(x) for x in b + k):
        raise Refuse("MemoryError", "a site's copy")
    env = np.ones((1, 1), complex)
    for x, y in zip(b, k, strict=True):
        x, y = np.array(x), np.array(y)
        env = np.einsum("bsc,bse->ce", np.einsum("ab,asc->bsc", env, x.conj()), y)
    return env[0, 0]


def _float_pair(x, y):
    a = need_array(x, "x", np.float64, 1)
    b = need_array(y, "y", np.float64, 1)
    if a.shape != b.shape:
        raise Refuse("ValueError", "lengths differ")
    return a, b


def oracle_dot(x, y, threads=None):
    # The binding checks threads first (PyO3 converts it, then its range), then the arrays.
    _threads_arg(threads)
    a, b = _float_pair(x, y)
    return float(np.sum(a * b)) if a.size else 0.0


def oracle_matvec(a, x, threads=None):
    _threads_arg(threads)
    m = need_array(a, "a", np.float64, 2)
    v = need_array(x, "x", np.float64, 1)
    if m.shape[1] != v.shape[0]:
        raise Refuse("ValueError", "columns")
    if m.shape[0] * 8 > 2**40:
        raise Refuse("MemoryError", "result")
    return m @ v if m.size else np.zeros(m.shape[0])


def _int_arg(value, name, minimum=None, maximum=None, unsigned=False):
    """An int argument as the binding converts it (a TypeError for a non-int, a
    ValueError for one beyond 64 bits) and then checks it (a ValueError out of
    ``[minimum, maximum]``). Bindings convert every argument before they check any:
    call ``_int_arg(v, name)`` first for each, then with the bounds."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise Refuse("TypeError", f"{name} is not an int")
    value = int(value)
    low, high = (0, 2**64) if unsigned else (-(2**63), 2**63)
    if not low <= value < high:
        raise Refuse("ValueError", f"{name} out of the 64-bit range")
    if minimum is not None and value < minimum:
        raise Refuse("ValueError", f"{name} below {minimum}")
    if maximum is not None and value > maximum:
        raise Refuse("ValueError", f"{name} above {maximum}")
    return value


def _float_arg(value, name):
    if isinstance(value, (str, bytes)) or value is None:
        raise Refuse("TypeError", f"{name} is not a number")
    return float(value)


def _shape(shape):
    if isinstance(shape, (str, bytes)) or not hasattr(shape, "__getitem__"):
        raise Refuse("TypeError", "shape is not a sequence")
    length = _length(shape)
    dims = []
    for j in range(length):
        try:
            n = shape[j]
        except IndexError:
            raise Refuse("IndexError", "lying shape") from None
        if isinstance(n, float) or not isinstance(n, (int, np.integer)):
            raise Refuse("TypeError", f"shape[{j}] is not an int")
        if not -(2**63) <= int(n) < 2**63:
            raise Refuse("ValueError", f"shape[{j}] out of range")
        if int(n) <= 0:
            raise Refuse("ValueError", f"shape[{j}] not positive")
        dims.append(int(n))
    return dims


def ttv_reference(subs, vals, dims, vector, mode):
    """pyttb's ``sptensor.ttv`` by its definition: in-order sums per output subscript,
    exact zeros dropped, rows sorted; a float for order 1."""
    order = len(dims)
    if order == 1:
        return float(sum((v * vector[s[0]] for s, v in zip(subs, vals, strict=True)), 0.0))
    sums: dict = {}
    for s, v in zip(subs.tolist(), vals.tolist(), strict=True):
        key = tuple(s[:mode] + s[mode + 1 :])
        sums[key] = sums.get(key, 0.0) + v * vector[s[mode]]
    keys = sorted(k for k, v in sums.items() if v != 0.0)
    newsubs = np.array(keys, dtype=np.int64).reshape(len(keys), order - 1)
    newvals = np.array([sums[k] for k in keys], dtype=float).reshape(len(keys), 1)
    return newsubs, newvals, tuple(dims[:mode] + dims[mode + 1 :])


def oracle_ttv(subs, vals, shape, vector, mode, method="auto", threads=None):
    # In the order the binding checks: `mode`, `method` and `threads` are converted first
    # (arguments), then the thread count's range, then shape, the arrays, the values of
    # mode and method, then the shapes together.
    mode = _int_arg(mode, "mode")
    if not isinstance(method, str):
        raise Refuse("TypeError", "method is not a str")
    _threads_arg(threads)
    dims = _shape(shape)
    s = need_array(subs, "subs", np.int64, 2)
    if not isinstance(vals, np.ndarray):
        raise Refuse("TypeError", "vals")
    if vals.dtype != np.float64 or not vals.dtype.isnative:
        raise Refuse("TypeError", "vals dtype")
    if vals.ndim > 2:
        raise Refuse("ValueError", "vals has more than 2 axes")
    vec = need_array(vector, "vector", np.float64, 1)
    if mode < 0:
        raise Refuse("ValueError", "mode")
    if method not in ("auto", "dense", "sort"):
        raise Refuse("ValueError", "method")
    if vals.ndim == 2 and vals.shape[1] == 1:
        v = vals[:, 0]
    elif vals.ndim == 1:
        v = vals
    elif vals.size == 0 and vals.ndim == 2:
        v = np.zeros(0)
    else:
        raise Refuse("ValueError", "vals shape")
    if s.size == 0 and v.size == 0:
        s = np.zeros((0, len(dims)), np.int64)
    if not dims or mode >= len(dims):
        raise Refuse("ValueError", "mode or order")
    if s.shape[1] != len(dims):
        raise Refuse("ValueError", "columns")
    if s.shape[0] != v.shape[0]:
        raise Refuse("ValueError", "nnz")
    if vec.shape[0] != dims[mode]:
        raise Refuse("ValueError", "vector length")
    if any(copy_too_big(x) for x in (s, v, vec)):
        raise Refuse("MemoryError", "an operand's copy")
    s, v, vec = np.array(s), np.array(v), np.array(vec)
    if any(not 0 <= x < d for row in s.tolist() for x, d in zip(row, dims, strict=True)):
        raise Refuse("ValueError", "subscript out of range")
    if method == "dense" and len(dims) > 1 and s.shape[0]:
        cells = int(np.prod([d for j, d in enumerate(dims) if j != mode], dtype=object))
        if cells * 8 > IMPOSSIBLE_BYTES:
            raise Refuse("MemoryError", "dense output space")
    return ttv_reference(s, v, dims, vec, mode)


def oracle_bench_ttv(subs, vals, shape, vector, mode, n_trials, method="auto"):
    _int_arg(mode, "mode")
    _int_arg(n_trials, "n_trials")
    n = _int_arg(n_trials, "n_trials", 1, 2**20)
    oracle_ttv(subs, vals, shape, vector, mode, method)
    return ("times", n + 1)


def oracle_bench_dot(form, n, n_trials, seed):
    _int_arg(n, "n"), _int_arg(n_trials, "n_trials"), _int_arg(seed, "seed", unsigned=True)
    if form not in ("loop", "tuned"):
        raise Refuse("ValueError", "form")
    n = _int_arg(n, "n", 0)
    trials = _int_arg(n_trials, "n_trials", 1, 2**20)
    if n * 8 > IMPOSSIBLE_BYTES:
        raise Refuse("MemoryError", "operands")
    return ("times", trials + 1)


def oracle_bench_matvec(form, n1, n2, n_trials, seed, layout="C"):
    for value, name in ((n1, "n1"), (n2, "n2"), (n_trials, "n_trials")):
        _int_arg(value, name)
    _int_arg(seed, "seed", unsigned=True)
    if not isinstance(layout, str):
        raise Refuse("TypeError", "layout is not a str")
    if form not in ("loop", "tuned"):
        raise Refuse("ValueError", "form")
    if layout not in ("C", "F"):
        raise Refuse("ValueError", "layout")
    n1, n2 = _int_arg(n1, "n1", 0), _int_arg(n2, "n2", 0)
    trials = _int_arg(n_trials, "n_trials", 1, 2**20)
    if n1 * n2 >= 2**64:
        raise Refuse("ValueError", "n1 * n2 overflows")
    if max(n1 * n2, n1, n2) * 8 > IMPOSSIBLE_BYTES:
        raise Refuse("MemoryError", "operands")
    return ("times", trials + 1)


# --- matvec timers with page faults (kernels-layout block) ---


def oracle_bench_matvec_faults(form, n1, n2, n_trials, seed, layout="C"):
    _, trials = oracle_bench_matvec(form, n1, n2, n_trials, seed, layout)
    return ("times_and_faults", trials)


def oracle_minor_page_faults():
    return ("fault_count", None)


BENCH_TT_CASES = {
    "first_site": (check_first_site, 2),
    "env_bra": (check_env_bra, 2),
    "tmp_ket": (check_tmp_ket, 2),
    "site_update": (check_site_update, 3),
    "chain": (check_chain, 2),
}


def oracle_bench_tt(case, operands, n_samples, min_sample_seconds):
    _int_arg(n_samples, "n_samples")
    _float_arg(min_sample_seconds, "min_sample_seconds")
    n = _int_arg(n_samples, "n_samples", 1, 2**20)
    if not (np.isfinite(min_sample_seconds) and 0 <= min_sample_seconds <= 10):
        raise Refuse("ValueError", "min_sample_seconds")
    if case not in BENCH_TT_CASES:
        raise Refuse("ValueError", "case")
    checker, count = BENCH_TT_CASES[case]
    if isinstance(operands, (str, bytes)) or not hasattr(operands, "__getitem__"):
        raise Refuse("TypeError", "operands")
    try:
        length = len(operands)
    except OverflowError:
        raise Refuse("MemoryError", "length beyond Py_ssize_t") from None
    if length != count:
        raise Refuse("ValueError", "operand count")
    checked = checker(*[operands[i] for i in range(count)])
    if case == "chain":
        items, shape = checked[0] + checked[1], (1,)
    else:
        items, shape = checked[0], checked[1]
    if any(copy_too_big(x) for x in items):
        raise Refuse("MemoryError", "an operand's copy")
    if nbytes(shape, 1) > 2**20:
        raise Refuse("ValueError", "output too large to time")
    return ("bench_tt", n + 1)


def oracle_read_bandwidth(n_bytes=512 << 20, repeats=5):
    _int_arg(n_bytes, "n_bytes"), _int_arg(repeats, "repeats")
    n = _int_arg(n_bytes, "n_bytes", 8)
    _int_arg(repeats, "repeats", 1, 2**20)
    if n > min(2**44, physical_memory()):
        raise Refuse("MemoryError", "buffer")
    return ("positive",)


# --- the STREAM-style probes (stream_bandwidth, bandwidth_curve) -------------------------

STREAM_ARRAYS = {"read": 1, "copy": 2, "triad": 3}


def physical_memory() -> int:
    """Bytes of this machine's memory: a probe's working set beyond it is a MemoryError."""
    return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")


def _stream_options(kernel, repeats, streams, unroll, min_seconds):
    """The probes' conversions (PyO3's, before the body): kernel a str, counts ints,
    min_seconds a number."""
    if not isinstance(kernel, str):
        raise Refuse("TypeError", "kernel is not a str")
    for value, name in ((repeats, "repeats"), (streams, "streams"), (unroll, "unroll")):
        _int_arg(value, name)
    return _float_arg(min_seconds, "min_seconds")


def _stream_checks(repeats, streams, unroll, min_seconds):
    """The checks after the sizes: repeats, the variant, min_seconds (in that order)."""
    repeats = _int_arg(repeats, "repeats", 1, 2**20)
    if int(streams) not in (1, 2, 4, 8):
        raise Refuse("ValueError", "streams")
    if int(unroll) not in (1, 2, 4):
        raise Refuse("ValueError", "unroll")
    if not 0.0 <= min_seconds <= 10.0:
        raise Refuse("ValueError", "min_seconds")
    return repeats


def _stream_size(n_bytes, kernel):
    """A working-set size as the probes check it: at least one element per array."""
    return _int_arg(n_bytes, "n_bytes", 8 * STREAM_ARRAYS[kernel])


def _stream_fits(n, kernel):
    arrays = STREAM_ARRAYS[kernel]
    if n // (8 * arrays) * 8 * arrays > physical_memory():
        raise Refuse("MemoryError", "working set beyond memory")


def oracle_stream_bandwidth(kernel, n_bytes, repeats=5, streams=4, unroll=4, min_seconds=0.0):
    min_seconds = _stream_options(kernel, repeats, streams, unroll, min_seconds)
    _int_arg(n_bytes, "n_bytes")
    if kernel not in STREAM_ARRAYS:
        raise Refuse("ValueError", "kernel name")
    n = _stream_size(n_bytes, kernel)
    repeats = _stream_checks(repeats, streams, unroll, min_seconds)
    _stream_fits(n, kernel)
    return ("stream", [n], repeats, kernel)


def oracle_bandwidth_curve(
    sizes_bytes, kernel="read", repeats=5, streams=4, unroll=4, min_seconds=1e-3
):
    min_seconds = _stream_options(kernel, repeats, streams, unroll, min_seconds)
    if kernel not in STREAM_ARRAYS:
        raise Refuse("ValueError", "kernel name")
    if isinstance(sizes_bytes, (str, bytes)) or not hasattr(sizes_bytes, "__getitem__"):
        raise Refuse("TypeError", "sizes_bytes is not a sequence")
    sizes = []
    for i in range(_length(sizes_bytes)):
        try:
            item = sizes_bytes[i]
        except IndexError:
            raise Refuse("IndexError", "lying sizes_bytes") from None
        sizes.append(_stream_size(item, kernel))
    repeats = _stream_checks(repeats, streams, unroll, min_seconds)
    for n in sizes:
        _stream_fits(n, kernel)
    return ("stream", sizes, repeats, kernel)


def _two_arrays(x, y):
    a = need_array(x, "x", np.float64, 1)
    b = need_array(y, "y", np.float64, 1)
    return a, b


def oracle_two_arrays(x, y):
    a, b = _two_arrays(x, y)
    return float(a.size + b.size)


def oracle_two_arrays_copied(x, y):
    a, b = _two_arrays(x, y)
    if copy_too_big(a) or copy_too_big(b):
        raise Refuse("MemoryError", "a copy")
    return float(a.size + b.size)


def oracle_return_array(x, y):
    a, _ = _two_arrays(x, y)
    if copy_too_big(a):
        raise Refuse("MemoryError", "the copy of x")
    return np.array(a)


def oracle_pool_entry(entry, calls_per_sample, samples):
    _int_arg(calls_per_sample, "calls_per_sample"), _int_arg(samples, "samples")
    if entry not in ("install", "inline"):
        raise Refuse("ValueError", "entry")
    _int_arg(calls_per_sample, "calls_per_sample", 1)
    n = _int_arg(samples, "samples", 1, 2**20)
    return ("pool", n)


#: kernels_rs.MAX_THREADS as documented.
MAX_THREADS = 1024


def _threads_arg(threads):
    if threads is not None:
        _int_arg(threads, "threads", 1, MAX_THREADS)


def _coo_subs(subs):
    """``subs`` as the COO kernels take it: a 2-D int64 or int32 array (TypeError, or a
    ValueError for another number of axes)."""
    if not isinstance(subs, np.ndarray):
        raise Refuse("TypeError", "subs is not an ndarray")
    if subs.ndim != 2:
        raise Refuse("ValueError", f"subs has {subs.ndim} axes")
    if subs.dtype not in (np.dtype(np.int64), np.dtype(np.int32)) or not subs.dtype.isnative:
        raise Refuse("TypeError", f"subs has dtype {subs.dtype}")
    return subs


def _coo_vals(vals):
    if not isinstance(vals, np.ndarray):
        raise Refuse("TypeError", "vals is not an ndarray")
    if vals.dtype != np.float64 or not vals.dtype.isnative:
        raise Refuse("TypeError", f"vals has dtype {vals.dtype}")
    if vals.ndim > 2:
        raise Refuse("ValueError", "vals has more than 2 axes")
    return vals


def _vals_column(vals):
    """(nnz,) as is, (nnz, 1) by its column, any empty array as no value."""
    if vals.ndim == 1:
        return vals
    if vals.ndim == 2 and vals.shape[1] == 1:
        return vals[:, 0]
    if vals.size == 0:
        return np.zeros(0)
    raise Refuse("ValueError", "vals shape")


def _factor_list(factors, skip):
    """The factor matrices (2-D float64; None at ``skip``, whatever is there): anything
    with ``__getitem__`` but str, bytes and dict (the sequence protocol)."""
    if isinstance(factors, (str, bytes, dict)) or not hasattr(factors, "__getitem__"):
        raise Refuse("TypeError", "factors is not a sequence")
    length = _length(factors)
    out = []
    for m in range(length):
        if m == skip:
            out.append(None)
            continue
        try:
            item = factors[m]
        except IndexError:
            raise Refuse("IndexError", "the sequence lied about its length") from None
        out.append(need_array(item, f"factors[{m}]", np.float64, 2))
    return out


def _coo_checks(subs, vals, dims, factors, skip):
    """The kernels' checks once every argument is converted, in their order: copies of
    subs and factors, then the shapes together. Returns subs, vals (C-order copies) and
    the factors (C-order copies; None at ``skip``), and the rank."""
    if any(f is not None and copy_too_big(f) for f in factors):
        raise Refuse("MemoryError", "a factor's copy")
    if subs.size == 0 and vals.size == 0:
        subs = np.zeros((0, len(dims)), subs.dtype)
    elif copy_too_big(subs):
        raise Refuse("MemoryError", "the copy of subs")
    if subs.shape[0] and subs.shape[1] != len(dims):
        raise Refuse("ValueError", "subs columns")
    if subs.shape[0] != vals.shape[0]:
        raise Refuse("ValueError", "nnz of subs and vals")
    if len(factors) != len(dims):
        raise Refuse("ValueError", "factor count")
    rank = None
    for m, f in enumerate(factors):
        if f is None:
            continue
        if f.shape[0] != dims[m]:
            raise Refuse("ValueError", f"factors[{m}] rows")
        if rank is not None and f.shape[1] != rank:
            raise Refuse("ValueError", f"factors[{m}] rank")
        rank = f.shape[1] if rank is None else rank
    factors = [None if f is None else np.array(f) for f in factors]
    return np.array(subs).astype(np.int64), np.array(vals), factors, rank or 0


def _check_subscripts(subs, dims):
    if subs.size and ((subs < 0) | (subs >= np.array(dims, dtype=object))).any():
        raise Refuse("ValueError", "subscript out of range")


def oracle_mttkrp(subs, vals, shape, factors, mode, threads=None, schedule="auto"):
    # PyO3 converts mode, threads and schedule first; then the binding checks in order.
    _int_arg(mode, "mode")
    if threads is not None:
        _int_arg(threads, "threads")
    if not isinstance(schedule, str):
        raise Refuse("TypeError", "schedule is not a str")
    if schedule not in ("auto", "private", "rows"):
        raise Refuse("ValueError", "schedule")
    s = _coo_subs(subs)
    v = _coo_vals(vals)
    dims = _shape(shape)
    if len(dims) < 2:
        raise Refuse("ValueError", "order below 2")
    mode = int(mode)
    if not 0 <= mode < len(dims):
        raise Refuse("ValueError", "mode out of range")
    _threads_arg(threads)
    fs = _factor_list(factors, mode)
    v = _vals_column(v)
    s, v, fs, rank = _coo_checks(s, v, dims, fs, mode)
    if dims[mode] * rank * 8 > IMPOSSIBLE_BYTES:
        raise Refuse("MemoryError", "the result")
    _check_subscripts(s, dims)
    # The definition, in the documented arithmetic: each term the value times the factor
    # entries in ascending mode order, each row summed in input order from zero.
    terms = np.repeat(v[:, None], rank, axis=1)
    for m, f in enumerate(fs):
        if m != mode:
            terms = terms * f[s[:, m]]
    out = np.zeros((dims[mode], rank))
    np.add.at(out, s[:, mode], terms)
    return out


def oracle_innerprod_ktensor(subs, vals, shape, weights, factors, threads=None):
    if threads is not None:
        _int_arg(threads, "threads")
    s = _coo_subs(subs)
    v = _coo_vals(vals)
    dims = _shape(shape)
    w = need_array(weights, "weights", np.float64, 1)
    _threads_arg(threads)
    fs = _factor_list(factors, None)
    v = _vals_column(v)
    s, v, fs, rank = _coo_checks(s, v, dims, fs, None)
    if w.shape[0] != rank:
        raise Refuse("ValueError", "weights length")
    _check_subscripts(s, dims)
    # The definition, in the documented arithmetic: per nonzero, the weights times the
    # factor entries in ascending mode order, summed over r, times the value.
    terms = np.repeat(np.array(w)[None, :], len(v), axis=0)
    for m, f in enumerate(fs):
        terms = terms * f[s[:, m]]
    if rank == 0:
        # An empty sum over the components, as pyttb's loop over them gives: 0.0 even
        # where a value is NaN or infinite (pyttb never multiplies the values).
        return 0.0
    per_nonzero = np.zeros(len(v))
    for r in range(rank):
        per_nonzero = per_nonzero + terms[:, r]
    return float(np.sum(v * per_nonzero)) if len(v) else 0.0


def layout_definition(s, v, dims, fs, mode, rank):
    """SparseLayout's documented arithmetic: nonzeros stably sorted by (row, next), next
    the other mode of smallest dimension (the lowest on a tie); per fiber (equal row and
    next) the in-order sum of ``val * prod_rest factor rows`` (rest modes ascending),
    then each row the in-order sum of ``fiber * factors[next][j]``, from zero."""
    order = len(dims)
    nxt = min((m for m in range(order) if m != mode), key=lambda m: dims[m])
    rest = [m for m in range(order) if m not in (mode, nxt)]
    perm = np.lexsort((s[:, nxt], s[:, mode]))  # stable: input order among equals
    s, v = s[perm], v[perm]
    out = np.zeros((dims[mode], rank))
    if not len(v):
        return out
    terms = np.repeat(v[:, None], rank, axis=1)
    for m in rest:
        terms = terms * fs[m][s[:, m]]
    rows, nexts = s[:, mode], s[:, nxt]
    new_fiber = np.r_[True, (np.diff(rows) != 0) | (np.diff(nexts) != 0)]
    fiber = np.cumsum(new_fiber) - 1
    acc = np.zeros((int(fiber[-1]) + 1, rank))
    np.add.at(acc, fiber, terms)
    np.add.at(out, rows[new_fiber], acc * fs[nxt][nexts[new_fiber]])
    return out


def oracle_sparse_layout(subs, vals, shape, factors, mode, threads=None):
    """``SparseLayout(subs, vals, shape).mttkrp(factors, mode, threads=threads)``: the
    construction's checks (as mttkrp's on subs, vals, shape), then the call's."""
    s = _coo_subs(subs)
    v = _coo_vals(vals)
    dims = _shape(shape)
    if len(dims) < 2:
        raise Refuse("ValueError", "order below 2")
    v = _vals_column(v)
    if copy_too_big(v):
        raise Refuse("MemoryError", "the copy of vals")
    s, v, _, _ = _coo_checks(s, v, dims, [None] * len(dims), None)
    _check_subscripts(s, dims)
    _int_arg(mode, "mode")
    if threads is not None:
        _int_arg(threads, "threads")
    mode = int(mode)
    if not 0 <= mode < len(dims):
        raise Refuse("ValueError", "mode out of range")
    _threads_arg(threads)
    fs = _factor_list(factors, mode)
    _, _, fs, rank = _coo_checks(s, v, dims, fs, mode)
    if dims[mode] * rank * 8 > IMPOSSIBLE_BYTES:
        raise Refuse("MemoryError", "the result")
    return layout_definition(s, v, dims, fs, mode, rank)


def oracle_cp_als(*args, **kwargs):
    raise AssertionError("cp_als cases are checked against pyttb.cp_als (run_cp_als_case)")


def oracle_set_num_threads(n):
    _int_arg(n, "n", 1, MAX_THREADS)
    return ("num_threads", int(n))


ORACLES: dict[str, Callable] = {
    "tt_first_site": _tt_oracle(check_first_site),
    "tt_env_bra": _tt_oracle(check_env_bra),
    "tt_tmp_ket": _tt_oracle(check_tmp_ket),
    "tt_site_update": _tt_oracle(check_site_update),
    "tt_inner": oracle_inner,
    "bench_tt": oracle_bench_tt,
    "tt_kernel_info": lambda: ("dict", "tiled_path"),
    "dot": oracle_dot,
    "dot_loop": oracle_dot,
    "matvec": oracle_matvec,
    "matvec_loop": oracle_matvec,
    "bench_dot": oracle_bench_dot,
    "bench_matvec": oracle_bench_matvec,
    "bench_matvec_faults": oracle_bench_matvec_faults,
    "minor_page_faults": oracle_minor_page_faults,
    "ttv": oracle_ttv,
    "bench_ttv": oracle_bench_ttv,
    "read_bandwidth": oracle_read_bandwidth,
    "stream_bandwidth": oracle_stream_bandwidth,
    "bandwidth_curve": oracle_bandwidth_curve,
    "build_info": lambda: ("dict", "is_release"),
    "overhead_noop": lambda: None,
    "overhead_two_objects": lambda x, y: None,
    "overhead_two_arrays_unborrowed": oracle_two_arrays,
    "overhead_two_arrays_copied": oracle_two_arrays_copied,
    "overhead_two_arrays": oracle_two_arrays,
    "overhead_two_arrays_borrowed": oracle_two_arrays,
    "overhead_return_array": oracle_return_array,
    "overhead_detach": lambda: None,
    "overhead_pool_entry": oracle_pool_entry,
    "mttkrp": oracle_mttkrp,
    "innerprod_ktensor": oracle_innerprod_ktensor,
    "SparseLayout": oracle_sparse_layout,
    "cp_als": oracle_cp_als,
    "set_num_threads": oracle_set_num_threads,
    "get_num_threads": lambda: ("num_threads", None),
}


# --- comparing ----------------------------------------------------------------------


def _close(got, want, scale) -> str | None:
    """None when ``got`` equals ``want`` up to rounding: the same non-finite pattern
    (NaN and infinities in the same real and imaginary parts), finite values within
    1e-10 of ``scale``; else what differs."""
    got, want = np.asarray(got), np.asarray(want)
    if got.shape != want.shape:
        return f"shape {got.shape} != {want.shape}"
    parts = (
        [(got.real, want.real), (got.imag, want.imag)] if want.dtype.kind == "c" else [(got, want)]
    )
    for g, w in parts:
        if (np.isfinite(g) != np.isfinite(w)).any():
            return "non-finite values in other places than NumPy's"
        finite = np.isfinite(w)
        if finite.any():
            err = np.abs(g[finite] - w[finite]).max()
            if err > 1e-10 * scale:
                return f"max error {err:.3g} (scale {scale:.3g})"
    return None


def _scale(args) -> float:
    """A bound for the rounding of sums of products of the arrays in ``args``."""
    total = 1.0
    for a in args:
        if isinstance(a, (list, tuple)):
            total *= _scale(list(a))
        elif isinstance(a, np.ndarray) and a.dtype.kind in "fc" and 0 < a.size <= 2**24:
            finite = np.abs(a[np.isfinite(a)])
            total *= (float(finite.max()) if finite.size else 1.0) + 1.0
            total *= max(a.shape) if a.ndim else 1
    return min(total, 1e300)


def check(fn_name: str, result: Any, want: Any, scale: float, kwargs: dict) -> str | None:
    """None when ``result`` is what the oracle said (``want``), else why not."""
    out = kwargs.get("out")
    tag = want[0] if isinstance(want, tuple) and want and isinstance(want[0], str) else None
    if tag == "times":
        ok = isinstance(result, list) and len(result) == want[1]
        ok = ok and all(isinstance(t, float) and np.isfinite(t) and t >= 0 for t in result)
        return None if ok else f"not {want[1]} finite times: {result!r:.200}"
    if tag == "times_and_faults":
        seconds = result.get("seconds") if isinstance(result, dict) else None
        faults = result.get("minor_faults") if isinstance(result, dict) else None
        ok = isinstance(seconds, list) and len(seconds) == want[1]
        ok = ok and all(isinstance(t, float) and np.isfinite(t) and t >= 0 for t in seconds)
        ok = ok and isinstance(faults, list) and len(faults) == want[1]
        ok = ok and all(f is None or (type(f) is int and f >= 0) for f in faults)
        return None if ok else f"not {want[1]} times and fault counts: {result!r:.200}"
    if tag == "fault_count":
        ok = result is None or (type(result) is int and result >= 0)
        return None if ok else f"not a fault count: {result!r:.100}"
    if tag == "bench_tt":
        ok = isinstance(result, tuple) and len(result[0]) == want[1] and result[1] >= 1
        return None if ok else f"bad bench_tt result {result!r:.200}"
    if tag == "stream":
        # One result dict per working-set size (a dict alone for stream_bandwidth): the
        # size rounded down to whole elements per array, `repeats` positive timings.
        _, sizes, repeats, kernel = want
        results = result if isinstance(result, list) else [result]
        arrays = STREAM_ARRAYS[kernel]
        if fn_name == "stream_bandwidth" and not isinstance(result, dict):
            return f"not a dict: {result!r:.200}"
        if len(results) != len(sizes):
            return f"{len(results)} results for {len(sizes)} sizes"
        for r, n in zip(results, sizes, strict=True):
            ok = isinstance(r, dict) and r["kernel"] == kernel
            ok = ok and r["working_set_bytes"] == n // (8 * arrays) * 8 * arrays
            ok = ok and len(r["seconds"]) == repeats and all(t > 0 for t in r["seconds"])
            if not ok:
                return f"bad result for {n} bytes: {r!r:.300}"
        return None
    if tag == "positive":
        return None if isinstance(result, float) and result > 0 else f"{result!r}"
    if tag == "dict":
        return None if isinstance(result, dict) and want[1] in result else f"{result!r:.200}"
    if tag == "pool":
        ok = isinstance(result, dict) and len(result["per_call_seconds"]) == want[1]
        return None if ok else f"{result!r:.200}"
    if tag == "num_threads":
        # set_num_threads(n) returns None and makes n the default; get_num_threads gives
        # a count in [1, MAX_THREADS].
        import kernels_rs

        now = kernels_rs.get_num_threads()
        if want[1] is not None:
            ok = result is None and now == want[1]
            return None if ok else f"returned {result!r}, default now {now}, not {want[1]}"
        ok = type(result) is int and 1 <= result <= MAX_THREADS and result == now
        return None if ok else f"not a thread count: {result!r}"
    if fn_name in ("mttkrp", "SparseLayout"):
        if type(result) is not np.ndarray or result.dtype != np.float64:
            return f"result is {type(result).__name__} {getattr(result, 'dtype', '')}"
        if not result.flags.c_contiguous:
            return "the result is not C-ordered"
    if fn_name == "innerprod_ktensor" and type(result) is not float:
        return f"result is {type(result).__name__}, not float"
    if want is None:
        return None if result is None else f"expected None, got {result!r:.100}"
    if fn_name in ("ttv", "bench_ttv") and isinstance(want, tuple):
        newsubs, newvals, newshape = result
        if tuple(newshape) != want[2]:
            return f"shape {newshape} != {want[2]}"
        if not np.array_equal(newsubs, want[0]):
            return "subscripts differ from the definition's"
        return _close(newvals, want[1], scale)
    if isinstance(want, float) and fn_name in ("ttv",):
        return _close(result, want, scale)
    if out is not None:
        if result is not out:
            return "the result is not out"
        return _close(out, want, scale)
    if isinstance(want, np.ndarray):
        if not isinstance(result, np.ndarray) or type(result) is not np.ndarray:
            return f"result is {type(result).__name__}, not a base-class ndarray"
        if result.dtype != want.dtype:
            return f"dtype {result.dtype} != {want.dtype}"
    return _close(result, want, scale)


def run_case(kernels, case: dict) -> dict:
    """Build, ask the oracle (before the call: an aliasing ``out`` may overwrite an
    input), call, compare: the outcome of one case."""
    fn_name = case["fn"]
    if fn_name == "__pyttb__":
        return run_pyttb_case(case)
    if fn_name == "cp_als":
        return run_cp_als_case(kernels, case)
    args, kwargs, keep = build_call(case)
    scale = _scale(list(args) + list(kwargs.values()))
    try:
        want, refuse = ORACLES[fn_name](*args, **kwargs), None
    except Refuse as r:
        want, refuse = None, r
    fn = getattr(kernels, fn_name)
    if fn_name == "SparseLayout":

        def fn(subs, vals, shape, factors, mode, **kw):
            return kernels.SparseLayout(subs, vals, shape).mttkrp(factors, mode, **kw)

    if fn_name == "set_num_threads":
        # Process state: restored after the case, and a refused count must not change it.
        before = kernels.get_num_threads()
        try:
            outcome = _call_and_check(fn, fn_name, args, kwargs, want, refuse, scale)
            if refuse is not None and kernels.get_num_threads() != before:
                outcome = {"outcome": "fail", "why": "a refused count changed the default"}
        finally:
            kernels.set_num_threads(before)
        return outcome
    outcome = _call_and_check(fn, fn_name, args, kwargs, want, refuse, scale)
    del keep
    return outcome


def _call_and_check(fn, fn_name, args, kwargs, want, refuse, scale) -> dict:
    try:
        result = fn(*args, **kwargs)
    except Exception as e:
        kind = type(e).__name__
        if refuse is not None and kind in refuse.kind:
            return {"outcome": "ok", "raised": kind}
        why = f"raised {kind}: {str(e)[:300]}"
        if refuse is not None:
            why += f" (expected {'/'.join(refuse.kind)}: {refuse})"
        else:
            why += " (expected a result)"
        return {"outcome": "fail", "why": why}
    if refuse is not None:
        expected = "/".join(refuse.kind)
        return {
            "outcome": "fail",
            "why": f"returned {result!r:.100} instead of {expected} ({refuse})",
        }
    why = check(fn_name, result, want, scale, kwargs)
    return {"outcome": "ok"} if why is None else {"outcome": "fail", "why": why}


# --- the pyttb drop-in --------------------------------------------------------------


def _pyttb_scale(tensor, args) -> float:
    """``_scale`` over the sptensor's values and the arrays in the call (ktensors and
    dense tensors by their arrays)."""
    import pyttb

    def arrays(x):
        if isinstance(x, pyttb.ktensor):
            return [x.weights, *x.factor_matrices]
        if isinstance(x, pyttb.tensor):
            return [x.data]
        if isinstance(x, pyttb.sptensor):
            return [np.asarray(x.vals, dtype=float)] if x.nnz else []
        if isinstance(x, (list, tuple)):
            return [a for item in x for a in arrays(item)]
        if isinstance(x, np.ndarray) and x.dtype.kind in "fc":
            return [x]
        return []

    return _scale(arrays([tensor, *args]))


def _same_array(got, want, scale, what) -> str | None:
    if got.dtype != want.dtype or got.shape != want.shape:
        return f"{what}: {got.dtype} {got.shape} != {want.dtype} {want.shape}"
    for flag in ("C_CONTIGUOUS", "F_CONTIGUOUS"):
        if got.flags[flag] != want.flags[flag]:
            return f"{what}: {flag} {got.flags[flag]} != {want.flags[flag]}"
    if got.dtype.kind in "fc":
        why = _close(got, want, scale)
        return None if why is None else f"{what}: {why}"
    return None if np.array_equal(got, want) else f"{what} differ"


def same_pyttb_result(got, want, scale) -> str | None:
    """None when the accelerated result ``got`` is stock pyttb's ``want``: the same
    type, shape, dtypes and memory layout, subscripts equal, values to rounding."""
    import pyttb

    if type(got) is not type(want):
        return f"type {type(got).__name__} != pyttb's {type(want).__name__}"
    if isinstance(want, pyttb.sptensor):
        if got.shape != want.shape:
            return f"shape {got.shape} != {want.shape}"
        return _same_array(got.subs, want.subs, scale, "subs") or _same_array(
            got.vals, want.vals, scale, "vals"
        )
    if isinstance(want, pyttb.tensor):
        if got.shape != want.shape:
            return f"shape {got.shape} != {want.shape}"
        return _same_array(got.data, want.data, scale, "data")
    if isinstance(want, np.ndarray):
        return _same_array(got, want, scale, "result")
    if isinstance(want, (float, int, complex)):
        return _close(got, want, scale)
    return None if got == want else f"{got!r:.100} != {want!r:.100}"


def run_pyttb_case(case: dict) -> dict:
    """Call ``case["method"]`` of the sptensor built from ``case["args"][0]`` with the
    other arguments, stock and accelerated (each on arguments built afresh), and
    compare: the same result, or the same exception type and message."""
    import kernels_rs.pyttb as drop_in

    outcomes = []
    kernel_calls = 0
    for accelerated in (False, True):
        drop_in.enable() if accelerated else drop_in.disable()
        with warnings.catch_warnings():
            # Warnings are not compared, and kept off the worker's stderr (a pipe).
            warnings.simplefilter("ignore")
            args, kwargs, keep = build_call(case)
            tensor, rest = args[0], args[1:]
            scale = _pyttb_scale(tensor, rest)
            drop_in.reset_counts()
            try:
                outcomes.append(("value", getattr(tensor, case["method"])(*rest, **kwargs)))
            except Exception as e:
                outcomes.append(("raised", type(e).__name__, str(e)))
            kernel_calls = sum(drop_in.call_counts().values())
            del keep
        drop_in.disable()
    want, got = outcomes
    if want[0] == "raised" or got[0] == "raised":
        if got == want:
            return {"outcome": "ok", "tags": ["pyttb-error"], "kernel_calls": kernel_calls}
        show = [o if o[0] == "raised" else ("value", repr(o[1])[:200]) for o in (want, got)]
        return {"outcome": "fail", "why": f"pyttb: {show[0]}, accelerated: {show[1]}"}
    why = same_pyttb_result(got[1], want[1], scale)
    if why is not None:
        return {"outcome": "fail", "why": f"accelerated differs from pyttb: {why}"}
    return {"outcome": "ok", "tags": ["pyttb-same"], "kernel_calls": kernel_calls}


def _same_fit(got, want) -> bool:
    got, want = float(got), float(want)
    if np.isnan(want) or np.isinf(want):
        return got == want or (np.isnan(got) and np.isnan(want))
    return abs(got - want) <= 1e-10 * max(abs(want), 1.0)


def run_cp_als_case(kernels, case: dict) -> dict:
    """``kernels_rs.cp_als`` against ``pyttb.cp_als`` on the same arguments and the same
    global random state: the same iterations and fit (to 1e-10), or, where pyttb fails
    an ``assert`` (its way to refuse input) or raises, a TypeError/ValueError of ours
    (or pyttb's own exception, where both reach the same pyttb code). An X that is not
    a sptensor is a TypeError, an order-1 one a ValueError, and a bad ``threads=`` (ours
    alone) an error that names it, whatever pyttb does."""
    import contextlib
    import io

    import pyttb

    outcomes = []
    for fn in (pyttb.cp_als, kernels.cp_als):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            args, kwargs, keep = build_call(case)
            if fn is pyttb.cp_als:
                kwargs.pop("threads", None)
            np.random.seed(case.get("seed", 0))  # noqa: NPY002 (pyttb's init draws from it)
            try:
                with contextlib.redirect_stdout(io.StringIO()):
                    outcomes.append(("value", fn(*args, **kwargs)))
            except Exception as e:
                outcomes.append(("raised", type(e).__name__, str(e)))
            del keep
    want, got = outcomes
    order = args[0].ndims if isinstance(args[0], pyttb.sptensor) else None
    if got[0] == "raised":
        ours_clear = got[1] in ("TypeError", "ValueError")
        if want[0] == "raised" and (ours_clear or got == want):
            return {"outcome": "ok", "tags": ["pyttb-error"]}
        # Refused by design where pyttb goes on: a dense or other X (TypeError), and
        # order 1 (ValueError).
        if order is None and got[1] == "TypeError":
            return {"outcome": "ok", "tags": ["pyttb-error"]}
        if order is not None and order < 2 and got[1] == "ValueError":
            return {"outcome": "ok", "tags": ["pyttb-error"]}
        # threads= is ours alone (pyttb has no such argument).
        if "threads" in case.get("kwargs", {}) and ours_clear and "thread" in got[2]:
            return {"outcome": "ok", "tags": ["pyttb-error"]}
        return {"outcome": "fail", "why": f"pyttb: {str(want)[:300]}, ours: {got}"}
    if want[0] == "raised":
        return {"outcome": "fail", "why": f"pyttb raised {want[1:]}, ours returned"}
    (M, Minit, out), (M0, Minit0, out0) = got[1], want[1]
    if type(M) is not pyttb.ktensor or type(Minit) is not pyttb.ktensor:
        return {"outcome": "fail", "why": f"results are {type(M)}, {type(Minit)}"}
    if M.shape != M0.shape or M.ncomponents != M0.ncomponents:
        return {"outcome": "fail", "why": f"{M.shape} x {M.ncomponents} != pyttb's"}
    if out.keys() != out0.keys() or out["iters"] != out0["iters"]:
        return {"outcome": "fail", "why": f"output {out} != pyttb's {out0}"}
    if not _same_fit(out["fit"], out0["fit"]):
        return {"outcome": "fail", "why": f"fit {out['fit']!r} != pyttb's {out0['fit']!r}"}
    if not Minit.isequal(Minit0):
        return {"outcome": "fail", "why": "another initial guess than pyttb's"}
    return {"outcome": "ok", "tags": ["pyttb-same"]}


def main() -> None:
    import kernels_rs

    for line in sys.stdin:
        case = json.loads(line)
        if case.get("fn") == "__abort__":
            os.abort()  # for the test that a dead worker is a failed case
        try:
            answer = run_case(kernels_rs, case)
        except Exception:
            answer = {"outcome": "fail", "why": "suite error: " + traceback.format_exc()[-800:]}
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
