"""Type stubs of the kernels_rs extension (Rust, PyO3 + rust-numpy).

Every function validates its arguments: TypeError for a non-array or a wrong dtype,
ValueError for a wrong shape, length or value (an int beyond 64 bits included: "out of
range"), MemoryError for a size that cannot be allocated (a result, a C-order copy of a
broadcast input, a sequence whose ``__len__`` is huge). No input raises a Rust panic or
aborts the interpreter; tests/test_fuzz_kernels.py keeps it so.
"""

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

IS_RELEASE_BUILD: bool
__version__: str

def build_info() -> dict[str, str | bool]:
    """Build profile, optimisation level, target features, rustc and crate versions."""

# --- dense (kernels_rs/src/dense.rs) -------------------------------------------------

def dot_loop(x: npt.NDArray[np.float64], y: npt.NDArray[np.float64]) -> float:
    """The paper's plain-loop dot product of two 1-D float64 arrays of equal length."""

def dot(
    x: npt.NDArray[np.float64], y: npt.NDArray[np.float64], *, threads: int | None = None
) -> float:
    """Tuned (several accumulators, vectorized) dot product; same contract as dot_loop. On
    ``threads`` threads (1 to MAX_THREADS, default get_num_threads()): equal runs of the
    vectors, partial sums added in order (equal to rounding, deterministic for a thread
    count); fewer than 65,536 values per thread run inline on the calling thread."""

def matvec_loop(a: npt.NDArray[np.float64], x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """The paper's nested-loop ``a @ x``: a is 2-D (n1, n2), x is 1-D (n2,), float64."""

def matvec(
    a: npt.NDArray[np.float64], x: npt.NDArray[np.float64], *, threads: int | None = None
) -> npt.NDArray[np.float64]:
    """Tuned ``a @ x``: C and Fortran order read in place (dgemv-style row and column
    panels, AVX2/AVX-512 chosen at run time), any other strides too. On ``threads``
    threads (1 to MAX_THREADS, default get_num_threads()): each thread owns a block of
    rows, bitwise the 1-thread result; fewer than 65,536 values per thread run inline."""

# --- timed inside Rust (kernels_rs/src/bench.rs) ---------------------------------------

def bench_dot(form: str, n: int, n_trials: int, seed: int) -> list[float]:
    """Seconds of n_trials + 1 dot products ('loop' or 'tuned') on fresh data made in Rust."""

def bench_matvec(
    form: str, n1: int, n2: int, n_trials: int, seed: int, layout: str = "C"
) -> list[float]:
    """Seconds of n_trials + 1 matvecs ('loop' or 'tuned') on fresh data made in Rust, the
    matrix in layout 'C' or 'F' (values drawn in memory order either way)."""

def bench_matvec_faults(
    form: str, n1: int, n2: int, n_trials: int, seed: int, layout: str = "C"
) -> dict[str, list]:
    """As bench_matvec: {"seconds": [...], "minor_faults": [...]}, the process's minor page
    faults during each timed call (None where they cannot be read: not Linux)."""

def minor_page_faults() -> int | None:
    """The process's minor page faults so far (/proc/self/stat; None where unreadable)."""

# --- sparse (kernels_rs/src/sparse.rs, sparse/) -----------------------------------------

def ttv(
    subs: npt.NDArray[np.int64],
    vals: npt.NDArray[np.float64],
    shape: Sequence[int],
    vector: npt.NDArray[np.float64],
    mode: int,
    *,
    method: Literal["auto", "dense", "sort"] = "auto",
    threads: int | None = None,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64], tuple[int, ...]] | float:
    """Mode-``mode`` (0-based) product of a COO sparse tensor with ``vector``, as pyttb's
    ``sptensor.ttv``: ``(newsubs (m, d-1) int64 in Fortran order, newvals (m, 1) float64,
    newshape)`` with repeated subscripts summed in input order, exact zeros dropped, rows
    sorted lexicographically; a float when d = 1. ``subs`` is (nnz, d) int64 (any strides:
    C- or F-ordered subs are read in place, others copied; an empty array means nnz = 0),
    ``vals`` (nnz,) or (nnz, 1) float64, ``shape`` any sequence of positive ints below
    2**63 (not a str). ``method='auto'`` uses a dense accumulator when the output space is
    at most 4 x nnz cells, else sorts a linearized key (never allocating the output space);
    ``method='dense'`` on an output space that cannot be allocated is a MemoryError. The
    dense accumulator partitions its adds by output cell when the nonzeros come in an
    order that scatters them (same sums, bitwise). On ``threads`` threads (1 to
    MAX_THREADS, default get_num_threads()) a large dense accumulation is split: each
    thread adds a run of nonzeros into its own accumulator, then the accumulators are
    summed in thread order and each thread emits a range of cells. Equal to the 1-thread
    result to rounding (deterministic for a given thread count). A call gets at most one
    thread per 32,768 nonzeros and per 4 output cells per nonzero (cells <= 4 x nnz per
    thread); fewer, the sort path and order 1 run on the calling thread."""

def bench_ttv(
    subs: npt.NDArray[np.int64],
    vals: npt.NDArray[np.float64],
    shape: Sequence[int],
    vector: npt.NDArray[np.float64],
    mode: int,
    n_trials: int,
    *,
    method: Literal["auto", "dense", "sort"] = "auto",
) -> list[float]:
    """Seconds of n_trials + 1 ttv calls on this tensor, timed inside Rust (kernel only)."""

# --- memory bandwidth (kernels_rs/src/memory.rs) -------------------------------------

def read_bandwidth(n_bytes: int = 536870912, repeats: int = 5) -> float:
    """Single-core read bandwidth (bytes/s): the fastest pass of every read variant
    (``STREAM_COUNTS`` x ``STREAM_UNROLLS``, widest SIMD loads) over ``repeats`` rounds,
    summing an ``n_bytes`` buffer on huge pages (default 512 MiB, beyond most caches). The
    memory-traffic bound of a kernel that reads B bytes from DRAM is B / read_bandwidth().
    ValueError: n_bytes < 8, repeats outside 1..2**20; MemoryError: a buffer that cannot
    be held."""

# --- STREAM-style probes (kernels_rs/src/memory/) ------------------------------------
# kernel: "read" (sum one array), "copy" (b = a), "triad" (a = b + q c); n_bytes is the
# working set, all arrays together (split evenly, rounded down to whole float64/u64
# elements). Bytes are counted as STREAM counts them (each array once per pass); the
# write-allocate reads of the written array are NOT counted ("write_allocate_bytes" says
# how many they are). streams: interleaved sequential streams (the arrays cut into that
# many parts); unroll: SIMD vectors per stream per step (64 bytes each on AVX-512, 32 on
# AVX2; "isa" says which ran). Each result dict: kernel, streams, unroll, isa, working_set_bytes,
# bytes_per_pass, write_allocate_bytes, passes_per_timing, seconds (one per timing, each
# of passes_per_timing passes), best_bytes_per_second. ValueError: an unknown kernel,
# streams not in STREAM_COUNTS, unroll not in STREAM_UNROLLS, n_bytes below one element
# per array, repeats outside 1..2**20, min_seconds outside [0, 10]; TypeError: a non-int
# count / non-str kernel / non-sequence sizes; MemoryError: a working set larger than the
# machine's memory or that cannot be allocated.

STREAM_COUNTS: list[int]
STREAM_UNROLLS: list[int]

def stream_bandwidth(
    kernel: Literal["read", "copy", "triad"],
    n_bytes: int,
    repeats: int = 5,
    *,
    streams: int = 4,
    unroll: int = 4,
    min_seconds: float = 0.0,
) -> dict[str, Any]:
    """One kernel at one working-set size: ``repeats`` timings, each of as many passes as
    make it last at least ``min_seconds`` (after one untimed warm-up pass)."""

def bandwidth_curve(
    sizes_bytes: Sequence[int],
    kernel: Literal["read", "copy", "triad"] = "read",
    repeats: int = 5,
    *,
    streams: int = 4,
    unroll: int = 4,
    min_seconds: float = 1e-3,
) -> list[dict[str, Any]]:
    """``stream_bandwidth`` at every working-set size, in order (all sizes checked first)."""

# --- tensor train (kernels_rs/src/tt.rs, tt/, gemm.rs) -----------------------------------
# complex128 arrays, axes in this order (values in C order): env [chi_bra, chi_ket],
# site tensors [chi_left, d, chi_right], first-site operands [d, chi]. Bra operands are
# conjugated. In a tiny call (every input at most 256 elements, C-contiguous, aligned)
# the inputs are read in place; otherwise small inputs are copied, large C-contiguous ones
# borrowed, and any other layout copied to C order (an unaligned one by NumPy). With an
# empty operand the result is zeros and nothing is read. TypeError: not an ndarray / not
# complex128 (or non-native byte order); ValueError: wrong number of axes or shapes that
# do not fit (the message names them); MemoryError: a result, copy or intermediate that
# cannot be allocated.
# Single-threaded on the calling thread; the GIL is released for large contractions.

def tt_first_site(
    bra_first: npt.NDArray[np.complex128],
    ket_first: npt.NDArray[np.complex128],
    out: npt.NDArray[np.complex128] | None = None,
) -> npt.NDArray[np.complex128]:
    """np.einsum("sa,sb->ab", bra_first.conj(), ket_first): [d, chi_bra], [d, chi_ket]
    -> [chi_bra, chi_ket]. With ``out`` (see below) the result is written there."""

def tt_env_bra(
    env: npt.NDArray[np.complex128],
    bra: npt.NDArray[np.complex128],
    out: npt.NDArray[np.complex128] | None = None,
) -> npt.NDArray[np.complex128]:
    """np.einsum("ab,asc->bsc", env, bra.conj()): [chi_bra, chi_ket], [chi_bra, d, chi_bra']
    -> [chi_ket, d, chi_bra']."""

def tt_tmp_ket(
    tmp: npt.NDArray[np.complex128],
    ket: npt.NDArray[np.complex128],
    out: npt.NDArray[np.complex128] | None = None,
) -> npt.NDArray[np.complex128]:
    """np.einsum("bsc,bse->ce", tmp, ket): [chi_ket, d, chi_bra'], [chi_ket, d, chi_ket']
    -> [chi_bra', chi_ket']."""

def tt_site_update(
    env: npt.NDArray[np.complex128],
    bra: npt.NDArray[np.complex128],
    ket: npt.NDArray[np.complex128],
    out: npt.NDArray[np.complex128] | None = None,
) -> npt.NDArray[np.complex128]:
    """tt_tmp_ket(tt_env_bra(env, bra), ket): the new environment [chi_bra', chi_ket'].

    ``out`` (all four pairwise contractions, positional or keyword, as in ``np.dot``): a
    writeable complex128 array of the result's shape, any layout, which receives the
    result and is returned; it may be one of the inputs or share memory with one by any
    route (a view, another np.frombuffer of the same buffer, an __array_interface__ or
    memoryview alias): the result is then never written over an input still being read.
    The result is written straight into ``out``, which saves making a new array (the
    larger part of a tiny call), unless ``out`` is not C-contiguous and aligned or its
    memory extent (NumPy's may_share_memory bounds) overlaps an input that is read in
    place: then it is computed into a new array and copied into ``out``. If the call fails (it can
    only run out of memory), ``out`` may hold part of a result. Wrong dtype: TypeError;
    wrong shape or read-only: ValueError."""

def tt_inner(
    bras: list[npt.NDArray[np.complex128]] | tuple[npt.NDArray[np.complex128], ...],
    kets: list[npt.NDArray[np.complex128]] | tuple[npt.NDArray[np.complex128], ...],
) -> complex:
    """<bra|ket>: env = [[1]], tt_site_update at every site, env[0, 0]. Same number of
    sites (>= 1), same d per site, consecutive bonds equal, boundary bonds 1."""

def bench_tt(
    case: str, operands: Sequence[object], n_samples: int, min_sample_seconds: float
) -> tuple[list[float], int]:
    """Times one contraction inside Rust on copies of the operands; case: first_site
    (bra_first, ket_first), env_bra (env, bra), tmp_ket (tmp, ket), site_update
    (env, bra, ket) or chain (bras, kets). Returns (per-call seconds, calls per sample):
    element 0 is the first call alone, each other the mean of a batch of calls (the
    smallest power of two lasting >= min_sample_seconds)."""

def tt_kernel_info() -> dict[str, object]:
    """The tiled code path chosen on this CPU (tiled-avx512 / tiled-avx2-fma /
    tiled-scalar), every available path and the size thresholds."""


# --- overhead probes (kernels_rs/src/python/overhead.rs, kernels_rs/src/overhead.rs) ----
# Each probe adds one step of a kernel call to the previous one; the difference between
# two probes' per-call times is the cost of that step (notebooks/call_overhead.ipynb).

def overhead_noop() -> None:
    """Does nothing: the cost of dispatching a PyO3 function without arguments."""

def overhead_two_objects(x: object, y: object) -> None:
    """Accepts any two objects and ignores them: adds positional-argument passing."""

def overhead_two_arrays_unborrowed(
    x: npt.NDArray[np.float64], y: npt.NDArray[np.float64]
) -> float:
    """Checks both are 1-D float64 arrays without rust-numpy's read-only borrow;
    returns len(x) + len(y)."""

def overhead_two_arrays_copied(x: npt.NDArray[np.float64], y: npt.NDArray[np.float64]) -> float:
    """The same checks, then copies both arrays instead of borrowing them;
    returns len(x) + len(y)."""

def overhead_two_arrays(x: npt.NDArray[np.float64], y: npt.NDArray[np.float64]) -> float:
    """Takes two 1-D float64 arrays as the kernels do (checks, then a copy of arrays of at
    most 256 elements, a read-only borrow of larger ones); returns len(x) + len(y)."""

def overhead_two_arrays_borrowed(
    x: npt.NDArray[np.float64], y: npt.NDArray[np.float64]
) -> float:
    """Checks, then borrows two 1-D float64 arrays read-only through rust-numpy whatever
    their size; returns len(x) + len(y)."""

def overhead_return_array(
    x: npt.NDArray[np.float64], y: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """As overhead_two_arrays, but returns a new float64 array (a copy of x)."""

def overhead_detach() -> None:
    """Releases the GIL and takes it back, doing nothing in between."""

def overhead_pool_entry(entry: str, calls_per_sample: int, samples: int) -> dict[str, object]:
    """Times a one-thread Rayon pool's install(|| {}) ('install') or the closure run inline
    ('inline') inside Rust; keys: entry, calls_per_sample, build_seconds,
    first_call_seconds, per_call_seconds (one per sample of calls_per_sample calls)."""

# --- MTTKRP and inner product with a ktensor (kernels_rs/src/sparse/{mttkrp,innerprod}.rs)
# subs: (nnz, d) int64 or int32, C- or F-contiguous read in place (other strides copied;
# an empty array means nnz = 0); vals: (nnz,) or (nnz, 1) float64; factors: a list or
# tuple of d 2-D float64 arrays, factors[m] of shape (shape[m], R) (read in C order: a
# copy for other layouts). threads: 1 to MAX_THREADS, default get_num_threads(); tiny
# calls run on the calling thread. The GIL is released while a large call runs.

MAX_THREADS: int

def mttkrp(
    subs: npt.NDArray[np.int64] | npt.NDArray[np.int32],
    vals: npt.NDArray[np.float64],
    shape: Sequence[int],
    factors: Sequence[npt.NDArray[np.float64] | None],
    mode: int,
    *,
    threads: int | None = None,
    schedule: Literal["auto", "private", "rows"] = "auto",
) -> npt.NDArray[np.float64]:
    """Mode-``mode`` (0-based) MTTKRP of a COO tensor of order d >= 2, in one pass over the
    nonzeros: a C-order (shape[mode], R) array with row subs[k, mode] accumulating
    ``vals[k] * prod_{m != mode} factors[m][subs[k, m], :]``. ``factors[mode]`` is not read
    (may be None). NaN propagates. On one thread (or a call too small to split) bitwise
    pyttb's ``sptensor.mttkrp`` (same products, each row summed in input order). Several
    threads: ``schedule='private'`` gives each thread a run of nonzeros and its own output,
    added at the end (equal to rounding; deterministic for a thread count); ``'rows'``
    sorts the nonzeros by row and gives each thread its rows (bitwise the 1-thread result);
    ``'auto'`` privatizes while the copies hold at most one value per nonzero."""

def innerprod_ktensor(
    subs: npt.NDArray[np.int64] | npt.NDArray[np.int32],
    vals: npt.NDArray[np.float64],
    shape: Sequence[int],
    weights: npt.NDArray[np.float64],
    factors: Sequence[npt.NDArray[np.float64]],
    *,
    threads: int | None = None,
) -> float:
    """Inner product of a COO tensor with the ktensor (weights (R,), factors[m] (shape[m],
    R)) in one pass: ``sum_k vals[k] * sum_r weights[r] * prod_m factors[m][subs[k, m], r]``,
    summed in fixed blocks of 4096 nonzeros, so the same for every thread count."""

class SparseLayout:
    """A COO tensor of order d >= 2 copied once into a fiber (CSF-like) layout for repeated
    MTTKRPs (CP-ALS): per mode, the nonzeros sorted by (row, next) with ``next`` the other
    mode of smallest dimension, u32 subscripts and pointers when every dimension and nnz
    fit (``index_bits``), else u64. Built in O(nnz + dimensions) per mode by counting
    sorts (a comparison sort for a dimension far beyond nnz). A copy: later changes to
    ``subs``/``vals`` do not affect it. subs, vals and shape as for ``mttkrp``; the same
    TypeError/ValueError/MemoryError for bad ones."""

    def __init__(
        self,
        subs: npt.NDArray[np.int64] | npt.NDArray[np.int32],
        vals: npt.NDArray[np.float64],
        shape: Sequence[int],
    ) -> None: ...
    @property
    def shape(self) -> tuple[int, ...]: ...
    @property
    def nnz(self) -> int:
        """Stored nonzeros (duplicates are kept and summed by the MTTKRP)."""
    @property
    def index_bits(self) -> int:
        """32 or 64: the width of the stored subscripts and pointers."""
    def mttkrp(
        self,
        factors: Sequence[npt.NDArray[np.float64] | None],
        mode: int,
        *,
        threads: int | None = None,
    ) -> npt.NDArray[np.float64]:
        """``mttkrp(subs, vals, shape, factors, mode)`` of the stored tensor, equal to it to
        rounding: per fiber (row i, next j) the sum of ``val * prod_rest factors[m][i_m, :]``
        times ``factors[next][j, :]`` once. NaN and infinities propagate; an overflow can
        differ from ``mttkrp``'s (the factors are multiplied in another order). Threads own
        ranges of output rows: bitwise the same result for every thread count."""

def set_num_threads(n: int) -> None:
    """Set the default thread count of the threaded kernels (1 to MAX_THREADS)."""

def get_num_threads() -> int:
    """The default thread count: set_num_threads' value, else the first of the environment
    variables KERNELS_RS_NUM_THREADS, RAYON_NUM_THREADS, OMP_NUM_THREADS that holds a count
    (the Makefile exports RAYON_NUM_THREADS=1 and OMP_NUM_THREADS=1), else every core this
    process may use (os.sched_getaffinity / cgroup quota), like NumPy's BLAS."""
