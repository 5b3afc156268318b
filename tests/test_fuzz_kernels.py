"""Fuzzing suite: every public function of kernels_rs against adversarial input.

Each case (``fuzz_cases.py``: JSON that says how to build the arguments) runs in a
persistent worker subprocess, so an abort, a segfault or a hang is one failed case
(reported with the case), not a dead test run. The worker asks an *oracle* what the
call must do (NumPy's or the definition's result, or an exception type), calls, and
compares. The cases come from hypothesis strategies (deterministic: ``derandomize``,
no example database, a fixed ``max_examples`` budget per family) and from a fixed list
of known routes to past defects (issue 10).

The pyttb drop-in (``kernels_rs.pyttb``) has its own family: random ``pyttb.sptensor``s
(empty, one nonzero, duplicates, order 1 to 5, int32/int64 subscripts in C or F order,
NaN/inf values) and call arguments for ``ttv``, ``mttkrp`` and ``innerprod``, each
called with stock pyttb and then accelerated, in the worker: the same result (type,
layout, subscripts, values to rounding) or the same exception type and message. The
last test checks the accelerated calls did reach the Rust kernels.

Classes of adversarial input covered (``CLASSES``; each drawn case is tagged, and the
last test checks every class was drawn and prints the counts):
"""

from __future__ import annotations

import collections
import json
import os
import select
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import kernels_rs

CLASSES = {
    "wrong-type": "an argument that is not an ndarray / sequence / int / str",
    "wrong-dtype": "an array of another dtype (float32, complex64, int, bool, object)",
    "wrong-ndim": "an array with another number of axes",
    "wrong-shape": "shapes that do not fit together",
    "byteswapped": "non-native byte order (refused with a TypeError)",
    "layout-F": "Fortran order",
    "layout-reversed": "negative strides on every axis",
    "layout-strided": "every other element",
    "layout-unaligned": "an array whose data is not aligned to its element size",
    "layout-readonly": "a read-only array",
    "layout-broadcast": "stride-0 axes (np.broadcast_to)",
    "layout-frombuffer": "an array over a bytearray",
    "layout-subclass": "an ndarray subclass",
    "layout-field": "a field of a structured array (strides not whole elements)",
    "extent-zero": "an axis of length 0",
    "extent-huge": "an extent of 2**40 or more (empty or broadcast arrays, shapes)",
    "values-special": "NaN, +-inf, -0.0, huge and subnormal values",
    "out-fresh": "a separate out= of any layout",
    "out-bad": "an out= of the wrong shape, dtype, type, or read-only",
    "alias-same": "out= is an input",
    "alias-view": "out= a view of an input's base (same base object)",
    "alias-reversed": "out= the input's memory seen through negative strides",
    "alias-frombuffer": "out= and an input: two np.frombuffer over one bytearray",
    "alias-interface": "out= an __array_interface__ alias of an input's memory",
    "alias-memoryview": "out= np.asarray(memoryview) of an input's buffer",
    "alias-unaligned": "out= overlapping an input at a byte offset (unaligned)",
    "int-out-of-range": "an int beyond 64 bits (2**64) or negative where unsigned",
    "int-bad-value": "a count of 0, negative, or beyond its documented maximum",
    "int-impossible-size": "a size whose allocation cannot succeed (MemoryError)",
    "seq-lying-len": "a sequence whose __len__ is huge (2**40, 2**62, 2**63) or lies",
    "seq-shape-element": "shape elements 0, negative, 2**63, 2**64, float",
    "subscript-out-of-range": "a COO subscript negative or beyond its dimension",
    "bad-name": "an unknown method, form, case or entry name",
    "subs-int32": "COO subscripts stored as int32 (read in place like int64)",
    "duplicates": "COO subscripts that repeat (summed, never merged or dropped)",
    "factors-bad": "factor matrices: wrong count, rows, rank, dtype or type",
    "threads": "threads= / set_num_threads: None, 1, 2, MAX_THREADS, 0, -1, 2**64, ...",
    "threads-split": "a call large enough to be split between 2 threads",
    "pyttb-same": "the pyttb drop-in: accelerated and stock pyttb agree",
    "pyttb-error": "the pyttb drop-in: both raise the same exception and message",
}

__doc__ += "".join(f"\n- {name}: {text}" for name, text in CLASSES.items()) + "\n"

SEEN: collections.Counter = collections.Counter()
CASES_RUN = collections.Counter()
#: Rust kernel calls made by the accelerated pyttb methods (the drop-in really ran).
PYTTB_KERNEL_CALLS = collections.Counter()

FUZZ_WORKER = Path(__file__).with_name("fuzz_cases.py")
CASE_TIMEOUT_SECONDS = 60

#: Examples per drawn family: 150 in `make test` (twice that for mttkrp and
#: innerprod_ktensor; about 3,200 cases, the whole suite ~16 s here). A
#: longer campaign by hand: FUZZ_EXAMPLES=5000 .venv/bin/python -m pytest tests/test_fuzz_kernels.py
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "150"))

FUZZ = settings(
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=EXAMPLES,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    print_blob=False,
)


# --- the worker ---------------------------------------------------------------------


class Worker:
    """A subprocess running ``fuzz_cases.main``: one case per line in, one outcome per
    line out. A worker that dies (abort, segfault) or hangs fails that case and is
    replaced for the next one."""

    def __init__(self):
        self.process = None

    def start(self):
        env = dict(os.environ, PYTHONFAULTHANDLER="1")
        self.stderr = open(os.devnull, "w")
        # FUZZ_WORKER_PYTHON: run the cases on another build (e.g. an older one, to see
        # the suite catch its defects); by default this interpreter.
        python = os.environ.get("FUZZ_WORKER_PYTHON", sys.executable)
        self.process = subprocess.Popen(
            [python, str(FUZZ_WORKER)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )

    def run(self, case: dict) -> dict:
        if self.process is None or self.process.poll() is not None:
            self.start()
        proc = self.process
        try:
            proc.stdin.write(json.dumps(case) + "\n")
            proc.stdin.flush()
        except BrokenPipeError:
            pass
        ready, _, _ = select.select([proc.stdout], [], [], CASE_TIMEOUT_SECONDS)
        line = proc.stdout.readline() if ready else ""
        if line:
            return json.loads(line)
        if not ready:
            proc.kill()
        code = proc.wait()
        stderr = proc.stderr.read()[-1500:]
        self.process = None
        what = "hung" if not ready else f"died with exit code {code}"
        return {"outcome": "crash", "why": f"the worker {what}; stderr: {stderr}"}

    def close(self):
        if self.process is not None and self.process.poll() is None:
            self.process.stdin.close()
            self.process.wait(timeout=30)


@pytest.fixture(scope="module")
def worker():
    w = Worker()
    yield w
    w.close()


def tags(case: dict) -> set[str]:
    """The classes a case belongs to, read off its JSON."""
    found = set(case.get("tags", ()))

    def walk(spec):
        if isinstance(spec, dict):
            if "array" in spec:
                a = spec["array"]
                layout = a.get("layout", "C")
                if layout == "byteswapped":
                    found.add("byteswapped")
                elif layout == "noncontig_field":
                    found.add("layout-field")
                elif layout != "C":
                    found.add(f"layout-{layout}")
                if 0 in a["shape"]:
                    found.add("extent-zero")
                if any(n >= 2**40 for n in a["shape"]):
                    found.add("extent-huge")
                if a.get("values") == "special":
                    found.add("values-special")
            if "alias" in spec:
                route = spec["alias"]["route"]
                found.add(
                    {
                        "same": "alias-same",
                        "transposed_same": "alias-same",
                        "view": "alias-view",
                        "reversed_view": "alias-reversed",
                        "frombuffer": "alias-frombuffer",
                        "interface": "alias-interface",
                        "memoryview": "alias-memoryview",
                        "byte_offset": "alias-unaligned",
                    }[route]
                )
            if "lying" in spec:
                found.add("seq-lying-len")
            if "coo" in spec:
                coo = spec["coo"]
                layout = coo.get("layout", "C")
                if layout == "byteswapped":
                    found.add("byteswapped")
                elif layout == "noncontig_field":
                    found.add("layout-field")
                elif layout != "C":
                    found.add(f"layout-{layout}")
                if coo["nnz"] >= 2**40:
                    found.add("extent-huge")
                if coo.get("dtype", "int64") == "int32":
                    found.add("subs-int32")
                if coo.get("duplicates"):
                    found.add("duplicates")
                if coo.get("bad"):
                    found.add("subscript-out-of-range")
            for value in spec.values():
                walk(value)
        elif isinstance(spec, list):
            for value in spec:
                walk(value)

    walk(case.get("args", []))
    walk(case.get("kwargs", {}))
    return found


def run(worker: Worker, case: dict) -> None:
    case_tags = tags(case)
    SEEN.update(case_tags)
    CASES_RUN[case["fn"]] += 1
    outcome = worker.run({k: v for k, v in case.items() if k != "tags"})
    SEEN.update(outcome.get("tags", ()))
    PYTTB_KERNEL_CALLS[case["fn"]] += outcome.get("kernel_calls", 0)
    assert outcome["outcome"] == "ok", f"{outcome['why']}\ncase: {json.dumps(case)[:3000]}"


# --- strategies ---------------------------------------------------------------------

seeds = st.integers(0, 2**16)
values = st.sampled_from(["normal", "normal", "special"])
ARRAY_LAYOUTS = st.sampled_from(
    [
        "C",
        "C",
        "C",
        "F",
        "reversed",
        "strided",
        "unaligned",
        "readonly",
        "frombuffer",
        "subclass",
        "noncontig_field",
        "broadcast",
    ]
)
WRONG_DTYPES = {
    "complex128": ["complex64", "float64", "int64", "bool", "object"],
    "float64": ["float32", "complex128", "int64", "bool", "object"],
    "int64": ["int32", "float64", "bool", "object"],
}


def array(shape, dtype, layout="C", seed=0, vals="normal"):
    return {
        "array": {
            "shape": list(shape),
            "dtype": dtype,
            "layout": layout,
            "seed": seed,
            "values": vals,
        }
    }


@st.composite
def arrays(draw, shape, dtype):
    """A valid array argument of ``shape`` in any layout."""
    layout = draw(ARRAY_LAYOUTS)
    return array(shape, dtype, layout, draw(seeds), draw(values))


@st.composite
def defective(draw, shape, dtype):
    """An argument that breaks the contract in one way, and its class."""
    kind = draw(st.sampled_from(["wrong-type", "wrong-dtype", "wrong-ndim", "byteswapped"]))
    if kind == "wrong-type":
        bad = draw(
            st.sampled_from(
                [{"py": None}, {"py": 3}, {"py": "x"}, {"list": [{"py": 1.0}, {"py": 2.0}]}]
            )
        )
        return bad, kind
    if kind == "wrong-dtype":
        return array(shape, draw(st.sampled_from(WRONG_DTYPES[dtype])), "C", draw(seeds)), kind
    if kind == "wrong-ndim":
        other = draw(st.sampled_from([(), (2,), (2, 2), (1, 2, 2), (1, 1, 2, 2)]))
        other = other if len(other) != len(shape) else (*other, 1)
        return array(other, dtype, "C", draw(seeds)), kind
    return array(shape, dtype, "byteswapped", draw(seeds)), kind


small = st.sampled_from([0, 1, 1, 2, 2, 3, 4, 5, 8, 17])
bond = st.sampled_from([1, 1, 2, 3, 4, 5, 8, 16, 17, 33])


# --- tensor train -------------------------------------------------------------------

TT_FUNCTIONS = {
    "tt_first_site": lambda d, cb, ck, cbr, ckr: ([(d, cb), (d, ck)], (cb, ck)),
    "tt_env_bra": lambda d, cb, ck, cbr, ckr: ([(cb, ck), (cb, d, cbr)], (ck, d, cbr)),
    "tt_tmp_ket": lambda d, cb, ck, cbr, ckr: ([(ck, d, cbr), (ck, d, ckr)], (cbr, ckr)),
    "tt_site_update": lambda d, cb, ck, cbr, ckr: (
        [(cb, ck), (cb, d, cbr), (ck, d, ckr)],
        (cbr, ckr),
    ),
}

ALIAS_ROUTES = [
    "same",
    "view",
    "reversed_view",
    "frombuffer",
    "interface",
    "memoryview",
    "byte_offset",
    "transposed_same",
]


@st.composite
def tt_cases(draw, fn):
    dims = [draw(bond if i else st.sampled_from([1, 2, 2, 3])) for i in range(5)]
    if draw(st.integers(0, 9)) == 0:
        dims[draw(st.integers(0, 4))] = 0
    shapes, out_shape = TT_FUNCTIONS[fn](*dims)
    case_tags = []
    args = [draw(arrays(shape, "complex128")) for shape in shapes]
    kwargs = {}
    choice = draw(
        st.sampled_from(
            ["none", "none", "defect", "shape", "out", "alias", "alias", "alias", "huge"]
        )
    )
    if choice == "defect":
        i = draw(st.integers(0, len(args) - 1))
        args[i], kind = draw(defective(shapes[i], "complex128"))
        case_tags.append(kind)
    elif choice == "shape":
        i = draw(st.integers(0, len(args) - 1))
        shape = list(shapes[i])
        shape[draw(st.integers(0, len(shape) - 1))] += draw(st.sampled_from([1, 2, 5]))
        args[i] = array(shape, "complex128", "C", draw(seeds))
        case_tags.append("wrong-shape")
    elif choice == "out":
        kind = draw(
            st.sampled_from(["fresh", "fresh", "bad-shape", "bad-dtype", "readonly", "bad-type"])
        )
        layout = draw(st.sampled_from(["C", "F", "reversed", "strided", "unaligned"]))
        if kind == "fresh":
            kwargs["out"] = array(out_shape, "complex128", layout, draw(seeds))
            case_tags.append("out-fresh")
        else:
            case_tags.append("out-bad")
            wrong = [n + 1 for n in out_shape]
            kwargs["out"] = {
                "bad-shape": array(wrong, "complex128"),
                "bad-dtype": array(out_shape, "float64"),
                "readonly": array(out_shape, "complex128", "readonly"),
                "bad-type": {"py": [0]},
            }[kind]
    elif choice == "alias":
        of = draw(st.integers(0, len(args) - 1))
        route = draw(st.sampled_from(ALIAS_ROUTES))
        args[of] = array(shapes[of], "complex128", "C", draw(seeds), draw(values))
        n_in = int(np.prod(shapes[of]))
        n_out = int(np.prod(out_shape))
        if route in ("same", "transposed_same") and tuple(shapes[of]) != tuple(out_shape):
            route = "frombuffer"
        offset = draw(st.integers(0, max(0, n_in - 1))) if n_in else 0
        offset = draw(st.sampled_from([0, offset, max(0, n_in - n_out)]))
        kwargs["out"] = {
            "alias": {"of": of, "route": route, "shape": list(out_shape), "offset": offset}
        }
    elif choice == "huge":
        case_tags.append("extent-huge")
        # An empty operand with a huge extent, or a broadcast one of 2**40 elements.
        huge = 2**40  # NumPy refuses empty arrays whose other extents pass 2**63 bytes
        i = draw(st.integers(0, len(args) - 1))
        shape = list(shapes[i])
        axis = draw(st.integers(0, len(shape) - 1))
        if draw(st.booleans()):
            zero = draw(st.integers(0, len(shape) - 1))
            shape[axis], shape[zero] = huge, 0
            if zero == axis:
                shape[axis] = 0
            args[i] = array(shape, "complex128", "C")
        else:
            shape[axis] = 2**40
            args[i] = array(shape, "complex128", "broadcast")
    return {"fn": fn, "args": args, "kwargs": kwargs, "tags": case_tags}


@pytest.mark.parametrize("fn", sorted(TT_FUNCTIONS))
@FUZZ
@given(data=st.data())
def test_tt_contractions(worker, fn, data):
    run(worker, data.draw(tt_cases(fn)))


@st.composite
def chains(draw):
    n = draw(st.integers(1, 4))
    dims = [draw(st.sampled_from([1, 2, 3])) for _ in range(n)]
    bonds = [[1] + [draw(bond) for _ in range(n - 1)] + [1] for _ in range(2)]
    if draw(st.integers(0, 9)) == 0:
        dims[draw(st.integers(0, n - 1))] = 0
    sides = [
        [draw(arrays((b[i], dims[i], b[i + 1]), "complex128")) for i in range(n)] for b in bonds
    ]
    case_tags = []
    choice = draw(
        st.sampled_from(["none", "none", "defect", "shape", "lying", "tuple", "type", "huge"])
    )
    side = draw(st.integers(0, 1))
    if choice == "defect":
        i = draw(st.integers(0, n - 1))
        sides[side][i], kind = draw(defective((1, 2, 1), "complex128"))
        case_tags.append(kind)
    elif choice == "shape":
        i = draw(st.integers(0, n - 1))
        sides[side][i] = array((2, 2, 2), "complex128")
        case_tags.append("wrong-shape")
    elif choice == "lying":
        length = draw(st.sampled_from([2**40, 2**62, 2**63, n + 3]))
        first = sides[side][0]
        return {
            "fn": "tt_inner",
            "args": [
                {"lying": {"len": str(length), "item": first, "real": n}}
                if s == side
                else {"list": sides[s]}
                for s in (0, 1)
            ],
        }
    elif choice == "type":
        case_tags.append("wrong-type")
        # A str, or an ndarray of site tensors (one more axis): neither is a list.
        wrong = draw(st.sampled_from([{"py": "abc"}, array((1, 1, 2, 1), "complex128")]))
        return {"fn": "tt_inner", "args": [wrong, {"list": sides[1]}], "tags": case_tags}
    elif choice == "huge":
        case_tags.append("extent-huge")
        sides[side][0] = array((1, 2**40, bonds[side][1]), "complex128", "broadcast")
        sides[1 - side][0] = array((1, 2**40, bonds[1 - side][1]), "complex128", "broadcast")
    wrap = "tuple" if choice == "tuple" else "list"
    return {"fn": "tt_inner", "args": [{wrap: sides[0]}, {wrap: sides[1]}], "tags": case_tags}


@FUZZ
@given(case=chains())
def test_tt_inner(worker, case):
    run(worker, case)


def _lying_len(draw):
    return str(draw(st.sampled_from([2**40, 2**62, 2**63])))


@st.composite
def bench_tt_cases(draw):
    case = draw(
        st.sampled_from(
            ["first_site", "env_bra", "tmp_ket", "site_update", "chain", "chain", "nope"]
        )
    )
    case_tags = ["bad-name"] if case == "nope" else []
    if case in ("chain", "nope"):
        inner = draw(chains())
        operands = {"list": inner["args"]}
        case_tags += inner.get("tags", [])
    else:
        sub = draw(tt_cases("tt_" + case))
        sub["kwargs"] = {}
        operands = {"list": sub["args"]}
        case_tags += [t for t in sub["tags"] if not t.startswith("out")]
    n_samples = draw(
        st.sampled_from(
            [{"py": 1}, {"py": 2}, {"py": 0}, {"int": str(2**64)}, {"py": 2**20 + 1}, {"py": 1.5}]
        )
    )
    if n_samples != {"py": 1} and n_samples != {"py": 2}:
        case_tags.append("int-bad-value")
    wrap = draw(st.sampled_from(["ok", "ok", "ok", "lying", "count"]))
    if wrap == "lying":
        operands = {"lying": {"len": _lying_len(draw), "item": {"py": 1}, "real": 0}}
    elif wrap == "count":
        operands = {"list": operands["list"] + [{"py": None}]}
    seconds = draw(st.sampled_from([0.0, 1e-6, -1.0, float("nan"), 11.0]))
    if seconds not in (0.0, 1e-6):
        case_tags.append("int-bad-value")
        seconds = "nan" if seconds != seconds else seconds
    return {
        "fn": "bench_tt",
        "args": [{"py": case}, operands, n_samples, {"py": float(seconds)}],
        "tags": case_tags,
    }


@FUZZ
@given(case=bench_tt_cases())
def test_bench_tt(worker, case):
    run(worker, case)


# --- dense --------------------------------------------------------------------------

lengths = st.sampled_from([0, 1, 2, 15, 16, 17, 33, 300])


@st.composite
def dense_cases(draw, fn):
    n, m = draw(lengths), draw(lengths)
    if fn in ("dot", "dot_loop"):
        shapes = [(n,), (n,)]
    else:
        shapes = [(m, n), (n,)]
    args = [draw(arrays(shape, "float64")) for shape in shapes]
    case_tags = []
    choice = draw(st.sampled_from(["none", "none", "defect", "shape", "huge"]))
    if choice == "defect":
        i = draw(st.integers(0, 1))
        args[i], kind = draw(defective(shapes[i], "float64"))
        case_tags.append(kind)
    elif choice == "shape":
        args[1] = array((n + 1,), "float64")
        case_tags.append("wrong-shape")
    elif choice == "huge" and fn.startswith("matvec"):
        # A broadcast matrix of 2**40 rows and no column: its result cannot be allocated.
        args = [array((2**40, 0), "float64", "broadcast"), array((0,), "float64")]
        case_tags.append("int-impossible-size")
    case = {"fn": fn, "args": args, "tags": case_tags}
    if fn in ("dot", "matvec"):
        threaded = draw(st.sampled_from(["none", "none", "value", "split"]))
        if threaded == "value":
            threads, kind = draw(st.sampled_from(THREADS))
            case["kwargs"] = {"threads": threads}
            case_tags += ["threads"] + ([kind] if kind else [])
        elif threaded == "split":
            # Large enough to be split between 2 threads (>= 2 x 65,536 values).
            layout = draw(st.sampled_from(["C", "F", "strided"]))
            shapes = [(3 * 2**16 + 5,), (3 * 2**16 + 5,)] if fn == "dot" else [(1031, 257), (257,)]
            case["args"] = [array(shape, "float64", layout, draw(seeds)) for shape in shapes]
            case["kwargs"] = {"threads": {"py": 2}}
            case_tags.append("threads-split")
    return case


@pytest.mark.parametrize("fn", ["dot", "dot_loop", "matvec", "matvec_loop"])
@FUZZ
@given(data=st.data())
def test_dense(worker, fn, data):
    run(worker, data.draw(dense_cases(fn)))


# --- sparse -------------------------------------------------------------------------


@st.composite
def ttv_cases(draw, fn):
    order = draw(st.integers(1, 5))
    dims = [draw(st.sampled_from([1, 2, 3, 4, 7])) for _ in range(order)]
    nnz = draw(st.sampled_from([0, 1, 2, 5, 17, 40]))
    mode = draw(st.integers(0, order - 1))
    seed = draw(seeds)
    rng = np.random.default_rng(seed)
    subs = rng.integers(0, dims, size=(nnz, order)).tolist() if nnz else []
    case_tags = []
    method = draw(st.sampled_from(["auto", "dense", "sort"]))
    subs_layout = draw(st.sampled_from(["C", "F", "strided", "reversed"]))
    vals_shape = draw(st.sampled_from([(nnz,), (nnz, 1)]))
    vals = array(vals_shape, "float64", draw(ARRAY_LAYOUTS), seed, draw(values))
    vector = array((dims[mode],), "float64", draw(ARRAY_LAYOUTS), seed + 1, draw(values))
    shape = {"tuple": dims}
    choice = draw(
        st.sampled_from(
            [
                "none",
                "none",
                "none",
                "subscript",
                "shape-element",
                "lying",
                "defect",
                "mode",
                "method",
                "huge",
                "hyper",
            ]
        )
    )
    if choice == "subscript" and nnz:
        row, col = draw(st.integers(0, nnz - 1)), draw(st.integers(0, order - 1))
        subs[row][col] = draw(st.sampled_from([-1, dims[col], 2**62, -(2**63)]))
        case_tags.append("subscript-out-of-range")
    elif choice == "shape-element":
        j = draw(st.integers(0, order - 1))
        dims = list(dims)
        dims[j] = draw(st.sampled_from([0, -1, {"int": str(2**63)}, {"int": str(2**64)}, 3.0]))
        shape = {"tuple": dims}
        case_tags.append("seq-shape-element")
    elif choice == "lying":
        shape = {"lying": {"len": _lying_len(draw), "item": {"py": 2}, "real": 5}}
    elif choice == "defect":
        which = draw(st.integers(0, 2))
        spec_shape = [(nnz, order), vals_shape, (dims[mode],)][which]
        bad, kind = draw(defective(spec_shape, ["int64", "float64", "float64"][which]))
        case_tags.append(kind)
        if which == 0:
            subs = None
            subs_spec = bad
        elif which == 1:
            vals = bad
        else:
            vector = bad
    elif choice == "mode":
        mode = draw(st.sampled_from([-1, order, {"int": str(2**64)}, 1.0]))
        case_tags.append("int-bad-value")
    elif choice == "method":
        method = "hash"
        case_tags.append("bad-name")
    elif choice == "huge":
        # A huge dimension along the mode, with a broadcast vector whose copy is impossible.
        case_tags.append("extent-huge")
        dims = list(dims)
        dims[mode] = 2**40
        vector = array((2**40,), "float64", "broadcast")
        shape = {"tuple": dims}
    elif choice == "hyper":
        # Huge other dimensions: a hypersparse output space (2**40 cells and more, beyond
        # a 64-bit key from order 3), sorted; the dense method cannot allocate it.
        dims = [2**40 if j != mode else n for j, n in enumerate(dims)]
        shape = {"tuple": dims}
        case_tags.append("extent-huge")
    if subs is not None:
        subs_spec = {"subs": subs, "shape": [nnz, order], "layout": subs_layout}
    mode_spec = mode if isinstance(mode, dict) else {"py": mode}
    args = [subs_spec, vals, shape, vector, mode_spec]
    if fn == "bench_ttv":
        trials = draw(st.sampled_from([{"py": 1}, {"py": 2}, {"py": 0}, {"int": str(2**64)}]))
        if trials["py" if "py" in trials else "int"] not in (1, 2):
            case_tags.append("int-bad-value")
        args.append(trials)
    kwargs = {"method": {"py": method}}
    if fn == "ttv" and draw(st.integers(0, 3)) == 0:
        threads, kind = draw(st.sampled_from(THREADS))
        kwargs["threads"] = threads
        case_tags += ["threads"] + ([kind] if kind else [])
    return {"fn": fn, "args": args, "kwargs": kwargs, "tags": case_tags}


@pytest.mark.parametrize("fn", ["ttv", "bench_ttv"])
@FUZZ
@given(data=st.data())
def test_ttv(worker, fn, data):
    run(worker, data.draw(ttv_cases(fn)))


# --- MTTKRP, inner product with a ktensor, thread count -----------------------------

MAX_THREADS = kernels_rs.MAX_THREADS
SUBS_LAYOUTS = st.sampled_from(
    [
        "C",
        "C",
        "F",
        "F",
        "reversed",
        "strided",
        "unaligned",
        "readonly",
        "frombuffer",
        "subclass",
        "noncontig_field",
        "broadcast",
    ]
)
ranks = st.sampled_from([0, 1, 1, 2, 3, 4, 5, 8, 16, 17])
#: threads= values: valid ones, and the ways to be wrong (each with its class).
THREADS = [
    ({"py": 1}, None),
    ({"py": 2}, None),
    ({"py": MAX_THREADS}, None),
    ({"py": 0}, "int-bad-value"),
    ({"py": -1}, "int-bad-value"),
    ({"py": MAX_THREADS + 1}, "int-bad-value"),
    ({"int": str(2**64)}, "int-out-of-range"),
    ({"int": str(-(2**63) - 1)}, "int-out-of-range"),
    ({"py": 1.5}, "wrong-type"),
    ({"py": "2"}, "wrong-type"),
]


@st.composite
def coo_cases(draw, fn):
    """mttkrp(subs, vals, shape, factors, mode) or innerprod_ktensor(subs, vals, shape,
    weights, factors): a valid call in any layout and width, then (mostly) one defect."""
    order = draw(st.integers(2 if fn == "mttkrp" else 1, 5))
    dims = [draw(st.sampled_from([1, 2, 3, 4, 7])) for _ in range(order)]
    nnz = draw(st.sampled_from([0, 1, 2, 5, 17, 40]))
    rank = draw(ranks)
    mode = draw(st.integers(0, order - 1))
    seed = draw(seeds)
    case_tags = []
    kwargs = {}
    if draw(st.integers(0, 11)) == 0:
        # Large enough to be split between 2 threads (nnz x R x order >= 2 x 2**18).
        order = draw(st.integers(3, 4))
        dims = [draw(st.sampled_from([5, 30, 200])) for _ in range(order)]
        nnz, rank = 20000, 16
        mode = draw(st.integers(0, order - 1))
        kwargs["threads"] = {"py": 2}
        if fn == "mttkrp":
            schedules = [{"py": "auto"}, {"py": "private"}, {"py": "rows"}]
            kwargs["schedule"] = draw(st.sampled_from(schedules))
        case_tags.append("threads-split")
    coo = {
        "nnz": nnz,
        "dims": dims,
        "seed": seed,
        "dtype": draw(st.sampled_from(["int64", "int32"])),
        "layout": draw(SUBS_LAYOUTS),
        "duplicates": draw(st.booleans()),
    }
    vals_shape = draw(st.sampled_from([(nnz,), (nnz, 1)]))
    vals = array(vals_shape, "float64", draw(ARRAY_LAYOUTS), seed + 1, draw(values))
    factors = [
        array((n, rank), "float64", draw(ARRAY_LAYOUTS), seed + 2 + m, draw(values))
        for m, n in enumerate(dims)
    ]
    weights = array((rank,), "float64", draw(ARRAY_LAYOUTS), seed + 9, draw(values))
    if fn == "mttkrp" and draw(st.integers(0, 3)) == 0:
        factors[mode] = draw(st.sampled_from([{"py": None}, {"py": "not read"}]))
    wrap = draw(st.sampled_from(["list", "list", "tuple"]))
    shape = {"tuple": dims}
    choice = draw(
        st.sampled_from(
            [
                "none",
                "none",
                "none",
                "subscript",
                "shape-element",
                "lying-shape",
                "lying-factors",
                "defect-subs",
                "defect-vals",
                "defect-factor",
                "factors",
                "mode",
                "threads",
                "schedule",
                "huge-factor",
                "huge-output",
                "huge-subs",
                "vals-shape",
                "weights",
            ]
        )
    )
    factors_spec = {wrap: factors}
    if choice == "subscript" and nnz:
        row, col = draw(st.integers(0, nnz - 1)), draw(st.integers(0, order - 1))
        bad = draw(st.sampled_from([-1, dims[col], 2**31 - 1, -(2**31)]))
        coo["bad"] = [row, col, bad]
        coo["layout"] = draw(st.sampled_from(["C", "F", "strided"]))
    elif choice == "shape-element":
        j = draw(st.integers(0, order - 1))
        dims = list(dims)
        dims[j] = draw(st.sampled_from([0, -1, {"int": str(2**63)}, {"int": str(2**64)}, 3.0]))
        shape = {"tuple": dims}
        case_tags.append("seq-shape-element")
    elif choice == "lying-shape":
        shape = {"lying": {"len": _lying_len(draw), "item": {"py": 2}, "real": 5}}
    elif choice == "lying-factors":
        # A huge __len__ (MemoryError), or one that says more than it holds (IndexError).
        length = draw(st.sampled_from([_lying_len(draw), str(order + 2)]))
        factors_spec = {"lying": {"len": length, "item": factors[-1], "real": order}}
    elif choice == "defect-subs":
        kind = draw(st.sampled_from(["wrong-type", "wrong-dtype", "wrong-ndim", "byteswapped"]))
        if kind == "byteswapped":
            coo["layout"] = "byteswapped"  # tagged from the layout
        else:
            coo = None
            subs_spec = {
                "wrong-type": {"list": [{"list": [{"py": 0}] * order}]},
                "wrong-dtype": array(
                    (nnz, order), draw(st.sampled_from(["float64", "bool", "object"]))
                ),
                "wrong-ndim": array((nnz * order,), "int64"),
            }[kind]
            case_tags.append(kind)
    elif choice == "defect-vals":
        vals, kind = draw(defective(vals_shape, "float64"))
        case_tags.append(kind)
    elif choice == "defect-factor":
        m = draw(st.integers(0, order - 1))
        factors[m], kind = draw(defective((dims[m], rank), "float64"))
        case_tags += [kind, "factors-bad"]
    elif choice == "factors":
        case_tags.append("factors-bad")
        m = draw(st.integers(0, order - 1))
        kind = draw(st.sampled_from(["rows", "rank", "count-", "count+", "type", "ndarray"]))
        if kind == "rows":
            factors[m] = array((dims[m] + draw(st.sampled_from([1, 5])), rank), "float64")
        elif kind == "rank":
            factors[m] = array((dims[m], rank + 1), "float64", draw(ARRAY_LAYOUTS))
        elif kind == "count-":
            factors_spec = {wrap: factors[:-1]}
        elif kind == "count+":
            factors_spec = {wrap: [*factors, array((2, rank), "float64")]}
        elif kind == "type":
            case_tags.append("wrong-type")
            factors_spec = draw(st.sampled_from([{"py": None}, {"py": 3}, {"py": "abc"}]))
        else:
            # An ndarray of matrices passes the sequence protocol: accepted when valid.
            n = dims[0]
            dims = [n] * order
            shape = {"tuple": dims}
            coo["dims"] = dims
            factors_spec = array((order, n, rank), "float64", draw(ARRAY_LAYOUTS), seed)
    elif choice == "mode" and fn == "mttkrp":
        mode = draw(st.sampled_from([-1, order, {"int": str(2**64)}, 1.0, {"py": None}]))
        case_tags.append("int-bad-value")
    elif choice == "threads":
        threads, kind = draw(st.sampled_from(THREADS))
        kwargs["threads"] = threads
        case_tags += ["threads"] + ([kind] if kind else [])
    elif choice == "schedule" and fn == "mttkrp":
        kwargs["schedule"] = draw(
            st.sampled_from([{"py": "private"}, {"py": "rows"}, {"py": "static"}, {"py": 1}])
        )
        if kwargs["schedule"] in ({"py": "static"}, {"py": 1}):
            case_tags.append("bad-name")
    elif choice == "huge-factor":
        # A broadcast factor whose C-order copy is impossible (not read at the mode).
        m = draw(st.integers(0, order - 1))
        factors[m] = array((dims[m], 2**40), "float64", "broadcast")
        case_tags.append("int-impossible-size")
    elif choice == "huge-output":
        # A huge dimension: the result (mttkrp, at the mode) cannot be allocated unless
        # R = 0; elsewhere its factor is broadcast (copy impossible) or empty (R = 0).
        j = mode if fn == "mttkrp" else draw(st.integers(0, order - 1))
        dims = list(dims)
        dims[j] = 2**40
        shape = {"tuple": dims}
        if fn != "mttkrp" or draw(st.booleans()):
            j = draw(st.integers(0, order - 1))
            dims[j] = 2**40
            layout = "C" if rank == 0 else "broadcast"
            factors[j] = array((2**40, rank), "float64", layout)
        case_tags.append("extent-huge")
    elif choice == "huge-subs":
        # 2**40 broadcast nonzeros: the copy of subs cannot be allocated.
        coo.update(nnz=2**40, layout="broadcast")
        vals = array((2**40,), "float64", "broadcast")
    elif choice == "vals-shape":
        vals = array(draw(st.sampled_from([(nnz, 2), (nnz + 1,), (nnz + 1, 1)])), "float64")
        case_tags.append("wrong-shape")
    elif choice == "weights" and fn == "innerprod_ktensor":
        kind = draw(st.sampled_from(["length", "defect"]))
        if kind == "length":
            weights = array((rank + 1,), "float64")
            case_tags.append("wrong-shape")
        else:
            weights, kind = draw(defective((rank,), "float64"))
            case_tags.append(kind)
    if coo is not None:
        subs_spec = {"coo": coo}
    mode_spec = mode if isinstance(mode, dict) else {"py": mode}
    if "py" in mode_spec and type(mode) is int and draw(st.integers(0, 4)) == 0:
        mode_spec = {"npint": mode}  # np.int64: an integer through __index__
    if fn == "mttkrp":
        args = [subs_spec, vals, shape, factors_spec, mode_spec]
    else:
        args = [subs_spec, vals, shape, weights, factors_spec]
    return {"fn": fn, "args": args, "kwargs": kwargs, "tags": case_tags}


@pytest.mark.parametrize("fn", ["mttkrp", "innerprod_ktensor"])
@settings(FUZZ, max_examples=2 * EXAMPLES)
@given(data=st.data())
def test_mttkrp_and_innerprod_ktensor(worker, fn, data):
    run(worker, data.draw(coo_cases(fn)))


@st.composite
def sparse_layout_cases(draw):
    """``SparseLayout(subs, vals, shape).mttkrp(factors, mode, threads=)``: mttkrp's
    cases (the layout takes the same arguments; it has no schedule=)."""
    case = draw(coo_cases("mttkrp"))
    if case["kwargs"].pop("schedule", None) is not None:
        case["tags"] = [t for t in case["tags"] if t != "bad-name"]
    return {**case, "fn": "SparseLayout"}


@settings(FUZZ, max_examples=2 * EXAMPLES)
@given(case=sparse_layout_cases())
def test_sparse_layout(worker, case):
    run(worker, case)


@st.composite
def cp_als_cases(draw):
    """``kernels_rs.cp_als(X, rank, ...)`` on the drop-in's random sptensors, checked
    against ``pyttb.cp_als`` (fuzz_cases.run_cp_als_case): valid calls, and bad X, rank,
    init, dimorder and threads."""
    tensor = draw(sptensors(orders=st.sampled_from([1, 2, 2, 3, 3, 4, 5])))
    dims = tensor["sptensor"]["dims"]
    rank = draw(st.sampled_from([1, 2, 3, 5]))
    seed = draw(seeds)
    kwargs = {
        "maxiters": {"py": draw(st.sampled_from([1, 2, 4]))},
        "printitn": {"py": draw(st.sampled_from([0, 1]))},
        "stoptol": {"py": draw(st.sampled_from([1e-4, 0.0]))},
    }
    case_tags = []
    choice = draw(
        st.sampled_from(
            ["random", "random", "ktensor", "ktensor", "rank", "init", "dimorder", "X", "threads"]
        )
    )
    rank_spec = {"py": rank}
    if choice == "ktensor":
        factors = factor_matrices(draw, dims, rank, seed)
        weights = array((rank,), "float64", "C", seed)
        kwargs["init"] = {"ktensor": {"factors": factors, "weights": weights}}
        kwargs["fixsigns"] = {"py": draw(st.booleans())}
    elif choice == "rank":
        rank_spec = {"py": draw(st.sampled_from([0, -1]))}
        case_tags.append("int-bad-value")
    elif choice == "init":
        kind = draw(st.sampled_from(["name", "rows", "rank", "modes", "array"]))
        bad_dims = list(dims)
        if kind == "name":
            kwargs["init"] = {"py": "svd"}
            case_tags.append("bad-name")
        elif kind == "array":
            kwargs["init"] = array((dims[0], rank), "float64")
            case_tags.append("wrong-type")
        else:
            r = rank + 1 if kind == "rank" else rank
            if kind == "rows":
                bad_dims[-1] += 1
            elif kind == "modes":
                bad_dims = [*bad_dims, 2]
            factors = factor_matrices(draw, bad_dims, r, seed)
            weights = array((r,), "float64", "C", seed)
            kwargs["init"] = {"ktensor": {"factors": factors, "weights": weights}}
            case_tags.append("wrong-shape")
    elif choice == "dimorder":
        order = len(dims)
        kwargs["dimorder"] = {"list": [{"py": m} for m in [*range(order - 1), 0]]}
    elif choice == "X":
        tensor = draw(
            st.sampled_from(
                [{"py": None}, array(dims, "float64"), {"tensor": array(dims, "float64")}]
            )
        )
        case_tags.append("wrong-type")
    elif choice == "threads":
        threads, kind = draw(st.sampled_from(THREADS))
        kwargs["threads"] = threads
        case_tags += ["threads"] + ([kind] if kind else [])
    return {
        "fn": "cp_als",
        "args": [tensor, rank_spec],
        "kwargs": kwargs,
        "seed": seed,
        "tags": case_tags,
    }


# pyttb's cp_als runs per case: a third of the budget.
@settings(FUZZ, max_examples=max(EXAMPLES // 3, 1))
@given(case=cp_als_cases())
def test_cp_als_agrees_with_pyttb(worker, case):
    run(worker, case)


@st.composite
def thread_count_cases(draw):
    if draw(st.integers(0, 3)) == 0:
        return {"fn": "get_num_threads", "args": [], "tags": ["threads"]}
    value, kind = draw(st.sampled_from([*THREADS, ({"py": 3}, None), ({"py": None}, "wrong-type")]))
    return {
        "fn": "set_num_threads",
        "args": [value],
        "tags": ["threads"] + ([kind] if kind else []),
    }


@settings(FUZZ, max_examples=max(1, EXAMPLES // 3))
@given(case=thread_count_cases())
def test_thread_count(worker, case):
    run(worker, case)


# --- the pyttb drop-in (kernels_rs.pyttb) -------------------------------------------


@st.composite
def sptensors(draw, dims=None, orders=None):
    order = len(dims) if dims else draw(st.integers(1, 5) if orders is None else orders)
    dims = dims or [draw(st.sampled_from([1, 2, 3, 4, 7])) for _ in range(order)]
    spec = {
        "dims": dims,
        "nnz": draw(st.sampled_from([0, 1, 1, 2, 5, 17, 40])),
        "seed": draw(seeds),
        "dtype": draw(st.sampled_from(["int64", "int32"])),
        "layout": draw(st.sampled_from(["C", "F"])),
        "duplicates": draw(st.booleans()),
        "values": draw(st.sampled_from(["normal", "normal", "nonfinite"])),
        "vals_1d": draw(st.booleans()),
        "vals_dtype": draw(st.sampled_from(["float64"] * 9 + ["int64"])),
    }
    return {"sptensor": spec}


def vectors(draw, n, seed):
    """A float64 vector of length n in any layout, now and then another kind of
    multiplicand (pyttb's to handle)."""
    kind = draw(st.sampled_from(["ok"] * 8 + ["int", "float32", "bool", "complex", "list"]))
    if kind in ("int", "float32", "bool"):
        return array((n,), {"int": "int64"}.get(kind, kind), "C", seed)
    if kind == "complex":
        return array((n,), "complex128", "C", seed)
    if kind == "list":
        return {"list": [{"py": float(x)} for x in range(1, n + 1)]}
    return array((n,), "float64", draw(ARRAY_LAYOUTS), seed, draw(values))


@st.composite
def pyttb_ttv_cases(draw):
    tensor = draw(sptensors())
    dims = tensor["sptensor"]["dims"]
    order = len(dims)
    seed = draw(seeds)
    form = draw(st.sampled_from(["one", "all", "all", "exclude", "dims", "pylist", "bad"]))
    kwargs = {}
    j = draw(st.integers(0, order - 1))
    if form == "one":
        args = [vectors(draw, dims[j], seed)]
        if order > 1 or draw(st.booleans()):
            kwargs["dims"] = {"py": j}
    elif form == "all":
        args = [{"list": [vectors(draw, n, seed + m) for m, n in enumerate(dims)]}]
    elif form == "exclude":
        # The d - 1 vectors of the other modes, or d of them (pyttb's mttkrp's form).
        full = draw(st.booleans())
        vs = [vectors(draw, n, seed + m) for m, n in enumerate(dims) if full or m != j]
        args = [{"list": vs}]
        kwargs["exclude_dims"] = {"py": j}
    elif form == "dims":
        chosen = draw(st.lists(st.integers(0, order - 1), min_size=1, max_size=order, unique=True))
        args = [{"list": [vectors(draw, dims[m], seed + m) for m in chosen]}]
        kwargs["dims"] = {"list": [{"py": m} for m in chosen]}
    elif form == "pylist":
        args = [{"list": [{"py": 0.5 + x} for x in range(dims[j])]}]
        kwargs["dims"] = {"py": j}
    else:
        kind = draw(st.sampled_from(["length", "negative", "range", "count", "both", "2d"]))
        if kind == "length":
            args = [array((dims[j] + 1,), "float64")]
            kwargs["dims"] = {"py": j}
        elif kind == "negative":
            args = [array((dims[j],), "float64")]
            kwargs["dims"] = {"py": j - order}
        elif kind == "range":
            args = [array((2,), "float64")]
            kwargs["dims"] = {"py": order}
        elif kind == "count":
            args = [{"list": [array((n,), "float64") for n in dims] + [array((2,), "float64")]}]
        elif kind == "both":
            args = [array((dims[j],), "float64")]
            kwargs = {"dims": {"py": j}, "exclude_dims": {"py": j}}
        else:
            args = [array((dims[j], 1), "float64")]
            kwargs["dims"] = {"py": j}
    return {"fn": "__pyttb__", "method": "ttv", "args": [tensor, *args], "kwargs": kwargs}


def factor_matrices(draw, dims, rank, seed):
    return [
        array((n, rank), "float64", draw(st.sampled_from(["C", "F", "C", "strided"])), seed + m)
        for m, n in enumerate(dims)
    ]


@st.composite
def pyttb_mttkrp_cases(draw):
    # Order 1 now and then (pyttb refuses it); else 2 to 5.
    tensor = draw(sptensors(orders=st.sampled_from([1, 2, 2, 3, 3, 4, 5])))
    dims = tensor["sptensor"]["dims"]
    order = len(dims)
    rank = draw(st.sampled_from([0, 1, 2, 3, 5, 8, 16, 17]))
    seed = draw(seeds)
    factors = factor_matrices(draw, dims, rank, seed)
    n = draw(st.integers(0, order - 1))
    case_tags = []
    choice = draw(st.sampled_from(["none", "none", "ktensor", "mode", "factor", "count", "int"]))
    n_spec = {"py": n}
    if draw(st.integers(0, 4)) == 0:
        n_spec = {"npint": n}  # np.int64
    if choice == "mode":
        n_spec = {"py": draw(st.sampled_from([-1, order, 1.0, None]))}
    elif choice == "factor":
        case_tags.append("factors-bad")
        m = draw(st.integers(0, order - 1))
        rows, cols = draw(st.sampled_from([(1, 0), (0, 1), (0, -1) if rank else (0, 2)]))
        factors[m] = array((dims[m] + rows, rank + cols), "float64")
    elif choice == "count":
        case_tags.append("factors-bad")
        factors = factors[:-1] if draw(st.booleans()) else [*factors, factors[0]]
    elif choice == "int":
        m = draw(st.integers(0, order - 1))
        factors[m] = array((dims[m], rank), draw(st.sampled_from(["int64", "complex128"])))
    if choice == "ktensor" and rank:
        weights = array((rank,), "float64", "C", seed, draw(values))
        U = {"ktensor": {"factors": factors, "weights": weights}}
    else:
        U = {draw(st.sampled_from(["list", "tuple"])): factors}
    return {"fn": "__pyttb__", "method": "mttkrp", "args": [tensor, U, n_spec], "tags": case_tags}


@st.composite
def pyttb_innerprod_cases(draw):
    tensor = draw(sptensors())
    dims = tensor["sptensor"]["dims"]
    seed = draw(seeds)
    kind = draw(st.sampled_from(["ktensor"] * 4 + ["tensor", "sptensor", "wrong", "other"]))
    other_dims = list(dims)
    if kind == "wrong":
        kind = draw(st.sampled_from(["ktensor", "tensor", "sptensor"]))
        other_dims[-1] += 1
    if kind == "ktensor":
        rank = draw(st.sampled_from([0, 1, 2, 3, 5, 8, 16, 17]))
        factors = factor_matrices(draw, other_dims, rank, seed)
        weights = array((rank,), "float64", "C", seed, draw(values))
        other = {"ktensor": {"factors": factors, "weights": weights}}
    elif kind == "tensor":
        other = {"tensor": array(other_dims, "float64", "C", seed, draw(values))}
    elif kind == "sptensor":
        other = draw(sptensors(other_dims))
    else:
        other = {"py": 3.0}
    return {"fn": "__pyttb__", "method": "innerprod", "args": [tensor, other]}


PYTTB_FAMILIES = {
    "ttv": pyttb_ttv_cases,
    "mttkrp": pyttb_mttkrp_cases,
    "innerprod": pyttb_innerprod_cases,
}


@pytest.mark.parametrize("method", sorted(PYTTB_FAMILIES))
@FUZZ
@given(data=st.data())
def test_pyttb_drop_in_agrees_with_pyttb(worker, method, data):
    run(worker, data.draw(PYTTB_FAMILIES[method]()))


# --- timers, probes and information --------------------------------------------------

bad_ints = st.sampled_from(
    [
        {"py": 0},
        {"py": -1},
        {"int": str(2**63)},
        {"int": str(2**64)},
        {"int": str(-(2**63) - 1)},
        {"py": 2.0},
        {"py": None},
        {"py": "3"},
    ]
)


@st.composite
def probe_cases(draw):
    fn = draw(
        st.sampled_from(
            [
                "bench_dot",
                "bench_matvec",
                "bench_matvec_faults",
                "minor_page_faults",
                "read_bandwidth",
                "overhead_pool_entry",
                "overhead_noop",
                "overhead_detach",
                "overhead_two_objects",
                "build_info",
                "tt_kernel_info",
            ]
        )
    )
    case_tags = []
    ok_count = st.sampled_from([{"py": 1}, {"py": 2}, {"py": 3}])

    def count(valid, too_many=None):
        if too_many is not None and draw(st.integers(0, 5)) == 0:
            case_tags.append("int-bad-value")
            return too_many
        if draw(st.integers(0, 2)) == 0:
            value = draw(bad_ints)
            case_tags.append("int-out-of-range" if "int" in value else "int-bad-value")
            return value
        return draw(valid)

    kwargs = {}
    if fn in ("bench_matvec", "bench_matvec_faults") and draw(st.integers(0, 1)):
        layout = draw(st.sampled_from([{"py": "C"}, {"py": "F"}, {"py": "f"}, {"py": 1}]))
        if layout["py"] not in ("C", "F"):
            case_tags.append("bad-name" if isinstance(layout["py"], str) else "wrong-type")
        kwargs["layout"] = layout
    if fn in ("bench_dot", "bench_matvec", "bench_matvec_faults"):
        form = draw(st.sampled_from(["loop", "tuned", "tuned", "fast"]))
        if form == "fast":
            case_tags.append("bad-name")
        sizes = [
            count(st.sampled_from([{"py": 0}, {"py": 1}, {"py": 100}]))
            for _ in range(1 if fn == "bench_dot" else 2)
        ]
        if draw(st.integers(0, 5)) == 0:
            sizes[0] = {"py": 2**61}
            case_tags.append("int-impossible-size")
        seed = draw(
            st.sampled_from(
                [{"py": 0}, {"py": 7}, {"int": str(2**64 - 1)}, {"int": str(2**64)}, {"py": -1}]
            )
        )
        if seed in ({"int": str(2**64)}, {"py": -1}):
            case_tags.append("int-out-of-range")
        args = [{"py": form}, *sizes, count(ok_count, {"py": 2**20 + 1}), seed]
    elif fn == "read_bandwidth":
        size = count(st.sampled_from([{"py": 8}, {"py": 4096}, {"py": 1 << 16}]))
        if draw(st.integers(0, 4)) == 0:
            size = {"py": 2**62}
            case_tags.append("int-impossible-size")
        args = [size, count(ok_count, {"py": 2**20 + 1})]
    elif fn == "overhead_pool_entry":
        entry = draw(st.sampled_from(["install", "inline", "spawn"]))
        if entry == "spawn":
            case_tags.append("bad-name")
        calls = count(st.sampled_from([{"py": 1}, {"py": 10}]))
        args = [{"py": entry}, calls, count(ok_count, {"py": 2**20 + 1})]
    elif fn == "overhead_two_objects":
        args = [{"py": 1}, array((3,), "float64")]
    else:
        args = []
    return {"fn": fn, "args": args, "kwargs": kwargs, "tags": case_tags}


@FUZZ
@given(case=probe_cases())
def test_timers_probes_and_information(worker, case):
    run(worker, case)


@st.composite
def stream_probe_cases(draw):
    """stream_bandwidth and bandwidth_curve: sizes below one element per array, beyond
    memory or not ints; unknown kernels, variants and minimum times; lying sequences."""
    fn = draw(st.sampled_from(["stream_bandwidth", "bandwidth_curve"]))
    case_tags = []

    def maybe_bad(valid, bad, tag="int-bad-value"):
        if draw(st.integers(0, 3)) == 0:
            value = draw(st.sampled_from(bad))
            case_tags.append("int-out-of-range" if "int" in value else tag)
            return value
        return draw(st.sampled_from(valid))

    kernel = maybe_bad(
        [{"py": "read"}, {"py": "copy"}, {"py": "triad"}], [{"py": "scale"}, {"py": 1}]
    )
    if kernel == {"py": "scale"}:
        case_tags.append("bad-name")
    size_bad = [{"py": 0}, {"py": 7}, {"py": -1}, {"int": str(2**64)}, {"py": 64.0}, {"py": 2**62}]

    def size():
        value = maybe_bad([{"py": 24}, {"py": 4096}, {"py": 10_000}], size_bad)
        if value == {"py": 2**62}:
            case_tags.append("int-impossible-size")
        return value

    kwargs = {}
    if draw(st.booleans()):
        kwargs["streams"] = maybe_bad([{"py": 1}, {"py": 8}], [{"py": 3}, {"py": 0}, {"py": "4"}])
    if draw(st.booleans()):
        kwargs["unroll"] = maybe_bad([{"py": 1}, {"py": 4}], [{"py": 8}, {"py": None}])
    if draw(st.booleans()):
        kwargs["min_seconds"] = maybe_bad(
            [{"py": 0.0}, {"py": 1e-4}, {"py": 0}],
            [{"py": -1.0}, {"py": 11.0}, {"py": float("nan")}, {"py": None}, {"py": "1"}],
        )
    repeats = maybe_bad([{"py": 1}, {"py": 2}], [{"py": 0}, {"py": 2**20 + 1}, {"py": 1.5}])
    if fn == "stream_bandwidth":
        args = [kernel, size(), repeats]
    else:
        shape = draw(st.sampled_from(["list", "tuple", "lying", "empty", "notseq"]))
        if shape == "lying":
            case_tags.append("seq-lying-len")
            length = draw(st.sampled_from([2, 2**62]))
            sizes = {"lying": {"len": length, "item": {"py": 4096}, "real": 1}}
        elif shape == "notseq":
            sizes = draw(st.sampled_from([{"py": 4096}, {"py": "4096"}, {"py": None}]))
        elif shape == "empty":
            sizes = {"list": []}
        else:
            sizes = {shape: [size() for _ in range(draw(st.integers(1, 3)))]}
        args = [sizes, kernel, repeats]
    return {"fn": fn, "args": args, "kwargs": kwargs, "tags": case_tags}


@FUZZ
@given(case=stream_probe_cases())
def test_stream_probes(worker, case):
    run(worker, case)


TWO_ARRAY_PROBES = [
    "overhead_two_arrays_unborrowed",
    "overhead_two_arrays_copied",
    "overhead_two_arrays",
    "overhead_two_arrays_borrowed",
    "overhead_return_array",
]


@st.composite
def two_array_cases(draw, fn):
    shapes = [(draw(lengths),), (draw(lengths),)]
    args = [draw(arrays(shape, "float64")) for shape in shapes]
    case_tags = []
    choice = draw(st.sampled_from(["none", "none", "defect", "huge"]))
    if choice == "defect":
        i = draw(st.integers(0, 1))
        args[i], kind = draw(defective(shapes[i], "float64"))
        case_tags.append(kind)
    elif choice == "huge":
        args[0] = array((2**40,), "float64", "broadcast")
        case_tags.append("extent-huge")
    return {"fn": fn, "args": args, "tags": case_tags}


@pytest.mark.parametrize("fn", TWO_ARRAY_PROBES)
@settings(FUZZ, max_examples=max(1, EXAMPLES // 6))
@given(data=st.data())
def test_two_array_probes(worker, fn, data):
    run(worker, data.draw(two_array_cases(fn)))


# --- the known routes to past defects (issue 10) -------------------------------------

A = "complex128"


def _issue_case(fn, args, kwargs=None, tags=()):
    return {"fn": fn, "args": args, "kwargs": kwargs or {}, "tags": list(tags)}


def _alias(of, route, shape, offset=0):
    return {"alias": {"of": of, "route": route, "shape": list(shape), "offset": offset}}


_COO = {"coo": {"nnz": 3, "dims": [3, 3], "seed": 1}}

KNOWN_ROUTES = {
    # 1. out= overlapping an input through another base object: a wrong answer before.
    "tmp_ket out over ket by frombuffer (the issue's example)": _issue_case(
        "tt_tmp_ket",
        [array((30, 4, 30), A, seed=1), array((30, 4, 30), A, seed=2)],
        {"out": _alias(1, "frombuffer", (30, 30))},
    ),
    "env_bra out over env by frombuffer": _issue_case(
        "tt_env_bra",
        [array((40, 40), A, seed=3), array((40, 2, 40), A, seed=4)],
        {"out": _alias(0, "frombuffer", (40, 2, 40))},
    ),
    "env_bra out over bra by __array_interface__": _issue_case(
        "tt_env_bra",
        [array((40, 40), A, seed=3), array((40, 2, 40), A, seed=4)],
        {"out": _alias(1, "interface", (40, 2, 40))},
    ),
    "first_site out over ket_first by memoryview": _issue_case(
        "tt_first_site",
        [array((300, 20), A, seed=5), array((300, 20), A, seed=6)],
        {"out": _alias(1, "memoryview", (20, 20), offset=7)},
    ),
    "site_update out over ket by frombuffer at an offset": _issue_case(
        "tt_site_update",
        [array((20, 20), A, seed=7), array((20, 2, 20), A, seed=8), array((20, 2, 20), A, seed=9)],
        {"out": _alias(2, "frombuffer", (20, 20), offset=13)},
    ),
    "site_update out is env itself": _issue_case(
        "tt_site_update",
        [array((20, 20), A, seed=7), array((20, 2, 20), A, seed=8), array((20, 2, 20), A, seed=9)],
        {"out": _alias(0, "same", (20, 20))},
    ),
    "env_bra out a view of bra's base array": _issue_case(
        "tt_env_bra",
        [array((40, 40), A, seed=3), array((40, 2, 40), A, seed=4)],
        {"out": _alias(1, "view", (40, 2, 40), offset=40)},
    ),
    "tmp_ket out over tmp reversed": _issue_case(
        "tt_tmp_ket",
        [array((30, 4, 30), A, seed=1), array((30, 4, 30), A, seed=2)],
        {"out": _alias(0, "reversed_view", (30, 30), offset=100)},
    ),
    # 2. impossible sizes: an abort before.
    "broadcast operands whose C-order copy cannot be allocated": _issue_case(
        "tt_tmp_ket",
        [
            array((2**20, 2, 2**20), A, "broadcast"),
            array((2**20, 2, 2**20), A, "broadcast"),
        ],
    ),
    "an empty operand beside a broadcast one of 2**40 elements is zeros": _issue_case(
        "tt_first_site",
        [array((5, 0), A), array((5, 2**40), A, "broadcast")],
    ),
    "ttv with a broadcast vector of 2**40 values": _issue_case(
        "ttv",
        [
            {"subs": [[0, 1]], "shape": [1, 2], "layout": "C"},
            array((1,), "float64"),
            {"tuple": [2, 2**40]},
            array((2**40,), "float64", "broadcast"),
            {"py": 1},
        ],
    ),
    "matvec of a broadcast matrix of 2**40 rows": _issue_case(
        "matvec",
        [array((2**40, 0), "float64", "broadcast"), array((0,), "float64")],
    ),
    "bench_matvec with 2**62 rows and no column": _issue_case(
        "bench_matvec",
        [{"py": "tuned"}, {"py": 2**62}, {"py": 0}, {"py": 1}, {"py": 0}],
    ),
    "a copied probe of a broadcast array of 2**40 values": _issue_case(
        "overhead_two_arrays_copied",
        [array((2**40,), "float64", "broadcast"), array((3,), "float64")],
    ),
    # 3. panics: `capacity overflow` from PyO3's Vec extraction before.
    "tt_inner with __len__ = 2**62": _issue_case(
        "tt_inner",
        [
            {"lying": {"len": str(2**62), "item": array((1, 2, 1), A)}},
            {"list": [array((1, 2, 1), A)]},
        ],
    ),
    "ttv shape with __len__ = 2**62": _issue_case(
        "ttv",
        [
            {"subs": [[0]], "shape": [1, 1], "layout": "C"},
            array((1,), "float64"),
            {"lying": {"len": str(2**62), "item": {"py": 2}}},
            array((2,), "float64"),
            {"py": 0},
        ],
    ),
    "bench_tt operands with __len__ = 2**62": _issue_case(
        "bench_tt",
        [
            {"py": "chain"},
            {"lying": {"len": str(2**62), "item": {"py": 1}}},
            {"py": 1},
            {"py": 0.0},
        ],
    ),
    "a shape element of 2**64 is a ValueError (was a misleading TypeError)": _issue_case(
        "ttv",
        [
            {"subs": [[0]], "shape": [1, 1], "layout": "C"},
            array((1,), "float64"),
            {"tuple": [{"int": str(2**64)}]},
            array((2,), "float64"),
            {"py": 0},
        ],
    ),
    "vals with 40 axes (rust-numpy's views panic beyond 32)": _issue_case(
        "ttv",
        [
            {"subs": [[0]], "shape": [1, 1], "layout": "C"},
            array((1,) * 40, "float64"),
            {"tuple": [1]},
            array((1,), "float64"),
            {"py": 0},
        ],
    ),
    # Issue 11: TTV reads F-ordered subs in place and prefetches the cells of scattered
    # nonzeros ahead of their adds (an output space of 2**20 cells, random order);
    # duplicates (the second half repeats the first) sum in input order.
    **{
        f"ttv scattered accumulation, random order with duplicates, {layout} subs": (
            _issue_case(
                "ttv",
                [
                    {
                        "coo": {
                            "nnz": 60_000,
                            "dims": [1024, 3, 1024],
                            "seed": 11,
                            "layout": layout,
                            "duplicates": True,
                        }
                    },
                    array((60_000, 1), "float64", seed=12),
                    {"tuple": [1024, 3, 1024]},
                    array((3,), "float64", seed=13),
                    {"py": 1},
                ],
                {"method": {"py": "dense"}},
            )
        )
        for layout in ("C", "F", "strided")
    },
    **{
        f"ttv scattered accumulation refuses a late bad subscript, {layout} subs": (
            _issue_case(
                "ttv",
                [
                    {
                        "coo": {
                            "nnz": 60_000,
                            "dims": [1024, 3, 1024],
                            "seed": 14,
                            "layout": layout,
                            "bad": [59_000, 2, 1024],
                        }
                    },
                    array((60_000, 1), "float64", seed=15),
                    {"tuple": [1024, 3, 1024]},
                    array((3,), "float64", seed=16),
                    {"py": 1},
                ],
                {"method": {"py": "dense"}},
            )
        )
        for layout in ("C", "F")
    },
    # The MTTKRP wave (issue 15) through the same routes.
    "mttkrp factors with __len__ = 2**62": _issue_case(
        "mttkrp",
        [
            _COO,
            array((3,), "float64"),
            {"tuple": [3, 3]},
            {"lying": {"len": str(2**62), "item": array((3, 2), "float64")}},
            {"py": 0},
        ],
    ),
    "mttkrp with a broadcast factor of 2**40 columns": _issue_case(
        "mttkrp",
        [
            _COO,
            array((3,), "float64"),
            {"tuple": [3, 3]},
            {"list": [{"py": None}, array((3, 2**40), "float64", "broadcast")]},
            {"py": 0},
        ],
    ),
    "mttkrp of 2**40 output rows": _issue_case(
        "mttkrp",
        [
            _COO,
            array((3,), "float64"),
            {"tuple": [2**40, 3]},
            {"list": [{"py": None}, array((3, 4), "float64")]},
            {"py": 0},
        ],
    ),
    "mttkrp mode 2**64 is a ValueError": _issue_case(
        "mttkrp",
        [
            _COO,
            array((3,), "float64"),
            {"tuple": [3, 3]},
            {"list": [array((3, 2), "float64")] * 2},
            {"int": str(2**64)},
        ],
    ),
    "mttkrp threads=2**64 is a ValueError": _issue_case(
        "mttkrp",
        [
            _COO,
            array((3,), "float64"),
            {"tuple": [3, 3]},
            {"list": [array((3, 2), "float64")] * 2},
            {"py": 1},
        ],
        {"threads": {"int": str(2**64)}},
    ),
    "mttkrp vals with 40 axes": _issue_case(
        "mttkrp",
        [
            _COO,
            array((1,) * 40, "float64"),
            {"tuple": [3, 3]},
            {"list": [array((3, 2), "float64")] * 2},
            {"py": 1},
        ],
    ),
    "mttkrp subs and a factor with 40 axes": _issue_case(
        "mttkrp",
        [
            array((1,) * 40, "int64"),
            array((3,), "float64"),
            {"tuple": [3, 3]},
            {"list": [array((1,) * 40, "float64")] * 2},
            {"py": 1},
        ],
    ),
    "innerprod_ktensor weights with 40 axes": _issue_case(
        "innerprod_ktensor",
        [
            _COO,
            array((3,), "float64"),
            {"tuple": [3, 3]},
            array((1,) * 40, "float64"),
            {"list": [array((3, 2), "float64")] * 2},
        ],
    ),
    "innerprod_ktensor with 2**40 broadcast nonzeros": _issue_case(
        "innerprod_ktensor",
        [
            {"coo": {"nnz": 2**40, "dims": [3, 3], "layout": "broadcast"}},
            array((2**40,), "float64", "broadcast"),
            {"tuple": [3, 3]},
            array((2,), "float64"),
            {"list": [array((3, 2), "float64")] * 2},
        ],
    ),
    "set_num_threads(MAX_THREADS + 1) is a ValueError and changes nothing": _issue_case(
        "set_num_threads", [{"py": kernels_rs.MAX_THREADS + 1}]
    ),
    "an empty reversed vector (rust-numpy would offset its pointer by -1 stride)": _issue_case(
        "dot",
        [array((0,), "float64", "reversed"), array((0,), "float64", "reversed")],
    ),
}


@pytest.mark.parametrize("name", sorted(KNOWN_ROUTES))
def test_known_routes_to_past_defects(worker, name):
    run(worker, KNOWN_ROUTES[name])


def test_an_abort_in_the_worker_is_a_failed_case_not_a_dead_run():
    # SIGABRT, as Rust's allocation-failure handler raises it: the case fails with the
    # exit code, and the next case gets a fresh worker.
    w = Worker()
    crash = w.run({"fn": "__abort__"})
    assert crash["outcome"] == "crash" and "exit code -6" in crash["why"]
    assert w.run({"fn": "overhead_noop", "args": []})["outcome"] == "ok"
    w.close()


def test_the_oracle_can_fail_a_wrong_answer():
    # The comparison is not vacuous: a result off by one ulp of the scale fails, NaN in
    # another place fails, and a missing exception fails.
    from fuzz_cases import _close

    assert _close(np.array([1.0, 2.0]), np.array([1.0, 2.0]), 1.0) is None
    assert _close(np.array([1.0, 2.0 + 1e-6]), np.array([1.0, 2.0]), 1.0) is not None
    assert _close(np.array([np.nan, 2.0]), np.array([1.0, 2.0]), 1.0) is not None
    assert _close(np.array([1j]), np.array([np.inf * 1j]), 1.0) is not None


def test_the_pyttb_comparison_can_fail():
    # Another type, layout, subscript or value (beyond rounding) is a difference.
    import pyttb
    from fuzz_cases import same_pyttb_result

    a = np.asfortranarray(np.arange(6.0).reshape(3, 2))
    assert same_pyttb_result(a.copy(order="K"), a, 1.0) is None
    assert same_pyttb_result(np.ascontiguousarray(a), a, 1.0) is not None
    assert same_pyttb_result(a + 1e-6, a, 1.0) is not None
    assert same_pyttb_result(1.0, np.float64(1.0), 1.0) is not None
    subs = np.array([[0, 1], [1, 0]])
    s = pyttb.sptensor(subs, np.array([[1.0], [2.0]]), (2, 2))
    t = pyttb.sptensor(subs[::-1].copy(), np.array([[2.0], [1.0]]), (2, 2))
    assert same_pyttb_result(s, s.copy(), 1.0) is None
    assert same_pyttb_result(t, s, 1.0) is not None
    assert same_pyttb_result(s.to_tensor(), s, 1.0) is not None


def test_every_public_function_has_cases():
    from fuzz_cases import ORACLES

    public = {
        n for n in dir(kernels_rs) if not n.startswith("_") and callable(getattr(kernels_rs, n))
    }
    missing = sorted(public - set(ORACLES))
    assert not missing, f"public functions without an oracle or cases in the fuzz suite: {missing}"
    assert not set(ORACLES) - public, "oracles for functions kernels_rs does not have"


def test_every_class_was_drawn_and_every_function_called():
    # Runs last (pytest keeps the file's order): the fuzz tests above filled the counters.
    if not CASES_RUN:
        pytest.skip("run with the whole module")
    missing = sorted(set(CLASSES) - set(SEEN))
    assert not missing, f"classes never drawn: {missing}; drawn: {dict(SEEN)}"
    from fuzz_cases import ORACLES

    assert set(ORACLES) <= set(CASES_RUN), sorted(set(ORACLES) - set(CASES_RUN))
    # The accelerated pyttb methods did run the Rust kernels (not only pyttb's fallbacks).
    assert PYTTB_KERNEL_CALLS["__pyttb__"] > 0, "the drop-in never reached a Rust kernel"
    total = sum(CASES_RUN.values())
    print(
        f"\nfuzz suite: {total} cases over {len(CASES_RUN)} functions, "
        f"{len(SEEN)} of {len(CLASSES)} classes"
    )
    for name in sorted(CLASSES):
        print(f"  {name:24} {SEEN[name]}")
    print(f"  drop-in Rust kernel calls: {PYTTB_KERNEL_CALLS['__pyttb__']}")
