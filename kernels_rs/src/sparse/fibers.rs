//! A fiber layout of a COO tensor (CSF-like, two levels), built once and owned here,
//! for the repeated MTTKRPs of CP-ALS (issue 15).
//!
//! For every mode `m` ([`ModeFibers`]) the nonzeros are copied in the order of their
//! (row = subscript `m`, next = subscript along [`ModeFibers::next`]) pair, input order
//! among equals. A *fiber* is a run of nonzeros with the same (row, next); a row is a
//! run of fibers. The MTTKRP ([`mttkrp`]) then sums, per fiber, `val * prod_rest U[.]`
//! (the modes other than `m` and `next`) into a register row and multiplies that by
//! `U_next[next, :]` once per fiber instead of once per nonzero: fewer multiplies, and
//! one subscript fewer read per nonzero than COO.
//!
//! The layout is a copy (subscripts as u32 when every dimension and nnz allow, else u64;
//! values as f64), so a later change to the caller's arrays cannot make it stale.
//! Built by two stable counting sorts per mode (by next, then by row: O(nnz + rows +
//! next's dimension)); a dimension far larger than nnz (hypersparse: the counts would
//! cost more than the nonzeros) takes a stable comparison sort on the same key instead,
//! which gives the same order.

pub mod mttkrp;
#[cfg(test)]
mod tests;

use super::factors::{
    first_bad_subscript, try_zeros, FactorsError, Index, ReaderKernel, Subs, SubsRead,
};
use super::in_range;

/// A dimension is counting-sorted while it has at most this many cells per nonzero (plus
/// [`COUNTING_SORT_SLACK`]); its count array then costs about what the nonzeros do.
pub const COUNTING_SORT_CELLS_PER_NONZERO: usize = 4;
/// Small dimensions are always counting-sorted.
pub const COUNTING_SORT_SLACK: usize = 1 << 12;

/// An unsigned integer the layout stores subscripts and pointers in.
pub trait LayoutIndex: Copy + Send + Sync + Default + 'static {
    /// The largest value it holds.
    const MAX: u64;
    fn from_usize(x: usize) -> Self;
    fn to_usize(self) -> usize;
}

impl LayoutIndex for u32 {
    const MAX: u64 = u32::MAX as u64;
    #[inline(always)]
    fn from_usize(x: usize) -> Self {
        x as u32
    }
    #[inline(always)]
    fn to_usize(self) -> usize {
        self as usize
    }
}

impl LayoutIndex for u64 {
    const MAX: u64 = u64::MAX;
    #[inline(always)]
    fn from_usize(x: usize) -> Self {
        x as u64
    }
    #[inline(always)]
    fn to_usize(self) -> usize {
        self as usize
    }
}

/// The nonzeros sorted for the MTTKRP along one mode.
#[derive(Debug, Clone, PartialEq)]
pub struct ModeFibers<I> {
    /// The mode whose rows this sorts by.
    pub mode: usize,
    /// The second sort key: the other mode of smallest dimension (the lowest on a tie),
    /// which makes the fibers longest on average.
    pub next: usize,
    /// The remaining modes, ascending: their subscripts are stored per nonzero.
    pub rest: Vec<usize>,
    /// The non-empty rows, ascending.
    pub rows: Vec<I>,
    /// Row `r`'s fibers are `row_fibers[r]..row_fibers[r + 1]`.
    pub row_fibers: Vec<I>,
    /// Row `r`'s first nonzero (for splitting rows between tasks by work).
    pub row_nonzeros: Vec<I>,
    /// Each fiber's subscript along `next`.
    pub fiber_next: Vec<I>,
    /// Fiber `f`'s nonzeros are `fiber_start[f]..fiber_start[f + 1]`.
    pub fiber_start: Vec<I>,
    /// `rest_subs[k * rest.len() + j]` is sorted nonzero `k`'s subscript along `rest[j]`.
    pub rest_subs: Vec<I>,
    /// The values, sorted.
    pub vals: Vec<f64>,
}

/// A COO tensor in fiber layout, one [`ModeFibers`] per mode.
#[derive(Debug, Clone, PartialEq)]
pub struct Layout<I> {
    pub shape: Vec<usize>,
    pub nnz: usize,
    pub modes: Vec<ModeFibers<I>>,
}

/// A layout with the narrowest index type that fits.
#[derive(Debug, Clone, PartialEq)]
pub enum AnyLayout {
    Narrow(Layout<u32>),
    Wide(Layout<u64>),
}

impl AnyLayout {
    /// Check and copy the COO tensor (`subs`, `vals`, `shape`) of order >= 2 into fiber
    /// layout, with u32 indices when every dimension and nnz fit in one.
    pub fn build<S: Index>(
        subs: Subs<'_, S>,
        vals: &[f64],
        shape: &[usize],
    ) -> Result<AnyLayout, FactorsError> {
        let narrow = shape.iter().all(|&n| n as u64 <= u32::MAX as u64 + 1)
            && vals.len() as u64 <= u32::MAX as u64;
        if narrow {
            Layout::build(subs, vals, shape).map(AnyLayout::Narrow)
        } else {
            Layout::build(subs, vals, shape).map(AnyLayout::Wide)
        }
    }

    pub fn shape(&self) -> &[usize] {
        match self {
            AnyLayout::Narrow(l) => &l.shape,
            AnyLayout::Wide(l) => &l.shape,
        }
    }

    pub fn nnz(&self) -> usize {
        match self {
            AnyLayout::Narrow(l) => l.nnz,
            AnyLayout::Wide(l) => l.nnz,
        }
    }

    /// Bits of the stored subscripts and pointers (32 or 64).
    pub fn index_bits(&self) -> usize {
        match self {
            AnyLayout::Narrow(_) => 32,
            AnyLayout::Wide(_) => 64,
        }
    }
}

impl<I: LayoutIndex> Layout<I> {
    /// See [`AnyLayout::build`]; `I` must hold every subscript and nnz (the caller's
    /// choice, checked).
    pub fn build<S: Index>(
        subs: Subs<'_, S>,
        vals: &[f64],
        shape: &[usize],
    ) -> Result<Layout<I>, FactorsError> {
        let order = shape.len();
        if order < 2 {
            return Err(FactorsError::OrderBelowTwo { order });
        }
        let nnz = vals.len();
        if subs.order() != order && subs.nnz() > 0 {
            return Err(FactorsError::ColumnCount {
                columns: subs.order(),
                order,
            });
        }
        if subs.nnz() != nnz {
            return Err(FactorsError::LengthMismatch {
                subs_rows: subs.nnz(),
                vals_len: nnz,
            });
        }
        assert!(
            shape.iter().all(|&n| n as u64 <= I::MAX.saturating_add(1)) && nnz as u64 <= I::MAX,
            "the index type holds every subscript and pointer"
        );
        let modes = subs.with_reader(BuildModes { vals, shape })?;
        Ok(Layout {
            shape: shape.to_vec(),
            nnz,
            modes,
        })
    }
}

/// The build, waiting for the subscripts' reader.
struct BuildModes<'a> {
    vals: &'a [f64],
    shape: &'a [usize],
}

impl<I: LayoutIndex> ReaderKernel<Result<Vec<ModeFibers<I>>, FactorsError>> for BuildModes<'_> {
    fn run<S: SubsRead>(self, subs: S) -> Result<Vec<ModeFibers<I>>, FactorsError> {
        let columns = columns::<I>(&subs, self.vals.len(), self.shape)?;
        (0..self.shape.len())
            .map(|mode| build_mode(&columns, self.vals, self.shape, mode))
            .collect()
    }
}

/// The subscripts as one contiguous column per mode, range-checked in one in-order pass
/// over the nonzeros: the sorts then read 4-byte keys in order instead of `subs`' rows.
fn columns<I: LayoutIndex>(
    subs: &impl SubsRead,
    nnz: usize,
    shape: &[usize],
) -> Result<Vec<Vec<I>>, FactorsError> {
    let mut columns = Vec::with_capacity(shape.len());
    for _ in shape {
        columns.push(with_room::<I>(nnz)?);
    }
    for k in 0..nnz {
        for (j, (&size, column)) in shape.iter().zip(columns.iter_mut()).enumerate() {
            let s = subs.get(k, j);
            if !in_range(s, size) {
                return Err(first_bad_subscript(subs, nnz, shape).expect("a bad subscript"));
            }
            column.push(I::from_usize(s as usize));
        }
    }
    Ok(columns)
}

/// The other mode of smallest dimension (the lowest on a tie).
pub fn next_mode(shape: &[usize], mode: usize) -> usize {
    (0..shape.len())
        .filter(|&m| m != mode)
        .min_by_key(|&m| shape[m])
        .expect("order >= 2")
}

/// An empty vector with room for `len` items, or OutOfMemory.
fn with_room<T>(len: usize) -> Result<Vec<T>, FactorsError> {
    let mut v = Vec::new();
    v.try_reserve_exact(len)
        .map_err(|_| FactorsError::OutOfMemory {
            bytes: len as u128 * std::mem::size_of::<T>() as u128,
        })?;
    Ok(v)
}

/// `order` stably sorted by `keys[k]` (counting sort, keys below `size`).
fn counting_sort<I: LayoutIndex>(
    keys: &[I],
    order: &[usize],
    size: usize,
) -> Result<Vec<usize>, FactorsError> {
    let mut start = try_zeros::<usize>(size + 1)?;
    for &k in order {
        start[keys[k].to_usize() + 1] += 1;
    }
    for i in 0..size {
        start[i + 1] += start[i];
    }
    let mut sorted = try_zeros::<usize>(order.len())?;
    for &k in order {
        let i = keys[k].to_usize();
        sorted[start[i]] = k;
        start[i] += 1;
    }
    Ok(sorted)
}

/// Whether a dimension of `size` is counting-sorted for `nnz` nonzeros.
fn counts_pay(size: usize, nnz: usize) -> bool {
    size <= COUNTING_SORT_CELLS_PER_NONZERO
        .saturating_mul(nnz)
        .saturating_add(COUNTING_SORT_SLACK)
}

/// The nonzeros sorted by (row, next), input order among equals.
fn sort_order<I: LayoutIndex>(
    columns: &[Vec<I>],
    shape: &[usize],
    mode: usize,
    next: usize,
) -> Result<Vec<usize>, FactorsError> {
    let nnz = columns[mode].len();
    let mut order = try_zeros::<usize>(nnz)?;
    for (k, o) in order.iter_mut().enumerate() {
        *o = k;
    }
    let (rows, nexts) = (&columns[mode], &columns[next]);
    if counts_pay(shape[mode], nnz) && counts_pay(shape[next], nnz) {
        let by_next = counting_sort(nexts, &order, shape[next])?;
        return counting_sort(rows, &by_next, shape[mode]);
    }
    // Stable: equal keys keep input order, as the counting sorts do.
    order.sort_by_key(|&k| (rows[k].to_usize(), nexts[k].to_usize()));
    Ok(order)
}

/// [`ModeFibers`] of one mode from the checked subscript columns: by one counting sort
/// on the (row, next) pair when its count array pays, else by [`by_sort_order`].
fn build_mode<I: LayoutIndex>(
    columns: &[Vec<I>],
    vals: &[f64],
    shape: &[usize],
    mode: usize,
) -> Result<ModeFibers<I>, FactorsError> {
    let next = next_mode(shape, mode);
    match shape[mode].checked_mul(shape[next]) {
        Some(pairs) if counts_pay(pairs, vals.len()) => {
            by_pair_counts(columns, vals, shape, mode, next, pairs)
        }
        _ => by_sort_order(columns, vals, shape, mode, next),
    }
}

fn rest_modes(order: usize, mode: usize, next: usize) -> Vec<usize> {
    (0..order).filter(|&m| m != mode && m != next).collect()
}

/// One stable counting sort on the bucket `row * shape[next] + next` (`pairs` buckets):
/// a counting pass and a scatter pass, both reading the input in order; the fibers are
/// the non-empty buckets, the rows the non-empty runs of `shape[next]` buckets.
fn by_pair_counts<I: LayoutIndex>(
    columns: &[Vec<I>],
    vals: &[f64],
    shape: &[usize],
    mode: usize,
    next: usize,
    pairs: usize,
) -> Result<ModeFibers<I>, FactorsError> {
    let nnz = vals.len();
    let rest = rest_modes(shape.len(), mode, next);
    let (row_of, next_of) = (&columns[mode], &columns[next]);
    let width = shape[next];
    let bucket = |k: usize| row_of[k].to_usize() * width + next_of[k].to_usize();
    let mut start = try_zeros::<usize>(pairs + 1)?;
    for k in 0..nnz {
        start[bucket(k) + 1] += 1;
    }
    let room = nnz.min(shape[mode]);
    let mut rows = with_room::<I>(room)?;
    let mut row_fibers = with_room::<I>(room + 1)?;
    let mut row_nonzeros = with_room::<I>(room + 1)?;
    let mut fiber_next = with_room::<I>(nnz)?;
    let mut fiber_start = with_room::<I>(nnz + 1)?;
    // The fibers and rows from the counts, then the counts made into starts.
    let mut total = 0;
    for b in 0..pairs {
        let count = start[b + 1];
        if count > 0 {
            let (i, j) = (b / width, b % width);
            if rows.last().is_none_or(|&r| r.to_usize() != i) {
                rows.push(I::from_usize(i));
                row_fibers.push(I::from_usize(fiber_next.len()));
                row_nonzeros.push(I::from_usize(total));
            }
            fiber_next.push(I::from_usize(j));
            fiber_start.push(I::from_usize(total));
        }
        start[b] = total;
        total += count;
    }
    row_fibers.push(I::from_usize(fiber_next.len()));
    row_nonzeros.push(I::from_usize(nnz));
    fiber_start.push(I::from_usize(nnz));
    fiber_next.shrink_to_fit();
    fiber_start.shrink_to_fit();
    let n_rest = rest.len();
    let mut rest_subs = try_zeros::<I>(nnz.saturating_mul(n_rest))?;
    let mut sorted_vals = try_zeros::<f64>(nnz)?;
    let rest_columns: Vec<&[I]> = rest.iter().map(|&m| columns[m].as_slice()).collect();
    for (k, &v) in vals.iter().enumerate() {
        let b = bucket(k);
        let p = start[b];
        start[b] += 1;
        sorted_vals[p] = v;
        for (j, c) in rest_columns.iter().enumerate() {
            rest_subs[p * n_rest + j] = c[k];
        }
    }
    Ok(ModeFibers {
        mode,
        next,
        rest,
        rows,
        row_fibers,
        row_nonzeros,
        fiber_next,
        fiber_start,
        rest_subs,
        vals: sorted_vals,
    })
}

/// The nonzeros' order by (row, next) ([`sort_order`]), then one gather pass.
fn by_sort_order<I: LayoutIndex>(
    columns: &[Vec<I>],
    vals: &[f64],
    shape: &[usize],
    mode: usize,
    next: usize,
) -> Result<ModeFibers<I>, FactorsError> {
    let nnz = vals.len();
    let rest = rest_modes(shape.len(), mode, next);
    let order = sort_order(columns, shape, mode, next)?;
    let room = nnz.min(shape[mode]);
    let mut rows = with_room::<I>(room)?;
    let mut row_fibers = with_room::<I>(room + 1)?;
    let mut row_nonzeros = with_room::<I>(room + 1)?;
    let mut fiber_next = with_room::<I>(nnz)?;
    let mut fiber_start = with_room::<I>(nnz + 1)?;
    let mut rest_subs = with_room::<I>(nnz.saturating_mul(rest.len()))?;
    let mut sorted_vals = with_room::<f64>(nnz)?;
    let (row_of, next_of) = (&columns[mode], &columns[next]);
    let rest_columns: Vec<&[I]> = rest.iter().map(|&m| columns[m].as_slice()).collect();
    let mut last: Option<(usize, usize)> = None;
    for (p, &k) in order.iter().enumerate() {
        let (i, j) = (row_of[k].to_usize(), next_of[k].to_usize());
        if last.is_none_or(|(li, _)| li != i) {
            rows.push(row_of[k]);
            row_fibers.push(I::from_usize(fiber_next.len()));
            row_nonzeros.push(I::from_usize(p));
        }
        if last != Some((i, j)) {
            fiber_next.push(next_of[k]);
            fiber_start.push(I::from_usize(p));
        }
        last = Some((i, j));
        rest_subs.extend(rest_columns.iter().map(|c| c[k]));
        sorted_vals.push(vals[k]);
    }
    row_fibers.push(I::from_usize(fiber_next.len()));
    row_nonzeros.push(I::from_usize(nnz));
    fiber_start.push(I::from_usize(nnz));
    fiber_next.shrink_to_fit();
    fiber_start.shrink_to_fit();
    Ok(ModeFibers {
        mode,
        next,
        rest,
        rows,
        row_fibers,
        row_nonzeros,
        fiber_next,
        fiber_start,
        rest_subs,
        vals: sorted_vals,
    })
}
