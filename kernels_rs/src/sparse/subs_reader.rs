//! The readers of a TTV call's subscripts, in place in either layout (C order, or
//! pyttb's own Fortran order, one column per mode), each monomorphized into the hot
//! loops ([`with_reader`]): an F-ordered `subs` is neither copied nor read across its
//! rows. (`factors::SubsRead` does the same for MTTKRP; these also fetch a whole row
//! with one bounds check and prefetch C-ordered rows.)

use super::factors::Subs;

/// Subscript `j` of nonzero `row`, and whole rows for the loops specialised by order.
/// `Sync`: the threaded kernel shares one reader between its tasks.
pub(super) trait SubsRead: Sync {
    fn get(&self, row: usize, j: usize) -> i64;
    /// The `D` subscripts of nonzero `row` (the order is `D`).
    fn row<const D: usize>(&self, row: usize) -> [i64; D];
    /// A hint that the loops specialised by order will read row `row` soon.
    #[inline(always)]
    fn prefetch<const D: usize>(&self, _row: usize) {}
    /// This reader as F-ordered columns, when it is one (the dense loop reads those in
    /// chunks, see `chunked`).
    #[inline(always)]
    fn as_columns(&self) -> Option<&ColumnMajor<'_>> {
        None
    }
    /// This reader as C-ordered rows, when it is one.
    #[inline(always)]
    fn as_rows(&self) -> Option<&RowMajor<'_>> {
        None
    }
}

/// C order: `data[row * order + j]`.
pub(super) struct RowMajor<'a> {
    data: &'a [i64],
    order: usize,
}

impl SubsRead for RowMajor<'_> {
    #[inline(always)]
    fn as_rows(&self) -> Option<&RowMajor<'_>> {
        Some(self)
    }

    #[inline(always)]
    fn get(&self, row: usize, j: usize) -> i64 {
        self.data[row * self.order + j]
    }

    #[inline(always)]
    fn row<const D: usize>(&self, row: usize) -> [i64; D] {
        // One bounds check for the row (factors::RowMajor checks each subscript).
        *<&[i64; D]>::try_from(&self.data[row * D..row * D + D]).expect("D subscripts")
    }

    /// C-ordered subscripts are one dense stream that the hardware prefetcher follows
    /// less far ahead than the F order's `D` shorter streams (measured: sorted C 1.4x
    /// slower than F at 17M nonzeros, equal in cache); asking for the line
    /// [`PREFETCH_BYTES`] ahead closes the gap.
    #[inline(always)]
    fn prefetch<const D: usize>(&self, row: usize) {
        prefetch_at(self.data, row * D + PREFETCH_BYTES / 8);
    }
}

/// How far ahead the readers prefetch the subscripts (per stream).
const PREFETCH_BYTES: usize = 2048;

/// Ask for every cache line of `data[start..start + len]` (which may lie past the end).
#[inline(always)]
pub(super) fn prefetch_range<T>(data: &[T], start: usize, len: usize) {
    let per_line = 64 / std::mem::size_of::<T>();
    for i in (start..start + len).step_by(per_line) {
        prefetch_at(data, i);
    }
}

impl RowMajor<'_> {
    /// Rows `start..start + len` (in range; the order is `D`).
    #[inline(always)]
    pub fn rows<const D: usize>(&self, start: usize, len: usize) -> &[[i64; D]] {
        self.data[start * D..(start + len) * D].as_chunks::<D>().0
    }

    /// A hint that rows `start..start + len` (which may lie past the end) are read soon.
    #[inline(always)]
    pub fn prefetch_rows<const D: usize>(&self, start: usize, len: usize) {
        prefetch_range(self.data, start * D, len * D);
    }
}

#[cfg(test)]
impl<'a> RowMajor<'a> {
    pub fn new(data: &'a [i64], order: usize) -> Self {
        RowMajor { data, order }
    }
}

/// Fortran order, one column per mode: `data[j * nnz + row]`.
pub(super) struct ColumnMajor<'a> {
    data: &'a [i64],
    nnz: usize,
}

impl SubsRead for ColumnMajor<'_> {
    #[inline(always)]
    fn get(&self, row: usize, j: usize) -> i64 {
        self.data[j * self.nnz + row]
    }

    #[inline(always)]
    fn row<const D: usize>(&self, row: usize) -> [i64; D] {
        std::array::from_fn(|j| self.data[j * self.nnz + row])
    }

    #[inline(always)]
    fn as_columns(&self) -> Option<&ColumnMajor<'_>> {
        Some(self)
    }
}

impl ColumnMajor<'_> {
    /// The `D` columns' subscripts of rows `start..start + len` (in range).
    #[inline(always)]
    pub fn columns<const D: usize>(&self, start: usize, len: usize) -> [&[i64]; D] {
        std::array::from_fn(|j| &self.data[j * self.nnz + start..j * self.nnz + start + len])
    }

    /// A hint that rows `start..start + len` (which may lie past the end) are read soon.
    #[inline(always)]
    pub fn prefetch_rows<const D: usize>(&self, start: usize, len: usize) {
        for j in 0..D {
            prefetch_range(self.data, j * self.nnz + start, len);
        }
    }
}

/// Ask for the cache line of `data[index]` (`index` may be past the end).
#[inline(always)]
pub(super) fn prefetch_at<T>(data: &[T], index: usize) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        // A prefetch never faults, so the address may lie past the end (wrapping_add
        // keeps the pointer arithmetic defined).
        let ahead = data.as_ptr().wrapping_add(index);
        // SAFETY: SSE, the only feature `_mm_prefetch` needs, is part of the x86-64
        // baseline every build targets; the instruction reads nothing and never faults,
        // whatever the address.
        unsafe { _mm_prefetch::<_MM_HINT_T0>(ahead.cast()) };
    }
}

/// A computation generic over the subscripts' reader (see [`with_reader`]).
pub(super) trait ReaderKernel<T> {
    fn run<S: SubsRead>(self, subs: S) -> T;
}

/// Call `kernel` with a reader made for the layout of `subs`, so that the hot loops read
/// them without a branch on the layout per subscript.
pub(super) fn with_reader<T>(subs: Subs<'_, i64>, kernel: impl ReaderKernel<T>) -> T {
    match subs {
        Subs::RowMajor { data, order } => kernel.run(RowMajor { data, order }),
        Subs::ColumnMajor { data, nnz } => kernel.run(ColumnMajor { data, nnz }),
    }
}
