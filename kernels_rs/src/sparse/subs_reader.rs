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
}

/// C order: `data[row * order + j]`.
pub(super) struct RowMajor<'a> {
    data: &'a [i64],
    order: usize,
}

impl SubsRead for RowMajor<'_> {
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

    /// Each column [`PREFETCH_BYTES`] ahead, once per cache line of it (8 rows): with
    /// random adds into an accumulator beyond L2 holding the line-fill buffers, the
    /// hardware prefetcher falls behind on the `D` column streams (measured at n = 800,
    /// random order, F-ordered subs: 56.9 ms without this, 44.4 ms with it; C-ordered
    /// 31-32 ms; a loaded machine, so rough).
    #[inline(always)]
    fn prefetch<const D: usize>(&self, row: usize) {
        if row.is_multiple_of(8) {
            for j in 0..D {
                prefetch_at(self.data, j * self.nnz + row + PREFETCH_BYTES / 8);
            }
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
