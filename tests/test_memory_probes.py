"""The STREAM-style bandwidth probes of kernels_rs (src/memory/): what they return and
every way to call them wrong. No timing is asserted: only shapes, counts and errors."""

from __future__ import annotations

import os

import pytest

import kernels_rs

KERNELS = ("read", "copy", "triad")
PHYSICAL = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")


@pytest.mark.parametrize("kernel", KERNELS)
def test_stream_bandwidth_counts_bytes_as_stream_does(kernel):
    arrays = {"read": 1, "copy": 2, "triad": 3}[kernel]
    n_bytes = 10_000
    result = kernels_rs.stream_bandwidth(kernel, n_bytes, 3, streams=2, unroll=1)
    per_array = n_bytes // (8 * arrays) * 8
    assert result["kernel"] == kernel
    assert (result["streams"], result["unroll"]) == (2, 1)
    assert result["working_set_bytes"] == per_array * arrays
    assert result["bytes_per_pass"] == per_array * arrays
    assert result["write_allocate_bytes"] == (0 if kernel == "read" else per_array)
    assert result["passes_per_timing"] == 1
    assert len(result["seconds"]) == 3 and all(s > 0 for s in result["seconds"])
    best = result["bytes_per_pass"] / min(result["seconds"])
    assert result["best_bytes_per_second"] == pytest.approx(best)
    assert result["isa"] in ("avx512", "avx2", "baseline")


def test_every_compiled_variant_runs():
    for streams in kernels_rs.STREAM_COUNTS:
        for unroll in kernels_rs.STREAM_UNROLLS:
            r = kernels_rs.stream_bandwidth("read", 1 << 14, 1, streams=streams, unroll=unroll)
            assert (r["streams"], r["unroll"]) == (streams, unroll)
    assert kernels_rs.STREAM_COUNTS == [1, 2, 4, 8]
    assert kernels_rs.STREAM_UNROLLS == [1, 2, 4]


def test_min_seconds_repeats_passes_of_a_small_working_set():
    # A 16 KiB pass takes microseconds, far below 50 ms however busy the machine is.
    r = kernels_rs.stream_bandwidth("read", 16 << 10, 1, min_seconds=0.05)
    assert r["passes_per_timing"] > 1


def test_bandwidth_curve_measures_every_size_in_order():
    sizes = [1 << 14, 3 << 12, 1 << 16]
    curve = kernels_rs.bandwidth_curve(sizes, "copy", 2, streams=1, unroll=2, min_seconds=0.0)
    assert [c["working_set_bytes"] for c in curve] == sizes
    assert all(c["kernel"] == "copy" and len(c["seconds"]) == 2 for c in curve)
    assert kernels_rs.bandwidth_curve([]) == []
    assert len(kernels_rs.bandwidth_curve((4096,), min_seconds=0)) == 1


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: kernels_rs.stream_bandwidth("scale", 4096), ValueError, "kernel must be"),
        (lambda: kernels_rs.stream_bandwidth(3, 4096), TypeError, "kernel"),
        (lambda: kernels_rs.stream_bandwidth("read", 7), ValueError, "n_bytes must be at least 8"),
        (
            lambda: kernels_rs.stream_bandwidth("triad", 23),
            ValueError,
            "n_bytes must be at least 24",
        ),
        (lambda: kernels_rs.stream_bandwidth("copy", -1), ValueError, "n_bytes must be at least"),
        (lambda: kernels_rs.stream_bandwidth("read", 2**64), ValueError, "out of range"),
        (lambda: kernels_rs.stream_bandwidth("read", 4096.0), TypeError, "n_bytes"),
        (lambda: kernels_rs.stream_bandwidth("read", 4096, 0), ValueError, "repeats must be"),
        (lambda: kernels_rs.stream_bandwidth("read", 4096, 2**21), ValueError, "repeats must be"),
        (
            lambda: kernels_rs.stream_bandwidth("read", 4096, streams=3),
            ValueError,
            "streams must be one of 1, 2, 4, 8",
        ),
        (
            lambda: kernels_rs.stream_bandwidth("read", 4096, unroll=8),
            ValueError,
            "unroll must be one of 1, 2, 4",
        ),
        (lambda: kernels_rs.stream_bandwidth("read", 4096, streams="4"), TypeError, "streams"),
        (
            lambda: kernels_rs.stream_bandwidth("read", 4096, min_seconds=-1.0),
            ValueError,
            "min_seconds must be between",
        ),
        (
            lambda: kernels_rs.stream_bandwidth("read", 4096, min_seconds=float("nan")),
            ValueError,
            "min_seconds",
        ),
        (
            lambda: kernels_rs.stream_bandwidth("read", 4096, min_seconds=11.0),
            ValueError,
            "min_seconds",
        ),
        (
            lambda: kernels_rs.stream_bandwidth("read", 4096, min_seconds=None),
            TypeError,
            "min_seconds",
        ),
        (lambda: kernels_rs.stream_bandwidth("read", 2**62), MemoryError, "memory"),
        (lambda: kernels_rs.stream_bandwidth("copy", PHYSICAL + 16), MemoryError, "n_bytes"),
        (lambda: kernels_rs.bandwidth_curve(4096), TypeError, "sizes_bytes must be a sequence"),
        (lambda: kernels_rs.bandwidth_curve("4096"), TypeError, "sizes_bytes must be"),
        (lambda: kernels_rs.bandwidth_curve([4096, "x"]), TypeError, r"sizes_bytes\[1\]"),
        (lambda: kernels_rs.bandwidth_curve([4096, 4]), ValueError, r"sizes_bytes\[1\] must be"),
        (lambda: kernels_rs.bandwidth_curve([2**64]), ValueError, r"sizes_bytes\[0\].*range"),
        (lambda: kernels_rs.bandwidth_curve([4096, 2**62]), MemoryError, r"sizes_bytes\[1\]"),
        (lambda: kernels_rs.bandwidth_curve([4096], "Read"), ValueError, "kernel must be"),
        (lambda: kernels_rs.bandwidth_curve([4096], streams=16), ValueError, "streams"),
        (lambda: kernels_rs.bandwidth_curve([4096], repeats=0), ValueError, "repeats"),
        (lambda: kernels_rs.bandwidth_curve([4096], min_seconds=20), ValueError, "min_seconds"),
        (lambda: kernels_rs.read_bandwidth(PHYSICAL + 8, 1), MemoryError, "cannot allocate"),
    ],
)
def test_bad_input_is_a_clear_exception(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_a_lying_sequence_is_a_memory_error_not_a_crash():
    class Huge:
        def __len__(self):
            return 2**62

        def __getitem__(self, i):
            return 4096

    with pytest.raises(MemoryError, match="sizes_bytes"):
        kernels_rs.bandwidth_curve(Huge())
