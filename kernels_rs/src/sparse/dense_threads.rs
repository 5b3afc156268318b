//! The dense-accumulator TTV split between threads, with privatized outputs.
//!
//! Each task takes a contiguous run of nonzeros and adds its terms, in input order, into
//! its own zeroed accumulator over the whole output space (prefetching scattered cells as
//! the serial kernel would). Then the accumulators are reduced in parallel: each task owns
//! a contiguous range of cells and adds, for each of its cells, the tasks' accumulators in
//! task order into the first one. No two tasks write the same memory. The result is
//! deterministic for a given task count and differs from the 1-thread result only by the
//! rounding of the reassociated sums (each cell is `(run 0 sum) + (run 1 sum) + ...`
//! instead of one running sum). The reduction also counts each range's nonzeros, so
//! that each task then writes its range's part of the result.
//!
//! A first design that was bitwise the serial result (bucketing `(cell, term)` pairs,
//! 16 bytes written and read back per nonzero) ran at 0.34-0.72x of one thread on the
//! 2-vCPU Xeon; this one moves no per-nonzero data besides the input.

use super::coo::Input;
use super::dense_accumulator::{accumulate, count_nonzeros, for_each_nonzero};
use super::subs_reader::SubsRead;
use super::{SparseTensor, TtvError};
use crate::alloc::try_vec;
use crate::pool;

/// Nonzeros per task below which a call is not split. Entering the pool costs 5-9 us
/// and a split call enters it 3 times (accumulate, reduce, emit), against ~1.5 ns per
/// nonzero on one thread. Measured on the 2-vCPU Xeon, best of many interleaved rounds
/// from Python, 1 / 2 threads forced to split: 10,614 nonzeros 16 / 26 us (0.6x), 22,715
/// 36 / 39 us (0.9x), 30,033 46 / 47 us (1.0x), 48,768 90 / 78 us (1.15x), 55,978
/// 81 / 66 us (1.23x), 95,145 152 / 115 us (1.3x). From 2 x 2^15 = 65,536 nonzeros a
/// split pays.
pub const MIN_NONZEROS_PER_TASK: usize = 1 << 15;

/// Output cells per nonzero of a task above which a call is not split further: each task
/// zeroes an accumulator over the whole output space and reads it back in the reduction
/// (16 bytes a cell), against ~32 bytes of input and a scattered add per nonzero taken
/// off the other tasks; it also bounds the extra memory, `tasks x cells x 8` bytes, by
/// `32 x nnz` bytes (about the input's size). Measured as above, 2 threads (each task
/// 4 cells per nonzero at the first): n = 800, 0.5 nonzeros per output cell 3.58 /
/// 2.31 ms (1.55x) sorted, 4.17 / 2.67 ms random; n = 400, 1 nonzero per cell 1.00 /
/// 0.66 ms (1.5x); 8 per cell (n = 800, density 0.01) 9.83 / 7.54 ms (1.3x) sorted,
/// 20.9 / 12.8 ms (1.6x) random. (The automatic method takes the dense accumulator only
/// down to 0.25 nonzeros per cell.)
pub const MAX_CELLS_PER_TASK_NONZERO: usize = 4;

/// How many tasks a call of `nnz` nonzeros over `cells` output cells gets on `threads`
/// threads: at most one per [`MIN_NONZEROS_PER_TASK`] nonzeros, and few enough that each
/// has at least `cells / MAX_CELLS_PER_TASK_NONZERO`; 1 means the serial kernel.
pub(super) fn tasks_for(nnz: usize, cells: usize, threads: usize) -> usize {
    let by_cells = nnz.saturating_mul(MAX_CELLS_PER_TASK_NONZERO) / cells.max(1);
    pool::task_count(nnz, MIN_NONZEROS_PER_TASK, threads).min(by_cells.max(1))
}

/// The dense-accumulator result of `input` over `cells` output cells on `tasks` (> 1)
/// tasks, one thread each. Errors are the serial kernel's: the first bad subscript in
/// input order (runs are in order and each stops at its first bad row).
pub(super) fn by_privatized<S: SubsRead>(
    input: &Input<S>,
    strides: &[u64],
    cells: usize,
    scattered: bool,
    tasks: usize,
    out_shape: Vec<usize>,
) -> Result<SparseTensor, TtvError> {
    let nnz = input.nnz();
    let per_run = nnz.div_ceil(tasks);
    let runs: Vec<_> = (0..nnz)
        .step_by(per_run)
        .map(|start| start..(start + per_run).min(nnz))
        .collect();
    let threads = runs.len();
    // Each task zeroes its own accumulator: the zeroing runs in parallel too.
    let accumulated = pool::run_tasks(threads, runs, |rows| {
        let mut acc = try_vec(cells, 0.0f64)?;
        accumulate(input, rows, strides, scattered, &mut acc)?;
        Ok::<_, TtvError>(acc)
    })
    .map_err(threads_error)?;
    let mut accs = Vec::with_capacity(accumulated.len());
    for acc in accumulated {
        accs.push(acc?);
    }
    // Reduce into the first accumulator, one range of cells per task, and count each
    // range's nonzeros for the emission.
    let per_range = cells.div_ceil(threads);
    let (first, rest) = accs.split_first_mut().expect("at least one run");
    let rest: &[Vec<f64>] = rest;
    let ranges: Vec<_> = first.chunks_mut(per_range).enumerate().collect();
    let counts = pool::run_tasks(threads, ranges, |(range, sums)| {
        let cells = range * per_range..range * per_range + sums.len();
        for other in rest {
            for (sum, &term) in sums.iter_mut().zip(&other[cells.clone()]) {
                *sum += term;
            }
        }
        count_nonzeros(sums)
    })
    .map_err(threads_error)?;
    emit_parallel(&accs[0], per_range, &counts, out_shape)
}

/// The nonzeros of `acc` as the sparse result, each range of `per_range` cells (holding
/// `counts[range]` nonzeros) written by its own task into its part of every column.
fn emit_parallel(
    acc: &[f64],
    per_range: usize,
    counts: &[usize],
    out_shape: Vec<usize>,
) -> Result<SparseTensor, TtvError> {
    let nonzeros: usize = counts.iter().sum();
    let out_order = out_shape.len();
    let mut subs = try_vec(nonzeros * out_order, 0i64)?;
    let mut vals = try_vec(nonzeros, 0.0f64)?;
    if nonzeros > 0 {
        // Per range: its cells, its part of each subscript column, its part of the values.
        let mut parts: Vec<_> = acc
            .chunks(per_range)
            .enumerate()
            .map(|(range, cells)| (range * per_range, cells, Vec::with_capacity(out_order)))
            .collect();
        for column in subs.chunks_mut(nonzeros) {
            let mut column = column;
            for (part, &count) in parts.iter_mut().zip(counts) {
                let (mine, tail) = column.split_at_mut(count);
                part.2.push(mine);
                column = tail;
            }
        }
        let mut vals_rest = &mut vals[..];
        let mut tasks = Vec::with_capacity(parts.len());
        for ((first, cells, columns), &count) in parts.into_iter().zip(counts) {
            let (mine, tail) = vals_rest.split_at_mut(count);
            tasks.push((first, cells, columns, mine));
            vals_rest = tail;
        }
        let shape = &out_shape[..];
        pool::run_tasks(tasks.len(), tasks, |(first, cells, mut columns, vals)| {
            let mut k = 0;
            for_each_nonzero(cells, first, shape, |prefix, last_sub, v| {
                for (column, &p) in columns.iter_mut().zip(prefix) {
                    column[k] = p;
                }
                columns[out_order - 1][k] = last_sub;
                vals[k] = v;
                k += 1;
            });
        })
        .map_err(threads_error)?;
    }
    Ok(SparseTensor {
        subs,
        vals,
        shape: out_shape,
    })
}

fn threads_error(e: pool::PoolError) -> TtvError {
    TtvError::Threads(e.to_string())
}
