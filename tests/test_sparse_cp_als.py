"""kernels_rs.cp_als against stock pyttb.cp_als (issue 15): the same initial guess, the
same iterations, the fit equal to 1e-10 relative, the factors close, the same output
dict and printing; bad input a clear TypeError/ValueError."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import kernels_rs.pyttb as drop_in
import numpy as np
import pytest
import pyttb as ttb

import kernels_rs
from tensorbench.tns import read_tns

TNS = Path(__file__).resolve().parents[1] / "data" / "inputs" / "tns"


@pytest.fixture(autouse=True)
def stock_pyttb():
    drop_in.disable()  # the comparison is with stock pyttb
    yield
    drop_in.disable()


def run(fn, *args, **kwargs):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        result = fn(*args, **kwargs)
    return result, out.getvalue()


def random_init(shape, rank, seed):
    rng = np.random.default_rng(seed)
    return ttb.ktensor([rng.uniform(0, 1, (n, rank)) for n in shape])


def assert_same_decomposition(ours, theirs):
    (M, Minit, out), printed = ours
    (M0, Minit0, out0), printed0 = theirs
    assert isinstance(M, ttb.ktensor) and isinstance(Minit, ttb.ktensor)
    assert out.keys() == out0.keys() == {"params", "iters", "normresidual", "fit"}
    assert out["iters"] == out0["iters"]
    assert abs(out["fit"] - out0["fit"]) <= 1e-10 * abs(out0["fit"])
    assert abs(out["normresidual"] - out0["normresidual"]) <= 1e-10 * abs(out0["normresidual"])
    assert out["params"].keys() == out0["params"].keys()
    for key, value in out0["params"].items():
        assert np.array_equal(out["params"][key], value), key
    assert Minit.isequal(Minit0)
    np.testing.assert_allclose(M.weights, M0.weights, rtol=1e-8)
    for a, b in zip(M.factor_matrices, M0.factor_matrices, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-7, atol=1e-9)
    assert printed == printed0


@pytest.mark.parametrize(
    "shape, density, rank",
    [((30, 40, 50), 0.02, 4), ((12, 10, 9, 8), 0.05, 3), ((25, 20), 0.3, 2)],
)
def test_same_init_same_iterations_and_fit_as_pyttb(shape, density, rank):
    np.random.seed(7)  # noqa: NPY002 (pyttb draws from NumPy's global generator)
    X = ttb.sptenrand(shape, density=density)
    init = random_init(shape, rank, 8)
    kwargs = dict(init=init, maxiters=15, stoptol=1e-6)
    theirs = run(ttb.cp_als, X, rank, **kwargs)
    ours = run(kernels_rs.cp_als, X, rank, threads=1, **kwargs)
    assert_same_decomposition(ours, theirs)
    # Several threads: the layout's MTTKRP is bitwise the same.
    again = run(kernels_rs.cp_als, X, rank, threads=2, **kwargs)
    assert again[0][2]["fit"] == ours[0][2]["fit"]


def test_random_init_draws_what_pyttb_draws_and_every_option_passes_through():
    np.random.seed(9)  # noqa: NPY002 (pyttb draws from NumPy's global generator)
    X = ttb.sptenrand((15, 14, 13), density=0.05)
    options = dict(stoptol=1e-3, maxiters=7, dimorder=[2, 0, 1], printitn=2, fixsigns=False)
    np.random.seed(10)  # noqa: NPY002 (pyttb draws from NumPy's global generator)
    theirs = run(ttb.cp_als, X, 3, **options)
    np.random.seed(10)  # noqa: NPY002 (pyttb draws from NumPy's global generator)
    ours = run(kernels_rs.cp_als, X, 3, **options)
    assert_same_decomposition(ours, theirs)
    # optdims: a mode left out keeps its initial factor.
    init = random_init(X.shape, 2, 11)
    theirs = run(ttb.cp_als, X, 2, init=init, optdims=[0, 2], maxiters=4, printitn=0)
    ours = run(kernels_rs.cp_als, X, 2, init=init, optdims=[0, 2], maxiters=4, printitn=0)
    assert ours[1] == theirs[1] == ""
    assert_same_decomposition(ours, theirs)


def test_nvecs_init_fails_as_pyttb_fails_and_the_zero_tensor():
    np.random.seed(12)  # noqa: NPY002 (pyttb draws from NumPy's global generator)
    X = ttb.sptenrand((8, 7, 6), density=0.2)
    # pyttb 1.8.6's sptensor.nvecs returns complex vectors, which its ktensor refuses:
    # the same AssertionError from both (init="nvecs" calls pyttb's own nvecs).
    errors = []
    for cp_als in (ttb.cp_als, kernels_rs.cp_als):
        with pytest.raises(AssertionError) as caught:
            run(cp_als, X, 2, init="nvecs", maxiters=5)
        errors.append(str(caught.value))
    assert errors[0] == errors[1] and "dtype=float" in errors[0]
    zero = ttb.sptensor(shape=(4, 5, 3))
    init = random_init(zero.shape, 2, 13)
    assert_same_decomposition(
        run(kernels_rs.cp_als, zero, 2, init=init, maxiters=3),
        run(ttb.cp_als, zero, 2, init=init, maxiters=3),
    )


@pytest.mark.parametrize("name", ["small.tns", "med.tns", "med4.tns", "med5.tns"])
def test_frostt_tensors(name):
    X = read_tns(TNS / name)
    rank = 2 if name == "small.tns" else 3
    init = random_init(X.shape, rank, 14)
    kwargs = dict(init=init, maxiters=4, stoptol=1e-8)
    assert_same_decomposition(
        run(kernels_rs.cp_als, X, rank, **kwargs), run(ttb.cp_als, X, rank, **kwargs)
    )


def test_int32_and_c_ordered_subscripts():
    np.random.seed(15)  # noqa: NPY002 (pyttb draws from NumPy's global generator)
    X = ttb.sptenrand((10, 11, 12), density=0.1)
    init = random_init(X.shape, 3, 16)
    want = run(kernels_rs.cp_als, X, 3, init=init, maxiters=3)
    for subs in (X.subs.astype(np.int32), np.ascontiguousarray(X.subs)):
        Y = ttb.sptensor(subs, X.vals.copy(), X.shape, copy=False)
        got = run(kernels_rs.cp_als, Y, 3, init=init, maxiters=3)
        assert got[0][2]["fit"] == want[0][2]["fit"]


def test_bad_input_is_a_clear_error():
    np.random.seed(17)  # noqa: NPY002 (pyttb draws from NumPy's global generator)
    X = ttb.sptenrand((5, 6, 7), density=0.2)
    with pytest.raises(TypeError, match=r"X must be a pyttb\.sptensor"):
        kernels_rs.cp_als(X.to_tensor(), 2)
    with pytest.raises(TypeError, match=r"X must be a pyttb\.sptensor"):
        kernels_rs.cp_als(np.ones((2, 2)), 2)
    with pytest.raises(ValueError, match="order at least 2"):
        kernels_rs.cp_als(ttb.sptenrand((5,), density=0.5), 1)
    for rank in (0, -3):
        with pytest.raises(ValueError, match="rank must be positive"):
            kernels_rs.cp_als(X, rank)
    for rank in (1.5, "2", True):
        with pytest.raises(TypeError, match="rank must be an int"):
            kernels_rs.cp_als(X, rank)
    with pytest.raises(ValueError, match=r"init must be 'random', 'nvecs' or a pyttb\.ktensor"):
        kernels_rs.cp_als(X, 2, init="svd")
    with pytest.raises(ValueError, match="init must be"):
        kernels_rs.cp_als(X, 2, init=np.ones((5, 2)))
    with pytest.raises(ValueError, match="does not have 3 modes"):
        kernels_rs.cp_als(X, 2, init=random_init((5, 6), 2, 0))
    with pytest.raises(ValueError, match="does not have 2 components"):
        kernels_rs.cp_als(X, 2, init=random_init(X.shape, 3, 0))
    with pytest.raises(ValueError, match="mode 1 of the initial guess is the wrong size"):
        kernels_rs.cp_als(X, 2, init=random_init((5, 7, 7), 2, 0))
    with pytest.raises(ValueError, match="dimorder must be a list or permutation"):
        kernels_rs.cp_als(X, 2, dimorder=[0, 1, 1])
    with pytest.raises(ValueError, match="maxiters must be at least 1"):
        kernels_rs.cp_als(X, 2, maxiters=0)
    with pytest.raises(ValueError, match="number of threads"):
        kernels_rs.cp_als(X, 2, threads=0, printitn=0)
    # pyttb fails the same inputs, with AssertionError.
    for kwargs in ({"init": "svd"}, {"dimorder": [0, 1, 1]}):
        with pytest.raises(AssertionError):
            ttb.cp_als(X, 2, **kwargs)
    with pytest.raises(AssertionError):
        ttb.cp_als(X, 0)
