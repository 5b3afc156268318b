//! Sparse MTTKRP (matricized tensor times Khatri-Rao product) of a COO tensor, in one
//! pass over the nonzeros for all R columns:
//!
//! `out[subs[k, mode], r] += vals[k] * prod_{m != mode} factors[m][subs[k, m], r]`.
//!
//! pyttb's `sptensor.mttkrp` runs R separate TTVs instead, each building an sptensor.
//! The arithmetic here is pyttb's, operation for operation: each term is the value times
//! the factor entries in ascending mode order, and each output row sums its terms in
//! input order starting from zero (as NumPy's `bincount` does in pyttb's TTV), so the
//! result is bitwise pyttb's.
//!
//! Two schedules, with the same result to the bit:
//! * **one thread** (or little work, see [`MIN_WORK_PER_TASK`]): the nonzeros in input
//!   order, straight from COO, into the output (rows of R values, C order: the R-wide
//!   updates are contiguous);
//! * **several threads**: a stable counting sort of the nonzeros by their output row
//!   (O(nnz + rows), the layout a CSF tensor keeps for its root mode), then the output
//!   rows are split into contiguous ranges of about equal nonzero counts, one per task.
//!   Each task owns its rows, so no two threads write the same memory (no atomics, no
//!   private copies of the output, no reduction), and each row still sums its terms in
//!   input order. Why not privatized outputs: those need threads x rows x R extra memory
//!   and a reduction, and the result would change with the thread count.
//!
//! Not here yet: caching the sorted order on a tensor for the repeated MTTKRPs of
//! CP-ALS, and rank blocking (see the module's issue for the measurements still to make).
//! A single output row with most of the nonzeros cannot be split between threads.

use ndarray::{Array2, ArrayView1, ArrayView2};

use super::factors::{
    check, first_bad_subscript, row_in_range, try_zeros, Factors, FactorsError, Index, Subs,
};
use super::in_range;
use crate::pool;

/// A call is split into one task per this many multiply-adds (nnz x R x order), up to
/// the thread count; below it, it runs inline on the calling thread. Starting a pool
/// job costs 5-9 us on the project's machines, and this much work takes ~30-100 us on
/// one core (0.1-0.4 ns per multiply-add), so a task never costs much more in overhead
/// than it saves.
pub const MIN_WORK_PER_TASK: usize = 1 << 18;

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
    let input = Input {
        subs: &subs,
        vals,
        shape,
        factors: &factors,
        mode,
    };
    let work = input
        .vals
        .len()
        .saturating_mul(rank)
        .saturating_mul(shape.len());
    let tasks = pool::task_count(work, MIN_WORK_PER_TASK, threads);
    if tasks == 1 {
        input.in_input_order(&mut out)?;
    } else {
        input.by_row_partition(&mut out, tasks, threads)?;
    }
    Ok(Array2::from_shape_vec((rows, rank), out).expect("rows x rank values"))
}

/// The checked arguments.
struct Input<'a, I> {
    subs: &'a Subs<'a, I>,
    vals: &'a [f64],
    shape: &'a [usize],
    factors: &'a Factors<'a>,
    mode: usize,
}

impl<I: Index> Input<'_, I> {
    fn bad_subscript(&self) -> FactorsError {
        first_bad_subscript(self.subs, self.shape).expect("called only when a subscript is bad")
    }

    /// Add nonzero `k`'s term into `out_row` (R values), with `term` as scratch. Every
    /// subscript of `k` must be in range (the callers check `row_in_range` first).
    #[inline(always)]
    fn add_term(&self, k: usize, term: &mut [f64], out_row: &mut [f64]) {
        term.fill(self.vals[k]);
        for m in 0..self.shape.len() {
            if m != self.mode {
                let u = self.factors.row(m, self.subs.get(k, m) as usize);
                for (t, &x) in term.iter_mut().zip(u) {
                    *t *= x;
                }
            }
        }
        for (o, &t) in out_row.iter_mut().zip(term.iter()) {
            *o += t;
        }
    }

    /// One thread: every nonzero in input order, straight into `out`.
    fn in_input_order(&self, out: &mut [f64]) -> Result<(), FactorsError> {
        let rank = self.factors.rank;
        let mut term = vec![0.0; rank];
        for k in 0..self.vals.len() {
            if !row_in_range(self.subs, self.shape, k) {
                return Err(self.bad_subscript());
            }
            let i = self.subs.get(k, self.mode) as usize;
            self.add_term(k, &mut term, &mut out[i * rank..(i + 1) * rank]);
        }
        Ok(())
    }

    /// Several threads: sort the nonzeros by output row, give each task a range of rows.
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
            let mut term = vec![0.0; rank];
            let first = range.start;
            for i in range {
                let out_row = &mut chunk[(i - first) * rank..(i - first + 1) * rank];
                for &k in &order[row_start[i]..row_start[i + 1]] {
                    if !row_in_range(self.subs, self.shape, k) {
                        return false;
                    }
                    self.add_term(k, &mut term, out_row);
                }
            }
            true
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
        let views: Vec<_> = factors.iter().map(|f| f.view()).collect();
        mttkrp(
            Subs::from_view(subs.view()).unwrap(),
            ArrayView1::from(vals),
            shape,
            &views,
            mode,
            threads,
        )
    }

    #[test]
    fn matches_the_definition_bitwise_on_every_mode_and_thread_count() {
        let mut rng = StdRng::seed_from_u64(11);
        let shapes: [&[usize]; 4] = [&[7, 5], &[6, 1, 4], &[4, 3, 5, 2], &[3, 2, 3, 2, 4]];
        for shape in shapes {
            // 20_000 nonzeros x R = 8 x order is enough work for several tasks.
            for nnz in [0, 1, 13, 20_000] {
                let (subs, vals, factors) = random_case(&mut rng, shape, nnz, 8);
                for mode in 0..shape.len() {
                    let expected = reference(&subs, &vals, shape, &factors, mode);
                    for threads in [1, 2, 3, 7] {
                        let got = run(&subs, &vals, shape, &factors, mode, threads).unwrap();
                        assert_eq!(got, expected, "{shape:?} nnz {nnz} mode {mode} t {threads}");
                    }
                }
            }
        }
    }

    #[test]
    fn column_major_and_int32_subscripts_give_the_same_result() {
        let mut rng = StdRng::seed_from_u64(12);
        let shape = [5, 6, 7];
        let (subs, vals, factors) = random_case(&mut rng, &shape, 40_000, 4);
        let views: Vec<_> = factors.iter().map(|f| f.view()).collect();
        let fortran = subs.t().as_standard_layout().into_owned();
        let narrow = subs.mapv(|x| x as i32);
        for threads in [1, 2] {
            let expected = run(&subs, &vals, &shape, &factors, 1, threads).unwrap();
            let f = mttkrp(
                Subs::from_view(fortran.t()).unwrap(),
                ArrayView1::from(&vals),
                &shape,
                &views,
                1,
                threads,
            )
            .unwrap();
            let n = mttkrp(
                Subs::from_view(narrow.view()).unwrap(),
                ArrayView1::from(&vals),
                &shape,
                &views,
                1,
                threads,
            )
            .unwrap();
            assert_eq!(f, expected);
            assert_eq!(n, expected);
        }
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
            for threads in [1, 2, 4] {
                assert_eq!(
                    run(&subs, &vals, &shape, &factors, mode, threads),
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
            );
            assert!(
                matches!(got, Err(FactorsError::OutOfMemory { .. })),
                "{got:?}"
            );
        }
    }
}
