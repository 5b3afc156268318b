"""Tensor-train kernels from Python: every function against np.einsum, every layout,
every bad input (TypeError / ValueError naming the problem, never a panic)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import kernels_rs

EINSUM = {
    "first_site": "sa,sb->ab",
    "env_bra": "ab,asc->bsc",
    "tmp_ket": "bsc,bse->ce",
}


def cnormal(rng, *shape):
    return rng.standard_normal(shape) + 1j * rng.standard_normal(shape)


def rel_err(got, want) -> float:
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape
    if want.size == 0:
        return 0.0
    return float(np.max(np.abs(got - want)) / max(np.max(np.abs(want)), 1e-300))


def ref_first_site(bra, ket):
    return np.einsum(EINSUM["first_site"], bra.conj(), ket)


def ref_env_bra(env, bra):
    return np.einsum(EINSUM["env_bra"], env, bra.conj())


def ref_tmp_ket(tmp, ket):
    return np.einsum(EINSUM["tmp_ket"], tmp, ket)


def ref_site_update(env, bra, ket):
    return ref_tmp_ket(ref_env_bra(env, bra), ket)


def ref_inner(bras, kets):
    env = np.ones((1, 1), dtype=complex)
    for bra, ket in zip(bras, kets, strict=True):
        env = ref_site_update(env, bra, ket)
    return env[0, 0]


def chain(rng, bonds, dims):
    return [cnormal(rng, bonds[i], d, bonds[i + 1]) for i, d in enumerate(dims)]


SHAPES = [  # (chi_bra, chi_ket, d, chi_bra', chi_ket')
    (1, 1, 2, 1, 1),
    (2, 2, 2, 2, 2),
    (3, 5, 2, 4, 7),
    (4, 4, 2, 4, 4),
    (8, 8, 2, 8, 8),
    (16, 16, 2, 16, 16),
    (17, 9, 3, 11, 13),
    (32, 32, 2, 32, 32),
    (64, 64, 2, 64, 64),
    (5, 6, 1, 7, 8),
]


@pytest.mark.parametrize(("cb", "ck", "d", "cbr", "ckr"), SHAPES)
def test_every_contraction_matches_einsum(cb, ck, d, cbr, ckr):
    rng = np.random.default_rng(cb * 1000 + ck)
    bra_first, ket_first = cnormal(rng, d, cb), cnormal(rng, d, ck)
    env = cnormal(rng, cb, ck)
    bra, ket = cnormal(rng, cb, d, cbr), cnormal(rng, ck, d, ckr)
    tmp = ref_env_bra(env, bra)
    checks = [
        (kernels_rs.tt_first_site(bra_first, ket_first), ref_first_site(bra_first, ket_first)),
        (kernels_rs.tt_env_bra(env, bra), tmp),
        (kernels_rs.tt_tmp_ket(tmp, ket), ref_tmp_ket(tmp, ket)),
        (kernels_rs.tt_site_update(env, bra, ket), ref_site_update(env, bra, ket)),
    ]
    for got, want in checks:
        assert got.dtype == np.complex128 and got.flags.c_contiguous
        assert rel_err(got, want) <= 1e-12


@pytest.mark.parametrize("chi", [1, 2, 3, 4, 8, 16, 32, 64])
def test_chain_matches_einsum_and_a_loop_of_site_updates(chi):
    rng = np.random.default_rng(chi)
    length = 32 if chi <= 16 else 6
    bonds = [1, *([chi] * (length - 1)), 1]
    bras, kets = chain(rng, bonds, [2] * length), chain(rng, bonds, [2] * length)
    got = kernels_rs.tt_inner(bras, kets)
    assert isinstance(got, complex)
    want = ref_inner(bras, kets)
    assert abs(got - want) <= 1e-12 * abs(want)
    env = np.ones((1, 1), dtype=complex)
    for bra, ket in zip(bras, kets, strict=True):
        env = kernels_rs.tt_site_update(env, bra, ket)
    assert abs(env[0, 0] - want) <= 1e-12 * abs(want)
    assert kernels_rs.tt_inner(tuple(bras), tuple(kets)) == got  # tuples too


def test_chain_with_uneven_bonds_and_dimensions_matches_brute_force():
    rng = np.random.default_rng(11)
    dims = [2, 3, 2, 1, 2]
    bras = chain(rng, [1, 2, 5, 3, 3, 1], dims)
    kets = chain(rng, [1, 3, 4, 4, 2, 1], dims)

    # Brute force: contract each chain into its full state vector.
    def state(sites):
        psi = np.ones((1, 1))
        for t in sites:
            psi = np.einsum("pl,lsr->psr", psi, t).reshape(-1, t.shape[2])
        return psi[:, 0]

    want = np.vdot(state(bras), state(kets))
    assert abs(kernels_rs.tt_inner(bras, kets) - want) <= 1e-12 * abs(want)
    assert abs(ref_inner(bras, kets) - want) <= 1e-12 * abs(want)


@settings(max_examples=60, deadline=None)
@given(
    st.integers(1, 12),
    st.integers(1, 12),
    st.integers(1, 3),
    st.integers(1, 12),
    st.integers(1, 12),
    st.integers(0, 2**32 - 1),
)
def test_site_update_on_random_shapes(cb, ck, d, cbr, ckr, seed):
    rng = np.random.default_rng(seed)
    env, bra, ket = cnormal(rng, cb, ck), cnormal(rng, cb, d, cbr), cnormal(rng, ck, d, ckr)
    assert (
        rel_err(kernels_rs.tt_site_update(env, bra, ket), ref_site_update(env, bra, ket)) <= 1e-12
    )


def layouts(array):
    """The same values in other memory layouts."""
    yield "fortran", np.asfortranarray(array)
    reversed_copy = np.ascontiguousarray(array[::-1])
    yield "negative stride", reversed_copy[::-1]
    padded = np.zeros((*array.shape[:-1], 2 * array.shape[-1]), dtype=complex)
    padded[..., ::2] = array
    yield "strided", padded[..., ::2]
    readonly = array.copy()
    readonly.flags.writeable = False
    yield "read-only", readonly
    raw = np.zeros(array.size * 16 + 8, dtype=np.uint8)
    unaligned = raw[8 : 8 + array.size * 16].view(np.complex128).reshape(array.shape)
    unaligned[...] = array
    yield "unaligned", unaligned
    record = np.zeros(array.shape, dtype=[("z", np.complex128), ("pad", np.int8)])
    record["z"] = array
    yield "stride not a whole element", record["z"]


@pytest.mark.parametrize("chi", [1, 3, 16])
def test_any_layout_gives_the_same_result_and_inputs_are_untouched(chi):
    rng = np.random.default_rng(chi)
    env, bra, ket = cnormal(rng, chi, chi), cnormal(rng, chi, 2, chi), cnormal(rng, chi, 2, chi)
    want = ref_site_update(env, bra, ket)
    for name, env_l in layouts(env):
        for _, bra_l in layouts(bra):
            before = bra_l.copy()
            got = kernels_rs.tt_site_update(env_l, bra_l, ket)
            assert rel_err(got, want) <= 1e-12, name
            assert np.array_equal(bra_l, before)
    bras = [cnormal(rng, 1, 2, chi), cnormal(rng, chi, 2, 1)]
    kets = [cnormal(rng, 1, 2, chi), cnormal(rng, chi, 2, 1)]
    want_inner = ref_inner(bras, kets)
    for name, middle in layouts(bras[1]):
        assert abs(kernels_rs.tt_inner([bras[0], middle], kets) - want_inner) <= 1e-12 * abs(
            want_inner
        ), name
    first = cnormal(rng, 2, chi)
    for name, layout in layouts(first):
        assert (
            rel_err(kernels_rs.tt_first_site(layout, first), ref_first_site(first, first)) <= 1e-12
        ), name


def test_the_same_array_may_be_passed_twice():
    rng = np.random.default_rng(5)
    env, site = cnormal(rng, 4, 4), cnormal(rng, 4, 2, 4)
    assert (
        rel_err(kernels_rs.tt_site_update(env, site, site), ref_site_update(env, site, site))
        <= 1e-12
    )
    psi = [cnormal(rng, 1, 2, 3), cnormal(rng, 3, 2, 1)]
    norm = kernels_rs.tt_inner(psi, psi)
    assert norm.real > 0 and abs(norm.imag) <= 1e-12 * norm.real


# Sizes on both sides of the bindings' thresholds: inputs of at most 256 elements
# (COPY_MAX_ELEMENTS) are read in place, outputs of at most 16 and 256 elements go through
# stack buffers, and work of 2**15 multiply-adds or more releases the GIL.
BOUNDARY_SHAPES = [  # (chi_bra, chi_ket, d, chi_bra', chi_ket')
    (16, 16, 2, 8, 8),  # env 256, sites 256, output 64: in place
    (16, 17, 2, 8, 8),  # env 272: copied
    (16, 16, 2, 8, 9),  # ket 288: copied
    (4, 4, 2, 4, 4),  # output 16
    (4, 4, 2, 4, 5),  # output 20
    (1, 1, 2, 16, 16),  # output 256
    (1, 1, 2, 16, 17),  # output 272
    (8, 8, 4, 8, 8),  # 4096 multiply-adds, sites 256
    (16, 16, 8, 16, 16),  # 65,536 multiply-adds: GIL released
]


@pytest.mark.parametrize(("cb", "ck", "d", "cbr", "ckr"), BOUNDARY_SHAPES)
def test_every_path_gives_a_new_correct_array(cb, ck, d, cbr, ckr):
    rng = np.random.default_rng(cb + 100 * ck + 10_000 * cbr + 1_000_000 * ckr)
    env = cnormal(rng, cb, ck)
    bra, ket = cnormal(rng, cb, d, cbr), cnormal(rng, ck, d, ckr)
    bra_first, ket_first = cnormal(rng, d, cbr), cnormal(rng, d, ckr)
    tmp = ref_env_bra(env, bra)
    calls = [
        (kernels_rs.tt_first_site(bra_first, ket_first), ref_first_site(bra_first, ket_first)),
        (kernels_rs.tt_env_bra(env, bra), tmp),
        (kernels_rs.tt_tmp_ket(tmp, ket), ref_tmp_ket(tmp, ket)),
        (kernels_rs.tt_site_update(env, bra, ket), ref_site_update(env, bra, ket)),
    ]
    for got, want in calls:
        assert rel_err(got, want) <= 1e-12
        assert got.dtype == np.complex128
        assert got.flags.c_contiguous and got.flags.owndata and got.flags.writeable
        for operand in (env, bra, ket, bra_first, ket_first, tmp):
            assert not np.shares_memory(got, operand)


def test_arrays_are_read_after_python_code_that_changes_them():
    """The chain reads its arrays only once every list element has been fetched, so a
    sequence whose __getitem__ changes an earlier element gives the result for the
    changed values (reading in place while Python code runs would be unsound)."""
    rng = np.random.default_rng(21)
    bras = chain(rng, [1, 2, 2, 1], [2, 2, 2])
    kets = chain(rng, [1, 2, 2, 1], [2, 2, 2])

    class Mutating(list):
        def __getitem__(self, index):
            if index == len(self) - 1:
                list.__getitem__(self, 0)[...] *= 2.0
            return list.__getitem__(self, index)

    got = kernels_rs.tt_inner(Mutating(bras), kets)
    want = ref_inner(bras, kets)  # bras[0] has been doubled by now
    assert abs(got - want) <= 1e-12 * abs(want)


# --- out= -------------------------------------------------------------------------------


def _out_layouts(shape):
    """Writeable complex128 arrays of ``shape`` in several memory layouts."""
    yield "C order", np.full(shape, np.nan, complex)
    yield "Fortran order", np.asfortranarray(np.full(shape, np.nan, complex))
    padded = np.full((*shape[:-1], 2 * shape[-1]), np.nan, complex)
    yield "strided", padded[..., ::2]
    raw = np.zeros(int(np.prod(shape)) * 16 + 8, dtype=np.uint8)
    yield "unaligned", raw[8:].view(np.complex128).reshape(shape)


@pytest.mark.parametrize(
    ("cb", "ck", "d", "cbr", "ckr"),
    BOUNDARY_SHAPES[:1] + SHAPES[:2] + [(1, 1, 2, 16, 17), (16, 16, 8, 16, 16)],
)
def test_out_receives_the_result_in_any_layout_and_is_returned(cb, ck, d, cbr, ckr):
    rng = np.random.default_rng(cb + 7 * ck + 49 * cbr + 343 * ckr)
    env = cnormal(rng, cb, ck)
    bra, ket = cnormal(rng, cb, d, cbr), cnormal(rng, ck, d, ckr)
    bra_first, ket_first = cnormal(rng, d, cbr), cnormal(rng, d, ckr)
    tmp = ref_env_bra(env, bra)
    cases = [
        (kernels_rs.tt_first_site, (bra_first, ket_first), ref_first_site(bra_first, ket_first)),
        (kernels_rs.tt_env_bra, (env, bra), tmp),
        (kernels_rs.tt_tmp_ket, (tmp, ket), ref_tmp_ket(tmp, ket)),
        (kernels_rs.tt_site_update, (env, bra, ket), ref_site_update(env, bra, ket)),
    ]
    for func, args, want in cases:
        for name, out in _out_layouts(want.shape):
            assert func(*args, out=out) is out, name
            assert rel_err(out, want) <= 1e-12, name
            out[...] = np.nan
            assert func(*args, out) is out, name  # positional, as in np.dot
            assert rel_err(out, want) <= 1e-12, name


@pytest.mark.parametrize("chi", [1, 4, 16, 64])
def test_out_may_be_an_input(chi):
    rng = np.random.default_rng(chi)
    env, bra, ket = cnormal(rng, chi, chi), cnormal(rng, chi, 2, chi), cnormal(rng, chi, 2, chi)
    want = ref_site_update(env, bra, ket)
    assert kernels_rs.tt_site_update(env, bra, ket, out=env) is env
    assert rel_err(env, want) <= 1e-12
    site, env = cnormal(rng, chi, 2, chi), cnormal(rng, chi, chi)
    want = ref_env_bra(env, site)
    assert kernels_rs.tt_env_bra(env, site, out=site) is site
    assert rel_err(site, want) <= 1e-12


@pytest.mark.parametrize("chi", [4, 32])
def test_out_overlapping_an_input_through_another_view_gets_the_right_result(chi):
    # `out` is not the input object but shares its memory: the result must not be
    # written over the input while the kernel still reads it.
    rng = np.random.default_rng(100 + chi)
    memory = cnormal(rng, 2, chi, chi)
    env, out = memory[0], memory.view()[0]
    bra, ket = cnormal(rng, chi, 2, chi), cnormal(rng, chi, 2, chi)
    want = ref_site_update(env.copy(), bra, ket)
    assert kernels_rs.tt_site_update(env, bra, ket, out=out) is out
    assert rel_err(memory[0], want) <= 1e-12
    site = cnormal(rng, 2, chi, 2, chi)
    env = cnormal(rng, chi, chi)
    want = ref_env_bra(env, site[0].copy())
    out = site.view()[0].reshape(chi, 2, chi)
    assert kernels_rs.tt_env_bra(env, site[0], out=out) is out
    assert rel_err(site[0], want) <= 1e-12


@pytest.mark.parametrize(
    ("out", "error", "message"),
    [
        (np.zeros((4, 5)), TypeError, "out must have dtype complex128"),
        (np.zeros((4, 5), np.complex64), TypeError, "out must have dtype complex128"),
        ([[0j] * 5] * 4, TypeError, "out must be a numpy.ndarray"),
        (
            np.zeros((5, 4), complex),
            ValueError,
            r"out must have the result's shape \(4, 5\), got \(5, 4\)",
        ),
        (np.zeros((4, 5, 1), complex), ValueError, "out must be 2-D"),
        (np.zeros((4, 5), complex), None, None),
    ],
    ids=["float64", "complex64", "list", "shape", "ndim", "ok"],
)
def test_bad_out_is_refused_with_a_clear_message(out, error, message):
    args = (GOOD["env"], GOOD["bra"], GOOD["ket"])
    if error is None:
        assert kernels_rs.tt_site_update(*args, out=out) is out
        return
    with pytest.raises(error, match=message):
        kernels_rs.tt_site_update(*args, out=out)


def test_read_only_out_is_a_value_error_and_untouched():
    out = np.zeros((4, 5), complex)
    out.flags.writeable = False
    with pytest.raises(ValueError, match="out is read-only"):
        kernels_rs.tt_site_update(GOOD["env"], GOOD["bra"], GOOD["ket"], out=out)
    assert not out.any()
    big = np.zeros((64, 64), complex)
    big.flags.writeable = False
    rng = np.random.default_rng(3)
    with pytest.raises(ValueError, match="out is read-only"):
        kernels_rs.tt_first_site(cnormal(rng, 2, 64), cnormal(rng, 2, 64), out=big)


def test_zero_sized_axes_give_zeros():
    env = np.ones((2, 3), dtype=complex)
    out = kernels_rs.tt_site_update(env, np.zeros((2, 0, 4), complex), np.zeros((3, 0, 5), complex))
    assert out.shape == (4, 5) and not out.any()
    assert kernels_rs.tt_env_bra(np.zeros((0, 3), complex), np.zeros((0, 2, 4), complex)).shape == (
        3,
        2,
        4,
    )


# --- bad input -------------------------------------------------------------------------

GOOD = {
    "env": np.ones((2, 3), complex),
    "bra": np.ones((2, 2, 4), complex),
    "ket": np.ones((3, 2, 5), complex),
}


@pytest.mark.parametrize(
    "bad",
    [
        np.ones((2, 3)),  # float64
        np.ones((2, 3), np.complex64),
        np.ones((2, 3), np.dtype(">c16")),  # non-native byte order
        [[1 + 0j] * 3] * 2,  # a list, not an array
        None,
        5,
    ],
    ids=["float64", "complex64", "big-endian", "list", "None", "int"],
)
def test_wrong_type_or_dtype_is_a_type_error(bad):
    with pytest.raises(TypeError, match="env"):
        kernels_rs.tt_site_update(bad, GOOD["bra"], GOOD["ket"])
    with pytest.raises(TypeError, match="env"):
        kernels_rs.tt_env_bra(bad, GOOD["bra"])
    with pytest.raises(TypeError, match="bra_first"):
        kernels_rs.tt_first_site(bad, np.ones((2, 3), complex))


@pytest.mark.parametrize(
    ("env", "bra", "ket", "message"),
    [
        (np.ones((2, 3, 1), complex), GOOD["bra"], GOOD["ket"], r"env must be 2-D.*\(2, 3, 1\)"),
        (GOOD["env"], np.ones((2, 2), complex), GOOD["ket"], r"bra must be 3-D.*\(2, 2\)"),
        (GOOD["env"], GOOD["bra"], np.ones(3, complex), r"ket must be 3-D.*\(3,\)"),
        (GOOD["env"], np.ones((3, 2, 4), complex), GOOD["ket"], r"chi_bra.*\(2, 3\).*\(3, 2, 4\)"),
        (GOOD["env"], GOOD["bra"], np.ones((2, 2, 5), complex), r"chi_ket.*\(2, 2, 5\)"),
        (GOOD["env"], GOOD["bra"], np.ones((3, 3, 5), complex), r"physical dimension.*\(3, 3, 5\)"),
    ],
)
def test_wrong_shapes_are_value_errors_naming_the_shapes(env, bra, ket, message):
    with pytest.raises(ValueError, match=message):
        kernels_rs.tt_site_update(env, bra, ket)


def test_pairwise_shape_errors():
    with pytest.raises(ValueError, match=r"physical dimension.*\(2, 3\).*\(3, 3\)"):
        kernels_rs.tt_first_site(np.ones((2, 3), complex), np.ones((3, 3), complex))
    with pytest.raises(ValueError, match=r"chi_bra.*\(3, 2, 2\)"):
        kernels_rs.tt_env_bra(np.ones((2, 2), complex), np.ones((3, 2, 2), complex))
    with pytest.raises(ValueError, match=r"\(2, 2, 4\).*\(2, 3, 4\)"):
        kernels_rs.tt_tmp_ket(np.ones((2, 2, 4), complex), np.ones((2, 3, 4), complex))
    with pytest.raises(ValueError, match=r"\(2, 2, 4\).*\(3, 2, 4\)"):
        kernels_rs.tt_tmp_ket(np.ones((2, 2, 4), complex), np.ones((3, 2, 4), complex))


def sites(*shapes):
    return [np.ones(s, complex) for s in shapes]


@pytest.mark.parametrize(
    ("bras", "kets", "error", "message"),
    [
        ([], [], ValueError, "at least one"),
        (sites((1, 2, 1)), [], ValueError, "at least one"),
        (
            sites((1, 2, 3), (3, 2, 1)),
            sites((1, 2, 1)),
            ValueError,
            "same number of sites, got 2 and 1",
        ),
        (sites((2, 2, 1)), sites((1, 2, 1)), ValueError, r"bras\[0\] must have left bond 1"),
        (
            sites((1, 2, 3), (3, 2, 2)),
            sites((1, 2, 3), (3, 2, 1)),
            ValueError,
            r"bras\[1\] must have right bond 1",
        ),
        (
            sites((1, 2, 3), (4, 2, 1)),
            sites((1, 2, 3), (3, 2, 1)),
            ValueError,
            r"bras\[0\]'s right bond.*\(1, 2, 3\).*\(4, 2, 1\)",
        ),
        (
            sites((1, 2, 3), (3, 2, 1)),
            sites((1, 2, 3), (2, 2, 1)),
            ValueError,
            r"kets\[0\]'s right bond",
        ),
        (
            sites((1, 2, 3), (3, 2, 1)),
            sites((1, 2, 3), (3, 3, 1)),
            ValueError,
            r"bras\[1\] and kets\[1\].*physical",
        ),
        (sites((1, 2, 1)), [np.ones((1, 2), complex)], ValueError, r"kets\[0\] must be 3-D"),
        (
            sites((1, 2, 1)),
            [np.ones((1, 2, 1))],
            TypeError,
            r"kets\[0\] must have dtype complex128",
        ),
        (sites((1, 2, 1)), [None], TypeError, r"kets\[0\] must be a numpy.ndarray"),
        (
            np.ones((1, 1, 2, 1), complex),
            sites((1, 2, 1)),
            TypeError,
            "bras must be a list or tuple",
        ),
        (sites((1, 2, 1)), 3, TypeError, "kets must be a list or tuple"),
    ],
)
def test_bad_chains_are_refused_with_a_clear_message(bras, kets, error, message):
    with pytest.raises(error, match=message):
        kernels_rs.tt_inner(bras, kets)


# --- the in-Rust timer -------------------------------------------------------------------


def test_bench_tt_times_every_case_with_batches():
    rng = np.random.default_rng(3)
    env, bra, ket = cnormal(rng, 2, 2), cnormal(rng, 2, 2, 2), cnormal(rng, 2, 2, 2)
    bras = [cnormal(rng, 1, 2, 2), cnormal(rng, 2, 2, 1)]
    cases = {
        "first_site": (cnormal(rng, 2, 2), cnormal(rng, 2, 2)),
        "env_bra": (env, bra),
        "tmp_ket": (bra, ket),
        "site_update": (env, bra, ket),
        "chain": (bras, bras),
    }
    for case, operands in cases.items():
        seconds, calls = kernels_rs.bench_tt(case, operands, 4, 1e-5)
        assert len(seconds) == 5 and all(math.isfinite(s) and s > 0 for s in seconds)
        assert calls >= 1 and calls & (calls - 1) == 0


@pytest.mark.parametrize(
    ("args", "error", "message"),
    [
        (("dot", (GOOD["env"],), 2, 1e-5), ValueError, "case must be one of"),
        (
            ("site_update", (GOOD["env"], GOOD["bra"]), 2, 1e-5),
            ValueError,
            "takes 3 operands, got 2",
        ),
        (
            ("site_update", (GOOD["env"], GOOD["bra"], GOOD["ket"]), 0, 1e-5),
            ValueError,
            "n_samples",
        ),
        (
            ("site_update", (GOOD["env"], GOOD["bra"], GOOD["ket"]), 2, -1.0),
            ValueError,
            "min_sample_seconds",
        ),
        (
            ("site_update", (GOOD["env"], GOOD["bra"], GOOD["ket"]), 2, float("nan")),
            ValueError,
            "min_sample_seconds",
        ),
        (("site_update", (GOOD["env"], GOOD["ket"], GOOD["ket"]), 2, 1e-5), ValueError, "chi_bra"),
        (("env_bra", (np.ones((2, 2)), GOOD["bra"]), 2, 1e-5), TypeError, "env must have dtype"),
        (("chain", ([], []), 2, 1e-5), ValueError, "at least one"),
        (
            ("site_update", (GOOD["env"], GOOD["bra"], GOOD["ket"]), 2**40, 1e-5),
            ValueError,
            "n_samples must be at most",
        ),
        (  # no elements in, 2**58 out: refused, not allocated
            ("first_site", (np.zeros((0, 2**29), complex),) * 2, 1, 0.0),
            ValueError,
            "outputs of at most",
        ),
        (("first_site", (np.zeros((0, 2**33), complex),) * 2, 1, 0.0), ValueError, "usize::MAX"),
    ],
)
def test_bench_tt_refuses_bad_arguments(args, error, message):
    with pytest.raises(error, match=message):
        kernels_rs.bench_tt(*args)


def test_kernel_info_names_the_code_path_and_thresholds():
    info = kernels_rs.tt_kernel_info()
    assert info["tiled_path"] in {"tiled-avx512", "tiled-avx2-fma", "tiled-scalar"}
    assert info["tiled_path"] in info["available_paths"]
    assert {"direct", "tiled-scalar"} <= set(info["available_paths"])
    assert info["direct_loop_max_macs"] >= 1 and info["gil_release_min_macs"] > 0


# --- sizes that cannot be served ---------------------------------------------------------


def test_large_outputs_are_allocated_by_numpy_and_still_correct():
    rng = np.random.default_rng(13)
    env, bra = cnormal(rng, 1, 1024), cnormal(rng, 1, 2, 1024)  # output: 2**21 elements
    assert rel_err(kernels_rs.tt_env_bra(env, bra), ref_env_bra(env, bra)) <= 1e-12


def test_impossible_sizes_raise_memory_error_instead_of_crashing():
    # np.zeros does not touch its pages, so these inputs cost no real memory.
    n = 2**22
    with pytest.raises(MemoryError):  # a 2**44-element output
        kernels_rs.tt_first_site(np.zeros((1, n), complex), np.zeros((1, n), complex))
    with pytest.raises(MemoryError, match="scratch"):  # a 2**44-element intermediate
        kernels_rs.tt_site_update(
            np.zeros((1, n), complex), np.zeros((1, 1, n), complex), np.zeros((n, 1, 1), complex)
        )
    with pytest.raises(MemoryError):  # empty inputs, a 2**44-element output
        kernels_rs.tt_env_bra(np.zeros((0, n), complex), np.zeros((0, 2**11, 2**11), complex))
    # Afterwards everything works as before.
    assert kernels_rs.tt_inner([np.ones((1, 2, 1), complex)], [np.ones((1, 2, 1), complex)]) == 2


class _ShapeChangingCopy(np.ndarray):
    """An ndarray subclass whose ``copy`` returns another shape: the bindings must not
    call it when they copy an array they cannot read in place."""

    def copy(self, *args, **kwargs):
        return np.zeros((5, 5, 5), complex)


def _unreadable_subclass(array):
    """`array` as a record field (strides not whole elements, so the bindings copy it)
    viewed as `_ShapeChangingCopy`."""
    record = np.zeros(array.shape, dtype=[("z", np.complex128), ("pad", np.int8)])
    record["z"] = array
    return record["z"].view(_ShapeChangingCopy)


def test_copies_of_unreadable_subclass_arrays_do_not_call_python_overrides():
    rng = np.random.default_rng(3)
    env, bra, ket = cnormal(rng, 2, 3), cnormal(rng, 2, 2, 4), cnormal(rng, 3, 2, 5)
    got = kernels_rs.tt_site_update(env, bra, _unreadable_subclass(ket))
    assert rel_err(got, ref_site_update(env, bra, ket)) < 1e-12
    bras, kets = chain(rng, [1, 3, 1], [2, 2]), chain(rng, [1, 4, 1], [2, 2])
    odd = [_unreadable_subclass(k) for k in kets]
    assert abs(kernels_rs.tt_inner(bras, odd) - ref_inner(bras, kets)) < 1e-12 * abs(
        ref_inner(bras, kets)
    )


class _PlainSubclass(np.ndarray):
    """An ndarray subclass without overrides: read in place like a base-class array."""


@pytest.mark.parametrize("chi", [1, 3])
def test_subclass_inputs_read_in_place_give_a_base_class_result(chi):
    rng = np.random.default_rng(7)
    env, bra, ket = cnormal(rng, chi, chi), cnormal(rng, chi, 2, chi), cnormal(rng, chi, 2, chi)
    got = kernels_rs.tt_site_update(
        env.view(_PlainSubclass), bra.view(_PlainSubclass), ket.view(_PlainSubclass)
    )
    assert type(got) is np.ndarray
    np.testing.assert_allclose(got, kernels_rs.tt_site_update(env, bra, ket), rtol=0, atol=0)
    assert rel_err(got, ref_site_update(env, bra, ket)) < 1e-12
