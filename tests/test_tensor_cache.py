"""The on-disk cache of sptenrand tensors: generated once, loaded identically, and
generated again when its files are damaged."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tensorbench import tensor_cache

SHAPE, DENSITY, SEED = (6, 5, 4), 0.2, 11


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv(tensor_cache.CACHE_VARIABLE, str(tmp_path))
    return tmp_path


def _same(a, b) -> bool:
    return a.shape == b.shape and np.array_equal(a.subs, b.subs) and np.array_equal(a.vals, b.vals)


def test_a_cached_tensor_is_the_generated_one_and_records_checksums_and_sizes(cache):
    logs = []
    tensor = tensor_cache.sptenrand(SHAPE, DENSITY, SEED, log=logs.append)
    assert any("generating" in line for line in logs)
    assert _same(tensor, tensor_cache.generate(SHAPE, DENSITY, SEED))
    folder = tensor_cache.folder_of(SHAPE, DENSITY, SEED)
    assert folder.is_relative_to(cache)
    meta = json.loads((folder / "meta.json").read_text())
    assert set(meta["sha256"]) == set(meta["bytes"]) == {"subs", "vals"}
    assert meta["nnz"] == tensor.nnz
    assert tensor_cache.is_valid(folder) and tensor_cache.is_valid(folder, checksums=False)
    logs.clear()
    assert _same(tensor_cache.sptenrand(SHAPE, DENSITY, SEED, log=logs.append), tensor)
    assert logs == []  # loaded from the cache, not generated again


def _damage(folder, truncate: bool) -> None:
    path = folder / "vals.npy"
    data = bytearray(path.read_bytes())
    if truncate:
        del data[-8:]
    else:
        data[-1] ^= 0xFF  # same size, different value
    path.write_bytes(bytes(data))


def test_a_truncated_file_is_noticed_by_the_size_check_and_generated_again(cache):
    tensor = tensor_cache.sptenrand(SHAPE, DENSITY, SEED, log=lambda _: None)
    folder = tensor_cache.folder_of(SHAPE, DENSITY, SEED)
    _damage(folder, truncate=True)
    assert not tensor_cache.is_valid(folder, checksums=False)
    messages = []
    assert _same(tensor_cache.sptenrand(SHAPE, DENSITY, SEED, log=messages.append), tensor)
    assert any("does not match" in m for m in messages)
    assert tensor_cache.is_valid(folder)


def test_a_changed_value_is_noticed_by_ensure_and_generated_again(cache):
    tensor = tensor_cache.sptenrand(SHAPE, DENSITY, SEED, log=lambda _: None)
    folder = tensor_cache.folder_of(SHAPE, DENSITY, SEED)
    _damage(folder, truncate=False)
    # The size check, made in every cell, cannot see it; the checksum, made once per run
    # by ensure() before the cells, does.
    assert tensor_cache.is_valid(folder, checksums=False)
    assert not tensor_cache.is_valid(folder)
    logs = []
    tensor_cache.ensure(SHAPE, DENSITY, SEED, log=logs.append)
    assert any("does not match its checksums" in line for line in logs)
    assert tensor_cache.is_valid(folder)
    assert _same(tensor_cache.sptenrand(SHAPE, DENSITY, SEED, log=lambda _: None), tensor)


def test_an_entry_without_recorded_sizes_is_checked_by_checksum(cache):
    tensor_cache.sptenrand(SHAPE, DENSITY, SEED, log=lambda _: None)
    folder = tensor_cache.folder_of(SHAPE, DENSITY, SEED)
    meta_path = folder / "meta.json"
    meta = json.loads(meta_path.read_text())
    del meta["bytes"]  # as written by an earlier version
    meta_path.write_text(json.dumps(meta))
    assert tensor_cache.is_valid(folder, checksums=False)
    _damage(folder, truncate=False)
    assert not tensor_cache.is_valid(folder, checksums=False)
