"""kernels_rs.SparseLayout: the fiber layout built once, and its MTTKRP (issue 15).

The reference is kernels_rs.mttkrp (tested bitwise against pyttb's arithmetic in
test_mttkrp_kernel.py): the layout forms the same products in another order, so the
results agree to rounding (within 1e-13 of the sum of the terms' magnitudes).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import kernels_rs
from tensorbench.tns import read_tns

TNS = Path(__file__).resolve().parents[1] / "data" / "inputs" / "tns"


def random_coo(seed, shape, nnz, rank):
    rng = np.random.default_rng(seed)
    subs = np.column_stack([rng.integers(0, n, nnz) for n in shape]).astype(np.int64)
    vals = rng.standard_normal(nnz)
    factors = [rng.standard_normal((n, rank)) for n in shape]
    return subs, vals, factors


def assert_close_to_coo(got, subs, vals, shape, factors, mode):
    expected = kernels_rs.mttkrp(subs, vals, shape, factors, mode, threads=1)
    scale = kernels_rs.mttkrp(
        subs, np.abs(vals), shape, [np.abs(f) for f in factors], mode, threads=1
    )
    assert got.shape == expected.shape and got.dtype == np.float64 and got.flags.c_contiguous
    assert np.all(np.abs(got - expected) <= 1e-13 * scale)


@pytest.mark.parametrize("shape", [(7, 5), (6, 1, 4), (40, 30, 20), (4, 3, 5, 2), (3, 2, 3, 2, 4)])
@pytest.mark.parametrize("rank", [1, 16, 29])
def test_layout_mttkrp_equals_the_coo_kernel_on_every_mode(shape, rank):
    subs, vals, factors = random_coo(2, shape, 3_000, rank)
    layout = kernels_rs.SparseLayout(subs, vals, shape)
    assert layout.shape == shape and layout.nnz == 3_000 and layout.index_bits == 32
    for mode in range(len(shape)):
        assert_close_to_coo(layout.mttkrp(factors, mode), subs, vals, shape, factors, mode)


@pytest.mark.parametrize("shape", [(60, 50, 40), (20, 15, 10, 5)])
def test_every_thread_count_gives_the_same_bits(shape):
    # 100_000 x R = 8 x order multiply-adds: split between tasks (2**18 each).
    subs, vals, factors = random_coo(3, shape, 100_000, 8)
    layout = kernels_rs.SparseLayout(subs, vals, shape)
    for mode in range(len(shape)):
        one = layout.mttkrp(factors, mode, threads=1)
        assert_close_to_coo(one, subs, vals, shape, factors, mode)
        for threads in (2, 3):
            assert np.array_equal(layout.mttkrp(factors, mode, threads=threads), one)


def test_subscript_layouts_widths_and_vals_shapes_give_the_same_result():
    shape = (9, 8, 7)
    subs, vals, factors = random_coo(4, shape, 2_000, 5)
    want = kernels_rs.SparseLayout(subs, vals, shape).mttkrp(factors, 1)
    for s in (np.asfortranarray(subs), subs.astype(np.int32), subs[::-1][::-1]):
        for v in (vals, vals[:, None], np.asfortranarray(vals[:, None])):
            got = kernels_rs.SparseLayout(s, v, shape).mttkrp(factors, 1)
            assert np.array_equal(got, want)
    strided = np.repeat(subs, 2, axis=0)[::2]  # neither C- nor F-contiguous
    assert np.array_equal(kernels_rs.SparseLayout(strided, vals, shape).mttkrp(factors, 1), want)
    # F-order and non-contiguous factors are read as their values.
    other = [np.asfortranarray(f) for f in factors]
    assert np.array_equal(kernels_rs.SparseLayout(subs, vals, shape).mttkrp(other, 1), want)


def test_the_layout_is_a_copy_that_a_later_change_cannot_make_stale():
    shape = (5, 6, 7)
    subs, vals, factors = random_coo(5, shape, 500, 4)
    layout = kernels_rs.SparseLayout(subs, vals, shape)
    before = [layout.mttkrp(factors, m) for m in range(3)]
    subs[:] = 0
    vals[:] = 1e6
    for m in range(3):
        assert np.array_equal(layout.mttkrp(factors, m), before[m])


def test_empty_one_nonzero_duplicates_and_nan():
    factors = [np.ones((2, 3)), np.full((3, 3), 2.0)]
    empty = kernels_rs.SparseLayout(np.zeros((0, 2), np.int64), np.zeros(0), (2, 3))
    assert np.array_equal(empty.mttkrp(factors, 0), np.zeros((2, 3)))
    # pyttb stores an empty tensor's subs as a (1, 0) array and its vals as (0, 1).
    pyttb_empty = kernels_rs.SparseLayout(np.zeros((1, 0), np.int64), np.zeros((0, 1)), (2, 3))
    assert pyttb_empty.nnz == 0
    assert np.array_equal(pyttb_empty.mttkrp(factors, 1), np.zeros((3, 3)))
    one = kernels_rs.SparseLayout(np.array([[1, 2]]), np.array([5.0]), (2, 3))
    assert np.array_equal(one.mttkrp(factors, 0), np.array([[0.0] * 3, [10.0] * 3]))
    dup = kernels_rs.SparseLayout(
        np.array([[1, 0], [1, 0], [0, 1]]), np.array([1.0, 3.0, np.nan]), (2, 3)
    )
    got = dup.mttkrp(factors, 0)
    assert np.array_equal(got[1], [8.0, 8.0, 8.0])
    assert np.isnan(got[0]).all()
    # A NaN in a factor row reaches exactly the rows whose nonzeros read it.
    bad = [np.ones((2, 3)), np.ones((3, 3))]
    bad[1][2, 0] = np.nan
    three = kernels_rs.SparseLayout(np.array([[0, 2], [1, 1]]), np.array([1.0, 1.0]), (2, 3))
    got = three.mttkrp(bad, 0)
    assert np.isnan(got[0, 0]) and np.isfinite(got[0, 1:]).all() and np.isfinite(got[1]).all()


@pytest.mark.parametrize("name", ["small.tns", "med.tns", "med4.tns", "med5.tns"])
def test_frostt_tensors_every_mode(name):
    X = read_tns(TNS / name)
    rank = 6
    rng = np.random.default_rng(6)
    factors = [rng.standard_normal((n, rank)) for n in X.shape]
    layout = kernels_rs.SparseLayout(X.subs, X.vals, X.shape)
    for mode in range(X.ndims):
        got = layout.mttkrp(factors, mode, threads=2)
        assert_close_to_coo(got, X.subs, X.vals[:, 0], X.shape, factors, mode)


def test_a_huge_dimension_is_built_without_counts_and_its_output_is_a_memory_error():
    subs = np.array([[0, 1], [2**40 - 1, 2]])
    layout = kernels_rs.SparseLayout(subs, np.array([1.0, 2.0]), (2**40, 3))
    assert layout.index_bits == 64  # a subscript beyond u32
    got = layout.mttkrp([None, np.ones((3, 0))], 0)  # R = 0: an empty result
    assert got.shape == (2**40, 0)
    assert np.array_equal(layout.mttkrp([np.zeros((2**40, 0)), None], 1), np.zeros((3, 0)))
    with pytest.raises(MemoryError, match="cannot allocate"):
        layout.mttkrp([None, np.ones((3, 2))], 0)


GOOD_SUBS = np.array([[0, 1, 2], [1, 0, 0]])
GOOD_VALS = np.array([1.0, 2.0])
SHAPE = (2, 2, 3)


def good_factors(rank=4):
    return [np.zeros((n, rank)) for n in SHAPE]


@pytest.mark.parametrize(
    "args, error, match",
    [
        ((GOOD_SUBS.astype(float), GOOD_VALS, SHAPE), TypeError, "subs must have dtype"),
        (([[0, 1, 2]], GOOD_VALS, SHAPE), TypeError, "subs must be a numpy.ndarray"),
        ((GOOD_SUBS, GOOD_VALS.astype(np.float32), SHAPE), TypeError, "vals"),
        ((GOOD_SUBS, GOOD_VALS, (2,)), ValueError, "order at least 2"),
        ((GOOD_SUBS, GOOD_VALS, (2, 2)), ValueError, "one column per dimension"),
        ((GOOD_SUBS, GOOD_VALS[:1], SHAPE), ValueError, "same number of nonzeros"),
        ((GOOD_SUBS, GOOD_VALS, (2, 2, 2)), ValueError, r"subs\[0, 2\] = 2 is out of range"),
        ((-GOOD_SUBS, GOOD_VALS, SHAPE), ValueError, r"subs\[0, 1\] = -1 is out of range"),
        ((GOOD_SUBS, GOOD_VALS, (2, -2, 3)), ValueError, "shape"),
        ((GOOD_SUBS, GOOD_VALS, "abc"), TypeError, "shape"),
        ((GOOD_SUBS[0], GOOD_VALS, SHAPE), ValueError, "subs must be 2-D"),
    ],
)
def test_bad_construction_is_a_clear_error(args, error, match):
    with pytest.raises(error, match=match):
        kernels_rs.SparseLayout(*args)


def test_bad_mttkrp_arguments_are_clear_errors():
    layout = kernels_rs.SparseLayout(GOOD_SUBS, GOOD_VALS, SHAPE)
    f = good_factors()
    with pytest.raises(ValueError, match=r"mode must be in \[0, 3\)"):
        layout.mttkrp(f, 3)
    with pytest.raises(ValueError, match=r"mode must be in \[0, 3\)"):
        layout.mttkrp(f, -1)
    with pytest.raises(TypeError):
        layout.mttkrp(f, 1.0)
    with pytest.raises(ValueError, match="one matrix per mode"):
        layout.mttkrp(f[:2], 0)
    with pytest.raises(ValueError, match=r"factors\[2\] must have shape\[2\] = 3 rows, got 4"):
        layout.mttkrp([f[0], f[1], np.zeros((4, 4))], 0)
    with pytest.raises(ValueError, match=r"factors\[1\] has 4, factors\[2\] has 5"):
        layout.mttkrp([f[0], f[1], np.zeros((3, 5))], 0)
    with pytest.raises(TypeError, match=r"factors\[1\].*float64"):
        layout.mttkrp([f[0], f[1].astype(np.float32), f[2]], 0)
    with pytest.raises(TypeError, match=r"factors\[2\]"):
        layout.mttkrp([f[0], f[1], "abc"], 0)
    with pytest.raises(TypeError, match="factors"):
        layout.mttkrp(None, 0)
    with pytest.raises(ValueError, match="number of threads"):
        layout.mttkrp(f, 0, threads=0)
    # The skipped factor is never read (pyttb's mttkrp never reads it either).
    assert layout.mttkrp([None, f[1], f[2]], 0).shape == (2, 4)


def test_repr_names_shape_and_nnz():
    layout = kernels_rs.SparseLayout(GOOD_SUBS, GOOD_VALS, SHAPE)
    assert repr(layout) == "SparseLayout(shape=[2, 2, 3], nnz=2, index_bits=32)"
