"""kernels_rs.mttkrp, kernels_rs.innerprod_ktensor and the thread count (issue 15).

The MTTKRP reference is pyttb's arithmetic in NumPy: the products in ascending mode order,
then np.bincount, which sums each row in input order; the kernel must equal it bitwise.
"""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

import kernels_rs


def random_coo(seed, shape, nnz, rank):
    rng = np.random.default_rng(seed)
    subs = np.column_stack([rng.integers(0, n, nnz) for n in shape]).astype(np.int64)
    vals = rng.standard_normal(nnz)
    factors = [rng.standard_normal((n, rank)) for n in shape]
    return subs, vals, factors


def assert_equal_to_rounding(got, expected, subs, vals, shape, factors, mode):
    """|got - expected| within 1e-13 of the sum of the terms' magnitudes (the scale of a
    sum's rounding error, whatever cancels)."""
    scale = reference_mttkrp(subs, np.abs(vals), shape, [np.abs(f) for f in factors], mode)
    assert np.all(np.abs(got - expected) <= 1e-13 * scale)


def reference_mttkrp(subs, vals, shape, factors, mode):
    rank = factors[(mode + 1) % len(shape)].shape[1]
    out = np.zeros((shape[mode], rank))
    for r in range(rank):
        term = vals.copy()
        for m in range(len(shape)):
            if m != mode:
                term = term * factors[m][subs[:, m], r]
        out[:, r] = np.bincount(subs[:, mode], weights=term, minlength=shape[mode])
    return out


@pytest.fixture
def restore_threads():
    before = kernels_rs.get_num_threads()
    yield
    kernels_rs.set_num_threads(before)


@pytest.mark.parametrize("shape", [(7, 5), (6, 1, 4), (4, 3, 5, 2), (3, 2, 3, 2, 4)])
def test_mttkrp_is_the_definition_bitwise_on_every_mode_and_thread_count(shape):
    # 100_000 x R = 8 x order multiply-adds: several tasks (kernels_rs splits 2**18 each).
    subs, vals, factors = random_coo(1, shape, 100_000, 8)
    for mode in range(len(shape)):
        expected = reference_mttkrp(subs, vals, shape, factors, mode)
        got = kernels_rs.mttkrp(subs, vals, shape, factors, mode, threads=1)
        assert got.flags.c_contiguous and got.dtype == np.float64
        np.testing.assert_array_equal(got, expected)
        for threads in (2, 3):
            rows = kernels_rs.mttkrp(
                subs, vals, shape, factors, mode, threads=threads, schedule="rows"
            )
            np.testing.assert_array_equal(rows, expected)
            for schedule in ("private", "auto"):
                run = [
                    kernels_rs.mttkrp(
                        subs, vals, shape, factors, mode, threads=threads, schedule=schedule
                    )
                    for _ in range(2)
                ]
                assert_equal_to_rounding(run[0], expected, subs, vals, shape, factors, mode)
                np.testing.assert_array_equal(run[0], run[1])  # deterministic


def test_mttkrp_reads_every_subscript_layout_alike():
    shape = (5, 6, 7)
    subs, vals, factors = random_coo(2, shape, 500, 3)
    expected = kernels_rs.mttkrp(subs, vals, shape, factors, 2)
    forms = {
        "F": np.asfortranarray(subs),
        "int32 C": subs.astype(np.int32),
        "int32 F": np.asfortranarray(subs.astype(np.int32)),
        "strided": np.repeat(subs, 2, axis=0)[::2],
        "column vals": None,
    }
    for name, form in forms.items():
        if form is None:
            got = kernels_rs.mttkrp(subs, vals[:, None], shape, factors, 2)
        else:
            got = kernels_rs.mttkrp(form, vals, shape, factors, 2)
        np.testing.assert_array_equal(got, expected, err_msg=name)
    # Factors in any layout; the skipped factor is not read at all.
    fortran = [np.asfortranarray(f) for f in factors]
    np.testing.assert_array_equal(kernels_rs.mttkrp(subs, vals, shape, fortran, 2), expected)
    skipped = [*factors[:2], None]
    np.testing.assert_array_equal(kernels_rs.mttkrp(subs, vals, shape, skipped, 2), expected)


def test_mttkrp_edge_cases():
    factors = [np.ones((3, 2)), np.full((4, 2), 2.0)]
    # Empty tensors, in the shapes pyttb stores them: zeros.
    for subs, vals in [
        (np.zeros((0, 2), dtype=np.int64), np.zeros(0)),
        (np.zeros((1, 0), dtype=np.int64), np.zeros((1, 0))),
    ]:
        np.testing.assert_array_equal(
            kernels_rs.mttkrp(subs, vals, (3, 4), factors, 0), np.zeros((3, 2))
        )
    # One nonzero; duplicates add; NaN propagates to its row only.
    subs = np.array([[1, 3], [1, 3], [2, 0]])
    got = kernels_rs.mttkrp(subs, np.array([1.0, 0.5, np.nan]), (3, 4), factors, 0)
    np.testing.assert_array_equal(got[:2], [[0.0, 0.0], [3.0, 3.0]])
    assert np.isnan(got[2]).all()
    one = kernels_rs.mttkrp(subs[:1], np.array([4.0]), (3, 4), factors, 1)
    np.testing.assert_array_equal(one, [[0, 0], [0, 0], [0, 0], [4, 4]])


def kernel_args():
    subs = np.array([[0, 1, 2], [1, 0, 0]])
    vals = np.array([1.0, 2.0])
    shape = (2, 2, 3)
    factors = [np.ones((2, 4)), np.ones((2, 4)), np.ones((3, 4))]
    return subs, vals, shape, factors


BAD_MTTKRP = [
    ({"subs": [[0, 1, 2], [1, 0, 0]]}, TypeError, "subs must be a numpy.ndarray"),
    ({"subs": np.zeros((2, 3))}, TypeError, "subs must have dtype int64 or int32"),
    ({"subs": np.zeros(3, dtype=np.int64)}, ValueError, "subs must be 2-D"),
    ({"subs": np.zeros((2, 2), dtype=np.int64)}, ValueError, "one column per dimension"),
    ({"subs": np.array([[0, 1, 2], [1, 2, 0]])}, ValueError, r"subs\[1, 1\] = 2 is out of range"),
    ({"subs": np.array([[0, 1, 2], [-1, 0, 0]])}, ValueError, r"subs\[1, 0\] = -1"),
    ({"vals": np.array([1, 2])}, TypeError, "vals must have dtype float64"),
    ({"vals": np.ones((2, 2))}, ValueError, r"vals must have shape \(nnz,\) or \(nnz, 1\)"),
    ({"vals": np.ones(3)}, ValueError, "same number of nonzeros"),
    ({"shape": 5}, TypeError, "shape must be a sequence of ints"),
    ({"shape": (2, 0, 3)}, ValueError, r"shape\[1\] must be a positive integer"),
    ({"shape": (2,)}, ValueError, "order at least 2"),
    ({"factors": np.ones(3)}, TypeError, None),
    ({"factors": 3}, TypeError, "factors must be a list or tuple"),
    ({"factors": [np.ones((2, 4))] * 2}, ValueError, "one matrix per mode"),
    ({"factors": [np.ones((2, 4)), np.ones((2, 4), dtype=int), np.ones((3, 4))]}, TypeError,
     r"factors\[1\] must have dtype float64"),
    ({"factors": [np.ones((2, 4)), np.ones(2), np.ones((3, 4))]}, ValueError,
     r"factors\[1\] must be 2-D"),
    ({"factors": [np.ones((2, 4)), np.ones((2, 4)), np.ones((4, 4))]}, ValueError,
     r"factors\[2\] must have shape\[2\] = 3 rows, got 4"),
    ({"factors": [np.ones((2, 4)), np.ones((2, 4)), np.ones((3, 5))]}, ValueError,
     r"factors\[1\] has 4, factors\[2\] has 5"),
    ({"mode": 3}, ValueError, r"mode must be in \[0, 3\)"),
    ({"mode": -1}, ValueError, r"mode must be in \[0, 3\)"),
    ({"threads": 0}, ValueError, r"number of threads must be an integer in \[1, 1024\]"),
    ({"threads": 5000}, ValueError, "number of threads"),
    ({"schedule": "csf"}, ValueError, "schedule must be 'auto', 'private' or 'rows'"),
]  # fmt: skip


@pytest.mark.parametrize(("change", "error", "message"), BAD_MTTKRP)
def test_mttkrp_bad_input_is_a_clear_python_error(change, error, message):
    subs, vals, shape, factors = kernel_args()
    args = {"subs": subs, "vals": vals, "shape": shape, "factors": factors, "mode": 0}
    keywords = ("threads", "schedule")
    args.update({k: v for k, v in change.items() if k not in keywords})
    kwargs = {k: v for k, v in change.items() if k in keywords}
    with pytest.raises(error, match=message):
        kernels_rs.mttkrp(
            args["subs"], args["vals"], args["shape"], args["factors"], args["mode"], **kwargs
        )


def test_mttkrp_of_an_impossible_size_is_a_memory_error():
    subs = np.array([[0, 1]])
    factors = [None, np.ones((2, 2))]
    with pytest.raises(MemoryError, match="cannot allocate"):
        kernels_rs.mttkrp(subs, np.ones(1), (2**60, 2), factors, 0)


def test_bad_subscripts_are_the_same_error_on_every_schedule():
    shape = (4, 5, 6)
    subs, vals, factors = random_coo(3, shape, 50_000, 8)
    subs[30_000, 2] = 6
    subs[40_000, 0] = -1
    for threads, schedule in [(1, "auto"), (2, "rows"), (4, "private")]:
        with pytest.raises(ValueError, match=r"subs\[30000, 2\] = 6 is out of range"):
            kernels_rs.mttkrp(subs, vals, shape, factors, 1, threads=threads, schedule=schedule)
        with pytest.raises(ValueError, match=r"subs\[30000, 2\] = 6 is out of range"):
            kernels_rs.innerprod_ktensor(subs, vals, shape, np.ones(8), factors, threads=threads)


def test_innerprod_ktensor_is_the_definition_and_the_same_for_any_thread_count():
    for shape in [(6, 5), (4, 3, 5), (3, 2, 3, 4), (2, 3, 2, 2, 3)]:
        subs, vals, factors = random_coo(4, shape, 100_000, 21)  # blocks of 16, 4, 1
        weights = np.linspace(0.5, 2.0, 21)
        terms = weights * np.prod([f[subs[:, m]] for m, f in enumerate(factors)], axis=0)
        expected = float(vals @ terms.sum(axis=1))
        magnitude = float(np.abs(vals) @ np.abs(terms).sum(axis=1))
        got = kernels_rs.innerprod_ktensor(subs, vals, shape, weights, factors, threads=1)
        # Within 1e-13 of the sum of the terms' magnitudes: rounding, whatever cancels.
        assert abs(got - expected) <= 1e-13 * magnitude
        for threads in (2, 3):
            again = kernels_rs.innerprod_ktensor(
                subs, vals, shape, weights, factors, threads=threads
            )
            assert again == got  # the same blocks, added in the same order


def test_innerprod_ktensor_edge_cases_and_bad_input():
    subs, vals, shape, factors = kernel_args()
    assert kernels_rs.innerprod_ktensor(subs, vals, shape, np.ones(4), factors) == 12.0
    empty = np.zeros((0, 3), dtype=np.int64)
    assert kernels_rs.innerprod_ktensor(empty, np.zeros(0), shape, np.ones(4), factors) == 0.0
    nan_vals = np.array([np.nan, 1.0])
    assert np.isnan(kernels_rs.innerprod_ktensor(subs, nan_vals, shape, np.ones(4), factors))
    with pytest.raises(
        ValueError, match=r"weights must have one entry per column of the factors \(4\), got 3"
    ):
        kernels_rs.innerprod_ktensor(subs, vals, shape, np.ones(3), factors)
    with pytest.raises(ValueError, match="weights must be 1-D"):
        kernels_rs.innerprod_ktensor(subs, vals, shape, np.ones((4, 1)), factors)
    with pytest.raises(TypeError, match="weights must have dtype float64"):
        kernels_rs.innerprod_ktensor(subs, vals, shape, np.ones(4, dtype=int), factors)
    # Every factor is read, the first one too.
    short = [np.ones((1, 4)), *factors[1:]]
    with pytest.raises(ValueError, match=r"factors\[0\] must have shape\[0\] = 2 rows"):
        kernels_rs.innerprod_ktensor(subs, vals, shape, np.ones(4), short)


def test_set_num_threads_sets_the_default(restore_threads):
    kernels_rs.set_num_threads(3)
    assert kernels_rs.get_num_threads() == 3
    for bad in (0, -2, kernels_rs.MAX_THREADS + 1):
        with pytest.raises(ValueError, match="number of threads"):
            kernels_rs.set_num_threads(bad)
    assert kernels_rs.get_num_threads() == 3
    with pytest.raises(TypeError):
        kernels_rs.set_num_threads(2.5)


def default_threads(**env):
    clean = {k: v for k, v in os.environ.items() if not k.endswith("NUM_THREADS")}
    code = "import kernels_rs; print(kernels_rs.get_num_threads())"
    run = subprocess.run(
        [sys.executable, "-c", code], env={**clean, **env}, capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr
    return int(run.stdout)


def test_the_default_thread_count_follows_the_environment_like_blas():
    cores = len(os.sched_getaffinity(0))
    assert default_threads() == cores
    assert default_threads(OMP_NUM_THREADS="3") == 3
    # The Makefile's single-thread experiments export RAYON_NUM_THREADS=1.
    assert default_threads(RAYON_NUM_THREADS="1", OMP_NUM_THREADS="3") == 1
    assert default_threads(KERNELS_RS_NUM_THREADS="5", RAYON_NUM_THREADS="1") == 5
    assert default_threads(KERNELS_RS_NUM_THREADS="none", OMP_NUM_THREADS="2") == 2
