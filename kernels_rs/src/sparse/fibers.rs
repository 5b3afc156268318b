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

use super::factors::SubsRead;
use super::factors::{first_bad_subscript, try_zeros, FactorsError, Index, ReaderKernel, Subs};

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
        if let Some(bad) = first_bad_subscript(&subs, nnz, shape) {
            return Err(bad);
        }
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
        (0..self.shape.len())
            .map(|mode| build_mode(&subs, self.vals, self.shape, mode))
            .collect()
    }
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

/// The nonzeros' order by (subscript `key`) then input order among `order`'s items: a
/// stable counting sort (`size` = that dimension).
fn counting_sort(
    subs: &impl SubsRead,
    order: &[usize],
    key: usize,
    size: usize,
) -> Result<Vec<usize>, FactorsError> {
    let mut start = try_zeros::<usize>(size + 1)?;
    for &k in order {
        start[subs.get(k, key) as usize + 1] += 1;
    }
    for i in 0..size {
        start[i + 1] += start[i];
    }
    let mut sorted = try_zeros::<usize>(order.len())?;
    for &k in order {
        let i = subs.get(k, key) as usize;
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
fn sort_order(
    subs: &impl SubsRead,
    nnz: usize,
    shape: &[usize],
    mode: usize,
    next: usize,
) -> Result<Vec<usize>, FactorsError> {
    let mut order = try_zeros::<usize>(nnz)?;
    for (k, o) in order.iter_mut().enumerate() {
        *o = k;
    }
    if counts_pay(shape[mode], nnz) && counts_pay(shape[next], nnz) {
        let by_next = counting_sort(subs, &order, next, shape[next])?;
        return counting_sort(subs, &by_next, mode, shape[mode]);
    }
    // Stable: equal keys keep input order, as the counting sorts do.
    order.sort_by_key(|&k| (subs.get(k, mode), subs.get(k, next)));
    Ok(order)
}

/// [`ModeFibers`] of one mode; every subscript is in range (checked by the caller).
fn build_mode<I: LayoutIndex>(
    subs: &impl SubsRead,
    vals: &[f64],
    shape: &[usize],
    mode: usize,
) -> Result<ModeFibers<I>, FactorsError> {
    let nnz = vals.len();
    let next = next_mode(shape, mode);
    let rest: Vec<usize> = (0..shape.len())
        .filter(|&m| m != mode && m != next)
        .collect();
    let order = sort_order(subs, nnz, shape, mode, next)?;
    let mut rows = with_room::<I>(nnz.min(shape[mode]))?;
    let mut row_fibers = with_room::<I>(nnz.min(shape[mode]) + 1)?;
    let mut row_nonzeros = with_room::<I>(nnz.min(shape[mode]) + 1)?;
    let mut fiber_next = with_room::<I>(nnz)?;
    let mut fiber_start = with_room::<I>(nnz + 1)?;
    let mut rest_subs = with_room::<I>(nnz.saturating_mul(rest.len()))?;
    let mut sorted_vals = with_room::<f64>(nnz)?;
    let mut last: Option<(i64, i64)> = None;
    for (p, &k) in order.iter().enumerate() {
        let (i, j) = (subs.get(k, mode), subs.get(k, next));
        if last.is_none_or(|(li, _)| li != i) {
            rows.push(I::from_usize(i as usize));
            row_fibers.push(I::from_usize(fiber_next.len()));
            row_nonzeros.push(I::from_usize(p));
        }
        if last != Some((i, j)) {
            fiber_next.push(I::from_usize(j as usize));
            fiber_start.push(I::from_usize(p));
        }
        last = Some((i, j));
        rest_subs.extend(rest.iter().map(|&m| I::from_usize(subs.get(k, m) as usize)));
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
