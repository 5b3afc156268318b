//! Sparse MTTKRP (matricized tensor times Khatri-Rao product) of a COO tensor, in one
//! pass over the nonzeros for all R columns:
//!
//! `out[subs[k, mode], r] += vals[k] * prod_{m != mode} factors[m][subs[k, m], r]`.
//!
//! pyttb's `sptensor.mttkrp` runs R separate TTVs instead, each building an sptensor.
//! The arithmetic here is pyttb's, operation for operation: each term is the value times
//! the factor entries in ascending mode order, and each output row sums its terms in
//! input order starting from zero (as NumPy's `bincount` does in pyttb's TTV), so on one
//! thread the result is bitwise pyttb's.
//!
//! Per nonzero, the R columns are done in register blocks of 16, 8, 4 and 1 (rank
//! blocking inside the nonzero: the running products stay in registers), which changes
//! no operation. Orders 2 to 5 get a loop per order and mode (subscripts read once per
//! nonzero, the mode loop unrolled), and the loops run compiled for AVX2 when the CPU
//! has it: by callgrind, 108 instructions per nonzero at order 3, R = 16 (240 before
//! these three changes), results bitwise unchanged.
//!
//! Schedules ([`Schedule`]):
//! * **one task** (one thread, or too little work: [`MIN_WORK_PER_TASK`]): the nonzeros
//!   in input order, straight from COO, into the output (rows of R values, C order);
//! * **private outputs**: contiguous runs of nonzeros in input order, one per task, each
//!   into its own zeroed copy of the output (the first into the output itself), added
//!   into the output in task order at the end. Streams the input like one task does;
//!   costs (tasks - 1) x rows x R extra values and a reduction, so it is used while that
//!   is at most [`PRIVATE_CELLS_PER_NONZERO`] per nonzero. Deterministic for a given task
//!   count, but each row's sum is split at the run boundaries: equal to the one-task
//!   result to rounding, not bitwise;
//! * **row partition**: a stable counting sort of the nonzeros by output row (O(nnz +
//!   rows), the order a CSF tensor keeps for its root mode), then contiguous ranges of
//!   rows of about equal nonzero counts, one per task. Each task owns its rows: no two
//!   threads write the same memory, no extra output, and each row still sums in input
//!   order, so the result is bitwise the one-task result for any thread count. It reads
//!   the subscripts and values in row order (a gather), which the reused sorted layout
//!   of `crate::sparse::fibers` avoids. A row with most of the nonzeros cannot be split
//!   between tasks.
//!
//! Files: this one (the entry point and the choice of schedule), `terms` (one nonzero's
//! term in register blocks), `input` (the loops over the nonzeros), `schedules`
//! (private outputs, row partition), `tests`.

mod input;
mod schedules;
mod terms;
#[cfg(test)]
mod tests;

use ndarray::{Array2, ArrayView1, ArrayView2};

use super::factors::{
    check, try_zeros, Factors, FactorsError, Index, ReaderKernel, Subs, SubsRead,
};
use crate::pool;
use input::Input;

/// A call is split into one task per this many multiply-adds (nnz x R x order), up to
/// the thread count; below it, it runs inline on the calling thread. Starting a pool
/// job costs 5-9 us on the project's machines, and this much work takes ~30-100 us on
/// one core (0.1-0.4 ns per multiply-add), so a task never costs much more in overhead
/// than it saves.
pub const MIN_WORK_PER_TASK: usize = 1 << 18;

/// [`Schedule::Auto`] privatizes the output while the private copies hold at most this
/// many values per nonzero: their zeroing and reduction then cost at most about one more
/// read of the values.
pub const PRIVATE_CELLS_PER_NONZERO: usize = 1;

/// How several tasks share an MTTKRP (one task always runs in input order).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Schedule {
    /// Private outputs while they are small (see [`PRIVATE_CELLS_PER_NONZERO`]), else rows.
    Auto,
    /// Each task its own copy of the output, added up at the end.
    Private,
    /// Each task a range of output rows (bitwise the one-task result).
    Rows,
}

impl Schedule {
    /// Parse "auto", "private" or "rows".
    pub fn parse(name: &str) -> Option<Schedule> {
        match name {
            "auto" => Some(Schedule::Auto),
            "private" => Some(Schedule::Private),
            "rows" => Some(Schedule::Rows),
            _ => None,
        }
    }
}

/// The MTTKRP of the COO tensor (`subs`, `vals`, `shape`) with `factors` along `mode`:
/// a `shape[mode]` x R array (C order), R the factors' column count. `factors[mode]` is
/// not read. Runs on up to `threads` threads (see the module documentation).
pub fn mttkrp<I: Index>(
    subs: Subs<'_, I>,
    vals: ArrayView1<f64>,
    shape: &[usize],
    factors: &[ArrayView2<f64>],
    mode: usize,
    threads: usize,
    schedule: Schedule,
) -> Result<Array2<f64>, FactorsError> {
    split_mttkrp(
        subs,
        vals,
        shape,
        factors,
        mode,
        (threads, schedule),
        MIN_WORK_PER_TASK,
    )
}

/// [`mttkrp`] with the work per task as a parameter (the tests split small calls).
fn split_mttkrp<I: Index>(
    subs: Subs<'_, I>,
    vals: ArrayView1<f64>,
    shape: &[usize],
    factors: &[ArrayView2<f64>],
    mode: usize,
    (threads, schedule): (usize, Schedule),
    min_work_per_task: usize,
) -> Result<Array2<f64>, FactorsError> {
    if shape.len() < 2 {
        return Err(FactorsError::OrderBelowTwo { order: shape.len() });
    }
    let factors = check(&subs, vals, shape, factors, Some(mode))?;
    let vals = vals.as_standard_layout();
    let vals = vals.as_slice().expect("standard layout is contiguous");
    let (rows, rank) = (shape[mode], factors.rank);
    let cells = rows.checked_mul(rank).ok_or(FactorsError::OutOfMemory {
        bytes: rows as u128 * rank as u128 * 8,
    })?;
    let mut out = try_zeros::<f64>(cells)?;
    subs.with_reader(Run {
        vals,
        shape,
        factors: &factors,
        mode,
        threads,
        schedule,
        min_work_per_task,
        out: &mut out,
    })?;
    Ok(Array2::from_shape_vec((rows, rank), out).expect("rows x rank values"))
}

/// The checked arguments, waiting for the subscripts' reader.
struct Run<'a> {
    vals: &'a [f64],
    shape: &'a [usize],
    factors: &'a Factors<'a>,
    mode: usize,
    threads: usize,
    schedule: Schedule,
    min_work_per_task: usize,
    out: &'a mut [f64],
}

impl ReaderKernel<Result<(), FactorsError>> for Run<'_> {
    fn run<S: SubsRead>(self, subs: S) -> Result<(), FactorsError> {
        let input = Input {
            subs: &subs,
            vals: self.vals,
            shape: self.shape,
            factors: self.factors,
            mode: self.mode,
        };
        let (nnz, rank, cells) = (self.vals.len(), self.factors.rank, self.out.len());
        let work = nnz.saturating_mul(rank).saturating_mul(self.shape.len());
        let tasks = pool::task_count(work, self.min_work_per_task, self.threads);
        let private = match self.schedule {
            _ if tasks == 1 => return input.in_input_order(0..nnz, self.out),
            Schedule::Private => true,
            Schedule::Rows => false,
            Schedule::Auto => {
                (tasks - 1).saturating_mul(cells) <= PRIVATE_CELLS_PER_NONZERO.saturating_mul(nnz)
            }
        };
        if private {
            input.by_private_outputs(self.out, tasks, self.threads)
        } else {
            input.by_row_partition(self.out, tasks, self.threads)
        }
    }
}
