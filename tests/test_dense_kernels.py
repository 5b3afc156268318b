"""Dense kernels: every implementation against NumPy, every layout, every bad input."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import kernels_rs
from tensorbench.experiments.dense_impls import dot_python, matvec_python, numba_version

RUST_DOTS = [kernels_rs.dot_loop, kernels_rs.dot]
RUST_MATVECS = [kernels_rs.matvec_loop, kernels_rs.matvec]
NUMBA_DOT = numba_version(dot_python)
NUMBA_MATVEC = numba_version(matvec_python)
ALL_DOTS = [dot_python, NUMBA_DOT, *RUST_DOTS]
ALL_MATVECS = [matvec_python, NUMBA_MATVEC, *RUST_MATVECS]
finite = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)


def test_extension_is_a_release_build():
    assert kernels_rs.IS_RELEASE_BUILD is True
    assert kernels_rs.build_info()["cargo_profile"] == "release"


@pytest.mark.parametrize("dot", ALL_DOTS, ids=lambda f: getattr(f, "__name__", "numba"))
@pytest.mark.parametrize("n", [0, 1, 2, 15, 16, 17, 33, 1000, 4097])
def test_dot_matches_numpy(dot, n):
    rng = np.random.default_rng(n)
    x, y = rng.uniform(size=n), rng.uniform(size=n)
    assert dot(x, y) == pytest.approx(np.dot(x, y), rel=1e-12, abs=1e-12)


@settings(max_examples=200, deadline=None)
@given(
    st.integers(0, 200).flatmap(
        lambda n: st.tuples(
            hnp.arrays(np.float64, n, elements=finite), hnp.arrays(np.float64, n, elements=finite)
        )
    )
)
def test_rust_dots_match_numpy_on_any_values(pair):
    x, y = pair
    expected = np.dot(x, y)
    tolerance = 1e-9 * (np.abs(x) @ np.abs(y) + 1.0)  # rounding grows with sum |x_i y_i|
    for dot in RUST_DOTS:
        assert abs(dot(x, y) - expected) <= tolerance


@pytest.mark.parametrize("dot", RUST_DOTS)
def test_dot_accepts_strided_and_reversed_views(dot):
    base = np.arange(40, dtype=np.float64)
    x, y = base[::2], base[::-2]
    assert dot(x, y) == pytest.approx(np.dot(x, y), rel=1e-14)


def _unaligned(values: np.ndarray) -> np.ndarray:
    raw = np.zeros(values.size * 8 + 1, np.uint8)
    array = raw[1:].view(np.float64).reshape(values.shape)
    array[...] = values
    assert not array.flags.aligned
    return array


def _record_field(values: np.ndarray) -> np.ndarray:
    """`values` as a field of a structured array: strides of 12 bytes, not whole float64s."""
    record = np.zeros(values.shape, dtype=[("v", "f8"), ("pad", "i4")])
    record["v"] = values
    return record["v"]


@pytest.mark.parametrize("n", [3, 1000])  # copied (small) and borrowed (large) paths
@pytest.mark.parametrize("dot", RUST_DOTS)
def test_dot_reads_unaligned_and_record_field_arrays_correctly(dot, n):
    rng = np.random.default_rng(n)
    x, y = rng.uniform(size=n), rng.uniform(size=n)
    for make in (_unaligned, _record_field):
        assert dot(make(x), make(y)) == pytest.approx(np.dot(x, y), rel=1e-12)


@pytest.mark.parametrize("shape", [(2, 3), (40, 30)])
@pytest.mark.parametrize("matvec", RUST_MATVECS)
def test_matvec_reads_unaligned_and_record_field_arrays_correctly(matvec, shape):
    rng = np.random.default_rng(7)
    a, x = rng.uniform(size=shape), rng.uniform(size=shape[1])
    for make in (_unaligned, _record_field):
        np.testing.assert_allclose(matvec(make(a), make(x)), a @ x, rtol=1e-12)


@pytest.mark.parametrize("dot", RUST_DOTS)
def test_dot_propagates_nan_and_inf(dot):
    assert np.isnan(dot(np.array([1.0, np.nan]), np.array([1.0, 1.0])))
    assert dot(np.array([np.inf]), np.array([2.0])) == np.inf


@pytest.mark.parametrize("matvec", ALL_MATVECS, ids=lambda f: getattr(f, "__name__", "numba"))
@pytest.mark.parametrize("shape", [(1, 1), (3, 17), (17, 3), (64, 33), (0, 4), (4, 0), (0, 0)])
@pytest.mark.parametrize("order", ["C", "F"])
def test_matvec_matches_numpy_in_c_and_f_order(matvec, shape, order):
    rng = np.random.default_rng(sum(shape))
    a = np.asarray(rng.uniform(size=shape), order=order)
    x = rng.uniform(size=shape[1])
    got = matvec(a, x)
    assert got.shape == (shape[0],)
    np.testing.assert_allclose(got, a @ x, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("matvec", RUST_MATVECS)
def test_matvec_handles_any_strides_without_wrong_answers(matvec):
    base = np.random.default_rng(1).uniform(size=(30, 40))
    x_base = np.random.default_rng(2).uniform(size=40)
    for a, x in [
        (base[::3, ::2], x_base[::2]),  # neither C nor F contiguous
        (base[::-1, 5:25], x_base[20:]),  # negative row stride
        (base.T[:, ::-1], x_base[:30][::-1].copy()),  # transposed, reversed columns
        (base[:, :1], x_base[:1]),
    ]:
        np.testing.assert_allclose(matvec(a, x), a @ x, rtol=1e-12)


@settings(max_examples=100, deadline=None)
@given(
    hnp.arrays(
        np.float64,
        hnp.array_shapes(min_dims=2, max_dims=2, min_side=0, max_side=12),
        elements=finite,
    ),
    st.sampled_from(["C", "F"]),
)
def test_rust_matvecs_match_numpy_on_any_values(a, order):
    a = np.asarray(a, order=order)
    x = np.linspace(-2.0, 3.0, a.shape[1])
    for matvec in RUST_MATVECS:
        np.testing.assert_allclose(matvec(a, x), a @ x, rtol=1e-9, atol=1e-6)


def test_matvec_does_not_modify_inputs_and_returns_new_array():
    a, x = np.ones((3, 2)), np.ones(2)
    out = kernels_rs.matvec(a, x)
    out[:] = 7.0
    assert (a == 1).all() and (x == 1).all()
    assert a.flags.writeable and x.flags.writeable  # the read-only borrows are released


# --- bad input: a clear TypeError or ValueError, never a PanicException ----------------


def _bad_dot_inputs():
    v = np.ones(3)
    return [
        ("list", [1.0, 2.0, 3.0], v, TypeError, "numpy.ndarray"),
        ("scalar", 1.0, v, TypeError, "numpy.ndarray"),
        ("None", v, None, TypeError, "numpy.ndarray"),
        ("float32", v.astype(np.float32), v, TypeError, "float64"),
        ("int64", v, v.astype(np.int64), TypeError, "float64"),
        ("complex", v.astype(complex), v, TypeError, "float64"),
        ("big-endian", v.astype(">f8"), v, TypeError, "float64"),
        ("2-D", np.ones((3, 1)), v, ValueError, "1-D"),
        ("0-D", np.array(1.0), v, ValueError, "1-D"),
        ("length", v, np.ones(4), ValueError, r"\(3,\) and \(4,\)"),
    ]


@pytest.mark.parametrize("dot", RUST_DOTS)
@pytest.mark.parametrize(
    ("case", "x", "y", "error", "message"), _bad_dot_inputs(), ids=[c[0] for c in _bad_dot_inputs()]
)
def test_dot_rejects_bad_input_clearly(dot, case, x, y, error, message):
    with pytest.raises(error, match=message):
        dot(x, y)


def _bad_matvec_inputs():
    a, x = np.ones((3, 4)), np.ones(4)
    return [
        ("list matrix", [[1.0]], np.ones(1), TypeError, "numpy.ndarray"),
        ("list vector", a, [1.0] * 4, TypeError, "numpy.ndarray"),
        ("float32", a.astype(np.float32), x, TypeError, "float64"),
        ("int vector", a, x.astype(int), TypeError, "float64"),
        ("1-D matrix", np.ones(4), x, ValueError, "2-D"),
        ("3-D matrix", np.ones((2, 3, 4)), x, ValueError, "2-D"),
        ("2-D vector", a, np.ones((4, 1)), ValueError, "1-D"),
        ("shape", a, np.ones(3), ValueError, r"\(3, 4\) and \(3,\)"),
        ("transposed shape", a.T, x, ValueError, r"\(4, 3\) and \(4,\)"),
    ]


@pytest.mark.parametrize("matvec", RUST_MATVECS)
@pytest.mark.parametrize(
    ("case", "a", "x", "error", "message"),
    _bad_matvec_inputs(),
    ids=[c[0] for c in _bad_matvec_inputs()],
)
def test_matvec_rejects_bad_input_clearly(matvec, case, a, x, error, message):
    with pytest.raises(error, match=message):
        matvec(a, x)


def test_array_borrowed_mutably_elsewhere_is_still_readable():
    # Two read-only borrows of the same array are fine (x . x).
    x = np.arange(5, dtype=np.float64)
    assert kernels_rs.dot(x, x) == pytest.approx(30.0)


# --- timers inside Rust -------------------------------------------------------------


@pytest.mark.parametrize("form", ["loop", "tuned"])
def test_in_rust_timers_return_first_call_plus_trials(form):
    seconds = kernels_rs.bench_dot(form, 1000, 3, 7)
    assert len(seconds) == 4 and all(s >= 0 for s in seconds)
    seconds = kernels_rs.bench_matvec(form, 4, 5, 2, 7)
    assert len(seconds) == 3 and all(s >= 0 for s in seconds)


# --- tuned matvec on both layouts (kernels-layout) ---------------------------------

# Both sides of every boundary of the tuned kernel: vector widths, 4 rows or columns per
# pass, and its 2048-value L1 blocks of x (C order) and y (Fortran order).
EDGE_SIZES = [1, 3, 4, 5, 8, 9, 17, 2047, 2049]


@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("n1", EDGE_SIZES)
@pytest.mark.parametrize("n2", EDGE_SIZES)
def test_tuned_matvec_matches_numpy_on_every_edge_size(order, n1, n2):
    rng = np.random.default_rng(n1 * 10_000 + n2)
    a = np.asarray(rng.uniform(-1, 1, size=(n1, n2)), order=order)
    x = rng.uniform(-1, 1, size=n2)
    np.testing.assert_allclose(kernels_rs.matvec(a, x), a @ x, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("order", ["C", "F"])
def test_tuned_matvec_on_padded_submatrices_and_strided_x(order):
    rng = np.random.default_rng(5)
    base = np.asarray(rng.uniform(size=(700, 900)), order=order)
    x_base = rng.uniform(size=1800)
    for a in (base[3:650, 7:811], base[:, 1:], base[1:, :]):
        for x in (x_base[: a.shape[1]], x_base[: 2 * a.shape[1] : 2], x_base[::-1][: a.shape[1]]):
            np.testing.assert_allclose(kernels_rs.matvec(a, x), a @ x, rtol=1e-12)


@pytest.mark.parametrize("shape", [(0, 3000), (3000, 0), (0, 0)])
@pytest.mark.parametrize("order", ["C", "F"])
def test_tuned_matvec_of_an_empty_matrix_is_zeros(shape, order):
    a = np.zeros(shape, order=order)
    got = kernels_rs.matvec(a, np.ones(shape[1]))
    assert got.shape == (shape[0],) and not got.any()


@pytest.mark.parametrize("layout", ["C", "F"])
@pytest.mark.parametrize("form", ["loop", "tuned"])
def test_in_rust_matvec_timers_take_both_layouts_and_count_faults(form, layout):
    seconds = kernels_rs.bench_matvec(form, 40, 30, 2, 7, layout=layout)
    assert len(seconds) == 3 and all(s >= 0 for s in seconds)
    result = kernels_rs.bench_matvec_faults(form, 40, 30, 2, 7, layout)
    assert set(result) == {"seconds", "minor_faults"}
    assert len(result["seconds"]) == 3 and len(result["minor_faults"]) == 3
    assert all(f is None or (isinstance(f, int) and f >= 0) for f in result["minor_faults"])


def test_minor_page_faults_grow_when_fresh_pages_are_touched():
    before = kernels_rs.minor_page_faults()
    if before is None:
        pytest.skip("no /proc/self/stat on this system")
    pages = np.zeros(64 << 20, dtype=np.uint8)  # untouched until written
    pages[::4096] = 1
    assert kernels_rs.minor_page_faults() - before >= 32  # 2 MiB pages at most


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: kernels_rs.bench_matvec("loop", 2, 2, 1, 0, "c"), ValueError, "'C' or 'F'"),
        (lambda: kernels_rs.bench_matvec("loop", 2, 2, 1, 0, layout=1), TypeError, "layout"),
        (lambda: kernels_rs.bench_matvec_faults("loop", 2, 2, 1, 0, "K"), ValueError, "layout"),
        (lambda: kernels_rs.bench_matvec_faults("fast", 2, 2, 1, 0), ValueError, "form"),
        (lambda: kernels_rs.bench_matvec_faults("loop", 2, 2, 0, 0), ValueError, "n_trials"),
        (lambda: kernels_rs.bench_matvec_faults("loop", -1, 2, 1, 0), ValueError, "n1"),
        (lambda: kernels_rs.bench_matvec_faults("loop", 2, 2, 1, -1), ValueError, "range"),
        (
            lambda: kernels_rs.bench_matvec_faults("tuned", 2**31, 2**29, 1, 0, "F"),
            MemoryError,
            "cannot allocate",
        ),
        (lambda: kernels_rs.bench_matvec("loop", 2**40, 2**40, 1, 0, "F"), ValueError, "overflows"),
    ],
)
def test_layout_timers_reject_bad_arguments(call, error, message):
    with pytest.raises(error, match=message):
        call()


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: kernels_rs.bench_dot("fast", 10, 1, 0), ValueError, "'loop' or 'tuned'"),
        (lambda: kernels_rs.bench_dot("loop", 10, 0, 0), ValueError, "n_trials"),
        (
            lambda: kernels_rs.bench_dot("loop", 10, 2**40, 0),
            ValueError,
            "n_trials must be at most",
        ),
        (
            lambda: kernels_rs.bench_matvec("loop", 2, 2, 2**40, 0),
            ValueError,
            "n_trials must be at most",
        ),
        (lambda: kernels_rs.bench_dot("loop", -1, 1, 0), ValueError, "n must be at least 0"),
        (lambda: kernels_rs.bench_matvec("loop", 2**40, 2**40, 1, 0), ValueError, "overflows"),
        (lambda: kernels_rs.bench_matvec("loop", 2, -2, 1, 0), ValueError, "n2 must be at least 0"),
        (lambda: kernels_rs.bench_dot(1, 10, 1, 0), TypeError, "form"),
        # More memory than any machine has: a MemoryError, not an aborted interpreter.
        (lambda: kernels_rs.bench_dot("loop", 2**60, 1, 0), MemoryError, "cannot allocate"),
        (lambda: kernels_rs.bench_matvec("loop", 2**31, 2**29, 1, 0), MemoryError, "cannot"),
    ],
)
def test_in_rust_timers_reject_bad_arguments(call, error, message):
    with pytest.raises(error, match=message):
        call()
