//! The checked input of a TTV call and the passes over its nonzeros: each checks every
//! subscript of a row before it uses any, so a bad subscript is an error, never a panic
//! or an out-of-bounds read.
//!
//! The subscripts are read through a reader monomorphized per layout
//! ([`super::subs_reader`]).

use std::ops::Range;

use super::chunked;
use super::subs_reader::SubsRead;
use super::TtvError;

/// The checked input: `subs` through its layout's reader, `vals` and `vector` as
/// contiguous slices.
pub(super) struct Input<'a, S> {
    pub subs: S,
    pub vals: &'a [f64],
    pub shape: &'a [usize],
    pub vector: &'a [f64],
    pub mode: usize,
}

impl<S: SubsRead> Input<'_, S> {
    pub fn order(&self) -> usize {
        self.shape.len()
    }

    pub fn nnz(&self) -> usize {
        self.vals.len()
    }

    pub fn out_shape(&self) -> Vec<usize> {
        let mut out = self.shape.to_vec();
        out.remove(self.mode);
        out
    }

    /// Subscript `j` of nonzero `row` (both in range).
    #[inline(always)]
    pub fn sub(&self, row: usize, j: usize) -> i64 {
        self.subs.get(row, j)
    }

    /// The subscripts of nonzero `row` (in range), for an order-`D` tensor.
    #[inline(always)]
    fn row<const D: usize>(&self, row: usize) -> [i64; D] {
        self.subs.row::<D>(row)
    }

    pub fn out_of_range(&self, row: usize) -> TtvError {
        let column = (0..self.order())
            .find(|&j| !in_range(self.sub(row, j), self.shape[j]))
            .expect("called only for a row with a bad subscript");
        TtvError::SubscriptOutOfRange {
            row,
            column,
            value: self.sub(row, column),
            size: self.shape[column],
        }
    }

    /// Call `term(key, value * vector[sub[mode]])` for every nonzero in input order,
    /// where `key = sum_j sub[j] * strides[j]` (`strides[mode]` = 0), after checking
    /// every subscript of the row.
    pub fn for_each_term(
        &self,
        strides: &[u64],
        term: impl FnMut(u64, f64),
    ) -> Result<(), TtvError> {
        // Fixed orders get a fully unrolled inner loop; the rest share a generic one.
        match self.order() {
            2 => self.for_each_term_fixed::<2>(strides, term),
            3 => self.for_each_term_fixed::<3>(strides, term),
            4 => self.for_each_term_fixed::<4>(strides, term),
            5 => self.for_each_term_fixed::<5>(strides, term),
            _ => self.for_each_term_any(0..self.nnz(), strides, term),
        }
    }

    fn for_each_term_fixed<const D: usize>(
        &self,
        strides: &[u64],
        mut term: impl FnMut(u64, f64),
    ) -> Result<(), TtvError> {
        let shape: [u64; D] = std::array::from_fn(|j| self.shape[j] as u64);
        let strides: [u64; D] = std::array::from_fn(|j| strides[j]);
        let mode = self.mode;
        for (row, &value) in self.vals.iter().enumerate() {
            let sub = self.row::<D>(row);
            // strides[mode] is 0, so no column needs skipping (D skips none).
            let key = checked_key::<D>(&sub, &shape, &strides, D)
                .ok_or_else(|| self.out_of_range(row))?;
            term(key, value * self.vector[sub[mode] as usize]);
        }
        Ok(())
    }

    fn for_each_term_any(
        &self,
        rows: Range<usize>,
        strides: &[u64],
        mut term: impl FnMut(u64, f64),
    ) -> Result<(), TtvError> {
        for (row, &value) in rows.clone().zip(&self.vals[rows]) {
            let mut key = 0u64;
            for (j, (&size, &stride)) in self.shape.iter().zip(strides).enumerate() {
                let s = self.sub(row, j);
                if !in_range(s, size) {
                    return Err(self.out_of_range(row));
                }
                key += s as u64 * stride;
            }
            term(key, value * self.vector[self.sub(row, self.mode) as usize]);
        }
        Ok(())
    }

    /// Call `sink.add(key, value * vector[sub[mode]])` for every nonzero of `rows` in input
    /// order (keys as in [`Input::for_each_term`]), after checking every subscript of the
    /// row; a bad subscript is reported with its row in the whole tensor.
    /// Every key is below `cells`, the product of the other dimensions (the output space),
    /// which `sink` may rely on.
    ///
    /// The hot loop of the dense method. Orders 2 to 5 get a loop specialised for their
    /// order and mode: the subscripts, strides and the vector's column stay in registers,
    /// and the checked subscripts make the vector's indexed access provably in bounds.
    pub fn for_each_dense_term(
        &self,
        rows: Range<usize>,
        strides: &[u64],
        cells: u64,
        sink: &mut impl DenseSink,
    ) -> Result<(), TtvError> {
        macro_rules! by_mode {
            ($d:literal: $($m:literal)*) => {
                match self.mode {
                    $($m => self.dense_terms_fixed::<$d, $m>(rows, strides, cells, sink),)*
                    _ => unreachable!("mode < order was checked"),
                }
            };
        }
        match self.order() {
            2 => by_mode!(2: 0 1),
            3 => by_mode!(3: 0 1 2),
            4 => by_mode!(4: 0 1 2 3),
            5 => by_mode!(5: 0 1 2 3 4),
            // Every key is below `cells`: the subscripts are checked before the term.
            _ => self.for_each_term_any(rows, strides, |key, term| sink.add(key as usize, term)),
        }
    }

    fn dense_terms_fixed<const D: usize, const M: usize>(
        &self,
        rows: Range<usize>,
        strides: &[u64],
        cells: u64,
        sink: &mut impl DenseSink,
    ) -> Result<(), TtvError> {
        let shape: [u64; D] = std::array::from_fn(|j| self.shape[j] as u64);
        let strides: [u64; D] = std::array::from_fn(|j| strides[j]);
        // The bounds the unchecked access and the sink rely on (checked once, not per
        // nonzero).
        assert_eq!(
            cells,
            (0..D)
                .filter(|&j| j != M)
                .map(|j| shape[j])
                .product::<u64>(),
            "cells must be the whole output space"
        );
        assert_eq!(
            self.vector.len() as u64,
            shape[M],
            "vector must match the mode"
        );
        for (j, &stride) in strides.iter().enumerate() {
            let expected: u64 = (j + 1..D).filter(|&i| i != M).map(|i| shape[i]).product();
            assert_eq!(
                stride,
                if j == M { 0 } else { expected },
                "row-major key strides"
            );
        }
        // F-ordered subscripts, and C-ordered ones with scattered cells, go in chunks
        // (measured faster, see `chunked`); sorted C-ordered rows row by row.
        if let Some(columns) = self.subs.as_columns() {
            return chunked::dense_terms::<S, _, _, D, M>(
                self, columns, rows, shape, strides, sink,
            );
        }
        if sink.prefetches_cells() {
            if let Some(c_rows) = self.subs.as_rows() {
                return chunked::dense_terms::<S, _, _, D, M>(
                    self, c_rows, rows, shape, strides, sink,
                );
            }
        }
        for (row, &value) in rows.clone().zip(&self.vals[rows]) {
            self.subs.prefetch::<D>(row);
            let sub = self.row::<D>(row);
            // M is a constant here, so the mode's column costs no multiply.
            let key = checked_key::<D>(&sub, &shape, &strides, M)
                .ok_or_else(|| self.out_of_range(row))?;
            // SAFETY: every subscript passed `s < shape[j]` in checked_key, so
            // `sub[M] < shape[M]` = vector.len() (asserted above).
            let x = unsafe { *self.vector.get_unchecked(sub[M] as usize) };
            // The key, a row-major index over the other dimensions with the strides
            // asserted above, is at most `sum_j (shape[j] - 1) * stride[j]` = cells - 1
            // (no overflow: cells was computed without overflow in key_strides).
            sink.add(key as usize, value * x);
        }
        Ok(())
    }

    pub fn check_all_subscripts(&self) -> Result<(), TtvError> {
        for row in 0..self.nnz() {
            if (0..self.order()).any(|j| !in_range(self.sub(row, j), self.shape[j])) {
                return Err(self.out_of_range(row));
            }
        }
        Ok(())
    }
}

/// The row-major key `sum_j sub[j] * strides[j]` over every column but `skip` (pass `D`
/// to skip none), or `None` if a subscript is outside `[0, shape[j])`. Inlined into each
/// caller's loop, where `D` (and a constant `skip`) unroll it.
#[inline(always)]
fn checked_key<const D: usize>(
    sub: &[i64; D],
    shape: &[u64; D],
    strides: &[u64; D],
    skip: usize,
) -> Option<u64> {
    let mut key = 0u64;
    let mut ok = true;
    for j in 0..D {
        // A negative i64 becomes a huge u64, so one comparison checks both ends.
        let s = sub[j] as u64;
        ok &= s < shape[j];
        if j != skip {
            key = key.wrapping_add(s.wrapping_mul(strides[j]));
        }
    }
    ok.then_some(key)
}

/// Where [`Input::for_each_dense_term`] sends its terms.
pub(super) trait DenseSink {
    /// Whether the loop should announce the cells of the nonzeros ahead with
    /// [`DenseSink::prefetch`] (for scattered cells).
    fn prefetches_cells(&self) -> bool {
        false
    }
    /// A hint: a term for output cell `key` (below `cells`) comes soon.
    #[inline(always)]
    fn prefetch(&self, _key: usize) {}
    /// Add `term` at output cell `key`; `key` is below the `cells` passed with the sink.
    fn add(&mut self, key: usize, term: f64);
    /// Add each term at its key, in order (keys below `cells`, as for [`DenseSink::add`]).
    #[inline(always)]
    fn add_all(&mut self, keys: &[u64], terms: &[f64]) {
        for (&key, &term) in keys.iter().zip(terms) {
            self.add(key as usize, term);
        }
    }
}

pub(super) fn in_range(subscript: i64, size: usize) -> bool {
    (subscript as u64) < size as u64
}

/// Row-major strides of the output space laid over the input's columns (0 at `mode`),
/// or None when the output space has more than `u64::MAX` cells.
pub(super) fn key_strides(shape: &[usize], mode: usize) -> Option<(Vec<u64>, u64)> {
    let mut strides = vec![0u64; shape.len()];
    let mut cells = 1u64;
    for j in (0..shape.len()).rev() {
        if j != mode {
            strides[j] = cells;
            cells = cells.checked_mul(shape[j] as u64)?;
        }
    }
    Some((strides, cells))
}

/// 0 + t1 + t2 + ... left to right, as an accumulator that starts at zero adds them.
pub(super) fn sum_in_order(terms: impl Iterator<Item = f64>) -> f64 {
    terms.fold(0.0, |sum, t| sum + t)
}
