//! The dense-accumulator TTV split between threads, with bitwise the 1-thread result.
//!
//! The output space is cut into one contiguous range of cells per task. Pass 1 gives each
//! task a run of nonzeros (in input order) and sorts its terms into one buffer per range
//! (`(cell, term)` pairs, appended in input order). Pass 2 gives each task a range: it
//! adds the buffers of that range into its own slice of the accumulator, run after run,
//! so every cell receives its terms in input order, exactly as the serial loop adds them.
//! No two tasks write the same memory in either pass. The buffers cost 16 bytes per
//! nonzero, allocated fallibly. Emitting the nonzeros stays serial (one read of the
//! accumulator).
//!
//! A call with fewer than [`MIN_NONZEROS_PER_TASK`] nonzeros per task runs the serial
//! kernel: entering the pool costs 5-9 us, and this many nonzeros take ~50-200 us.

use super::coo::{DenseSink, Input};
use super::subs_reader::SubsRead;
use super::TtvError;
use crate::alloc::{try_vec, try_with_capacity};
use crate::pool;

/// Nonzeros per task below which the serial kernel runs (see the module docs).
pub const MIN_NONZEROS_PER_TASK: usize = 1 << 16;

/// How many tasks a call of `nnz` nonzeros over `cells` output cells gets on `threads`.
pub(super) fn tasks_for(nnz: usize, cells: usize, threads: usize) -> usize {
    pool::task_count(nnz, MIN_NONZEROS_PER_TASK, threads).min(cells.max(1))
}

/// One run's terms, one buffer per range of cells; `failed` records an allocation that
/// could not be made (the sink interface cannot return it).
struct Buckets {
    cells_per_range: usize,
    buffers: Vec<Vec<(usize, f64)>>,
    failed: Option<u128>,
}

impl DenseSink for Buckets {
    #[inline(always)]
    fn add(&mut self, key: usize, term: f64) {
        let buffer = &mut self.buffers[key / self.cells_per_range];
        if buffer.len() == buffer.capacity() {
            let more = buffer.capacity().max(1024);
            if buffer.try_reserve(more).is_err() {
                let bytes =
                    ((buffer.capacity() + more) * std::mem::size_of::<(usize, f64)>()) as u128;
                self.failed.get_or_insert(bytes);
                return;
            }
        }
        buffer.push((key, term));
    }
}

/// The dense-accumulator result of `input` on `tasks` (> 1) tasks of up to `threads`
/// threads; errors are the serial kernel's (the first bad subscript in input order).
pub(super) fn by_dense_accumulator_parallel<S: SubsRead + Sync>(
    input: &Input<S>,
    strides: &[u64],
    cells: usize,
    tasks: usize,
    threads: usize,
) -> Result<Vec<f64>, TtvError> {
    let nnz = input.nnz();
    let cells_per_range = cells.div_ceil(tasks);
    let ranges = cells.div_ceil(cells_per_range);
    let per_run = nnz.div_ceil(tasks);
    let runs: Vec<(usize, usize)> = (0..nnz)
        .step_by(per_run)
        .map(|start| (start, (start + per_run).min(nnz)))
        .collect();
    let expected = per_run / ranges + 1;
    let pass1 = pool::run_tasks(threads, runs, |(start, end)| {
        let mut buckets = Buckets {
            cells_per_range,
            buffers: Vec::new(),
            failed: None,
        };
        for _ in 0..ranges {
            match try_with_capacity::<(usize, f64)>(expected) {
                Ok(buffer) => buckets.buffers.push(buffer),
                Err(e) => return Err(TtvError::from(e)),
            }
        }
        input.for_each_dense_term_in(start..end, strides, cells as u64, &mut buckets)?;
        match buckets.failed {
            Some(bytes) => Err(TtvError::OutOfMemory { bytes }),
            None => Ok(buckets.buffers),
        }
    })
    .map_err(|e| TtvError::Threads(e.to_string()))?;
    // The first error in input order, as the serial kernel reports it (runs are in order).
    let mut by_run = Vec::with_capacity(pass1.len());
    for result in pass1 {
        by_run.push(result?);
    }
    let mut acc = try_vec(cells, 0.0f64)?;
    let mut slices: Vec<(usize, &mut [f64])> = Vec::with_capacity(ranges);
    let mut rest = &mut acc[..];
    for range in 0..ranges {
        let len = cells_per_range.min(rest.len());
        let (mine, tail) = rest.split_at_mut(len);
        slices.push((range, mine));
        rest = tail;
    }
    let by_run = &by_run;
    pool::run_tasks(threads, slices, |(range, slice)| {
        let base = range * cells_per_range;
        for buckets in by_run {
            for &(key, term) in &buckets[range] {
                slice[key - base] += term;
            }
        }
    })
    .map_err(|e| TtvError::Threads(e.to_string()))?;
    Ok(acc)
}
