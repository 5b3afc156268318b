"""kernels_rs.pyttb against pyttb itself: the same results, types, layouts and errors.

Each case runs pyttb's own method (saved before any test enables the drop-in) and the
replacement on the same sptensor. MTTKRP and TTV must match bitwise; the scalar TTV and
innerprod with a ktensor are summed in another order than NumPy's pairwise sum, so they
match to rounding. The call counts show the Rust path ran where it should.
"""

from __future__ import annotations

import kernels_rs.pyttb as accel
import numpy as np
import pytest
import pyttb as ttb

import kernels_rs

STOCK = {name: ttb.sptensor.__dict__[name] for name in ("ttv", "mttkrp", "innerprod")}


@pytest.fixture(autouse=True)
def stock_after_each_test():
    accel.disable()
    accel.reset_counts()
    yield
    accel.disable()


def sptensor(seed, shape, nnz, *, layout="C", dtype=np.int64, duplicates=0):
    """A random sptensor with `nnz` nonzeros (plus `duplicates` repeated subscripts)."""
    rng = np.random.default_rng(seed)
    subs = np.column_stack([rng.integers(0, n, nnz) for n in shape])
    if duplicates:
        subs = np.vstack([subs, subs[rng.integers(0, nnz, duplicates)]])
    subs = np.asarray(subs, dtype=dtype, order=layout)
    vals = rng.standard_normal((subs.shape[0], 1))
    return ttb.sptensor(subs, vals, shape, copy=False)


def outcome(call):
    """The result of `call()`, or the type and message of what it raised."""
    try:
        return call()
    except Exception as error:
        return ("raised", type(error), str(error))


def assert_same(got, expected, *, exact=True):
    assert type(got) is type(expected), (got, expected)
    if isinstance(expected, tuple):  # an exception
        assert got == expected
    elif isinstance(expected, ttb.sptensor):
        assert got.shape == expected.shape
        np.testing.assert_array_equal(got.subs, expected.subs)
        np.testing.assert_array_equal(got.vals, expected.vals)
        for a, b in [(got.subs, expected.subs), (got.vals, expected.vals)]:
            assert a.dtype == b.dtype and a.shape == b.shape
            assert a.flags.c_contiguous == b.flags.c_contiguous
            assert a.flags.f_contiguous == b.flags.f_contiguous
    elif isinstance(expected, ttb.tensor):
        assert got.shape == expected.shape
        np.testing.assert_array_equal(got.data, expected.data)
        assert got.data.flags.f_contiguous == expected.data.flags.f_contiguous
    elif isinstance(expected, np.ndarray):
        assert got.dtype == expected.dtype and got.shape == expected.shape
        assert got.flags.f_contiguous == expected.flags.f_contiguous
        assert got.flags.c_contiguous == expected.flags.c_contiguous
        np.testing.assert_array_equal(got, expected)
    elif exact:
        assert got == expected or (np.isnan(got) and np.isnan(expected))
    else:
        assert got == pytest.approx(expected, rel=1e-12, abs=1e-300)


def test_enable_and_disable_swap_the_very_function_objects():
    assert not accel.is_enabled()
    accel.enable()
    assert accel.is_enabled() and accel.replaced() == dict.fromkeys(STOCK, True)
    for name, original in STOCK.items():
        assert ttb.sptensor.__dict__[name] is not original
    accel.enable()  # twice is once: disable must still restore pyttb's own
    accel.disable()
    for name, original in STOCK.items():
        assert ttb.sptensor.__dict__[name] is original
    with accel.enabled():
        assert accel.is_enabled()
        with accel.enabled():
            pass
        assert accel.is_enabled()  # the inner block leaves it on, as it found it
    assert not accel.is_enabled()
    accel.enable()
    with accel.enabled():
        pass
    assert accel.is_enabled()
    # The replacements keep pyttb's names and docstrings.
    assert ttb.sptensor.mttkrp.__doc__ == STOCK["mttkrp"].__doc__
    assert ttb.sptensor.ttv.__name__ == "ttv"


CASES = [
    pytest.param((6, 5), "C", np.int64, 0, id="d2"),
    pytest.param((5, 4, 3), "F", np.int64, 0, id="d3-F"),
    pytest.param((5, 4, 3), "C", np.int32, 5, id="d3-int32-duplicates"),
    pytest.param((4, 3, 2, 3), "F", np.int32, 0, id="d4-F-int32"),
    pytest.param((3, 2, 3, 2, 4), "C", np.int64, 7, id="d5-duplicates"),
]


@pytest.mark.parametrize(("shape", "layout", "dtype", "duplicates"), CASES)
@pytest.mark.parametrize("nnz", [1, 40])
def test_mttkrp_is_pyttb_bitwise(shape, layout, dtype, duplicates, nnz):
    S = sptensor(nnz, shape, nnz, layout=layout, dtype=dtype, duplicates=duplicates)
    rng = np.random.default_rng(7)
    factors = [rng.standard_normal((n, 3)) for n in shape]
    K = ttb.ktensor(factors, np.array([1.0, -2.0, 0.5]))
    calls = 0
    for mode in range(len(shape)):
        for U in (factors, K, [np.asfortranarray(f) for f in factors]):
            expected = STOCK["mttkrp"](S, U, mode)
            with accel.enabled():
                got = S.mttkrp(U, mode)
            calls += 1
            assert_same(got, expected)
    assert accel.call_counts()["mttkrp"] == calls
    assert accel.fallback_counts()["mttkrp"] == 0


def test_mttkrp_on_several_threads_matches_pyttb():
    # Big enough for several tasks: private outputs, equal to pyttb's to rounding.
    S = sptensor(3, (40, 30, 20), 60_000)
    factors = [np.random.default_rng(m).standard_normal((n, 8)) for m, n in enumerate(S.shape)]
    threads = kernels_rs.get_num_threads()
    kernels_rs.set_num_threads(3)
    try:
        for mode in range(3):
            expected = STOCK["mttkrp"](S, factors, mode)
            with accel.enabled():
                got = S.mttkrp(factors, mode)
            assert got.flags.f_contiguous and got.shape == expected.shape
            # Within 1e-13 of the sum of the terms' magnitudes (what rounding can move).
            magnitudes = ttb.sptensor(S.subs, np.abs(S.vals), S.shape)
            scale = STOCK["mttkrp"](magnitudes, [np.abs(f) for f in factors], mode)
            assert np.all(np.abs(got - expected) <= 1e-13 * scale)
    finally:
        kernels_rs.set_num_threads(threads)


def test_mttkrp_edge_cases_match_pyttb():
    rng = np.random.default_rng(5)
    nan = sptensor(1, (4, 3, 2), 10)
    nan.vals[3, 0] = np.nan
    empty = ttb.sptensor(shape=(4, 3, 2))
    factors = [rng.standard_normal((n, 2)) for n in (4, 3, 2)]
    wrong_rows = [factors[0], rng.standard_normal((5, 2)), factors[2]]
    wider = [factors[0], rng.standard_normal((3, 4)), factors[2]]  # pyttb reads 2 columns
    ints = [np.arange(n * 2).reshape(n, 2) for n in (4, 3, 2)]
    cases = [
        (nan, factors, 0),
        (nan, factors, 2),
        (empty, factors, 1),
        (nan, factors[:2], 0),
        (nan, wrong_rows, 0),
        (nan, wider, 0),
        (nan, ints, 1),
        (nan, factors, 3),
        (nan, factors, -1),
        (nan, factors, np.int64(1)),
        (nan, "factors", 0),
    ]
    for S, U, mode in cases:
        expected = outcome(lambda S=S, U=U, mode=mode: STOCK["mttkrp"](S, U, mode))
        with accel.enabled():
            got = outcome(lambda S=S, U=U, mode=mode: S.mttkrp(U, mode))
        if isinstance(expected, np.ndarray):
            np.testing.assert_array_equal(got, expected)  # NaN where pyttb has NaN
            assert got.flags.f_contiguous
        else:
            assert_same(got, expected)
    # NaN, int factors and the numpy-integer mode take the Rust path; the rest fall back.
    assert accel.call_counts()["mttkrp"] == 4


def ttv_calls(S, rng):
    """Every call form of sptensor.ttv on S: (description, args, kwargs)."""
    d = S.ndims
    v = [rng.standard_normal(n) for n in S.shape]
    calls = [
        ("all modes", (v,), {}),
        ("all modes, tuple", (tuple(v),), {}),
        ("one vector, last mode", (v[-1], d - 1), {}),
        ("one vector, mode 0", (v[0], 0), {}),
        ("one vector, dims array", (v[1],), {"dims": np.array([1])}),
        ("int vector", (np.arange(S.shape[0]), 0), {}),
        ("list of two, dims list", ([v[0], v[-1]],), {"dims": [0, d - 1]}),
        ("list of two, unsorted dims", ([v[-1], v[0]],), {"dims": np.array([d - 1, 0])}),
        ("exclude one", (v[1:],), {"exclude_dims": 0}),
        ("exclude last", (v[:-1],), {"exclude_dims": np.array([d - 1])}),
        ("negative dims", (v[0], -1), {}),
        ("dims and exclude_dims", (v[0],), {"dims": 0, "exclude_dims": 1}),
        ("wrong size", (np.ones(S.shape[0] + 1), 0), {}),
        ("too many vectors", ([*v, v[0]],), {}),
        ("complex vector", (v[0] * 1j, 0), {}),
    ]
    if d >= 3:
        calls.append(("two middle modes", ([v[1], v[2]], [1, 2]), {}))
    return calls


@pytest.mark.parametrize(("shape", "layout", "dtype", "duplicates"), CASES)
@pytest.mark.parametrize("nnz", [1, 12, 200])
def test_every_ttv_call_form_matches_pyttb(shape, layout, dtype, duplicates, nnz):
    # 200 nonzeros fill most small outputs (pyttb returns a dense tensor), 12 few (sparse).
    S = sptensor(nnz, shape, nnz, layout=layout, dtype=dtype, duplicates=duplicates)
    rng = np.random.default_rng(nnz)
    for name, args, kwargs in ttv_calls(S, rng):
        expected = outcome(lambda a=args, k=kwargs: STOCK["ttv"](S, *a, **k))
        with accel.enabled():
            got = outcome(lambda a=args, k=kwargs: S.ttv(*a, **k))
        try:
            # A scalar (every mode multiplied) is summed in another order than pairwise.
            assert_same(got, expected, exact=not isinstance(expected, float))
        except AssertionError as error:
            raise AssertionError(f"{name}: {error}") from error
    counts = accel.call_counts()
    assert counts["ttv"] > 0 and counts["innerprod_ktensor"] > 0


def test_ttv_results_of_both_kinds_are_covered():
    # The cases above must include pyttb's sparse and dense results, or they test less.
    kinds = set()
    for nnz in (12, 200):
        S = sptensor(nnz, (5, 4, 3), nnz)
        for _, args, kwargs in ttv_calls(S, np.random.default_rng(nnz)):
            result = outcome(lambda S=S, a=args, k=kwargs: STOCK["ttv"](S, *a, **k))
            kinds.add(type(result).__name__)
    assert {"sptensor", "tensor", "float", "tuple"} <= kinds


def test_ttv_of_cancelling_values_drops_them_as_pyttb():
    subs = np.array([[0, 0, 0], [0, 0, 1], [1, 1, 1], [2, 3, 0], [2, 3, 1]])
    vals = np.array([[1.0], [-1.0], [2.0], [np.nan], [1.0]])
    S = ttb.sptensor(subs, vals, (3, 4, 2))
    for args in [(np.ones(2), 2), (np.ones(3), 0), ([np.ones(3), np.ones(2)], [0, 2])]:
        expected = STOCK["ttv"](S, *args)
        with accel.enabled():
            assert_same(S.ttv(*args), expected)


def test_innerprod_with_a_ktensor_matches_pyttb_and_delegates_the_rest():
    S = sptensor(4, (6, 5, 4), 60, layout="F")
    rng = np.random.default_rng(4)
    K = ttb.ktensor([rng.standard_normal((n, 3)) for n in S.shape], np.array([2.0, 1.0, -1.0]))
    others = [S, S.to_tensor(), ttb.ktensor([np.ones((n, 1)) for n in (2, 2, 2)])]
    expected = [outcome(lambda o=o: STOCK["innerprod"](S, o)) for o in [K, *others]]
    with accel.enabled():
        got = [outcome(lambda o=o: S.innerprod(o)) for o in [K, *others]]
        empty = ttb.sptensor(shape=S.shape).innerprod(K)
    assert_same(got[0], expected[0], exact=False)
    for g, e in zip(got[1:], expected[1:], strict=True):
        assert_same(g, e)
    assert empty == 0 and type(empty) is int  # pyttb's own answer for an empty tensor
    assert accel.call_counts()["innerprod_ktensor"] == 1
    # ktensor.innerprod(sptensor) runs pyttb's loop over S.ttv, now accelerated too.
    with accel.enabled():
        assert K.innerprod(S) == pytest.approx(expected[0], rel=1e-12)
    assert accel.call_counts()["innerprod_ktensor"] == 1 + 3


def test_cp_als_gives_the_same_fit_and_factors():
    np.random.seed(15)  # noqa: NPY002 (sptenrand draws from NumPy's global generator)
    S = ttb.sptenrand((30, 25, 20), nonzeros=1500)
    rng = np.random.default_rng(15)
    init = ttb.ktensor([rng.uniform(0, 1, (n, 4)) for n in S.shape])
    kwargs = {"init": init, "maxiters": 10, "stoptol": 0.0, "printitn": 0}
    M0, _, out0 = ttb.cp_als(S, 4, **kwargs)
    with accel.enabled():
        M1, _, out1 = ttb.cp_als(S, 4, **kwargs)
    assert out1["iters"] == out0["iters"] == 9
    assert out1["fit"] == pytest.approx(out0["fit"], rel=1e-10)
    for a, b in zip(M1.factor_matrices, M0.factor_matrices, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(M1.weights, M0.weights, rtol=1e-10)
    assert accel.call_counts()["mttkrp"] == 3 * 10


@pytest.mark.parametrize(("layout", "dtype"), [("C", np.int64), ("F", np.int32)])
def test_ttv_on_several_threads_matches_pyttb_to_rounding(layout, dtype):
    # Big enough to be split (>= 2 x 32,768 nonzeros, <= 4 output cells per nonzero per thread):
    # each cell summed in a few pieces, equal to pyttb's result to rounding.
    S = sptensor(9, (40, 30, 20), 400_000, layout=layout, dtype=dtype)
    magnitudes = ttb.sptensor(S.subs, np.abs(S.vals), S.shape)
    vectors = [np.random.default_rng(m).standard_normal(n) for m, n in enumerate(S.shape)]
    threads = kernels_rs.get_num_threads()
    kernels_rs.set_num_threads(3)
    try:
        for mode in range(3):
            expected = STOCK["ttv"](S, vectors[mode], mode)
            scale = STOCK["ttv"](magnitudes, np.abs(vectors[mode]), mode)
            with accel.enabled():
                got = S.ttv(vectors[mode], mode)
            assert type(got) is type(expected) is ttb.tensor  # every cell is nonzero
            assert got.shape == expected.shape
            assert np.all(np.abs(got.data - expected.data) <= 1e-13 * scale.data)
    finally:
        kernels_rs.set_num_threads(threads)
    assert accel.call_counts()["ttv"] == 3
