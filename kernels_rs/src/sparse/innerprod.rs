//! Inner product of a COO tensor with a Kruskal tensor (a ktensor: weights and factor
//! matrices) in one pass over the nonzeros:
//!
//! `sum_k vals[k] * sum_r weights[r] * prod_m factors[m][subs[k, m], r]`.
//!
//! pyttb computes it as R full TTVs (one per component), each a pass over the nonzeros.
//! The sum is taken in fixed blocks of [`BLOCK`] nonzeros, each summed in input order,
//! and the block sums are added in block order; threads take contiguous runs of blocks.
//! The blocks do not depend on the thread count, so neither does the result.

use ndarray::{ArrayView1, ArrayView2};

use super::factors::{
    avx2_dispatch, check, checked_subscripts, first_bad_subscript, row_in_range, try_zeros,
    Factors, FactorsError, Index, ReaderKernel, Subs, SubsRead,
};
use crate::pool;

/// Nonzeros per partial sum: fixed, so that the result is the same for any thread count.
pub const BLOCK: usize = 4096;

/// See [`super::mttkrp::MIN_WORK_PER_TASK`]: the same rule, nnz x R x order
/// multiply-adds per task.
pub use super::mttkrp::MIN_WORK_PER_TASK;

/// The inner product of the COO tensor (`subs`, `vals`, `shape`) with the Kruskal tensor
/// (`weights`, `factors`), on up to `threads` threads.
pub fn innerprod_ktensor<I: Index>(
    subs: Subs<'_, I>,
    vals: ArrayView1<f64>,
    shape: &[usize],
    weights: ArrayView1<f64>,
    factors: &[ArrayView2<f64>],
    threads: usize,
) -> Result<f64, FactorsError> {
    split_innerprod(
        subs,
        vals,
        shape,
        weights,
        factors,
        threads,
        MIN_WORK_PER_TASK,
    )
}

/// [`innerprod_ktensor`] with the work per task as a parameter (the tests split small
/// calls).
fn split_innerprod<I: Index>(
    subs: Subs<'_, I>,
    vals: ArrayView1<f64>,
    shape: &[usize],
    weights: ArrayView1<f64>,
    factors: &[ArrayView2<f64>],
    threads: usize,
    min_work_per_task: usize,
) -> Result<f64, FactorsError> {
    let factors = check(&subs, vals, shape, factors, None)?;
    let rank = factors.rank;
    if weights.len() != rank {
        return Err(FactorsError::WeightsLength {
            len: weights.len(),
            rank,
        });
    }
    let vals = vals.as_standard_layout();
    let vals = vals.as_slice().expect("standard layout is contiguous");
    let weights = weights.as_standard_layout();
    let weights = weights.as_slice().expect("standard layout is contiguous");
    subs.with_reader(Sum {
        vals,
        shape,
        weights,
        factors: &factors,
        threads,
        min_work_per_task,
    })
}

/// The block sums of one call, for any subscripts' reader.
struct Blocks<'a, S> {
    subs: &'a S,
    vals: &'a [f64],
    shape: &'a [usize],
    weights: &'a [f64],
    factors: &'a Factors<'a>,
}

impl<S: SubsRead> Blocks<'_, S> {
    avx2_dispatch!(fn sums / sums_avx2 = sums_plain(&self, first: usize, out: &mut [f64]) -> bool);

    /// The sums of blocks `first..first + out.len()` into `out`; false at a bad subscript.
    #[inline(always)]
    fn sums_plain(&self, first: usize, out: &mut [f64]) -> bool {
        // A plain loop: an iterator adaptor (`all`) would be a library function that is
        // not inlined here, so not compiled for AVX2.
        for (b, slot) in out.iter_mut().enumerate() {
            match self.block_sum(first + b) {
                Some(sum) => *slot = sum,
                None => return false,
            }
        }
        true
    }

    /// The sum over block `block` of the nonzeros, in input order (None at a bad
    /// subscript).
    #[inline(always)]
    fn block_sum(&self, block: usize) -> Option<f64> {
        match self.shape.len() {
            2 => self.block_sum_fixed::<2>(block),
            3 => self.block_sum_fixed::<3>(block),
            4 => self.block_sum_fixed::<4>(block),
            5 => self.block_sum_fixed::<5>(block),
            _ => self.block_sum_any(block),
        }
    }

    /// [`Blocks::block_sum`] for order D known at compile time: subscripts read once per
    /// nonzero, the mode loop unrolled, the columns in register blocks of 16, 4 and 1,
    /// each column summed over the block's nonzeros (vectorizable) and the columns added
    /// at the end.
    #[inline(always)]
    fn block_sum_fixed<const D: usize>(&self, block: usize) -> Option<f64> {
        let rank = self.factors.rank;
        let shape: [usize; D] = std::array::from_fn(|j| self.shape[j]);
        let rows: [&[f64]; D] = std::array::from_fn(|j| self.factors.rows[j]);
        let first = block * BLOCK;
        let block_vals = &self.vals[first..(first + BLOCK).min(self.vals.len())];
        let mut columns = vec![0.0; rank];
        for (k, &value) in (first..).zip(block_vals) {
            let idx = checked_subscripts(self.subs, &shape, k)?;
            let mut col = 0;
            while col + 16 <= rank {
                self.add_columns::<D, 16>(&rows, &idx, value, col, &mut columns);
                col += 16;
            }
            while col + 4 <= rank {
                self.add_columns::<D, 4>(&rows, &idx, value, col, &mut columns);
                col += 4;
            }
            while col < rank {
                self.add_columns::<D, 1>(&rows, &idx, value, col, &mut columns);
                col += 1;
            }
        }
        Some(columns.iter().fold(0.0, |s, &c| s + c))
    }

    /// `columns[r] += value * weights[r] * prod_m rows[m][idx[m], r]` for r in
    /// `col..col + B`.
    #[inline(always)]
    fn add_columns<const D: usize, const B: usize>(
        &self,
        rows: &[&[f64]; D],
        idx: &[usize; D],
        value: f64,
        col: usize,
        columns: &mut [f64],
    ) {
        let rank = self.factors.rank;
        let mut term: [f64; B] = self.weights[col..col + B].try_into().expect("B values");
        for m in 0..D {
            let start = idx[m] * rank + col;
            let u: &[f64; B] = rows[m][start..start + B].try_into().expect("B values");
            for (t, &x) in term.iter_mut().zip(u) {
                *t *= x;
            }
        }
        let sums: &mut [f64; B] = (&mut columns[col..col + B]).try_into().expect("B values");
        for (s, &t) in sums.iter_mut().zip(&term) {
            *s += value * t;
        }
    }

    /// [`Blocks::block_sum`] for any order.
    #[inline(always)]
    fn block_sum_any(&self, block: usize) -> Option<f64> {
        let (subs, factors) = (self.subs, self.factors);
        let mut term = vec![0.0; factors.rank];
        let mut sum = 0.0;
        let first = block * BLOCK;
        let block_vals = &self.vals[first..(first + BLOCK).min(self.vals.len())];
        for (k, &value) in (first..).zip(block_vals) {
            if !row_in_range(subs, self.shape, k) {
                return None;
            }
            term.copy_from_slice(self.weights);
            for m in 0..self.shape.len() {
                let u = factors.row(m, subs.get(k, m) as usize);
                for (t, &x) in term.iter_mut().zip(u) {
                    *t *= x;
                }
            }
            sum += value * term.iter().fold(0.0, |s, &t| s + t);
        }
        Some(sum)
    }
}

/// The checked arguments, waiting for the subscripts' reader.
struct Sum<'a> {
    vals: &'a [f64],
    shape: &'a [usize],
    weights: &'a [f64],
    factors: &'a Factors<'a>,
    threads: usize,
    min_work_per_task: usize,
}

impl ReaderKernel<Result<f64, FactorsError>> for Sum<'_> {
    fn run<S: SubsRead>(self, subs: S) -> Result<f64, FactorsError> {
        let Sum {
            vals,
            shape,
            weights,
            factors,
            threads,
            min_work_per_task,
        } = self;
        let rank = factors.rank;
        let nnz = vals.len();
        let blocks = nnz.div_ceil(BLOCK);
        let mut partial = try_zeros::<f64>(blocks)?;

        let work = nnz.saturating_mul(rank.max(1)).saturating_mul(shape.len());
        let tasks = pool::task_count(work, min_work_per_task, threads).min(blocks.max(1));
        let per_task = blocks.div_ceil(tasks).max(1);
        let work: Vec<(usize, &mut [f64])> = partial
            .chunks_mut(per_task)
            .enumerate()
            .map(|(t, chunk)| (t * per_task, chunk))
            .collect();
        let blocks = Blocks {
            subs: &subs,
            vals,
            shape,
            weights,
            factors,
        };
        let ok = pool::run_tasks(threads, work, |(first, chunk)| blocks.sums(first, chunk))?;
        if !ok.iter().all(|&ok| ok) {
            return Err(
                first_bad_subscript(&subs, nnz, shape).expect("a subscript was out of range")
            );
        }
        Ok(partial.iter().fold(0.0, |s, &p| s + p))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;
    use rand::rngs::StdRng;
    use rand::{RngExt, SeedableRng};

    fn run(
        subs: &Array2<i64>,
        vals: &[f64],
        shape: &[usize],
        weights: &[f64],
        factors: &[Array2<f64>],
        threads: usize,
    ) -> Result<f64, FactorsError> {
        let views: Vec<_> = factors.iter().map(|f| f.view()).collect();
        // One task per thread even for small calls (blocks permitting).
        split_innerprod(
            Subs::from_view(subs.view()).unwrap(),
            ArrayView1::from(vals),
            shape,
            ArrayView1::from(weights),
            &views,
            threads,
            1,
        )
    }

    #[test]
    fn matches_the_definition_and_not_the_thread_count() {
        let mut rng = StdRng::seed_from_u64(21);
        for shape in [
            &[6usize, 5][..],
            &[4, 3, 5],
            &[3, 2, 3, 4],
            &[2, 3, 2, 2, 3],
            &[7],
            // Orders 2 to 5 have their own loops; 1 and 6 take the generic one.
            &[2, 1, 3, 2, 2, 2],
        ] {
            for nnz in [0usize, 1, 50, 30_000] {
                let subs = Array2::from_shape_fn((nnz, shape.len()), |(_, j)| {
                    rng.random_range(0..shape[j] as i64)
                });
                let vals: Vec<f64> = (0..nnz).map(|_| rng.random_range(-1.0..1.0)).collect();
                // R = 21 takes every register block (16, 4, 1).
                let rank = if nnz == 1 { 5 } else { 21 };
                let weights: Vec<f64> = (0..rank).map(|_| rng.random_range(0.5..2.0)).collect();
                let factors: Vec<Array2<f64>> = shape
                    .iter()
                    .map(|&n| Array2::from_shape_fn((n, rank), |_| rng.random_range(-1.0..1.0)))
                    .collect();
                let (mut expected, mut magnitude) = (0.0, 0.0);
                for (k, &v) in vals.iter().enumerate() {
                    for (r, &w) in weights.iter().enumerate() {
                        let mut t = v * w;
                        for (m, f) in factors.iter().enumerate() {
                            t *= f[[subs[[k, m]] as usize, r]];
                        }
                        expected += t;
                        magnitude += t.abs();
                    }
                }
                let one = run(&subs, &vals, shape, &weights, &factors, 1).unwrap();
                // Within 1e-13 of the sum of the terms' magnitudes: rounding, whatever cancels.
                assert!(
                    (one - expected).abs() <= 1e-13 * magnitude,
                    "{one} vs {expected}"
                );
                for threads in [2, 3, 8] {
                    let got = run(&subs, &vals, shape, &weights, &factors, threads).unwrap();
                    assert_eq!(got.to_bits(), one.to_bits(), "threads {threads}");
                }
            }
        }
    }

    #[test]
    fn bad_input_is_an_error() {
        let subs = Array2::from_shape_vec((2, 2), vec![0i64, 1, 1, 0]).unwrap();
        let factors = vec![Array2::<f64>::ones((2, 3)), Array2::<f64>::ones((2, 3))];
        assert_eq!(
            run(&subs, &[1.0, 2.0], &[2, 2], &[1.0, 1.0], &factors, 1),
            Err(FactorsError::WeightsLength { len: 2, rank: 3 })
        );
        let mut bad = subs.clone();
        bad[[1, 1]] = 2;
        for threads in [1, 2] {
            assert_eq!(
                run(&bad, &[1.0, 2.0], &[2, 2], &[1.0; 3], &factors, threads),
                Err(FactorsError::SubscriptOutOfRange {
                    row: 1,
                    column: 1,
                    value: 2,
                    size: 2
                })
            );
        }
        // Every factor is read: factors[0] must fit too.
        let short = vec![Array2::<f64>::ones((1, 3)), Array2::<f64>::ones((2, 3))];
        assert_eq!(
            run(&subs, &[1.0, 2.0], &[2, 2], &[1.0; 3], &short, 1),
            Err(FactorsError::FactorRows {
                index: 0,
                rows: 1,
                size: 2
            })
        );
        let nan = run(&subs, &[f64::NAN, 2.0], &[2, 2], &[1.0; 3], &factors, 1).unwrap();
        assert!(nan.is_nan());
    }
}
