//! The output through a dense accumulator over the whole output space: one pass adds
//! every term into a zeroed array, one pass over it emits the nonzeros, already in
//! lexicographic order.
//!
//! When the nonzeros come in an order that scatters their cells over an accumulator
//! beyond a core's L2 cache (random order, or a mode whose output cells jump), each add
//! waits on a cache miss the hardware prefetcher cannot foresee. The loop then runs in
//! chunks (`chunked`) and prefetches the cells of each chunk before it adds the one
//! before, so that many misses are in flight at once. Every cell still receives its
//! terms in input order: the sums are bitwise those of plain adds.
//!
//! Radix-partitioned aggregation (terms buffered per L2-sized slice of the accumulator,
//! each full buffer then added into its slice) was this kernel's earlier answer; measured
//! side by side on an AMD EPYC (1 MiB L2, 32 MiB L3), random order, C-ordered subs, best
//! of 20 calls in one process: n = 800 partitioned 64.2 ms, prefetched 24.9-31.2 ms;
//! n = 1200 partitioned 205.8 ms, prefetched 116.8 ms (each cell 64 rows ahead, the
//! row-by-row loop before `chunked`), plain adds 323.7 ms. Writing and reading back 12
//! bytes per nonzero cost more than the misses it avoided.

use std::cell::RefCell;
use std::ops::Range;

use super::coo::DenseSink;
use super::dense_threads;
use super::subs_reader::{prefetch_at, SubsRead};
use super::{Input, SparseTensor, TtvError};
use crate::alloc::{try_vec, try_with_capacity};

/// Prefetch only for accumulators of at least this many cells (2 MiB, the L2 cache of
/// current x86 cores or more): below, the cells sit in L2 and out-of-order execution
/// hides the misses.
const MIN_PREFETCH_CELLS: usize = 1 << 18;

/// log2 of the cells in one block of the locality sample: 2^15 f64 = 256 KiB.
const BLOCK_CELLS_LOG2: u32 = 15;

/// The sampled share of consecutive nonzeros in one block above which the input counts
/// as local (sorted or nearly so) and needs no prefetch. Random order over `b` blocks
/// gives about 1/b; sorted input nearly 1.
const LOCAL_SHARE: f64 = 0.5;

pub(super) fn by_dense_accumulator<S: SubsRead>(
    input: &Input<S>,
    strides: &[u64],
    cells: u64,
    out_shape: Vec<usize>,
    threads: usize,
) -> Result<SparseTensor, TtvError> {
    let too_large = TtvError::OutputTooLarge {
        cells: cells as u128,
    };
    let cells_usize = usize::try_from(cells).map_err(|_| too_large.clone())?;
    let scattered = is_scattered(input, strides, cells_usize);
    let tasks = dense_threads::tasks_for(input.nnz(), cells_usize, threads);
    if tasks > 1 {
        return dense_threads::by_privatized(
            input,
            strides,
            cells_usize,
            scattered,
            tasks,
            out_shape,
        );
    }
    with_zeroed_accumulator(cells_usize, |acc| {
        accumulate(input, 0..input.nnz(), strides, scattered, acc)?;
        emit(acc, out_shape)
    })
    .unwrap_or(Err(too_large))
}

/// At most this many accumulator cells (16 MiB, the cap of the contractions' workspace)
/// stay allocated on a thread between calls.
const RETAIN_CELLS: usize = 1 << 21;

thread_local! {
    static ACCUMULATOR: RefCell<Vec<f64>> = const { RefCell::new(Vec::new()) };
}

/// Run `f` on `cells` zeroed cells: the thread's kept accumulator when `cells` is at
/// most [`RETAIN_CELLS`], else a fresh one; None when it cannot be allocated. A fresh
/// accumulator (5 MiB at n = 800, 11.5 MiB at 1200) costs its page faults on every call: measured on an AMD EPYC,
/// sorted input, best of 30 calls in one process, fresh against kept: n = 800 21.0 /
/// 11.0 ms, n = 1200 55.1 / 38.3 ms.
fn with_zeroed_accumulator<R>(cells: usize, f: impl FnOnce(&mut [f64]) -> R) -> Option<R> {
    let retain = cells <= RETAIN_CELLS;
    // Taken out of the thread-local while in use, so no borrow spans `f`.
    let mut acc = if retain {
        ACCUMULATOR.take()
    } else {
        Vec::new()
    };
    acc.clear();
    acc.try_reserve_exact(cells).ok()?;
    acc.resize(cells, 0.0);
    let result = f(&mut acc);
    if retain {
        ACCUMULATOR.set(acc);
    }
    Some(result)
}

/// Add the terms of the nonzeros `rows` into `acc` (zeroed, the whole output space),
/// prefetching the output cells a chunk ahead when `scattered` (see [`is_scattered`]).
pub(super) fn accumulate<S: SubsRead>(
    input: &Input<S>,
    rows: Range<usize>,
    strides: &[u64],
    scattered: bool,
    acc: &mut [f64],
) -> Result<(), TtvError> {
    let cells = acc.len() as u64;
    let sink = &mut Direct {
        acc,
        prefetch: scattered,
    };
    input.for_each_dense_term(rows, strides, cells, sink)
}

/// Adds each term straight into the accumulator.
struct Direct<'a> {
    acc: &'a mut [f64],
    prefetch: bool,
}

impl DenseSink for Direct<'_> {
    #[inline(always)]
    fn prefetches_cells(&self) -> bool {
        self.prefetch
    }

    #[inline(always)]
    fn prefetch(&self, key: usize) {
        prefetch_at(self.acc, key);
    }

    #[inline(always)]
    fn add(&mut self, key: usize, term: f64) {
        self.acc[key] += term;
    }

    #[inline(always)]
    fn add_all(&mut self, keys: &[u64], terms: &[f64]) {
        // The accumulator as a local slice, so that its pointer stays in a register.
        let acc = &mut *self.acc;
        for (&key, &term) in keys.iter().zip(terms) {
            acc[key as usize] += term;
        }
    }
}

/// Prefetch when the accumulator spans at least [`MIN_PREFETCH_CELLS`] cells and a sample
/// of consecutive nonzeros mostly changes block (see [`LOCAL_SHARE`]).
pub(super) fn is_scattered<S: SubsRead>(input: &Input<S>, strides: &[u64], cells: usize) -> bool {
    cells >= MIN_PREFETCH_CELLS && local_share(input, strides) < LOCAL_SHARE
}

/// The share of consecutive pairs whose output cells fall in the same block, over
/// up to 64 runs of 32 nonzeros spread evenly over the input. The subscripts are not
/// checked yet: a bad one only gives a meaningless key here (wrapping arithmetic, no
/// indexing), and the pass that follows refuses it.
fn local_share<S: SubsRead>(input: &Input<S>, strides: &[u64]) -> f64 {
    const RUNS: usize = 64;
    const RUN: usize = 32;
    let nnz = input.nnz();
    let block_of = |row: usize| {
        let key = (0..input.order()).fold(0u64, |key, j| {
            key.wrapping_add((input.sub(row, j) as u64).wrapping_mul(strides[j]))
        });
        key >> BLOCK_CELLS_LOG2
    };
    let (mut pairs, mut same) = (0usize, 0usize);
    for run in 0..RUNS {
        let start = run * (nnz / RUNS);
        let end = (start + RUN).min(nnz);
        for row in start + 1..end {
            pairs += 1;
            same += usize::from(block_of(row) == block_of(row - 1));
        }
    }
    if pairs == 0 {
        1.0
    } else {
        same as f64 / pairs as f64
    }
}

/// The nonzeros of the accumulator as the sparse result, in lexicographic order.
fn emit(acc: &[f64], out_shape: Vec<usize>) -> Result<SparseTensor, TtvError> {
    // NaN != 0, so NaN sums are kept, as NumPy's nonzero keeps them.
    let nonzeros = count_nonzeros(acc);
    let out_order = out_shape.len();
    let mut subs = try_vec(nonzeros * out_order, 0i64)?;
    let mut vals = try_with_capacity::<f64>(nonzeros)?;
    // The loop of `for_each_nonzero` for whole rows from cell 0, kept apart: the serial
    // path measured ~2% faster this way.
    let last = out_shape[out_order - 1];
    let mut prefix = vec![0i64; out_order - 1];
    for row in acc.chunks_exact(last) {
        for (c, &v) in row.iter().enumerate() {
            if v != 0.0 {
                let k = vals.len();
                for (j, &p) in prefix.iter().enumerate() {
                    subs[j * nonzeros + k] = p;
                }
                subs[(out_order - 1) * nonzeros + k] = c as i64;
                vals.push(v);
            }
        }
        for j in (0..out_order - 1).rev() {
            prefix[j] += 1;
            if (prefix[j] as usize) < out_shape[j] {
                break;
            }
            prefix[j] = 0;
        }
    }
    Ok(SparseTensor {
        subs,
        vals,
        shape: out_shape,
    })
}

/// The cells of `acc` that [`for_each_nonzero`] visits (NaN included).
pub(super) fn count_nonzeros(acc: &[f64]) -> usize {
    acc.iter().filter(|&&v| v != 0.0).count()
}

/// Call `put(leading subscripts, last subscript, value)` for every nonzero of `acc`, the
/// cells `first..first + acc.len()` of the row-major output space `out_shape`, in order.
#[inline(always)]
pub(super) fn for_each_nonzero(
    acc: &[f64],
    first: usize,
    out_shape: &[usize],
    mut put: impl FnMut(&[i64], i64, f64),
) {
    let out_order = out_shape.len();
    let last = out_shape[out_order - 1];
    // Walk the output space row by row (last dimension fastest), carrying the leading
    // subscripts as an odometer: no division per nonzero, lexicographic order for free.
    let mut prefix = vec![0i64; out_order - 1];
    let mut row_index = first / last;
    for j in (0..out_order - 1).rev() {
        prefix[j] = (row_index % out_shape[j]) as i64;
        row_index /= out_shape[j];
    }
    let mut start = first % last;
    let mut rest = acc;
    while !rest.is_empty() {
        let (row, tail) = rest.split_at((last - start).min(rest.len()));
        for (c, &v) in row.iter().enumerate() {
            if v != 0.0 {
                put(&prefix, (start + c) as i64, v);
            }
        }
        (rest, start) = (tail, 0);
        for j in (0..out_order - 1).rev() {
            prefix[j] += 1;
            if (prefix[j] as usize) < out_shape[j] {
                break;
            }
            prefix[j] = 0;
        }
    }
}
