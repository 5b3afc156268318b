//! The MTTKRP of a [`Layout`]: for each output row, for each of its fibers,
//! `fiber = sum_k val_k * prod_{m in rest} U_m[i_m, :]` (ascending mode order, nonzeros
//! in layout order), then `row += fiber * U_next[j, :]`; each row starts from zero.
//! The same result as the COO kernel up to rounding (the products are formed in another
//! order); NaN and infinities propagate as that arithmetic does (an overflow can differ
//! from the COO kernel's, the factors being multiplied in another order).
//!
//! The columns go in register blocks of 16, 8, 4 and 1 (rank blocking): a row's block
//! accumulator and a fiber's stay in registers, and a row is written once per block.
//! For R > 16 a row's nonzeros are read once per block (from L1).
//!
//! Threads: the non-empty rows are split into contiguous ranges of about equal nonzero
//! counts, one per task; each task owns its output rows (no races, no extra output), so
//! the result is bitwise the same for every thread count. Calls below
//! [`crate::sparse::mttkrp::MIN_WORK_PER_TASK`] per task run inline.
//!
//! Measured (this Xeon, 2 cores shared with other jobs: best of 7 interleaved calls
//! per variant, ranges over several runs; n = 400 sptenrand density 0.01, 636,891
//! nonzeros, 1 thread, per mode):
//!
//! | R  | COO one-pass (`mttkrp`) | this layout | layout, 8-column blocks |
//! |----|-------------------------|-------------|-------------------------|
//! | 8  | 2.4-2.9 ms              | 1.7-2.4 ms  |                         |
//! | 16 | 3.3-4.4 ms              | 2.0-2.9 ms  | 3.5 ms (2.9 ms with 16) |
//! | 32 | 5.6-6.7 ms              | 3.8-4.9 ms  |                         |
//!
//! On 2 threads (R = 16, same run): COO (private outputs) 3.95 ms, layout 1.34 ms
//! (1 thread in that run: 6.2 and 2.5 ms). The build (all 3 modes, one pair counting
//! sort each) takes 19-40 ms, about 10 layout MTTKRPs; it saves ~1.3 ms per mode, so
//! it pays after ~5-10 CP-ALS iterations. COO stays the kernel for one-off MTTKRPs
//! (pyttb's drop-in, which cannot cache a layout on a mutable sptensor: a build per
//! call would cost more than the COO MTTKRP). The time per nonzero barely grows with R
//! up to 16, so the loop is not bound by its flops; likely by the per-fiber work (a
//! fiber holds ~4 nonzeros here, and its length is a branch hard to predict; not
//! profiled).

use ndarray::{Array2, ArrayView1, ArrayView2};

use super::{LayoutIndex, ModeFibers};
use crate::pool;
use crate::sparse::factors::{avx2_dispatch, check, try_zeros, Factors, FactorsError, Subs};
use crate::sparse::mttkrp::MIN_WORK_PER_TASK;

/// Loops compiled for this many `rest` modes (orders 2 to 5); more take a runtime count.
const DYNAMIC: usize = usize::MAX;

impl<I: LayoutIndex> super::Layout<I> {
    /// The mode-`mode` MTTKRP with `factors` (C-contiguous; `factors[mode]` not read): a
    /// `shape[mode]` x R array, R the factors' column count, on up to `threads` threads.
    pub fn mttkrp(
        &self,
        factors: &[ArrayView2<f64>],
        mode: usize,
        threads: usize,
    ) -> Result<Array2<f64>, FactorsError> {
        self.split_mttkrp(factors, mode, threads, MIN_WORK_PER_TASK)
    }

    /// [`Self::mttkrp`] with the work per task as a parameter (the tests split small calls).
    pub(super) fn split_mttkrp(
        &self,
        factors: &[ArrayView2<f64>],
        mode: usize,
        threads: usize,
        min_work_per_task: usize,
    ) -> Result<Array2<f64>, FactorsError> {
        let order = self.shape.len();
        // The subscripts and values were checked at build; this checks the factors.
        let no_subs: Subs<'_, i64> = Subs::RowMajor { data: &[], order };
        let factors = check(
            &no_subs,
            ArrayView1::from(&[][..]),
            &self.shape,
            factors,
            Some(mode),
        )?;
        let (rows, rank) = (self.shape[mode], factors.rank);
        let cells = rows.checked_mul(rank).ok_or(FactorsError::OutOfMemory {
            bytes: rows as u128 * rank as u128 * 8,
        })?;
        let mut out = try_zeros::<f64>(cells)?;
        let fibers = &self.modes[mode];
        let kernel = Kernel {
            fibers,
            factors: &factors,
        };
        let work = self.nnz.saturating_mul(rank).saturating_mul(order);
        let tasks = pool::task_count(work, min_work_per_task, threads);
        let nrows = fibers.rows.len();
        // Task t starts at the first non-empty row whose nonzeros begin at or after
        // t * nnz / tasks, and owns the output rows from that row's subscript on.
        let mut bounds: Vec<usize> = (0..tasks)
            .map(|t| {
                fibers.row_nonzeros[..nrows]
                    .partition_point(|&s| s.to_usize() < t * self.nnz / tasks)
            })
            .collect();
        bounds[0] = 0;
        bounds.push(nrows);
        bounds.dedup();
        let mut work_items = Vec::with_capacity(bounds.len());
        let mut rest = out.as_mut_slice();
        let mut first_out_row = 0;
        for (t, pair) in bounds.windows(2).enumerate() {
            let end_out_row = if t + 2 == bounds.len() {
                rows
            } else {
                fibers.rows[pair[1]].to_usize()
            };
            let (chunk, tail) = rest.split_at_mut((end_out_row - first_out_row) * rank);
            work_items.push((pair[0]..pair[1], first_out_row, chunk));
            rest = tail;
            first_out_row = end_out_row;
        }
        pool::run_tasks(threads, work_items, |(range, first, chunk)| {
            kernel.rows_simd(range, first, chunk)
        })?;
        Ok(Array2::from_shape_vec((rows, rank), out).expect("rows x rank values"))
    }
}

/// One mode's fibers with the checked factors.
struct Kernel<'a, I> {
    fibers: &'a ModeFibers<I>,
    factors: &'a Factors<'a>,
}

impl<I: LayoutIndex> Kernel<'_, I> {
    avx2_dispatch!(fn rows_simd / rows_avx2 = rows_plain(
        &self, range: std::ops::Range<usize>, first: usize, chunk: &mut [f64]) -> ());

    /// Non-empty rows `range` into `chunk`, whose first row is output row `first`.
    #[inline(always)]
    fn rows_plain(&self, range: std::ops::Range<usize>, first: usize, chunk: &mut [f64]) {
        match self.fibers.rest.len() {
            0 => self.rows_fixed::<0>(range, first, chunk),
            1 => self.rows_fixed::<1>(range, first, chunk),
            2 => self.rows_fixed::<2>(range, first, chunk),
            3 => self.rows_fixed::<3>(range, first, chunk),
            _ => self.rows_fixed::<DYNAMIC>(range, first, chunk),
        }
    }

    /// [`Self::rows_plain`] for `REST` rest modes known at compile time (or any, for
    /// [`DYNAMIC`]). Plain loops: an iterator adaptor would not be inlined here, so
    /// not compiled for AVX2.
    #[inline(always)]
    fn rows_fixed<const REST: usize>(
        &self,
        range: std::ops::Range<usize>,
        first: usize,
        chunk: &mut [f64],
    ) {
        let rank = self.factors.rank;
        for r in range {
            let i = self.fibers.rows[r].to_usize() - first;
            let out_row = &mut chunk[i * rank..(i + 1) * rank];
            let mut col = 0;
            while col + 16 <= rank {
                self.row_block::<REST, 16>(r, col, out_row);
                col += 16;
            }
            if col + 8 <= rank {
                self.row_block::<REST, 8>(r, col, out_row);
                col += 8;
            }
            if col + 4 <= rank {
                self.row_block::<REST, 4>(r, col, out_row);
                col += 4;
            }
            while col < rank {
                self.row_block::<REST, 1>(r, col, out_row);
                col += 1;
            }
        }
    }

    /// Columns `col..col + B` of non-empty row `r`, written into `out_row`.
    #[inline(always)]
    fn row_block<const REST: usize, const B: usize>(
        &self,
        r: usize,
        col: usize,
        out_row: &mut [f64],
    ) {
        let f = self.fibers;
        let rank = self.factors.rank;
        let n_rest = if REST == DYNAMIC { f.rest.len() } else { REST };
        let next_factor = self.factors.rows[f.next];
        // The rest factors' slices, hoisted out of the nonzero loop (REST of them, or
        // up to 8 inline for DYNAMIC; more go through the Vec).
        let rest_factors: [&[f64]; 8] =
            std::array::from_fn(|j| f.rest.get(j).map_or(&[][..], |&m| self.factors.rows[m]));
        let mut row = [0.0f64; B];
        let fibers = f.row_fibers[r].to_usize()..f.row_fibers[r + 1].to_usize();
        for fiber in fibers {
            let mut acc = [0.0f64; B];
            let (lo, hi) = (
                f.fiber_start[fiber].to_usize(),
                f.fiber_start[fiber + 1].to_usize(),
            );
            let vals = &f.vals[lo..hi];
            if n_rest == 0 {
                for &v in vals {
                    for a in acc.iter_mut() {
                        *a += v;
                    }
                }
            } else {
                let subs = &f.rest_subs[lo * n_rest..hi * n_rest];
                for (&v, idx) in vals.iter().zip(subs.chunks_exact(n_rest)) {
                    let mut term = [v; B];
                    for (j, &i) in idx.iter().enumerate() {
                        let factor = if REST == DYNAMIC && j >= 8 {
                            self.factors.rows[f.rest[j]]
                        } else {
                            rest_factors[j]
                        };
                        let start = i.to_usize() * rank + col;
                        let u: &[f64; B] = factor[start..start + B].try_into().expect("B values");
                        for (t, &x) in term.iter_mut().zip(u) {
                            *t *= x;
                        }
                    }
                    for (a, &t) in acc.iter_mut().zip(&term) {
                        *a += t;
                    }
                }
            }
            let start = f.fiber_next[fiber].to_usize() * rank + col;
            let u: &[f64; B] = next_factor[start..start + B].try_into().expect("B values");
            for ((o, &a), &x) in row.iter_mut().zip(&acc).zip(u) {
                *o += a * x;
            }
        }
        out_row[col..col + B].copy_from_slice(&row);
    }
}
