//! The passes over the nonzeros of a checked COO input: in input order (one task or one
//! private output) and by output row (the row partition), with a loop compiled per
//! order 2-5 and mode, run as AVX2 code when the CPU has it.

use super::terms::{add_fixed, fixed_order};
use crate::sparse::factors::{
    avx2_dispatch, checked_subscripts, first_bad_subscript, row_in_range, Factors, FactorsError,
    SubsRead,
};

/// The checked arguments, with the subscripts' reader.
pub(super) struct Input<'a, S> {
    pub(super) subs: &'a S,
    pub(super) vals: &'a [f64],
    pub(super) shape: &'a [usize],
    pub(super) factors: &'a Factors<'a>,
    pub(super) mode: usize,
}

impl<S: SubsRead> Input<'_, S> {
    pub(super) fn bad_subscript(&self) -> FactorsError {
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
    pub(super) fn in_input_order(
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

    avx2_dispatch!(pub(super) fn rows_simd / rows_avx2 = rows_plain(
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
}
