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
//!   the subscripts and values in row order (a gather), which the cache of a reused
//!   sorted layout would avoid (not built yet; see issue 15). A row with most of the
//!   nonzeros cannot be split between tasks.

use ndarray::{Array2, ArrayView1, ArrayView2};

use super::factors::{
    avx2_dispatch, check, checked_subscripts, first_bad_subscript, row_in_range, try_zeros,
    Factors, FactorsError, Index, ReaderKernel, Subs, SubsRead,
};
use super::in_range;
use crate::pool;

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

/// `$self.$method::<D, M>(args)` for the order D and mode M of `$self` when D is 2 to 5
/// (one loop compiled per order and mode, as the TTV kernel has), else `$fallback`.
macro_rules! fixed_order {
    ($self:ident, $method:ident $args:tt, $fallback:expr) => {
        fixed_order!(@pairs $self, $method $args, $fallback;
            (2, 0) (2, 1) (3, 0) (3, 1) (3, 2) (4, 0) (4, 1) (4, 2) (4, 3)
            (5, 0) (5, 1) (5, 2) (5, 3) (5, 4))
    };
    (@pairs $self:ident, $method:ident $args:tt, $fallback:expr;
        $(($d:literal, $m:literal))*) => {
        match ($self.shape.len(), $self.mode) {
            $(($d, $m) => $self.$method::<$d, $m> $args,)*
            _ => $fallback,
        }
    };
}

/// Add the term of a nonzero with value `value` and subscripts `idx` into `out_row`, in
/// register blocks of 16, 8, 4 and 1 columns (order D and mode M known at compile time).
#[inline(always)]
fn add_fixed<const D: usize, const M: usize>(
    rows: &[&[f64]; D],
    idx: &[usize; D],
    value: f64,
    rank: usize,
    out_row: &mut [f64],
) {
    let mut col = 0;
    while col + 16 <= rank {
        block_fixed::<D, M, 16>(rows, idx, value, rank, col, out_row);
        col += 16;
    }
    if col + 8 <= rank {
        block_fixed::<D, M, 8>(rows, idx, value, rank, col, out_row);
        col += 8;
    }
    if col + 4 <= rank {
        block_fixed::<D, M, 4>(rows, idx, value, rank, col, out_row);
        col += 4;
    }
    while col < rank {
        block_fixed::<D, M, 1>(rows, idx, value, rank, col, out_row);
        col += 1;
    }
}

/// Columns `col..col + B` of one term: the value times the factor entries in ascending
/// mode order, added into `out_row`.
#[inline(always)]
fn block_fixed<const D: usize, const M: usize, const B: usize>(
    rows: &[&[f64]; D],
    idx: &[usize; D],
    value: f64,
    rank: usize,
    col: usize,
    out_row: &mut [f64],
) {
    let mut term = [value; B];
    for m in 0..D {
        if m != M {
            let start = idx[m] * rank + col;
            let u: &[f64; B] = rows[m][start..start + B].try_into().expect("B values");
            for (t, &x) in term.iter_mut().zip(u) {
                *t *= x;
            }
        }
    }
    let o: &mut [f64; B] = (&mut out_row[col..col + B]).try_into().expect("B values");
    for (o, &t) in o.iter_mut().zip(&term) {
        *o += t;
    }
}

/// The checked arguments, with the subscripts' reader.
struct Input<'a, S> {
    subs: &'a S,
    vals: &'a [f64],
    shape: &'a [usize],
    factors: &'a Factors<'a>,
    mode: usize,
}

impl<S: SubsRead> Input<'_, S> {
    fn bad_subscript(&self) -> FactorsError {
        first_bad_subscript(self.subs, self.vals.len(), self.shape)
            .expect("called only when a subscript is bad")
    }

    /// Add nonzero `k`'s term into `out_row` (R values). Every subscript of `k` must be
    /// in range (the callers check `row_in_range` first).
    #[inline(always)]
    fn add_term(&self, k: usize, out_row: &mut [f64]) {
        let rank = self.factors.rank;
        let mut col = 0;
        while col + 16 <= rank {
            self.add_block::<16>(k, col, out_row);
            col += 16;
        }
        if col + 8 <= rank {
            self.add_block::<8>(k, col, out_row);
            col += 8;
        }
        if col + 4 <= rank {
            self.add_block::<4>(k, col, out_row);
            col += 4;
        }
        while col < rank {
            self.add_block::<1>(k, col, out_row);
            col += 1;
        }
    }

    /// Columns `col..col + B` of nonzero `k`'s term, added into `out_row`.
    #[inline(always)]
    fn add_block<const B: usize>(&self, k: usize, col: usize, out_row: &mut [f64]) {
        let rank = self.factors.rank;
        let mut term = [self.vals[k]; B];
        for m in 0..self.shape.len() {
            if m != self.mode {
                let start = self.subs.get(k, m) as usize * rank + col;
                let u: &[f64; B] = self.factors.rows[m][start..start + B]
                    .try_into()
                    .expect("B values");
                for (t, &x) in term.iter_mut().zip(u) {
                    *t *= x;
                }
            }
        }
        let o: &mut [f64; B] = (&mut out_row[col..col + B]).try_into().expect("B values");
        for (o, &t) in o.iter_mut().zip(&term) {
            *o += t;
        }
    }

    /// The nonzeros `range` in input order, into `out` (a whole output).
    fn in_input_order(
        &self,
        range: std::ops::Range<usize>,
        out: &mut [f64],
    ) -> Result<(), FactorsError> {
        if self.input_order_simd(range, out) {
            Ok(())
        } else {
            Err(self.bad_subscript())
        }
    }

    avx2_dispatch!(fn input_order_simd / input_order_avx2 = input_order_plain(
        &self, range: std::ops::Range<usize>, out: &mut [f64]) -> bool);

    /// [`Input::in_input_order`]'s loop, one compiled per order 2-5 and mode.
    #[inline(always)]
    fn input_order_plain(&self, range: std::ops::Range<usize>, out: &mut [f64]) -> bool {
        fixed_order!(
            self,
            input_order_fixed(range.clone(), &mut *out),
            self.input_order_any(range.clone(), &mut *out)
        )
    }

    avx2_dispatch!(fn rows_simd / rows_avx2 = rows_plain(
        &self, rows: std::ops::Range<usize>, chunk: &mut [f64], row_start: &[usize],
        order: &[usize]) -> bool);

    /// One task of the row partition: output rows `rows`, whose values are `chunk`.
    #[inline(always)]
    fn rows_plain(
        &self,
        rows: std::ops::Range<usize>,
        chunk: &mut [f64],
        row_start: &[usize],
        order: &[usize],
    ) -> bool {
        let rank = self.factors.rank;
        let first = rows.start;
        // Plain loops: an iterator adaptor such as `all` would be a library function that
        // is not inlined here, so not compiled for AVX2.
        for i in rows {
            let out_row = &mut chunk[(i - first) * rank..(i - first + 1) * rank];
            let nonzeros = &order[row_start[i]..row_start[i + 1]];
            let all_in_range = fixed_order!(
                self,
                row_fixed(nonzeros, &mut *out_row),
                self.row_any(nonzeros, &mut *out_row)
            );
            if !all_in_range {
                return false;
            }
        }
        true
    }

    /// [`Input::in_input_order`] for any order; false at a bad subscript.
    #[inline(always)]
    fn input_order_any(&self, range: std::ops::Range<usize>, out: &mut [f64]) -> bool {
        let rank = self.factors.rank;
        for k in range {
            if !row_in_range(self.subs, self.shape, k) {
                return false;
            }
            let i = self.subs.get(k, self.mode) as usize;
            self.add_term(k, &mut out[i * rank..(i + 1) * rank]);
        }
        true
    }

    /// [`Input::in_input_order`] for order D and mode M known at compile time: the
    /// subscripts read once per nonzero, the mode loop unrolled, the running products
    /// in registers. False at a bad subscript.
    #[inline(always)]
    fn input_order_fixed<const D: usize, const M: usize>(
        &self,
        range: std::ops::Range<usize>,
        out: &mut [f64],
    ) -> bool {
        let rank = self.factors.rank;
        let shape: [usize; D] = std::array::from_fn(|j| self.shape[j]);
        let rows: [&[f64]; D] = std::array::from_fn(|j| self.factors.rows[j]);
        for k in range {
            let Some(idx) = checked_subscripts(self.subs, &shape, k) else {
                return false;
            };
            let i = idx[M];
            add_fixed::<D, M>(
                &rows,
                &idx,
                self.vals[k],
                rank,
                &mut out[i * rank..(i + 1) * rank],
            );
        }
        true
    }

    /// The nonzeros `order` (all of output row `out_row`), for order D and mode M known
    /// at compile time; false at a bad subscript.
    #[inline(always)]
    fn row_fixed<const D: usize, const M: usize>(
        &self,
        order: &[usize],
        out_row: &mut [f64],
    ) -> bool {
        let rank = self.factors.rank;
        let shape: [usize; D] = std::array::from_fn(|j| self.shape[j]);
        let rows: [&[f64]; D] = std::array::from_fn(|j| self.factors.rows[j]);
        for &k in order {
            let Some(idx) = checked_subscripts(self.subs, &shape, k) else {
                return false;
            };
            add_fixed::<D, M>(&rows, &idx, self.vals[k], rank, out_row);
        }
        true
    }

    /// [`Input::row_fixed`] for any order.
    #[inline(always)]
    fn row_any(&self, order: &[usize], out_row: &mut [f64]) -> bool {
        for &k in order {
            if !row_in_range(self.subs, self.shape, k) {
                return false;
            }
            self.add_term(k, out_row);
        }
        true
    }

    /// Each task a run of nonzeros into its own output; the outputs added in task order.
    fn by_private_outputs(
        &self,
        out: &mut [f64],
        tasks: usize,
        threads: usize,
    ) -> Result<(), FactorsError> {
        let nnz = self.vals.len();
        let mut private = Vec::with_capacity(tasks - 1);
        for _ in 1..tasks {
            private.push(try_zeros::<f64>(out.len())?);
        }
        let mut work: Vec<(usize, &mut [f64])> = vec![(0, &mut *out)];
        work.extend(
            private
                .iter_mut()
                .enumerate()
                .map(|(t, p)| (t + 1, p.as_mut_slice())),
        );
        let results = pool::run_tasks(threads, work, |(t, buffer)| {
            self.in_input_order(t * nnz / tasks..(t + 1) * nnz / tasks, buffer)
        })?;
        results.into_iter().collect::<Result<(), _>>()?;
        // The reduction, split by cells; each cell adds the copies in task order.
        let chunk = out.len().div_ceil(tasks).max(1);
        let pieces: Vec<(usize, &mut [f64])> = out
            .chunks_mut(chunk)
            .enumerate()
            .map(|(c, piece)| (c * chunk, piece))
            .collect();
        pool::run_tasks(threads, pieces, |(start, piece)| {
            for copy in &private {
                for (o, &p) in piece.iter_mut().zip(&copy[start..]) {
                    *o += p;
                }
            }
        })?;
        Ok(())
    }

    /// Sort the nonzeros by output row, give each task a range of rows.
    fn by_row_partition(
        &self,
        out: &mut [f64],
        tasks: usize,
        threads: usize,
    ) -> Result<(), FactorsError> {
        let rank = self.factors.rank;
        let rows = self.shape[self.mode];
        let (row_start, order) = self.sort_by_row(rows)?;
        let nnz = self.vals.len();
        // Task t starts at the first row whose nonzeros begin at or after t * nnz / tasks.
        let mut bounds: Vec<usize> = (0..tasks)
            .map(|t| {
                row_start
                    .partition_point(|&s| s < t * nnz / tasks)
                    .min(rows)
            })
            .collect();
        bounds[0] = 0;
        bounds.push(rows);
        let mut work = Vec::with_capacity(tasks);
        let mut rest = out;
        for pair in bounds.windows(2) {
            let (chunk, tail) = rest.split_at_mut((pair[1] - pair[0]) * rank);
            work.push((pair[0]..pair[1], chunk));
            rest = tail;
        }
        let results = pool::run_tasks(threads, work, |(range, chunk)| {
            self.rows_simd(range, chunk, &row_start, &order)
        })?;
        if results.iter().all(|&ok| ok) {
            Ok(())
        } else {
            Err(self.bad_subscript())
        }
    }

    /// A stable counting sort of the nonzeros by their subscript along `mode`:
    /// `(row_start, order)` where row `i`'s nonzeros are
    /// `order[row_start[i]..row_start[i + 1]]`, in input order.
    fn sort_by_row(&self, rows: usize) -> Result<(Vec<usize>, Vec<usize>), FactorsError> {
        let nnz = self.vals.len();
        let mut row_start = try_zeros::<usize>(rows + 1)?;
        for k in 0..nnz {
            let i = self.subs.get(k, self.mode);
            if !in_range(i, rows) {
                return Err(self.bad_subscript());
            }
            row_start[i as usize + 1] += 1;
        }
        for i in 0..rows {
            row_start[i + 1] += row_start[i];
        }
        let mut next = try_zeros::<usize>(rows)?;
        next.copy_from_slice(&row_start[..rows]);
        let mut order = try_zeros::<usize>(nnz)?;
        for k in 0..nnz {
            let i = self.subs.get(k, self.mode) as usize;
            order[next[i]] = k;
            next[i] += 1;
        }
        Ok((row_start, order))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array1, Array2};
    use rand::rngs::StdRng;
    use rand::{RngExt, SeedableRng};

    /// The definition, term by term in pyttb's order.
    fn reference(
        subs: &Array2<i64>,
        vals: &[f64],
        shape: &[usize],
        factors: &[Array2<f64>],
        mode: usize,
    ) -> Array2<f64> {
        let rank = factors[(mode + 1) % shape.len()].ncols();
        let mut out = Array2::<f64>::zeros((shape[mode], rank));
        for (row, &v) in subs.rows().into_iter().zip(vals) {
            for r in 0..rank {
                let mut term = v;
                for m in (0..shape.len()).filter(|&m| m != mode) {
                    term *= factors[m][[row[m] as usize, r]];
                }
                out[[row[mode] as usize, r]] += term;
            }
        }
        out
    }

    fn random_case(
        rng: &mut StdRng,
        shape: &[usize],
        nnz: usize,
        rank: usize,
    ) -> (Array2<i64>, Vec<f64>, Vec<Array2<f64>>) {
        let mut subs = Array2::<i64>::zeros((nnz, shape.len()));
        for mut row in subs.rows_mut() {
            for (s, &n) in row.iter_mut().zip(shape) {
                *s = rng.random_range(0..n as i64);
            }
        }
        let vals = (0..nnz).map(|_| rng.random_range(-1.0..1.0)).collect();
        let factors = shape
            .iter()
            .map(|&n| Array2::from_shape_fn((n, rank), |_| rng.random_range(-1.0..1.0)))
            .collect();
        (subs, vals, factors)
    }

    fn run(
        subs: &Array2<i64>,
        vals: &[f64],
        shape: &[usize],
        factors: &[Array2<f64>],
        mode: usize,
        threads: usize,
    ) -> Result<Array2<f64>, FactorsError> {
        run_with(subs, vals, shape, factors, mode, threads, Schedule::Auto)
    }

    fn run_with(
        subs: &Array2<i64>,
        vals: &[f64],
        shape: &[usize],
        factors: &[Array2<f64>],
        mode: usize,
        threads: usize,
        schedule: Schedule,
    ) -> Result<Array2<f64>, FactorsError> {
        let views: Vec<_> = factors.iter().map(|f| f.view()).collect();
        // One task per thread even for small calls, so every schedule runs.
        split_mttkrp(
            Subs::from_view(subs.view()).unwrap(),
            ArrayView1::from(vals),
            shape,
            &views,
            mode,
            (threads, schedule),
            1,
        )
    }

    /// `got` within 1e-13 of the sum of the terms' magnitudes (`scale`: the MTTKRP of
    /// the absolute values), the scale of a sum's rounding error whatever cancels.
    fn assert_close(got: &Array2<f64>, expected: &Array2<f64>, scale: &Array2<f64>) {
        assert_eq!(got.dim(), expected.dim());
        for ((g, e), s) in got.iter().zip(expected).zip(scale) {
            assert!((g - e).abs() <= 1e-13 * s, "{g} vs {e} (scale {s})");
        }
    }

    #[test]
    fn matches_the_definition_bitwise_on_every_mode_and_thread_count() {
        let mut rng = StdRng::seed_from_u64(11);
        // Orders 2 to 5 have their own loops; order 6 takes the generic one.
        let shapes: [&[usize]; 5] = [
            &[7, 5],
            &[6, 1, 4],
            &[4, 3, 5, 2],
            &[3, 2, 3, 2, 4],
            &[2, 3, 2, 1, 2, 3],
        ];
        for shape in shapes {
            // R = 29 takes every register block (16, 8, 4, 1).
            for (nnz, rank) in [(0, 8), (1, 8), (13, 29), (500, 8), (2_000, 29)] {
                let (subs, vals, factors) = random_case(&mut rng, shape, nnz, rank);
                let abs_vals: Vec<f64> = vals.iter().map(|v| v.abs()).collect();
                let abs_factors: Vec<Array2<f64>> =
                    factors.iter().map(|f| f.mapv(f64::abs)).collect();
                for mode in 0..shape.len() {
                    let expected = reference(&subs, &vals, shape, &factors, mode);
                    let scale = reference(&subs, &abs_vals, shape, &abs_factors, mode);
                    let what = format!("{shape:?} nnz {nnz} R {rank} mode {mode}");
                    assert_eq!(
                        run(&subs, &vals, shape, &factors, mode, 1).unwrap(),
                        expected
                    );
                    for threads in [2, 3, 7] {
                        let rows =
                            run_with(&subs, &vals, shape, &factors, mode, threads, Schedule::Rows);
                        assert_eq!(rows.unwrap(), expected, "{what} rows, {threads} threads");
                        let private = run_with(
                            &subs,
                            &vals,
                            shape,
                            &factors,
                            mode,
                            threads,
                            Schedule::Private,
                        )
                        .unwrap();
                        assert_close(&private, &expected, &scale);
                        let again = run_with(
                            &subs,
                            &vals,
                            shape,
                            &factors,
                            mode,
                            threads,
                            Schedule::Private,
                        )
                        .unwrap();
                        assert_eq!(private, again, "{what}: private outputs are deterministic");
                        let auto = run(&subs, &vals, shape, &factors, mode, threads).unwrap();
                        assert_close(&auto, &expected, &scale);
                    }
                }
            }
        }
    }

    #[test]
    fn column_major_and_int32_subscripts_give_the_same_result() {
        let mut rng = StdRng::seed_from_u64(12);
        let shape = [5, 6, 7];
        let (subs, vals, factors) = random_case(&mut rng, &shape, 4_000, 4);
        let views: Vec<_> = factors.iter().map(|f| f.view()).collect();
        let fortran = subs.t().as_standard_layout().into_owned();
        let narrow = subs.mapv(|x| x as i32);
        for (threads, schedule) in [
            (1, Schedule::Auto),
            (2, Schedule::Rows),
            (2, Schedule::Private),
        ] {
            let expected = run_with(&subs, &vals, &shape, &factors, 1, threads, schedule).unwrap();
            let f = split_mttkrp(
                Subs::from_view(fortran.t()).unwrap(),
                ArrayView1::from(&vals),
                &shape,
                &views,
                1,
                (threads, schedule),
                1,
            )
            .unwrap();
            let n = split_mttkrp(
                Subs::from_view(narrow.view()).unwrap(),
                ArrayView1::from(&vals),
                &shape,
                &views,
                1,
                (threads, schedule),
                1,
            )
            .unwrap();
            assert_eq!(f, expected);
            assert_eq!(n, expected);
        }
    }

    #[test]
    fn schedule_names_parse() {
        assert_eq!(Schedule::parse("auto"), Some(Schedule::Auto));
        assert_eq!(Schedule::parse("private"), Some(Schedule::Private));
        assert_eq!(Schedule::parse("rows"), Some(Schedule::Rows));
        assert_eq!(Schedule::parse("csf"), None);
    }

    #[test]
    fn duplicates_add_and_nan_propagates() {
        let subs = Array2::from_shape_vec((3, 2), vec![1i64, 0, 1, 0, 0, 1]).unwrap();
        let factors = vec![Array2::ones((2, 2)), Array2::from_elem((2, 2), 2.0)];
        let got = run(&subs, &[1.0, 3.0, f64::NAN], &[2, 2], &factors, 0, 1).unwrap();
        assert_eq!(got.row(1).to_vec(), vec![8.0, 8.0]);
        assert!(got.row(0).iter().all(|x| x.is_nan()));
    }

    #[test]
    fn the_skipped_factor_is_never_read_and_rank_zero_is_empty() {
        let subs = Array2::from_shape_vec((1, 2), vec![0i64, 1]).unwrap();
        // factors[0] has the wrong shape on purpose: mode 0 does not read it.
        let factors = vec![Array2::<f64>::zeros((9, 9)), Array2::from_elem((2, 3), 2.0)];
        let got = run(&subs, &[5.0], &[1, 2], &factors, 0, 1).unwrap();
        assert_eq!(got, Array2::from_elem((1, 3), 10.0));
        let none = vec![Array2::<f64>::zeros((1, 0)), Array2::<f64>::zeros((2, 0))];
        assert_eq!(
            run(&subs, &[5.0], &[1, 2], &none, 1, 1).unwrap().dim(),
            (2, 0)
        );
    }

    #[test]
    fn bad_input_is_an_error_naming_the_problem() {
        let subs = Array2::from_shape_vec((2, 3), vec![0i64, 1, 2, 1, 0, 0]).unwrap();
        let vals = [1.0, 2.0];
        let shape = [2, 2, 3];
        let good = vec![
            Array2::<f64>::zeros((2, 4)),
            Array2::<f64>::zeros((2, 4)),
            Array2::<f64>::zeros((3, 4)),
        ];
        let one = Array2::from_shape_vec((1, 1), vec![0i64]).unwrap();
        assert_eq!(
            run(&one, &[1.0], &[2], &good[..1], 0, 1),
            Err(FactorsError::OrderBelowTwo { order: 1 })
        );
        assert_eq!(
            run(&subs, &vals, &shape, &good, 3, 1),
            Err(FactorsError::ModeOutOfRange { mode: 3, order: 3 })
        );
        assert_eq!(
            run(&subs, &vals, &shape[..2], &good[..2], 0, 1),
            Err(FactorsError::ColumnCount {
                columns: 3,
                order: 2
            })
        );
        assert_eq!(
            run(&subs, &vals[..1], &shape, &good, 0, 1),
            Err(FactorsError::LengthMismatch {
                subs_rows: 2,
                vals_len: 1
            })
        );
        assert_eq!(
            run(&subs, &vals, &shape, &good[..2], 0, 1),
            Err(FactorsError::FactorCount { count: 2, order: 3 })
        );
        let mut rows = good.clone();
        rows[2] = Array2::zeros((4, 4));
        assert_eq!(
            run(&subs, &vals, &shape, &rows, 0, 1),
            Err(FactorsError::FactorRows {
                index: 2,
                rows: 4,
                size: 3
            })
        );
        let mut ranks = good.clone();
        ranks[2] = Array2::zeros((3, 5));
        let err = run(&subs, &vals, &shape, &ranks, 0, 1).unwrap_err();
        assert_eq!(
            err,
            FactorsError::RankMismatch {
                index: 2,
                columns: 5,
                first: 1,
                rank: 4
            }
        );
        assert!(err
            .to_string()
            .contains("factors[1] has 4, factors[2] has 5"));
    }

    #[test]
    fn a_bad_subscript_is_the_same_error_on_every_schedule() {
        let mut rng = StdRng::seed_from_u64(13);
        let shape = [4, 5, 6];
        let (mut subs, vals, factors) = random_case(&mut rng, &shape, 50_000, 8);
        subs[[30_000, 2]] = 6;
        subs[[40_000, 0]] = -1;
        for mode in 0..3 {
            for (threads, schedule) in [
                (1, Schedule::Auto),
                (2, Schedule::Rows),
                (4, Schedule::Private),
            ] {
                assert_eq!(
                    run_with(&subs, &vals, &shape, &factors, mode, threads, schedule),
                    Err(FactorsError::SubscriptOutOfRange {
                        row: 30_000,
                        column: 2,
                        value: 6,
                        size: 6
                    }),
                    "mode {mode} threads {threads}"
                );
            }
        }
    }

    #[test]
    fn an_impossible_output_is_out_of_memory_not_an_abort() {
        let subs = Array2::from_shape_vec((1, 2), vec![0i64, 0]).unwrap();
        // factors[0] is skipped (mode 0); factors[1] fits shape[1] = 1.
        let factors = [Array2::<f64>::zeros((1, 2)), Array2::<f64>::zeros((1, 2))];
        let views: Vec<_> = factors.iter().map(|f| f.view()).collect();
        for rows in [usize::MAX / 2, 1usize << 60] {
            let got = mttkrp(
                Subs::from_view(subs.view()).unwrap(),
                Array1::from_vec(vec![1.0]).view(),
                &[rows, 1],
                &views,
                0,
                1,
                Schedule::Auto,
            );
            assert!(
                matches!(got, Err(FactorsError::OutOfMemory { .. })),
                "{got:?}"
            );
        }
    }
}
