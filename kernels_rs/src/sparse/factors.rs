//! The arguments shared by the kernels that combine a COO tensor with factor matrices
//! (MTTKRP, inner product with a Kruskal tensor): subscripts read in place whatever their
//! layout (row- or column-major) and integer width, the checks, and their errors.

use std::fmt;

use ndarray::{ArrayView1, ArrayView2};

use super::in_range;
use crate::pool::PoolError;

/// An integer type subscripts may be stored in (NumPy's int32 and int64).
pub trait Index: Copy + Sync + Into<i64> {}
impl Index for i32 {}
impl Index for i64 {}

/// The nnz x d subscripts of a COO tensor, read in place.
#[derive(Clone, Copy)]
pub enum Subs<'a, I> {
    /// `data[k * order + j]` is subscript `j` of nonzero `k` (C order).
    RowMajor { data: &'a [I], order: usize },
    /// `data[j * nnz + k]` is subscript `j` of nonzero `k` (Fortran order, pyttb's own).
    ColumnMajor { data: &'a [I], nnz: usize },
}

impl<'a, I: Index> Subs<'a, I> {
    /// The subscripts of `view` in place when it is C- or F-contiguous, else None.
    pub fn from_view(view: ArrayView2<'a, I>) -> Option<Self> {
        let (nnz, order) = view.dim();
        if let Some(data) = view.to_slice() {
            return Some(Subs::RowMajor { data, order });
        }
        view.reversed_axes()
            .to_slice()
            .map(|data| Subs::ColumnMajor { data, nnz })
    }

    pub fn nnz(&self) -> usize {
        match *self {
            Subs::RowMajor { data, order } => data.len().checked_div(order).unwrap_or(0),
            Subs::ColumnMajor { nnz, .. } => nnz,
        }
    }

    pub fn order(&self) -> usize {
        match *self {
            Subs::RowMajor { order, .. } => order,
            Subs::ColumnMajor { data, nnz } => data.len().checked_div(nnz).unwrap_or(0),
        }
    }

    /// Call `kernel` with a reader of these subscripts made for their layout, so that a
    /// hot loop reads them without a branch on the layout per subscript.
    pub fn with_reader<T>(&self, kernel: impl ReaderKernel<T>) -> T {
        match *self {
            Subs::RowMajor { data, order } => kernel.run(RowMajor { data, order }),
            Subs::ColumnMajor { data, nnz } => kernel.run(ColumnMajor { data, nnz }),
        }
    }
}

/// Subscript `j` of nonzero `k`, both in range (the callers' loop bounds).
pub trait SubsRead: Sync {
    fn get(&self, k: usize, j: usize) -> i64;
}

impl<I: Index> SubsRead for Subs<'_, I> {
    #[inline(always)]
    fn get(&self, k: usize, j: usize) -> i64 {
        match *self {
            Subs::RowMajor { data, order } => data[k * order + j].into(),
            Subs::ColumnMajor { data, nnz } => data[j * nnz + k].into(),
        }
    }
}

/// [`Subs::RowMajor`] as its own type, for [`Subs::with_reader`].
pub struct RowMajor<'a, I> {
    data: &'a [I],
    order: usize,
}

impl<I: Index> SubsRead for RowMajor<'_, I> {
    #[inline(always)]
    fn get(&self, k: usize, j: usize) -> i64 {
        self.data[k * self.order + j].into()
    }
}

/// [`Subs::ColumnMajor`] as its own type, for [`Subs::with_reader`].
pub struct ColumnMajor<'a, I> {
    data: &'a [I],
    nnz: usize,
}

impl<I: Index> SubsRead for ColumnMajor<'_, I> {
    #[inline(always)]
    fn get(&self, k: usize, j: usize) -> i64 {
        self.data[j * self.nnz + k].into()
    }
}

/// A computation generic over the subscripts' reader (see [`Subs::with_reader`]).
pub trait ReaderKernel<T> {
    fn run<S: SubsRead>(self, subs: S) -> T;
}

/// Why a kernel refused its input. The messages name the argument and the problem.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FactorsError {
    /// An MTTKRP of an order-`order` tensor (below 2: no factor to take the rank from).
    OrderBelowTwo { order: usize },
    /// `mode` is not below the order.
    ModeOutOfRange { mode: usize, order: usize },
    /// `subs` has a number of columns other than the order.
    ColumnCount { columns: usize, order: usize },
    /// `subs` and `vals` disagree on the number of nonzeros.
    LengthMismatch { subs_rows: usize, vals_len: usize },
    /// Not one factor matrix per mode.
    FactorCount { count: usize, order: usize },
    /// `factors[index]` does not have `shape[index]` rows.
    FactorRows {
        index: usize,
        rows: usize,
        size: usize,
    },
    /// `factors[index]` has another number of columns than the first factor read.
    RankMismatch {
        index: usize,
        columns: usize,
        first: usize,
        rank: usize,
    },
    /// `weights` is not one weight per column.
    WeightsLength { len: usize, rank: usize },
    /// A subscript is negative or not below its dimension.
    SubscriptOutOfRange {
        row: usize,
        column: usize,
        value: i64,
        size: usize,
    },
    /// Memory for the result or the work arrays could not be allocated.
    OutOfMemory { bytes: u128 },
    /// The worker threads could not be started.
    Threads(PoolError),
}

impl fmt::Display for FactorsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FactorsError::OrderBelowTwo { order } => write!(
                f,
                "mttkrp needs a tensor of order at least 2, got shape of length {order}"
            ),
            FactorsError::ModeOutOfRange { mode, order } => write!(
                f,
                "mode must be in [0, {order}) for a tensor of order {order}, got {mode}"
            ),
            FactorsError::ColumnCount { columns, order } => write!(
                f,
                "subs must have one column per dimension of shape ({order}), got {columns}"
            ),
            FactorsError::LengthMismatch {
                subs_rows,
                vals_len,
            } => write!(
                f,
                "subs and vals must have the same number of nonzeros, got {subs_rows} \
                 subscript rows and {vals_len} values"
            ),
            FactorsError::FactorCount { count, order } => write!(
                f,
                "factors must hold one matrix per mode of the tensor ({order}), got {count}"
            ),
            FactorsError::FactorRows { index, rows, size } => write!(
                f,
                "factors[{index}] must have shape[{index}] = {size} rows, got {rows}"
            ),
            FactorsError::RankMismatch {
                index,
                columns,
                first,
                rank,
            } => write!(
                f,
                "every factor must have the same number of columns (the rank): \
                 factors[{first}] has {rank}, factors[{index}] has {columns}"
            ),
            FactorsError::WeightsLength { len, rank } => write!(
                f,
                "weights must have one entry per column of the factors ({rank}), got {len}"
            ),
            FactorsError::SubscriptOutOfRange {
                row,
                column,
                value,
                size,
            } => write!(
                f,
                "subs[{row}, {column}] = {value} is out of range: subscripts of dimension \
                 {column} must be in [0, {size})"
            ),
            FactorsError::OutOfMemory { bytes } => {
                write!(
                    f,
                    "cannot allocate {bytes} bytes for the result and work space"
                )
            }
            FactorsError::Threads(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for FactorsError {}

impl From<PoolError> for FactorsError {
    fn from(e: PoolError) -> Self {
        FactorsError::Threads(e)
    }
}

/// A zero-filled vector of `len` items, or [`FactorsError::OutOfMemory`] (never an abort).
pub fn try_zeros<T: Clone + Default>(len: usize) -> Result<Vec<T>, FactorsError> {
    let mut v = Vec::new();
    v.try_reserve_exact(len)
        .map_err(|_| FactorsError::OutOfMemory {
            bytes: len as u128 * std::mem::size_of::<T>() as u128,
        })?;
    v.resize(len, T::default());
    Ok(v)
}

/// Checked factor matrices: `rows[m]` is factor `m` in C order (`rank` values per row),
/// empty for a skipped mode.
pub struct Factors<'a> {
    pub rows: Vec<&'a [f64]>,
    pub rank: usize,
}

impl Factors<'_> {
    /// Row `i` of factor `m`.
    #[inline(always)]
    pub fn row(&self, m: usize, i: usize) -> &[f64] {
        &self.rows[m][i * self.rank..(i + 1) * self.rank]
    }
}

/// Check `subs`, `vals` and the factors of every mode but `skip` against `shape`, and
/// return the factors as C-order slices. `factors[m]` must be C-contiguous (the caller
/// makes it so); `factors[skip]` is not read (pyttb's MTTKRP never reads it either).
pub fn check<'a, I: Index>(
    subs: &Subs<'_, I>,
    vals: ArrayView1<f64>,
    shape: &[usize],
    factors: &[ArrayView2<'a, f64>],
    skip: Option<usize>,
) -> Result<Factors<'a>, FactorsError> {
    let order = shape.len();
    if let Some(mode) = skip {
        if mode >= order {
            return Err(FactorsError::ModeOutOfRange { mode, order });
        }
    }
    if subs.order() != order && subs.nnz() > 0 {
        return Err(FactorsError::ColumnCount {
            columns: subs.order(),
            order,
        });
    }
    if subs.nnz() != vals.len() {
        return Err(FactorsError::LengthMismatch {
            subs_rows: subs.nnz(),
            vals_len: vals.len(),
        });
    }
    if factors.len() != order {
        return Err(FactorsError::FactorCount {
            count: factors.len(),
            order,
        });
    }
    let mut rank: Option<(usize, usize)> = None; // (first factor read, its columns)
    let mut rows = Vec::with_capacity(order);
    for (index, factor) in factors.iter().enumerate() {
        if Some(index) == skip {
            rows.push(&[][..]);
            continue;
        }
        let (n, r) = factor.dim();
        if n != shape[index] {
            return Err(FactorsError::FactorRows {
                index,
                rows: n,
                size: shape[index],
            });
        }
        match rank {
            None => rank = Some((index, r)),
            Some((first, rank)) if rank != r => {
                return Err(FactorsError::RankMismatch {
                    index,
                    columns: r,
                    first,
                    rank,
                })
            }
            Some(_) => {}
        }
        rows.push(
            factor
                .to_slice()
                .expect("the caller passes C-contiguous factors"),
        );
    }
    Ok(Factors {
        rows,
        rank: rank.map_or(0, |(_, r)| r),
    })
}

/// The first subscript out of range, scanning nonzeros in input order and each one's
/// columns left to right; the error every kernel reports, whatever order it read in.
#[cold]
pub fn first_bad_subscript(
    subs: &impl SubsRead,
    nnz: usize,
    shape: &[usize],
) -> Option<FactorsError> {
    (0..nnz).find_map(|row| {
        (0..shape.len()).find_map(|column| {
            let value = subs.get(row, column);
            (!in_range(value, shape[column])).then_some(FactorsError::SubscriptOutOfRange {
                row,
                column,
                value,
                size: shape[column],
            })
        })
    })
}

/// Define `$name`, which runs `$plain` (an `#[inline(always)]` method of the same
/// signature) compiled for AVX2 when the CPU has it, else as built. The kernels' loops
/// are plain Rust; inlined into a function compiled with AVX2 they vectorize 4 doubles
/// wide instead of SSE2's 2. The arithmetic does not change (Rust never fuses a separate
/// multiply and add into an FMA), so the results are the same bits on either path.
macro_rules! avx2_dispatch {
    ($vis:vis fn $name:ident / $avx2:ident = $plain:ident(&self $(, $arg:ident: $ty:ty)*) -> $ret:ty) => {
        $vis fn $name(&self $(, $arg: $ty)*) -> $ret {
            #[cfg(target_arch = "x86_64")]
            if std::arch::is_x86_feature_detected!("avx2") {
                // SAFETY: the one target feature `$avx2` enables, AVX2, was just detected
                // on this CPU; the function is otherwise the safe `$plain`.
                return unsafe { self.$avx2($($arg),*) };
            }
            self.$plain($($arg),*)
        }

        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = "avx2")]
        fn $avx2(&self $(, $arg: $ty)*) -> $ret {
            self.$plain($($arg),*)
        }
    };
}
pub(crate) use avx2_dispatch;

/// Nonzero `k`'s subscripts, if every one is in range.
#[inline(always)]
pub fn checked_subscripts<S: SubsRead, const D: usize>(
    subs: &S,
    shape: &[usize; D],
    k: usize,
) -> Option<[usize; D]> {
    let mut idx = [0usize; D];
    for j in 0..D {
        let s = subs.get(k, j);
        if !in_range(s, shape[j]) {
            return None;
        }
        idx[j] = s as usize;
    }
    Some(idx)
}

/// Whether every subscript of nonzero `k` is in range.
#[inline(always)]
pub fn row_in_range(subs: &impl SubsRead, shape: &[usize], k: usize) -> bool {
    shape
        .iter()
        .enumerate()
        .all(|(j, &size)| in_range(subs.get(k, j), size))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    #[test]
    fn subs_read_both_layouts_and_widths_alike() {
        let c = Array2::from_shape_vec((3, 2), vec![0i64, 1, 2, 3, 4, 5]).unwrap();
        let f = c.t().as_standard_layout().into_owned(); // 2 x 3, its transpose is F-order
        let narrow = c.mapv(|x| x as i32);
        let a = Subs::from_view(c.view()).unwrap();
        let b = Subs::from_view(f.t()).unwrap();
        let n = Subs::from_view(narrow.view()).unwrap();
        assert!(matches!(a, Subs::RowMajor { .. }));
        assert!(matches!(b, Subs::ColumnMajor { .. }));
        for s in [&a, &b] {
            assert_eq!((s.nnz(), s.order()), (3, 2));
        }
        for k in 0..3 {
            for j in 0..2 {
                assert_eq!(a.get(k, j), c[[k, j]]);
                assert_eq!(b.get(k, j), c[[k, j]]);
                assert_eq!(n.get(k, j), c[[k, j]]);
            }
        }
        // Neither C- nor F-contiguous: not read in place.
        let wide = Array2::<i64>::zeros((4, 6));
        assert!(Subs::from_view(wide.slice(ndarray::s![..;2, ..;2])).is_none());
    }

    #[test]
    fn the_first_bad_subscript_is_found_in_input_order() {
        let subs = Array2::from_shape_vec((3, 3), vec![0i64, 0, 0, 0, 5, -1, 9, 0, 0]).unwrap();
        let s = Subs::from_view(subs.view()).unwrap();
        assert_eq!(
            first_bad_subscript(&s, 3, &[3, 3, 3]),
            Some(FactorsError::SubscriptOutOfRange {
                row: 1,
                column: 1,
                value: 5,
                size: 3
            })
        );
        assert!(!row_in_range(&s, &[3, 3, 3], 1));
        assert!(row_in_range(&s, &[3, 3, 3], 0));
        assert_eq!(
            first_bad_subscript(&s, 3, &[10, 6, 1]),
            Some(FactorsError::SubscriptOutOfRange {
                row: 1,
                column: 2,
                value: -1,
                size: 1
            })
        );
    }
}
