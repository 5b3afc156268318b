//! The output through a dense accumulator over the whole output space: one pass adds
//! every term into a zeroed array, one pass over it emits the nonzeros, already in
//! lexicographic order.
//!
//! When the nonzeros come in an order that scatters their cells over an accumulator
//! larger than a core's L2 cache (random order, or a mode whose output cells jump), the
//! adds are first partitioned by the high bits of their output cell, as radix-partitioned
//! aggregation does: each (cell offset, term) is appended to its partition's buffer
//! (sequential writes), and a full buffer is added into its partition's slice of the
//! accumulator, which fits in L2. Each cell still receives its terms in input order, so
//! the sums are bitwise the same as with direct adds.

use std::ops::Range;

use super::coo::DenseSink;
use super::dense_threads;
use super::subs_reader::SubsRead;
use super::{Input, SparseTensor, TtvError};
use crate::alloc::{try_vec, try_with_capacity};

/// log2 of the cells per partition: 2^15 f64 = 256 KiB, within the L2 cache of current
/// x86 cores (512 KiB to 2 MiB), with room left for the partition buffers being read.
const PARTITION_CELLS_LOG2: u32 = 15;

/// Partition only output spaces with at least this many partitions (an accumulator of
/// 4 MiB or more, beyond a core's L2); below, the accumulator sits in cache and writing
/// and reading the buffers costs more than the adds they localize. Measured on a Xeon
/// (2 MiB L2, large L3), random order, best of 7 side by side in one process, direct /
/// partitioned: n = 800 (5 MiB) C-ordered subs 23.4 / 25.0 ms, F-ordered 27.4 / 23.9 ms;
/// n = 1200 (11.5 MiB) C 96.2 / 96.5 ms, F 121.6 / 92.0 ms (the F order's column streams
/// stall behind direct random adds).
const MIN_PARTITIONS: usize = 16;

/// The sampled share of consecutive nonzeros in one partition above which the input
/// counts as local (sorted or nearly so) and is added directly. Random order over `p`
/// partitions gives about 1/p; sorted input nearly 1.
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
    let partition = should_partition(input, strides, cells_usize);
    let tasks = dense_threads::tasks_for(input.nnz(), cells_usize, threads);
    if tasks > 1 {
        return dense_threads::by_privatized(
            input,
            strides,
            cells_usize,
            partition,
            tasks,
            out_shape,
        );
    }
    let mut acc = try_vec(cells_usize, 0.0f64).map_err(|_| too_large)?;
    accumulate(input, 0..input.nnz(), strides, partition, &mut acc)?;
    emit(&acc, out_shape)
}

/// Add the terms of the nonzeros `rows` into `acc` (zeroed, the whole output space):
/// directly, or partitioned by output cell when `partition` (see [`should_partition`]).
pub(super) fn accumulate<S: SubsRead>(
    input: &Input<S>,
    rows: Range<usize>,
    strides: &[u64],
    partition: bool,
    acc: &mut [f64],
) -> Result<(), TtvError> {
    if partition {
        accumulate_partitioned(input, rows, strides, acc)
    } else {
        let cells = acc.len() as u64;
        input.for_each_dense_term(rows, strides, cells, &mut Direct { acc })
    }
}

/// Adds each term straight into the accumulator.
struct Direct<'a> {
    acc: &'a mut [f64],
}

impl DenseSink for Direct<'_> {
    #[inline(always)]
    fn add(&mut self, key: usize, term: f64) {
        self.acc[key] += term;
    }
}

/// Buffers each term's offset in its partition and the term, [`BUFFER`] per partition,
/// and adds a full buffer into its partition's slice of the accumulator (in input order,
/// as every buffer is added whole before it is refilled).
struct Partitioned<'a> {
    acc: &'a mut [f64],
    offsets: Vec<u32>,
    terms: Vec<f64>,
    /// The filled length of each partition's buffer (`BUFFER` slots from `part * BUFFER`).
    lens: Vec<usize>,
}

/// Terms buffered per partition: half a partition's cells, so each flush adds enough terms
/// to pay for bringing its slice of the accumulator into L2 (total buffers: 6 bytes per
/// accumulator cell, 0.75x the accumulator).
const BUFFER: usize = 1 << (PARTITION_CELLS_LOG2 - 1);

impl DenseSink for Partitioned<'_> {
    #[inline(always)]
    fn add(&mut self, key: usize, term: f64) {
        let part = key >> PARTITION_CELLS_LOG2;
        let slot = part * BUFFER + self.lens[part];
        self.offsets[slot] = (key & ((1 << PARTITION_CELLS_LOG2) - 1)) as u32;
        self.terms[slot] = term;
        self.lens[part] += 1;
        if self.lens[part] == BUFFER {
            self.flush(part);
        }
    }
}

impl Partitioned<'_> {
    #[inline(never)]
    fn flush(&mut self, part: usize) {
        let start = part * BUFFER;
        let end = start + self.lens[part];
        let cells = &mut self.acc[part << PARTITION_CELLS_LOG2..];
        for (&offset, &term) in self.offsets[start..end].iter().zip(&self.terms[start..end]) {
            cells[offset as usize] += term;
        }
        self.lens[part] = 0;
    }
}

fn accumulate_partitioned<S: SubsRead>(
    input: &Input<S>,
    rows: Range<usize>,
    strides: &[u64],
    acc: &mut [f64],
) -> Result<(), TtvError> {
    let parts = partitions(acc.len());
    let cells = acc.len() as u64;
    let mut sink = Partitioned {
        acc,
        offsets: try_vec(parts * BUFFER, 0u32)?,
        terms: try_vec(parts * BUFFER, 0.0f64)?,
        lens: try_vec(parts, 0usize)?,
    };
    input.for_each_dense_term(rows, strides, cells, &mut sink)?;
    for part in 0..parts {
        sink.flush(part);
    }
    Ok(())
}

fn partitions(cells: usize) -> usize {
    cells.div_ceil(1 << PARTITION_CELLS_LOG2)
}

/// Partition when the accumulator spans [`MIN_PARTITIONS`] partitions or more and a
/// sample of consecutive nonzeros mostly changes partition (see [`LOCAL_SHARE`]).
pub(super) fn should_partition<S: SubsRead>(
    input: &Input<S>,
    strides: &[u64],
    cells: usize,
) -> bool {
    partitions(cells) >= MIN_PARTITIONS && local_share(input, strides) < LOCAL_SHARE
}

/// The share of consecutive pairs whose output cells fall in the same partition, over
/// up to 64 runs of 32 nonzeros spread evenly over the input. The subscripts are not
/// checked yet: a bad one only gives a meaningless key here (wrapping arithmetic, no
/// indexing), and the pass that follows refuses it.
fn local_share<S: SubsRead>(input: &Input<S>, strides: &[u64]) -> f64 {
    const RUNS: usize = 64;
    const RUN: usize = 32;
    let nnz = input.nnz();
    let part_of = |row: usize| {
        let key = (0..input.order()).fold(0u64, |key, j| {
            key.wrapping_add((input.sub(row, j) as u64).wrapping_mul(strides[j]))
        });
        key >> PARTITION_CELLS_LOG2
    };
    let (mut pairs, mut same) = (0usize, 0usize);
    for run in 0..RUNS {
        let start = run * (nnz / RUNS);
        let end = (start + RUN).min(nnz);
        for row in start + 1..end {
            pairs += 1;
            same += usize::from(part_of(row) == part_of(row - 1));
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
