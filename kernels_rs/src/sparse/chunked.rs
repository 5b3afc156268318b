//! The dense loop of TTV in chunks of [`CHUNK`] nonzeros, for Fortran-ordered subscripts
//! (pyttb's own layout, one column per mode) and for C-ordered ones whose cells scatter
//! (random order). Each chunk's keys, checks and terms are computed column by column in
//! loops without a branch per row, which vectorize (AVX-512 or AVX2 through pulp, a
//! gather from the vector); then the terms are added in input order, so the sums are
//! bitwise those of the row-by-row loop. The next chunk is prepared before the current
//! one is added: with scattered cells its keys are prefetched a chunk ahead.
//!
//! Measured on an Intel Xeon (2 MiB L2), median of 10 rotated rounds in one process per
//! build, the row-by-row build run back to back with this one (ns per nonzero):
//!
//! | arrangement | n = 800: row by row | chunked | n = 1200: row by row | chunked |
//! |---|---|---|---|---|
//! | sorted, F order | 2.86 | 2.62 | 2.86 | 2.67 |
//! | random, F order | 8.07 | 5.08 | 8.84 | 6.37 |
//! | random, C order | 6.14 | 5.36 | 6.79 | 6.33 |
//! | sorted, C order | 3.03 | 3.72 | 2.74 | 3.33 |
//!
//! Sorted C-ordered rows therefore keep the row-by-row loop (the chunked figures for
//! them are from a build that forced it): copied into columns first, they lose more than
//! the chunks gain. Chunks of 32 rows beat 16, 64 and 128 (random F order, n = 800:
//! 5.98, 5.22, 6.13 and 6.12 ns).

use std::ops::Range;

use super::coo::{in_range, DenseSink, Input};
use super::subs_reader::{prefetch_range, ColumnMajor, RowMajor, SubsRead};
use super::TtvError;

/// Nonzeros per chunk: 32 keys and terms per buffer, two buffers (1 KiB), in L1.
const CHUNK: usize = 32;

/// How many rows ahead the subscripts and `vals` are prefetched: with random adds into an
/// accumulator beyond L2 holding the line-fill buffers, the hardware prefetcher falls
/// behind on the input streams (the row-by-row loop's measurement, n = 800, random
/// order, F-ordered subs: 56.9 ms without a prefetch 2 KiB ahead, 44.4 ms with it).
const PREFETCH_ROWS: usize = 256;

/// Add `value * vector[sub[M]]` at the key `sum_j sub[j] * strides[j]` for every nonzero
/// of `rows` in input order, after checking each chunk's subscripts; the first bad row
/// of the first bad chunk is the error. `shape`, `strides` and `input.vector` are those
/// [`Input::for_each_dense_term`] checked (every key of a good row is below the sink's
/// cells).
pub(super) fn dense_terms<
    S: SubsRead,
    C: ChunkColumns,
    K: DenseSink,
    const D: usize,
    const M: usize,
>(
    input: &Input<S>,
    columns: &C,
    rows: Range<usize>,
    shape: [u64; D],
    strides: [u64; D],
    sink: &mut K,
) -> Result<(), TtvError> {
    // On the widest SIMD this CPU has, so that the chunk loops vectorize.
    pulp::Arch::new().dispatch(Chunks::<S, C, K, D, M> {
        input,
        columns,
        rows,
        shape,
        strides,
        sink,
    })
}

struct Chunks<'r, 'a, 's, S, C, K, const D: usize, const M: usize> {
    input: &'r Input<'a, S>,
    columns: &'r C,
    rows: Range<usize>,
    shape: [u64; D],
    strides: [u64; D],
    sink: &'s mut K,
}

impl<S: SubsRead, C: ChunkColumns, K: DenseSink, const D: usize, const M: usize> pulp::WithSimd
    for Chunks<'_, '_, '_, S, C, K, D, M>
{
    type Output = Result<(), TtvError>;

    #[inline(always)]
    fn with_simd<V: pulp::Simd>(self, _simd: V) -> Self::Output {
        self.run()
    }
}

impl<S: SubsRead, C: ChunkColumns, K: DenseSink, const D: usize, const M: usize>
    Chunks<'_, '_, '_, S, C, K, D, M>
{
    #[inline(always)]
    fn run(self) -> Result<(), TtvError> {
        let rows = self.rows.clone();
        if rows.is_empty() {
            return Ok(());
        }
        if self.input.vector.is_empty() {
            // shape[M] = 0: no subscript of mode M is in range.
            return Err(self.input.out_of_range(rows.start));
        }
        let prefetch_cells = self.sink.prefetches_cells();
        let chunk_at = |start: usize| start..(start + CHUNK).min(rows.end);
        let mut keys = [[0u64; CHUNK]; 2];
        let mut terms = [[0f64; CHUNK]; 2];
        let mut current = chunk_at(rows.start);
        self.prepare(current.clone(), &mut keys[0], &mut terms[0])?;
        let mut buffer = 0;
        loop {
            let next = chunk_at(current.end);
            if !next.is_empty() {
                let (k, t) = (&mut keys[1 - buffer], &mut terms[1 - buffer]);
                self.prepare(next.clone(), k, t)?;
                if prefetch_cells {
                    for &key in &k[..next.len()] {
                        self.sink.prefetch(key as usize);
                    }
                }
            }
            let len = current.len();
            // Every key of a prepared chunk is below the sink's cells (see `prepare`).
            self.sink
                .add_all(&keys[buffer][..len], &terms[buffer][..len]);
            if next.is_empty() {
                return Ok(());
            }
            current = next;
            buffer = 1 - buffer;
        }
    }

    /// The keys and terms of the nonzeros `rows` (at most [`CHUNK`]) into the first
    /// `rows.len()` entries of `keys` and `terms`, or the error of the chunk's first bad
    /// row. A good row's key is below the sink's cells: its subscripts are in range and
    /// the strides are the row-major strides of the output space.
    #[inline(always)]
    fn prepare(
        &self,
        rows: Range<usize>,
        keys: &mut [u64; CHUNK],
        terms: &mut [f64; CHUNK],
    ) -> Result<(), TtvError> {
        let (start, len) = (rows.start, rows.len());
        self.columns.prefetch_rows::<D>(start + PREFETCH_ROWS, len);
        prefetch_range(self.input.vals, start + PREFETCH_ROWS, len);
        let mut copied = [[0i64; CHUNK]; D];
        let columns = self.columns.columns::<D>(start, len, &mut copied);
        let vals = &self.input.vals[rows.clone()];
        let vector = self.input.vector;
        let (keys, terms) = (&mut keys[..len], &mut terms[..len]);
        // The keys and the checks, a column at a time (no branch: the vectorizer's loop).
        keys.fill(0);
        let mut bad = 0u64;
        for (j, column) in columns.iter().enumerate() {
            let (size, stride) = (self.shape[j], self.strides[j]);
            for (key, &s) in keys.iter_mut().zip(*column) {
                // A negative i64 becomes a huge u64, so one comparison checks both ends.
                let s = s as u64;
                bad |= u64::from(s >= size);
                if j != M {
                    *key = key.wrapping_add(s.wrapping_mul(stride));
                }
            }
        }
        // The terms: the vector's index is clamped, so the load is in bounds before the
        // row is known to be good (a bad row fails the chunk below).
        let last = vector.len() - 1;
        for ((term, &value), &s) in terms.iter_mut().zip(vals).zip(columns[M]) {
            let i = (s as u64).min(last as u64) as usize;
            // SAFETY: i <= last = vector.len() - 1, and the vector is not empty (checked
            // in `run`).
            *term = value * unsafe { *vector.get_unchecked(i) };
        }
        if bad == 0 {
            return Ok(());
        }
        let first_bad = rows
            .clone()
            .find(|&row| (0..D).any(|j| !in_range(self.input.sub(row, j), self.input.shape[j])))
            .expect("a chunk that fails its check has a bad row");
        Err(self.input.out_of_range(first_bad))
    }
}

/// The subscripts of a chunk of rows as `D` columns: F-ordered ones in place, C-ordered
/// ones copied.
pub(super) trait ChunkColumns {
    /// A hint that rows `start..start + len` (which may lie past the end) are read soon.
    fn prefetch_rows<const D: usize>(&self, start: usize, len: usize);
    /// The columns of rows `start..start + len` (in range, `len` at most [`CHUNK`]),
    /// copied into `copied` when they are not stored so.
    fn columns<'b, const D: usize>(
        &'b self,
        start: usize,
        len: usize,
        copied: &'b mut [[i64; CHUNK]; D],
    ) -> [&'b [i64]; D];
}

impl ChunkColumns for ColumnMajor<'_> {
    #[inline(always)]
    fn prefetch_rows<const D: usize>(&self, start: usize, len: usize) {
        ColumnMajor::prefetch_rows::<D>(self, start, len)
    }

    #[inline(always)]
    fn columns<'b, const D: usize>(
        &'b self,
        start: usize,
        len: usize,
        _copied: &'b mut [[i64; CHUNK]; D],
    ) -> [&'b [i64]; D] {
        ColumnMajor::columns::<D>(self, start, len)
    }
}

impl ChunkColumns for RowMajor<'_> {
    #[inline(always)]
    fn prefetch_rows<const D: usize>(&self, start: usize, len: usize) {
        RowMajor::prefetch_rows::<D>(self, start, len)
    }

    #[inline(always)]
    fn columns<'b, const D: usize>(
        &'b self,
        start: usize,
        len: usize,
        copied: &'b mut [[i64; CHUNK]; D],
    ) -> [&'b [i64]; D] {
        let len = len.min(CHUNK);
        for (r, row) in RowMajor::rows::<D>(self, start, len).iter().enumerate() {
            for (column, &s) in copied.iter_mut().zip(row) {
                column[r] = s;
            }
        }
        let copied: &'b [[i64; CHUNK]; D] = copied;
        std::array::from_fn(|j| &copied[j][..len])
    }
}
