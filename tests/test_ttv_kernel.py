"""The Rust TTV (and the Numba and paper-baseline copies) against pyttb's own ``ttv``:
random tensors of orders 1-5, every mode, repeated and unsorted subscripts, empty
tensors, strided inputs, NaN, and every way to call it wrongly."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import pyttb as ttb
from hypothesis import given, settings
from hypothesis import strategies as st

import kernels_rs
from tensorbench.experiments.ttv_impls import IMPLEMENTATIONS, as_coo

METHODS = ("auto", "dense", "sort")


def random_sptensor(rng, shape, nnz, *, integer_values=False, sort=False):
    """A COO tensor built without merging: repeated and unsorted subscripts stay."""
    subs = np.column_stack([rng.integers(0, n, nnz) for n in shape]).astype(np.int64)
    subs = subs.reshape(nnz, len(shape))
    if integer_values:  # sums that cancel to exactly zero must be dropped
        vals = rng.integers(-2, 3, (nnz, 1)).astype(np.float64)
    else:
        vals = rng.uniform(-1, 1, (nnz, 1))
    if sort and nnz:
        perm = np.lexsort(subs.T[::-1])
        subs, vals = subs[perm], vals[perm]
    if nnz == 0:
        return ttb.sptensor(shape=shape)
    return ttb.sptensor(subs, vals, shape)


def rust_coo(tensor, vector, mode, method="auto"):
    result = kernels_rs.ttv(tensor.subs, tensor.vals, tensor.shape, vector, mode, method=method)
    if isinstance(result, float):
        return result
    newsubs, newvals, newshape = result
    assert newsubs.dtype == np.int64 and newvals.dtype == np.float64
    assert newsubs.shape == (len(newvals), tensor.ndims - 1) and newvals.shape[1:] == (1,)
    assert newsubs.flags["F_CONTIGUOUS"]  # pyttb's layout; its constructor reduces columns
    assert isinstance(newshape, tuple) and all(isinstance(n, int) for n in newshape)
    assert np.all(newvals != 0), "exact zeros must be dropped"
    if len(newsubs) > 1:  # strictly increasing rows: sorted and no repeats
        keys = [tuple(r) for r in newsubs]
        assert all(a < b for a, b in itertools.pairwise(keys))
    return newsubs, newvals.reshape(-1), newshape


def assert_same(ours, expected):
    if isinstance(expected, float):
        assert isinstance(ours, float)
        assert ours == pytest.approx(expected, rel=1e-12, abs=1e-12)
        return
    subs, vals, shape = ours
    e_subs, e_vals, e_shape = expected
    assert shape == e_shape
    np.testing.assert_array_equal(subs, e_subs)
    np.testing.assert_allclose(vals, e_vals, rtol=1e-13, atol=0)


def pyttb_reference(tensor, vector, mode):
    result = tensor.ttv(vector, mode)
    return result if isinstance(result, float) else as_coo(result, tensor.ndims - 1)


SHAPES = [(7,), (5, 4), (1, 6), (4, 3, 5), (3, 1, 4), (3, 4, 2, 3), (2, 3, 2, 2, 3)]


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("nnz", [0, 1, 5, 60])
@pytest.mark.parametrize("method", METHODS)
def test_rust_ttv_matches_pyttb_on_every_mode(shape, nnz, method):
    rng = np.random.default_rng(hash((shape, nnz)) % 2**32)
    for integer_values in (False, True):
        tensor = random_sptensor(rng, shape, nnz, integer_values=integer_values)
        for mode in range(len(shape)):
            vector = rng.uniform(-1, 1, shape[mode])
            expected = pyttb_reference(tensor, vector, mode)
            assert_same(rust_coo(tensor, vector, mode, method), expected)


@pytest.mark.parametrize("name", ["python", "numba", "rust_from_python"])
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_every_implementation_matches_pyttb(name, shape):
    impl = IMPLEMENTATIONS[name]
    rng = np.random.default_rng(len(shape))
    for nnz in (0, 1, 40):
        tensor = random_sptensor(rng, shape, nnz, integer_values=nnz == 40)
        for mode in range(len(shape)):
            vector = rng.uniform(-1, 1, shape[mode])
            result = impl(tensor, vector, mode)
            expected = pyttb_reference(tensor, vector, mode)
            if isinstance(expected, float):
                assert result == pytest.approx(expected, rel=1e-12, abs=1e-12)
            else:
                assert isinstance(result, ttb.sptensor)  # never the dense conversion
                assert_same(as_coo(result, len(shape) - 1), expected)


@settings(max_examples=150, deadline=None)
@given(
    shape=st.lists(st.integers(1, 6), min_size=1, max_size=5).map(tuple),
    nnz=st.integers(0, 80),
    seed=st.integers(0, 2**32 - 1),
    sort=st.booleans(),
    data=st.data(),
)
def test_rust_ttv_matches_pyttb_on_any_tensor(shape, nnz, seed, sort, data):
    rng = np.random.default_rng(seed)
    tensor = random_sptensor(rng, shape, nnz, integer_values=seed % 2 == 0, sort=sort)
    mode = data.draw(st.integers(0, len(shape) - 1))
    vector = rng.integers(-2, 3, shape[mode]).astype(np.float64)
    expected = pyttb_reference(tensor, vector, mode)
    for method in METHODS:
        assert_same(rust_coo(tensor, vector, mode, method), expected)


def test_order_one_is_a_float_like_pyttb():
    tensor = ttb.sptensor(np.array([[2], [0], [2]]), np.array([[1.0], [2.0], [3.0]]), (4,))
    vector = np.array([10.0, 20.0, 30.0, 40.0])
    assert kernels_rs.ttv(tensor.subs, tensor.vals, tensor.shape, vector, 0) == tensor.ttv(
        vector, 0
    )
    empty = ttb.sptensor(shape=(4,))
    assert kernels_rs.ttv(empty.subs, empty.vals, empty.shape, vector, 0) == 0.0
    assert empty.ttv(vector, 0) == 0.0


def test_empty_tensor_gives_pyttbs_empty_result():
    empty = ttb.sptensor(shape=(3, 4, 5))
    assert empty.subs.shape == (1, 0)  # pyttb's own empty layout is accepted
    for mode in range(3):
        vector = np.ones(empty.shape[mode])
        newsubs, newvals, newshape = kernels_rs.ttv(
            empty.subs, empty.vals, empty.shape, vector, mode
        )
        assert newsubs.shape == (0, 2) and newvals.shape == (0, 1)
        expected = empty.ttv(vector, mode)
        assert newshape == expected.shape and expected.nnz == 0
        assert ttb.sptensor(newsubs, newvals, newshape).isequal(expected)
    # A (0, d) subs and (0,) vals work too.
    out = kernels_rs.ttv(np.zeros((0, 3), np.int64), np.zeros(0), (3, 4, 5), np.ones(4), 1)
    assert out[0].shape == (0, 2) and out[2] == (3, 5)


def test_result_builds_an_equal_pyttb_sptensor():
    rng = np.random.default_rng(11)
    tensor = random_sptensor(rng, (6, 7, 8), 150)
    vector = rng.uniform(size=7)
    ours = ttb.sptensor(*kernels_rs.ttv(tensor.subs, tensor.vals, tensor.shape, vector, 1))
    expected = tensor.ttv(vector, 1)
    expected = expected.to_sptensor() if isinstance(expected, ttb.tensor) else expected
    assert (ours - expected).norm() <= 1e-12 * expected.norm()


def test_sums_are_bit_identical_to_pyttbs_in_order_accumulation():
    # Many terms per output cell: a different summation order would change low bits.
    rng = np.random.default_rng(5)
    tensor = random_sptensor(rng, (3, 50, 4), 3000)
    vector = rng.uniform(size=50)
    expected = pyttb_reference(tensor, vector, 1)
    for method in METHODS:
        subs, vals, _ = rust_coo(tensor, vector, 1, method)
        np.testing.assert_array_equal(subs, expected[0])
        np.testing.assert_array_equal(vals, expected[1])


def test_strided_and_fortran_inputs_give_the_same_result():
    rng = np.random.default_rng(2)
    tensor = random_sptensor(rng, (5, 6, 7), 200)
    vector = rng.uniform(size=12)[::2]  # strided vector
    expected = rust_coo(tensor, np.ascontiguousarray(vector), 2 - 1)
    subs_f = np.asfortranarray(tensor.subs)
    vals_strided = np.repeat(tensor.vals, 2, axis=0)[::2]
    got = rust_coo(ttb.sptensor(subs_f, vals_strided, tensor.shape, copy=False), vector, 1)
    assert_same(got, expected)
    flat = kernels_rs.ttv(subs_f, tensor.vals.reshape(-1), tensor.shape, vector, 1)
    np.testing.assert_array_equal(flat[0], expected[0])


def test_nan_and_inf_propagate_as_in_numpy():
    subs = np.array([[0, 0], [0, 1], [1, 0], [2, 1], [2, 0]])
    vals = np.array([1.0, np.nan, np.inf, 5.0, -5.0])
    vector = np.array([1.0, 1.0])
    for method in METHODS:
        newsubs, newvals, _ = kernels_rs.ttv(subs, vals, (3, 2), vector, 1, method=method)
        # row 0: 1 + NaN = NaN (kept), row 1: inf, row 2: 5 - 5 = 0 (dropped)
        np.testing.assert_array_equal(newsubs, [[0], [1]])
        assert np.isnan(newvals[0, 0]) and newvals[1, 0] == np.inf
    assert np.isnan(kernels_rs.ttv(subs[:, :1], vals, (3,), np.ones(3), 0))
    # inf - inf = NaN, kept like numpy's nonzero keeps it
    out = kernels_rs.ttv(
        np.array([[0, 0], [0, 1]]), np.array([np.inf, -np.inf]), (1, 2), np.ones(2), 1
    )
    assert np.isnan(out[1][0, 0])


def test_hypersparse_output_is_not_densified():
    # 2^40 output cells for 3 nonzeros: a dense accumulator would need 8 TiB.
    n = 2**20
    subs = np.array([[5, 0, 7], [5, 1, 7], [n - 1, 1, 0]])
    vals = np.array([1.0, 2.0, 3.0])
    newsubs, newvals, newshape = kernels_rs.ttv(subs, vals, (n, 2, n), np.array([1.0, 10.0]), 1)
    np.testing.assert_array_equal(newsubs, [[5, 7], [n - 1, 0]])
    np.testing.assert_array_equal(newvals[:, 0], [21.0, 30.0])
    assert newshape == (n, n)
    with pytest.raises(MemoryError, match=r"too many to allocate|cannot allocate"):
        kernels_rs.ttv(subs, vals, (2**40, 2, 2**40), np.ones(2), 1, method="dense")
    # Beyond a 64-bit key (2^80 cells) the row sort still works.
    big = (2**40, 2, 2**40)
    out = kernels_rs.ttv(subs, vals, big, np.array([1.0, 10.0]), 1)
    np.testing.assert_array_equal(out[0], [[5, 7], [n - 1, 0]])


# --- bad input ---------------------------------------------------------------------

GOOD = dict(
    subs=np.array([[0, 1, 2], [1, 0, 0]]),
    vals=np.array([[1.0], [2.0]]),
    shape=(2, 2, 3),
    vector=np.array([1.0, 2.0]),
    mode=1,
)


def call(**changes):
    args = {**GOOD, **changes}
    return kernels_rs.ttv(
        args["subs"],
        args["vals"],
        args["shape"],
        args["vector"],
        args["mode"],
        **({"method": args["method"]} if "method" in args else {}),
    )


def test_good_call_works():
    newsubs, newvals, newshape = call()
    np.testing.assert_array_equal(newsubs, [[0, 2], [1, 0]])
    np.testing.assert_array_equal(newvals[:, 0], [2.0, 2.0])
    assert newshape == (2, 3)


@pytest.mark.parametrize(
    ("changes", "error", "match"),
    [
        (
            {"subs": np.array([[0, 1, 2], [1, 0, 3]])},
            ValueError,
            r"subs\[1, 2\] = 3 is out of range",
        ),
        ({"subs": np.array([[0, 1, 2], [-1, 0, 0]])}, ValueError, r"subs\[1, 0\] = -1"),
        ({"subs": np.array([[0, 2, 2], [1, 0, 0]])}, ValueError, r"subs\[0, 1\] = 2"),
        ({"vals": np.array([1.0, 2.0, 3.0])}, ValueError, "same number of nonzeros"),
        ({"vals": np.array([[1.0, 2.0], [3.0, 4.0]])}, ValueError, r"vals must have shape"),
        ({"vals": np.ones((2, 1, 1))}, ValueError, r"vals must have shape"),
        ({"subs": np.array([[0, 1], [1, 0]])}, ValueError, "one column per dimension"),
        ({"subs": np.array([0, 1, 2])}, ValueError, "subs must be 2-D"),
        ({"vector": np.ones(3)}, ValueError, r"vector must have length shape\[1\] = 2"),
        ({"vector": np.ones((2, 1))}, ValueError, "vector must be 1-D"),
        ({"mode": 3}, ValueError, r"mode must be in \[0, 3\)"),
        ({"mode": -1}, ValueError, r"mode must be in \[0, 3\)"),
        ({"shape": ()}, ValueError, "at least one dimension"),
        ({"shape": (2, 0, 3)}, ValueError, r"shape\[1\] must be a positive integer"),
        ({"shape": (2, -2, 3)}, ValueError, r"shape\[1\] must be a positive integer"),
        ({"method": "hash"}, ValueError, "method must be"),
        (
            {"subs": np.array([[0, 1, 2], [1, 0, 0]], dtype=np.int32)},
            TypeError,
            "subs must have dtype int64",
        ),
        ({"subs": np.array([[0.0, 1, 2], [1, 0, 0]])}, TypeError, "subs must have dtype int64"),
        ({"subs": [[0, 1, 2], [1, 0, 0]]}, TypeError, "subs must be a numpy.ndarray"),
        ({"vals": np.array([1, 2])}, TypeError, "vals must have dtype float64"),
        ({"vals": [1.0, 2.0]}, TypeError, "vals must be a numpy.ndarray"),
        ({"vector": np.ones(2, dtype=np.float32)}, TypeError, "vector must have dtype float64"),
        ({"vector": None}, TypeError, "vector must be a numpy.ndarray"),
        ({"shape": "223"}, TypeError, "shape must be a sequence of ints"),
        ({"shape": (2.0, 2.0, 3.0)}, TypeError, "shape must be a sequence of ints"),
        ({"shape": None}, TypeError, "shape must be a sequence of ints"),
        ({"mode": 1.0}, TypeError, "mode"),
    ],
)
def test_bad_input_raises_a_clear_error(changes, error, match):
    with pytest.raises(error, match=match):
        call(**changes)


def test_out_of_range_is_caught_on_every_path_and_order():
    for method in METHODS:
        with pytest.raises(ValueError, match="out of range"):
            call(subs=np.array([[0, 1, 2], [2, 0, 0]]), method=method)
    for order in (1, 2, 4, 5, 6, 7):
        subs = np.zeros((3, order), dtype=np.int64)
        subs[2, order - 1] = 5
        shape = (2,) * order
        with pytest.raises(ValueError, match=rf"subs\[2, {order - 1}\] = 5"):
            kernels_rs.ttv(subs, np.ones(3), shape, np.ones(2), 0)


def test_shape_accepts_lists_and_numpy_integers():
    out = call(shape=[2, 2, 3])
    out2 = call(shape=np.array([2, 2, 3]))
    out3 = call(shape=tuple(np.int64(n) for n in (2, 2, 3)))
    for other in (out2, out3):
        np.testing.assert_array_equal(out[0], other[0])
        assert other[2] == (2, 3)


def test_equivalent_integer_dtypes_are_accepted():
    # int64 has two type numbers (C long and long long); the checks' fast path knows one,
    # the other must still pass through rust-numpy's equivalence check.
    want = call()
    for dtype in (np.longlong, np.int64, np.dtype("<i8")):
        got = call(subs=GOOD["subs"].astype(dtype))
        np.testing.assert_array_equal(got[0], want[0])
        np.testing.assert_array_equal(got[1], want[1])


def test_read_only_inputs_are_accepted_and_not_modified():
    subs, vals = GOOD["subs"].copy(), GOOD["vals"].copy()
    subs.flags.writeable = False
    vals.flags.writeable = False
    call(subs=subs, vals=vals)
    np.testing.assert_array_equal(subs, GOOD["subs"])


def test_bench_ttv_times_the_kernel_in_rust():
    seconds = kernels_rs.bench_ttv(GOOD["subs"], GOOD["vals"], GOOD["shape"], GOOD["vector"], 1, 3)
    assert len(seconds) == 4 and all(s >= 0 for s in seconds)
    with pytest.raises(ValueError, match="n_trials must be at least 1"):
        kernels_rs.bench_ttv(GOOD["subs"], GOOD["vals"], GOOD["shape"], GOOD["vector"], 1, 0)
    with pytest.raises(ValueError, match="n_trials must be at most"):
        kernels_rs.bench_ttv(GOOD["subs"], GOOD["vals"], GOOD["shape"], GOOD["vector"], 1, 2**40)
    with pytest.raises(ValueError, match="out of range"):
        kernels_rs.bench_ttv(np.array([[0, 5, 0]]), np.ones(1), GOOD["shape"], GOOD["vector"], 1, 2)


def test_read_bandwidth_is_a_positive_rate():
    rate = kernels_rs.read_bandwidth(1 << 20, 2)
    assert np.isfinite(rate) and rate > 0
    with pytest.raises(ValueError, match="repeats must be at least 1"):
        kernels_rs.read_bandwidth(1 << 20, 0)
    with pytest.raises(ValueError, match="repeats must be at most"):
        kernels_rs.read_bandwidth(1 << 20, 2**40)
    with pytest.raises(ValueError, match="n_bytes must be at least 8"):
        kernels_rs.read_bandwidth(-1)
    with pytest.raises(MemoryError):
        kernels_rs.read_bandwidth(2**62)


def test_numba_ttv_rejects_bad_subscripts():
    numba_ttv = IMPLEMENTATIONS["numba"]
    tensor = ttb.sptensor(GOOD["subs"], GOOD["vals"], GOOD["shape"])
    tensor.subs[1, 2] = 7  # pyttb's constructor would refuse it; corrupt it afterwards
    with pytest.raises(ValueError, match="out of range"):
        numba_ttv(tensor, GOOD["vector"], 1)
    with pytest.raises(ValueError, match="vector must have shape"):
        numba_ttv(ttb.sptensor(GOOD["subs"], GOOD["vals"], GOOD["shape"]), np.ones(5), 1)


def test_unaligned_and_record_field_inputs_give_the_right_answer():
    """Arrays the kernel must not read in place (a structured array's field, whose
    strides are not whole elements; an array over an offset buffer, unaligned) are copied
    by NumPy first."""
    expected = call()
    record = np.zeros(2, dtype=[("v", "f8"), ("pad", "i4")])
    record["v"] = GOOD["vector"]
    raw = np.zeros(2 * 8 + 1, np.uint8)
    unaligned = raw[1:].view(np.float64)
    unaligned[:] = GOOD["vector"]
    assert not unaligned.flags.aligned and record["v"].strides == (12,)
    for vector in (record["v"], unaligned):
        got = call(vector=vector)
        for g, e in zip(got, expected, strict=True):
            np.testing.assert_array_equal(g, e)


@pytest.fixture
def restore_threads():
    before = kernels_rs.get_num_threads()
    yield
    kernels_rs.set_num_threads(before)


# Split between threads: >= 2 x 32,768 nonzeros and <= 4 output cells per nonzero per thread.
SPLIT_NNZ = 3 * 2**17 + 11


@pytest.mark.parametrize("order", ["sorted", "random"])
@pytest.mark.parametrize("layout", ["C", "F"])
@pytest.mark.parametrize("mode", [0, 1, 2])
def test_ttv_on_several_threads_matches_one_thread_to_rounding(order, layout, mode):
    rng = np.random.default_rng(7 + mode)
    shape = (60, 50, 70)
    subs = np.column_stack([rng.integers(0, n, SPLIT_NNZ) for n in shape]).astype(np.int64)
    if order == "sorted":
        subs = subs[np.lexsort(subs.T[::-1])]
    subs = np.asfortranarray(subs) if layout == "F" else subs
    vals = rng.uniform(-1, 1, SPLIT_NNZ)
    vector = rng.uniform(-1, 1, shape[mode])
    one = kernels_rs.ttv(subs, vals, shape, vector, mode, threads=1)
    # What rounding can move: the sum of the terms' magnitudes in each cell.
    magnitudes = kernels_rs.ttv(subs, np.abs(vals), shape, np.abs(vector), mode, threads=1)
    assert np.array_equal(magnitudes[0], one[0])  # no cell cancelled to zero
    scale = magnitudes[1]
    for threads in (2, 3, 8):
        got = kernels_rs.ttv(subs, vals, shape, vector, mode, threads=threads)
        assert np.array_equal(got[0], one[0]) and got[2] == one[2]
        assert got[0].flags.f_contiguous and got[1].shape == one[1].shape
        assert np.all(np.abs(got[1] - one[1]) <= 1e-12 * scale)
        # Really split: each cell summed in pieces, so some last bits differ (except
        # sorted along the last mode, where each cell's terms are consecutive and only
        # the cells at a run boundary are split). Deterministic for a thread count.
        if not (order == "sorted" and mode == 2):
            assert got[1].tobytes() != one[1].tobytes()
        again = kernels_rs.ttv(subs, vals, shape, vector, mode, threads=threads)
        assert again[1].tobytes() == got[1].tobytes()


def test_ttv_of_order_6_on_several_threads_matches_one_thread_to_rounding():
    # Order 6 takes the generic term loop (orders 2-5 have their own), split the same way.
    rng = np.random.default_rng(17)
    shape = (6, 5, 7, 4, 6, 5)
    subs = np.column_stack([rng.integers(0, n, SPLIT_NNZ) for n in shape]).astype(np.int64)
    vals = rng.uniform(-1, 1, SPLIT_NNZ)
    vector = rng.uniform(-1, 1, shape[3])
    one = kernels_rs.ttv(subs, vals, shape, vector, 3, threads=1)
    scale = kernels_rs.ttv(subs, np.abs(vals), shape, np.abs(vector), 3, threads=1)[1]
    got = kernels_rs.ttv(subs, vals, shape, vector, 3, threads=2)
    assert np.array_equal(got[0], one[0]) and got[2] == one[2]
    assert np.all(np.abs(got[1] - one[1]) <= 1e-12 * scale)
    assert got[1].tobytes() != one[1].tobytes()  # really split
    bad = subs.copy()
    bad[SPLIT_NNZ - 5, 4] = 6
    with pytest.raises(ValueError, match=str(SPLIT_NNZ - 5)):
        kernels_rs.ttv(bad, vals, shape, vector, 3, threads=2)


@pytest.mark.parametrize(
    ("threads", "error", "message"),
    [
        (0, ValueError, r"number of threads must be an integer in \[1, 1024\], got 0"),
        (-1, ValueError, r"number of threads must be an integer in \[1, 1024\], got -1"),
        (1025, ValueError, r"number of threads must be an integer in \[1, 1024\], got 1025"),
        (2**64, ValueError, "out of range for a signed 64-bit integer"),
        (1.5, TypeError, "threads"),
        ("2", TypeError, "threads"),
    ],
)
def test_ttv_refuses_a_bad_thread_count(threads, error, message):
    args = (GOOD["subs"], GOOD["vals"], GOOD["shape"], GOOD["vector"], 1)
    with pytest.raises(error, match=message):
        kernels_rs.ttv(*args, threads=threads)


def test_ttv_takes_threads_as_every_kernel_does():
    # The shared threads_arg: any int or an object with __index__; a bool is a TypeError,
    # as for every int argument of the kernels.
    rng = np.random.default_rng(5)
    shape = (60, 50, 70)
    subs = np.column_stack([rng.integers(0, n, SPLIT_NNZ) for n in shape]).astype(np.int64)
    vals = rng.uniform(-1, 1, SPLIT_NNZ)
    vector = rng.uniform(-1, 1, 50)
    one = kernels_rs.ttv(subs, vals, shape, vector, 1, threads=1)[1].tobytes()
    two = kernels_rs.ttv(subs, vals, shape, vector, 1, threads=2)[1].tobytes()
    assert one != two
    assert kernels_rs.ttv(subs, vals, shape, vector, 1, threads=np.int64(2))[1].tobytes() == two
    for bad in (True, False):
        with pytest.raises(TypeError, match=r"(?s)got the bool.*threads"):
            kernels_rs.ttv(subs, vals, shape, vector, 1, threads=bad)
        with pytest.raises(TypeError, match=r"(?s)got the bool.*threads"):
            kernels_rs.dot(np.ones(3), np.ones(3), threads=bad)
        with pytest.raises(TypeError, match=r"(?s)bool.*mode"):
            kernels_rs.ttv(subs, vals, shape, vector, bad)


def test_ttv_bad_subscripts_are_the_same_error_on_several_threads():
    rng = np.random.default_rng(3)
    shape = (40, 30, 20)
    subs = np.column_stack([rng.integers(0, n, SPLIT_NNZ) for n in shape]).astype(np.int64)
    vals = rng.uniform(-1, 1, SPLIT_NNZ)
    subs[SPLIT_NNZ - 7, 2] = 20  # in the last thread's run
    subs[SPLIT_NNZ // 2 + 3, 0] = -1  # in a middle one: the first in input order
    for threads in (1, 2, 3):
        with pytest.raises(ValueError, match=rf"subs\[{SPLIT_NNZ // 2 + 3}, 0\] = -1 is out"):
            kernels_rs.ttv(subs, vals, shape, np.ones(30), 1, threads=threads)


def test_ttv_follows_set_num_threads(restore_threads):
    rng = np.random.default_rng(4)
    shape = (60, 50, 70)
    subs = np.column_stack([rng.integers(0, n, SPLIT_NNZ) for n in shape]).astype(np.int64)
    vals = rng.uniform(-1, 1, SPLIT_NNZ)
    vector = rng.uniform(-1, 1, 50)
    for threads in (1, 3):
        kernels_rs.set_num_threads(threads)
        default = kernels_rs.ttv(subs, vals, shape, vector, 1)
        explicit = kernels_rs.ttv(subs, vals, shape, vector, 1, threads=threads)
        assert default[1].tobytes() == explicit[1].tobytes()
    one = kernels_rs.ttv(subs, vals, shape, vector, 1, threads=1)
    assert default[1].tobytes() != one[1].tobytes()


@pytest.mark.parametrize(
    ("call", "argument"),
    [
        (lambda bad: kernels_rs.bench_dot("tuned", bad, 1, 0), "n"),
        (lambda bad: kernels_rs.bench_dot("tuned", 16, bad, 0), "n_trials"),
        (lambda bad: kernels_rs.bench_dot("tuned", 16, 1, bad), "seed"),  # a u64 argument
        (lambda bad: kernels_rs.read_bandwidth(1 << 20, bad), "repeats"),
        (
            lambda bad: kernels_rs.mttkrp(
                np.zeros((1, 3), np.int64), np.ones(1), (2, 2, 2), [np.ones((2, 2))] * 3, bad
            ),
            "mode",
        ),
    ],
)
@pytest.mark.parametrize("bad", [True, False])
def test_a_bool_is_a_type_error_for_every_integer_argument(call, argument, bad):
    with pytest.raises(TypeError, match=rf"(?s)got the bool {bad}.*{argument}"):
        call(bad)
