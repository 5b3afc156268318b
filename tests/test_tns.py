"""The FROSTT .tns reader and writer, and the Rust TTV on the real tensors in data/tns."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import pyttb as ttb

import kernels_rs
from tensorbench.experiments.ttv_impls import as_coo
from tensorbench.tns import read_tns, shape_from_header, write_tns

DATA = Path(__file__).resolve().parents[1] / "data" / "inputs" / "tns"
REAL = {
    "small": ((2, 3, 2), 6),
    "med": ((2425, 10816, 29567), 100_000),
    "med4": ((60114, 83826, 23034, 1132), 100_000),
    "med5": ((60114, 83826, 23034, 1132, 100), 100_000),
}


def test_small_tns_reads_as_documented():
    tensor = read_tns(DATA / "small.tns")
    assert isinstance(tensor, ttb.sptensor)
    assert tensor.shape == (2, 3, 2) and tensor.nnz == 6
    assert tensor.subs.dtype == np.int64 and tensor.vals.shape == (6, 1)
    # first line "2 2 2 6.0" (after the comment) -> 0-based [1, 1, 1] = 6
    np.testing.assert_array_equal(tensor.subs[0], [1, 1, 1])
    assert tensor.vals[0, 0] == 6.0
    assert tensor.subs.flags["C_CONTIGUOUS"]


@pytest.mark.parametrize("name", sorted(REAL))
def test_real_tensors_have_the_documented_shape(name):
    tensor = read_tns(DATA / f"{name}.tns")
    shape, nnz = REAL[name]
    assert tensor.shape == shape and tensor.nnz == nnz
    assert (DATA / "LICENSE").read_text().startswith("The MIT License")


@pytest.mark.parametrize("name", sorted(REAL))
def test_rust_ttv_matches_pyttb_on_every_mode_of_the_real_tensors(name):
    tensor = read_tns(DATA / f"{name}.tns")
    rng = np.random.default_rng(7)
    for mode in range(tensor.ndims):
        vector = rng.uniform(size=tensor.shape[mode])
        newsubs, newvals, newshape = kernels_rs.ttv(
            tensor.subs, tensor.vals, tensor.shape, vector, mode
        )
        e_subs, e_vals, e_shape = as_coo(tensor.ttv(vector, mode), tensor.ndims - 1)
        assert newshape == e_shape
        np.testing.assert_array_equal(newsubs, e_subs)
        np.testing.assert_allclose(newvals[:, 0], e_vals, rtol=1e-13, atol=0)


def test_write_then_read_is_exact(tmp_path):
    rng = np.random.default_rng(1)
    subs = np.column_stack([rng.integers(0, n, 50) for n in (4, 9, 3, 5)])
    vals = rng.normal(size=(50, 1)) * 10.0 ** rng.integers(-300, 300, (50, 1))
    tensor = ttb.sptensor(subs, vals, (6, 9, 3, 7))  # last slices empty: shape from header
    path = write_tns(tmp_path / "t.tns", tensor, comment="two\nlines")
    text = path.read_text()
    assert text.startswith("# two\n# lines\n# shape: 6 9 3 7\n")
    assert shape_from_header(path) == (6, 9, 3, 7)
    back = read_tns(path)
    assert back.shape == tensor.shape
    np.testing.assert_array_equal(back.subs, tensor.subs)
    np.testing.assert_array_equal(back.vals, tensor.vals)
    first = text.splitlines()[3].split()
    assert [int(i) for i in first[:4]] == list(subs[0] + 1)  # 1-based on disk


def test_read_with_explicit_shape_and_summed_duplicates(tmp_path):
    path = tmp_path / "dup.tns"
    path.write_text("# c\n1 2 1.5\n\n1 2 2.5\n3 1 -1\n")
    tensor = read_tns(path, shape=(4, 2))
    assert tensor.shape == (4, 2) and tensor.nnz == 3
    merged = read_tns(path, sum_duplicates=True)
    assert merged.shape == (3, 2)
    np.testing.assert_array_equal(merged.subs, [[0, 1], [2, 0]])
    np.testing.assert_array_equal(merged.vals[:, 0], [4.0, -1.0])


def test_empty_file_needs_a_shape(tmp_path):
    path = tmp_path / "empty.tns"
    path.write_text("# nothing\n")
    with pytest.raises(ValueError, match="no nonzeros"):
        read_tns(path)
    assert read_tns(path, shape=(2, 3)).shape == (2, 3)
    assert read_tns(path, shape=(2, 3)).nnz == 0


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("1 2 3.0\n0 1 2.0\n", "indices start at 1"),
        ("1 2 3.0\n1 2\n", "fewer than 3 fields"),
        ("1 2 3.0\n1 2 3 4.0\n", "not a valid .tns file"),
        ("1 x 3.0\n", "not a valid .tns file"),
        ("1.5 2 3.0\n", "not a valid .tns file"),
        ("5.0\n", "at least one index and a value"),
    ],
)
def test_malformed_files_raise_value_error(tmp_path, text, match):
    path = tmp_path / "bad.tns"
    path.write_text(text)
    with pytest.raises(ValueError, match=match):
        read_tns(path)


def test_shape_too_small_for_the_indices(tmp_path):
    path = tmp_path / "t.tns"
    path.write_text("3 2 1.0\n")
    with pytest.raises(ValueError, match="do not fit"):
        read_tns(path, shape=(2, 2))
    with pytest.raises(ValueError, match="has 3 modes"):
        read_tns(path, shape=(3, 2, 1))
