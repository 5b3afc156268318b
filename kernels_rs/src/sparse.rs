//! Sparse tensor times vector (TTV) on a COO tensor, with pyttb's meaning.
//!
//! `ttv(subs, vals, shape, vector, mode)` multiplies the order-`d` tensor given by the
//! coordinate list (`subs`: nnz x d subscripts, `vals`: nnz values) with `vector` along
//! `mode` and returns the order-`d - 1` result as pyttb's `sptensor.ttv` would: values
//! of equal output subscripts summed (in input order, as NumPy's `bincount` does),
//! exact zeros dropped, subscripts sorted lexicographically; a scalar when `d = 1`.
//! The output subscripts are column-major (pyttb's "F" order): building the
//! `pyttb.sptensor` checks them with `np.max(subs, axis=0)`, which NumPy reduces ~40x
//! faster over contiguous columns than over the rows of a C-ordered nnz x 2 array.
//!
//! pyttb builds the output with a row-wise `np.unique` (a sort of nnz x (d-1) rows).
//! Here the output construction is picked by case ([`TtvMethod::Auto`]):
//! * **dense accumulator** when the output space (the product of the remaining
//!   dimensions) is at most [`DENSE_OUTPUT_CELLS_PER_NONZERO`] times nnz: one pass
//!   over the nonzeros adds into a zeroed array, one pass over it emits the nonzeros,
//!   already in lexicographic order;
//! * **sort on a linearized key** otherwise (hypersparse outputs): one pass builds
//!   (row-major output index, term) pairs, a stable sort groups equal keys, a pass
//!   sums them. Memory is O(nnz + output nonzeros); the output space is never allocated;
//! * **sort on the rows themselves** when the output space has more than 2^64 cells
//!   and no 64-bit key exists.
//!
//! Every subscript is range-checked in the same pass that reads it, so bad input is an
//! error ([`TtvError`]), never a panic or an out-of-bounds read.

// MTTKRP and the inner product with a Kruskal tensor, beside TTV (issue 15).
pub mod factors;
pub mod innerprod;
pub mod mttkrp;

use std::fmt;
use std::hint::black_box;
use std::time::Instant;

use ndarray::{ArrayView1, ArrayView2};

/// [`TtvMethod::Auto`] uses the dense accumulator when the output space has at most
/// this many cells per nonzero. Its extra memory is then at most 8 bytes x this factor
/// per nonzero, comparable to the input (8 bytes x (d + 1) per nonzero), and zeroing
/// and scanning it costs about as much as reading the input once; beyond it sorting
/// the nnz keys is cheaper than touching the mostly empty output space.
pub const DENSE_OUTPUT_CELLS_PER_NONZERO: u64 = 4;

/// How the output of [`ttv`] is assembled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TtvMethod {
    /// Dense accumulator if the output space is small next to nnz, else a key sort.
    Auto,
    /// Always the dense accumulator (fails cleanly if the output space cannot be allocated).
    Dense,
    /// Always sort (on a 64-bit linearized key, or on the rows if the key would overflow).
    Sort,
}

impl TtvMethod {
    /// Parse "auto", "dense" or "sort".
    pub fn parse(name: &str) -> Option<TtvMethod> {
        match name {
            "auto" => Some(TtvMethod::Auto),
            "dense" => Some(TtvMethod::Dense),
            "sort" => Some(TtvMethod::Sort),
            _ => None,
        }
    }
}

/// Why [`ttv`] refused its input. The messages name the argument and the problem.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TtvError {
    /// `shape` is empty (an order-0 tensor has no mode to multiply along).
    EmptyShape,
    /// `mode` is not below the order.
    ModeOutOfRange { mode: usize, order: usize },
    /// `subs` has a number of columns other than the order.
    ColumnCount { columns: usize, order: usize },
    /// `subs` and `vals` disagree on the number of nonzeros.
    LengthMismatch { subs_rows: usize, vals_len: usize },
    /// `vector` is not as long as `shape[mode]`.
    VectorLength {
        len: usize,
        mode: usize,
        size: usize,
    },
    /// A subscript is negative or not below its dimension.
    SubscriptOutOfRange {
        row: usize,
        column: usize,
        value: i64,
        size: usize,
    },
    /// The dense accumulator was requested but the output space cannot be allocated.
    OutputTooLarge { cells: u128 },
    /// Memory for the work arrays could not be allocated.
    OutOfMemory { bytes: u128 },
}

impl fmt::Display for TtvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TtvError::EmptyShape => write!(f, "shape must have at least one dimension"),
            TtvError::ModeOutOfRange { mode, order } => write!(
                f,
                "mode must be in [0, {order}) for a tensor of order {order}, got {mode}"
            ),
            TtvError::ColumnCount { columns, order } => write!(
                f,
                "subs must have one column per dimension of shape ({order}), got {columns}"
            ),
            TtvError::LengthMismatch {
                subs_rows,
                vals_len,
            } => write!(
                f,
                "subs and vals must have the same number of nonzeros, got {subs_rows} \
                 subscript rows and {vals_len} values"
            ),
            TtvError::VectorLength { len, mode, size } => write!(
                f,
                "vector must have length shape[{mode}] = {size}, got {len}"
            ),
            TtvError::SubscriptOutOfRange {
                row,
                column,
                value,
                size,
            } => write!(
                f,
                "subs[{row}, {column}] = {value} is out of range: subscripts of dimension \
                 {column} must be in [0, {size})"
            ),
            TtvError::OutputTooLarge { cells } => write!(
                f,
                "the dense output space has {cells} cells, too many to allocate; use \
                 method='sort' or 'auto'"
            ),
            TtvError::OutOfMemory { bytes } => {
                write!(f, "cannot allocate {bytes} bytes of work space")
            }
        }
    }
}

impl std::error::Error for TtvError {}

/// An order-`shape.len()` sparse tensor: `subs` is nnz x order in column-major order
/// (`subs[j * nnz + k]` is subscript `j` of nonzero `k`), `vals` has nnz entries.
#[derive(Clone, Debug, PartialEq)]
pub struct SparseTensor {
    pub subs: Vec<i64>,
    pub vals: Vec<f64>,
    pub shape: Vec<usize>,
}

impl SparseTensor {
    pub fn nnz(&self) -> usize {
        self.vals.len()
    }

    pub fn order(&self) -> usize {
        self.shape.len()
    }

    /// The subscripts of nonzero `k`.
    pub fn row(&self, k: usize) -> Vec<i64> {
        (0..self.order())
            .map(|j| self.subs[j * self.nnz() + k])
            .collect()
    }
}

/// The result of [`ttv`]: a scalar for an order-1 tensor, else a sparse tensor.
#[derive(Clone, Debug, PartialEq)]
pub enum TtvOutput {
    Scalar(f64),
    Sparse(SparseTensor),
}

/// The checked input, with `subs`, `vals` and `vector` as contiguous slices.
struct Input<'a> {
    subs: &'a [i64],
    vals: &'a [f64],
    shape: &'a [usize],
    vector: &'a [f64],
    mode: usize,
}

impl Input<'_> {
    fn order(&self) -> usize {
        self.shape.len()
    }

    fn nnz(&self) -> usize {
        self.vals.len()
    }

    fn out_shape(&self) -> Vec<usize> {
        let mut out = self.shape.to_vec();
        out.remove(self.mode);
        out
    }

    fn out_of_range(&self, row: usize) -> TtvError {
        let order = self.order();
        let sub = &self.subs[row * order..(row + 1) * order];
        let column = (0..order)
            .find(|&j| !in_range(sub[j], self.shape[j]))
            .expect("called only for a row with a bad subscript");
        TtvError::SubscriptOutOfRange {
            row,
            column,
            value: sub[column],
            size: self.shape[column],
        }
    }

    /// Call `term(key, value * vector[sub[mode]])` for every nonzero in input order,
    /// where `key = sum_j sub[j] * strides[j]` (`strides[mode]` = 0), after checking
    /// every subscript of the row.
    fn for_each_term(&self, strides: &[u64], term: impl FnMut(u64, f64)) -> Result<(), TtvError> {
        // Fixed orders get a fully unrolled inner loop; the rest share a generic one.
        match self.order() {
            2 => self.for_each_term_fixed::<2>(strides, term),
            3 => self.for_each_term_fixed::<3>(strides, term),
            4 => self.for_each_term_fixed::<4>(strides, term),
            5 => self.for_each_term_fixed::<5>(strides, term),
            _ => self.for_each_term_any(strides, term),
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
        for (row, (sub, &value)) in self.subs.chunks_exact(D).zip(self.vals).enumerate() {
            let sub: &[i64; D] = sub.try_into().expect("chunks_exact yields D items");
            // strides[mode] is 0, so no column needs skipping (D skips none).
            let key =
                checked_key::<D>(sub, &shape, &strides, D).ok_or_else(|| self.out_of_range(row))?;
            term(key, value * self.vector[sub[mode] as usize]);
        }
        Ok(())
    }

    fn for_each_term_any(
        &self,
        strides: &[u64],
        mut term: impl FnMut(u64, f64),
    ) -> Result<(), TtvError> {
        let order = self.order();
        for (row, (sub, &value)) in self.subs.chunks_exact(order).zip(self.vals).enumerate() {
            let mut key = 0u64;
            for j in 0..order {
                if !in_range(sub[j], self.shape[j]) {
                    return Err(self.out_of_range(row));
                }
                key += sub[j] as u64 * strides[j];
            }
            term(key, value * self.vector[sub[self.mode] as usize]);
        }
        Ok(())
    }

    /// `acc[key] += value * vector[sub[mode]]` for every nonzero in input order (keys as
    /// in [`Input::for_each_term`]), after checking every subscript of the row. `acc`
    /// must hold the whole output space: `cells` = the product of the other dimensions.
    ///
    /// The hot loop of the dense method. Orders 2 to 5 get a loop specialised for their
    /// order and mode: the subscripts, strides and the vector's column stay in registers,
    /// and the checked subscripts make the two indexed accesses provably in bounds.
    fn accumulate_dense(&self, strides: &[u64], acc: &mut [f64]) -> Result<(), TtvError> {
        macro_rules! by_mode {
            ($d:literal: $($m:literal)*) => {
                match self.mode {
                    $($m => self.accumulate_dense_fixed::<$d, $m>(strides, acc),)*
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
            _ => self.for_each_term(strides, |key, term| acc[key as usize] += term),
        }
    }

    fn accumulate_dense_fixed<const D: usize, const M: usize>(
        &self,
        strides: &[u64],
        acc: &mut [f64],
    ) -> Result<(), TtvError> {
        let shape: [u64; D] = std::array::from_fn(|j| self.shape[j] as u64);
        let strides: [u64; D] = std::array::from_fn(|j| strides[j]);
        let cells: u64 = (0..D).filter(|&j| j != M).map(|j| shape[j]).product();
        // The bounds the unchecked accesses below rely on (checked once, not per nonzero).
        assert_eq!(
            acc.len() as u64,
            cells,
            "acc must hold the whole output space"
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
        for (row, (sub, &value)) in self.subs.chunks_exact(D).zip(self.vals).enumerate() {
            let sub: &[i64; D] = sub.try_into().expect("chunks_exact yields D items");
            // M is a constant here, so the mode's column costs no multiply.
            let key =
                checked_key::<D>(sub, &shape, &strides, M).ok_or_else(|| self.out_of_range(row))?;
            // SAFETY: every subscript passed `s < shape[j]` in checked_key. So
            // `sub[M] < shape[M]` = vector.len(), and the key, a row-major index over the
            // other dimensions with the strides asserted above, is at most
            // `sum_j (shape[j] - 1) * stride[j]` = cells - 1 < acc.len() (no overflow:
            // cells fits in usize, since acc was allocated with that length).
            unsafe {
                let term = value * *self.vector.get_unchecked(sub[M] as usize);
                *acc.get_unchecked_mut(key as usize) += term;
            }
        }
        Ok(())
    }

    fn check_all_subscripts(&self) -> Result<(), TtvError> {
        let order = self.order();
        for (row, sub) in self.subs.chunks_exact(order).enumerate() {
            if sub.iter().zip(self.shape).any(|(&s, &n)| !in_range(s, n)) {
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

fn in_range(subscript: i64, size: usize) -> bool {
    (subscript as u64) < size as u64
}

/// Row-major strides of the output space laid over the input's columns (0 at `mode`),
/// or None when the output space has more than `u64::MAX` cells.
fn key_strides(shape: &[usize], mode: usize) -> Option<(Vec<u64>, u64)> {
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

fn try_vec<T: Clone>(len: usize, fill: T) -> Result<Vec<T>, TtvError> {
    let mut v = Vec::new();
    v.try_reserve_exact(len)
        .map_err(|_| TtvError::OutOfMemory {
            bytes: len as u128 * std::mem::size_of::<T>() as u128,
        })?;
    v.resize(len, fill);
    Ok(v)
}

fn try_with_capacity<T>(len: usize) -> Result<Vec<T>, TtvError> {
    let mut v = Vec::new();
    v.try_reserve_exact(len)
        .map_err(|_| TtvError::OutOfMemory {
            bytes: len as u128 * std::mem::size_of::<T>() as u128,
        })?;
    Ok(v)
}

/// Mode-`mode` tensor times vector of the COO tensor (`subs`, `vals`, `shape`).
///
/// `subs` is nnz x d (any strides; d = `shape.len()`), `vals` has nnz entries, `vector`
/// has `shape[mode]`. Returns a scalar when d = 1, else the order-(d-1) sparse result.
pub fn ttv(
    subs: ArrayView2<i64>,
    vals: ArrayView1<f64>,
    shape: &[usize],
    vector: ArrayView1<f64>,
    mode: usize,
    method: TtvMethod,
) -> Result<TtvOutput, TtvError> {
    let order = shape.len();
    if order == 0 {
        return Err(TtvError::EmptyShape);
    }
    if mode >= order {
        return Err(TtvError::ModeOutOfRange { mode, order });
    }
    if subs.ncols() != order {
        return Err(TtvError::ColumnCount {
            columns: subs.ncols(),
            order,
        });
    }
    if subs.nrows() != vals.len() {
        return Err(TtvError::LengthMismatch {
            subs_rows: subs.nrows(),
            vals_len: vals.len(),
        });
    }
    if vector.len() != shape[mode] {
        return Err(TtvError::VectorLength {
            len: vector.len(),
            mode,
            size: shape[mode],
        });
    }
    // Contiguous views (a copy only for strided input), so the hot loops run over slices.
    let subs = subs.as_standard_layout();
    let vals = vals.as_standard_layout();
    let vector = vector.as_standard_layout();
    let input = Input {
        subs: subs.as_slice().expect("standard layout is contiguous"),
        vals: vals.as_slice().expect("standard layout is contiguous"),
        shape,
        vector: vector.as_slice().expect("standard layout is contiguous"),
        mode,
    };
    ttv_checked(&input, method)
}

fn ttv_checked(input: &Input, method: TtvMethod) -> Result<TtvOutput, TtvError> {
    if input.order() == 1 {
        return scalar(input).map(TtvOutput::Scalar);
    }
    let out_shape = input.out_shape();
    if input.nnz() == 0 {
        return Ok(TtvOutput::Sparse(SparseTensor {
            subs: Vec::new(),
            vals: Vec::new(),
            shape: out_shape,
        }));
    }
    let result = match key_strides(input.shape, input.mode) {
        None if method == TtvMethod::Dense => {
            let cells = out_shape.iter().map(|&n| n as u128).product();
            return Err(TtvError::OutputTooLarge { cells });
        }
        None => by_row_sort(input, out_shape)?,
        Some((strides, cells)) => {
            let dense = match method {
                TtvMethod::Dense => true,
                TtvMethod::Sort => false,
                TtvMethod::Auto => {
                    cells <= DENSE_OUTPUT_CELLS_PER_NONZERO.saturating_mul(input.nnz() as u64)
                }
            };
            if dense {
                by_dense_accumulator(input, &strides, cells, out_shape)?
            } else {
                by_key_sort(input, &strides, cells, out_shape)?
            }
        }
    };
    Ok(TtvOutput::Sparse(result))
}

/// Order 1: the sum of `vals[i] * vector[subs[i]]`, in input order.
fn scalar(input: &Input) -> Result<f64, TtvError> {
    let size = input.shape[0];
    let mut sum = 0.0;
    for (row, (&s, &value)) in input.subs.iter().zip(input.vals).enumerate() {
        if !in_range(s, size) {
            return Err(input.out_of_range(row));
        }
        sum += value * input.vector[s as usize];
    }
    Ok(sum)
}

fn by_dense_accumulator(
    input: &Input,
    strides: &[u64],
    cells: u64,
    out_shape: Vec<usize>,
) -> Result<SparseTensor, TtvError> {
    let cells = usize::try_from(cells).map_err(|_| TtvError::OutputTooLarge {
        cells: cells as u128,
    })?;
    let mut acc = try_vec(cells, 0.0f64).map_err(|_| TtvError::OutputTooLarge {
        cells: cells as u128,
    })?;
    input.accumulate_dense(strides, &mut acc)?;

    // NaN != 0, so NaN sums are kept, as NumPy's nonzero keeps them.
    let nonzeros = acc.iter().filter(|&&v| v != 0.0).count();
    let out_order = out_shape.len();
    let mut subs = try_vec(nonzeros * out_order, 0i64)?;
    let mut vals = try_with_capacity::<f64>(nonzeros)?;
    // Walk the output space row by row (last dimension fastest), carrying the leading
    // subscripts as an odometer: no division per nonzero, lexicographic order for free.
    let last = out_shape[out_order - 1];
    let mut prefix = vec![0i64; out_order - 1];
    for row in acc.chunks_exact(last) {
        for (c, &v) in row.iter().enumerate() {
            if v != 0.0 {
                let k = vals.len();
                for (j, &p) in prefix.iter().enumerate() {
                    subs[j * nonzeros + k] = p;
                }
                subs[(out_order - 1) * nonzeros + k] = c as i64;
                vals.push(v);
            }
        }
        for j in (0..out_order - 1).rev() {
            prefix[j] += 1;
            if (prefix[j] as usize) < out_shape[j] {
                break;
            }
            prefix[j] = 0;
        }
    }
    Ok(SparseTensor {
        subs,
        vals,
        shape: out_shape,
    })
}

fn by_key_sort(
    input: &Input,
    strides: &[u64],
    cells: u64,
    out_shape: Vec<usize>,
) -> Result<SparseTensor, TtvError> {
    let mut terms = try_with_capacity::<(u64, f64)>(input.nnz())?;
    input.for_each_term(strides, |key, term| terms.push((key, term)))?;
    // Stable: equal keys keep input order, so each sum adds in input order like pyttb's
    // accumulation.
    radix_sort_by_key(&mut terms, cells)?;

    // Sum each group of equal keys in place, keeping the nonzero sums, so the output
    // arrays can be allocated at their exact size.
    let mut kept = 0;
    let mut start = 0;
    while start < terms.len() {
        let key = terms[start].0;
        let mut end = start + 1;
        while end < terms.len() && terms[end].0 == key {
            end += 1;
        }
        let sum = sum_in_order(terms[start..end].iter().map(|&(_, term)| term));
        if sum != 0.0 {
            terms[kept] = (key, sum);
            kept += 1;
        }
        start = end;
    }
    terms.truncate(kept);

    let out_strides: Vec<u64> = strides
        .iter()
        .enumerate()
        .filter(|&(j, _)| j != input.mode)
        .map(|(_, &s)| s)
        .collect();
    let mut subs = try_vec(kept * out_strides.len(), 0i64)?;
    let mut vals = try_with_capacity::<f64>(kept)?;
    for (k, &(key, sum)) in terms.iter().enumerate() {
        let mut rest = key;
        for (j, &stride) in out_strides.iter().enumerate() {
            subs[j * kept + k] = (rest / stride) as i64;
            rest %= stride;
        }
        vals.push(sum);
    }
    Ok(SparseTensor {
        subs,
        vals,
        shape: out_shape,
    })
}

/// Below this many items a comparison sort beats the radix sort's fixed costs.
const RADIX_SORT_MIN_ITEMS: usize = 256;

/// Stable LSD radix sort of `(key, value)` pairs by key, keys below `cells`: one byte per
/// pass, only as many passes as `cells` has bytes, and a pass is skipped when every key
/// has the same byte there; already sorted input returns at once. O(n) per pass, one
/// scratch buffer of n pairs.
fn radix_sort_by_key(items: &mut Vec<(u64, f64)>, cells: u64) -> Result<(), TtvError> {
    let n = items.len();
    // Sorted input (mode = last of lexicographically sorted subscripts) needs no pass.
    if items.windows(2).all(|pair| pair[0].0 <= pair[1].0) {
        return Ok(());
    }
    if n < RADIX_SORT_MIN_ITEMS {
        items.sort_by_key(|&(key, _)| key);
        return Ok(());
    }
    let bits = 64 - cells.saturating_sub(1).leading_zeros() as usize;
    let passes = bits.div_ceil(8);
    // Every pass's histogram in one read of the keys.
    let mut counts = vec![[0usize; 256]; passes];
    for &(key, _) in items.iter() {
        for (pass, count) in counts.iter_mut().enumerate() {
            count[((key >> (8 * pass)) & 0xff) as usize] += 1;
        }
    }
    let mut scratch = try_vec(n, (0u64, 0.0f64))?;
    let mut sorted_in_items = true;
    for (pass, count) in counts.iter().enumerate() {
        if count.contains(&n) {
            continue; // every key has the same byte here: the order would not change
        }
        let mut next = [0usize; 256];
        let mut total = 0;
        for (slot, &c) in next.iter_mut().zip(count) {
            *slot = total;
            total += c;
        }
        let (from, to) = if sorted_in_items {
            (&items[..], &mut scratch[..])
        } else {
            (&scratch[..], &mut items[..])
        };
        for &item in from {
            let byte = ((item.0 >> (8 * pass)) & 0xff) as usize;
            to[next[byte]] = item;
            next[byte] += 1;
        }
        sorted_in_items = !sorted_in_items;
    }
    if !sorted_in_items {
        std::mem::swap(items, &mut scratch);
    }
    Ok(())
}

/// For output spaces beyond 2^64 cells: sort the row numbers by their output subscripts.
fn by_row_sort(input: &Input, out_shape: Vec<usize>) -> Result<SparseTensor, TtvError> {
    input.check_all_subscripts()?;
    let order = input.order();
    let mode = input.mode;
    let row_of = |i: usize| &input.subs[i * order..(i + 1) * order];
    let out_key = |i: usize| {
        let sub = row_of(i);
        sub[..mode].iter().chain(&sub[mode + 1..]).copied()
    };
    let mut rows = try_with_capacity::<usize>(input.nnz())?;
    rows.extend(0..input.nnz());
    rows.sort_by(|&a, &b| out_key(a).cmp(out_key(b)));

    let mut firsts = Vec::new();
    let mut vals = Vec::new();
    for group in rows.chunk_by(|&a, &b| out_key(a).eq(out_key(b))) {
        let sum = sum_in_order(
            group
                .iter()
                .map(|&i| input.vals[i] * input.vector[row_of(i)[mode] as usize]),
        );
        if sum != 0.0 {
            firsts.push(group[0]);
            vals.push(sum);
        }
    }
    let kept = vals.len();
    let mut subs = try_vec(kept * (order - 1), 0i64)?;
    for (k, &first) in firsts.iter().enumerate() {
        for (j, s) in out_key(first).enumerate() {
            subs[j * kept + k] = s;
        }
    }
    Ok(SparseTensor {
        subs,
        vals,
        shape: out_shape,
    })
}

/// 0 + t1 + t2 + ... left to right, as an accumulator that starts at zero adds them.
fn sum_in_order(terms: impl Iterator<Item = f64>) -> f64 {
    terms.fold(0.0, |sum, t| sum + t)
}

/// Seconds of `n_trials + 1` calls of [`ttv`] on the same data, timed inside Rust
/// (the kernel only: checks, accumulation and result assembly; element 0 is the first
/// call). Each result is dropped outside the timed region.
pub fn time_ttv(
    subs: ArrayView2<i64>,
    vals: ArrayView1<f64>,
    shape: &[usize],
    vector: ArrayView1<f64>,
    mode: usize,
    method: TtvMethod,
    n_trials: usize,
) -> Result<Vec<f64>, TtvError> {
    let mut seconds = Vec::with_capacity(n_trials + 1);
    for _ in 0..=n_trials {
        let start = Instant::now();
        let result = ttv(
            black_box(subs),
            black_box(vals),
            black_box(shape),
            black_box(vector),
            mode,
            method,
        )?;
        seconds.push(start.elapsed().as_secs_f64());
        drop(black_box(result));
    }
    Ok(seconds)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array1, Array2};
    use rand::rngs::StdRng;
    use rand::{RngExt, SeedableRng};
    use std::collections::BTreeMap;

    /// The definition: a map from output subscripts to the in-order sum, zeros dropped.
    fn reference(
        subs: &Array2<i64>,
        vals: &[f64],
        vector: &[f64],
        mode: usize,
    ) -> BTreeMap<Vec<i64>, f64> {
        let mut sums: BTreeMap<Vec<i64>, f64> = BTreeMap::new();
        for (row, &v) in subs.rows().into_iter().zip(vals) {
            let mut key: Vec<i64> = row.to_vec();
            let s = key.remove(mode);
            *sums.entry(key).or_insert(0.0) += v * vector[s as usize];
        }
        sums.retain(|_, v| *v != 0.0);
        sums
    }

    fn as_map(result: &SparseTensor) -> BTreeMap<Vec<i64>, f64> {
        rows(result)
            .into_iter()
            .zip(result.vals.iter().copied())
            .collect()
    }

    fn rows(result: &SparseTensor) -> Vec<Vec<i64>> {
        (0..result.nnz()).map(|k| result.row(k)).collect()
    }

    fn random_tensor(rng: &mut StdRng, shape: &[usize], nnz: usize) -> (Array2<i64>, Vec<f64>) {
        let mut subs = Array2::<i64>::zeros((nnz, shape.len()));
        for mut row in subs.rows_mut() {
            for (s, &n) in row.iter_mut().zip(shape) {
                *s = rng.random_range(0..n as i64);
            }
        }
        // Integers so that some sums cancel to exactly zero and must be dropped.
        let vals = (0..nnz)
            .map(|_| rng.random_range(-3..=3) as f64 * 0.5)
            .collect();
        (subs, vals)
    }

    fn sparse(out: TtvOutput) -> SparseTensor {
        match out {
            TtvOutput::Sparse(s) => s,
            TtvOutput::Scalar(x) => panic!("expected a sparse result, got scalar {x}"),
        }
    }

    fn is_sorted_rows(t: &SparseTensor) -> bool {
        rows(t).windows(2).all(|w| w[0] < w[1])
    }

    #[test]
    fn every_specialised_dense_loop_refuses_a_bad_subscript_in_any_column() {
        // accumulate_dense has one loop per (order, mode) for orders 2 to 5: each must
        // check every column, including the mode's, before it indexes.
        for order in 2..=6usize {
            let shape = vec![3usize; order];
            for mode in 0..order {
                for column in 0..order {
                    for bad in [-1i64, 3] {
                        let mut subs = Array2::<i64>::ones((5, order));
                        subs[[3, column]] = bad;
                        let vals = vec![1.0; 5];
                        let vector = vec![1.0; 3];
                        let got = ttv(
                            subs.view(),
                            ArrayView1::from(&vals),
                            &shape,
                            ArrayView1::from(&vector),
                            mode,
                            TtvMethod::Dense,
                        );
                        assert_eq!(
                            got,
                            Err(TtvError::SubscriptOutOfRange {
                                row: 3,
                                column,
                                value: bad,
                                size: 3
                            }),
                            "order {order} mode {mode} column {column}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn every_method_matches_the_definition_on_random_tensors() {
        let mut rng = StdRng::seed_from_u64(3);
        let shapes: [&[usize]; 6] = [
            &[4, 3],
            &[5, 1, 4],
            &[3, 4, 2, 3],
            &[2, 3, 2, 2, 3],
            &[2, 2, 2, 2, 2, 2],
            &[50, 60, 70],
        ];
        for shape in shapes {
            for nnz in [0, 1, 7, 40, 300] {
                let (subs, vals) = random_tensor(&mut rng, shape, nnz);
                for mode in 0..shape.len() {
                    let vector: Vec<f64> = (0..shape[mode])
                        .map(|_| rng.random_range(-2..=2) as f64)
                        .collect();
                    let expected = reference(&subs, &vals, &vector, mode);
                    for method in [TtvMethod::Auto, TtvMethod::Dense, TtvMethod::Sort] {
                        let got = sparse(
                            ttv(
                                subs.view(),
                                ArrayView1::from(&vals),
                                shape,
                                ArrayView1::from(&vector),
                                mode,
                                method,
                            )
                            .unwrap(),
                        );
                        let mut out_shape = shape.to_vec();
                        out_shape.remove(mode);
                        assert_eq!(got.shape, out_shape);
                        assert_eq!(got.subs.len(), got.nnz() * got.order());
                        assert!(is_sorted_rows(&got), "{method:?} unsorted");
                        assert_eq!(as_map(&got), expected, "{shape:?} mode {mode} {method:?}");
                        assert!(got.vals.iter().all(|&v| v != 0.0));
                    }
                }
            }
        }
    }

    #[test]
    fn order_one_is_a_scalar() {
        let subs = Array2::from_shape_vec((3, 1), vec![2, 0, 2]).unwrap();
        let vals = Array1::from_vec(vec![1.0, 2.0, 3.0]);
        let vector = Array1::from_vec(vec![10.0, 20.0, 30.0]);
        let out = ttv(
            subs.view(),
            vals.view(),
            &[3],
            vector.view(),
            0,
            TtvMethod::Auto,
        );
        assert_eq!(out, Ok(TtvOutput::Scalar(30.0 + 20.0 + 90.0)));
        let empty = Array2::<i64>::zeros((0, 1));
        let out = ttv(
            empty.view(),
            ArrayView1::from(&[][..]),
            &[3],
            vector.view(),
            0,
            TtvMethod::Auto,
        );
        assert_eq!(out, Ok(TtvOutput::Scalar(0.0)));
    }

    #[test]
    fn strided_subs_give_the_same_result() {
        let mut rng = StdRng::seed_from_u64(5);
        let shape = [6, 5, 4];
        let (subs, vals) = random_tensor(&mut rng, &shape, 100);
        let fortran = subs.t().as_standard_layout().into_owned();
        let fortran_view = fortran.t();
        assert!(!fortran_view.is_standard_layout());
        let vector = vec![1.0, -2.0, 3.0, 0.5, 4.0];
        let a = ttv(
            subs.view(),
            ArrayView1::from(&vals),
            &shape,
            ArrayView1::from(&vector),
            1,
            TtvMethod::Auto,
        );
        let b = ttv(
            fortran_view,
            ArrayView1::from(&vals),
            &shape,
            ArrayView1::from(&vector),
            1,
            TtvMethod::Auto,
        );
        assert_eq!(a, b);
    }

    #[test]
    fn huge_output_spaces_use_row_sort_and_never_the_dense_space() {
        // 2^22 per dimension: 2^66 output cells, beyond a 64-bit key.
        let n = 1usize << 22;
        let shape = [n, n, n, n];
        let subs = Array2::from_shape_vec(
            (4, 4),
            vec![
                5,
                1,
                7,
                9, //
                5,
                2,
                7,
                9, //
                0,
                0,
                (n - 1) as i64,
                1, //
                5,
                1,
                7,
                8,
            ],
        )
        .unwrap();
        let vals = [1.0, 2.0, 4.0, 8.0];
        let mut vector = vec![0.0; n];
        vector[1] = 1.0;
        vector[2] = 10.0;
        vector[0] = 3.0;
        let view = ArrayView1::from(&vector);
        for method in [TtvMethod::Auto, TtvMethod::Sort] {
            let got = sparse(
                ttv(
                    subs.view(),
                    ArrayView1::from(&vals[..]),
                    &shape,
                    view,
                    1,
                    method,
                )
                .unwrap(),
            );
            let last = (n - 1) as i64;
            assert_eq!(
                rows(&got),
                vec![vec![0, last, 1], vec![5, 7, 8], vec![5, 7, 9]]
            );
            assert_eq!(got.subs, vec![0, 5, 5, last, 7, 7, 1, 8, 9]); // column-major
            assert_eq!(got.vals, vec![12.0, 8.0, 21.0]);
        }
        let dense = ttv(
            subs.view(),
            ArrayView1::from(&vals[..]),
            &shape,
            view,
            1,
            TtvMethod::Dense,
        );
        assert!(matches!(dense, Err(TtvError::OutputTooLarge { .. })));
        // Hypersparse but with a 64-bit key: auto sorts (it would need 2^44 cells).
        let small = [1usize << 22, 1 << 22, 3];
        let subs = Array2::from_shape_vec((2, 3), vec![7, 0, 1, 9, 0, 2]).unwrap();
        let got = sparse(
            ttv(
                subs.view(),
                ArrayView1::from(&[1.0, 2.0][..]),
                &small,
                ArrayView1::from(&[1.0, 1.0, 1.0][..]),
                2,
                TtvMethod::Auto,
            )
            .unwrap(),
        );
        assert_eq!(rows(&got), vec![vec![7, 0], vec![9, 0]]);
    }

    #[test]
    fn nan_and_cancellation_follow_numpy() {
        let subs = Array2::from_shape_vec((4, 2), vec![0, 0, 0, 1, 1, 0, 2, 1]).unwrap();
        let vals = [1.0, -1.0, f64::NAN, 5.0];
        let vector = [2.0, 2.0];
        for method in [TtvMethod::Dense, TtvMethod::Sort] {
            let got = sparse(
                ttv(
                    subs.view(),
                    ArrayView1::from(&vals[..]),
                    &[3, 2],
                    ArrayView1::from(&vector[..]),
                    1,
                    method,
                )
                .unwrap(),
            );
            // Row 0 cancels to exactly 0 and is dropped; the NaN sum is kept.
            assert_eq!(got.subs, vec![1, 2]);
            assert!(got.vals[0].is_nan());
            assert_eq!(got.vals[1], 10.0);
        }
    }

    #[test]
    fn bad_input_is_an_error_naming_the_problem() {
        let subs = Array2::from_shape_vec((2, 3), vec![0, 1, 2, 1, 0, 0]).unwrap();
        let vals = [1.0, 2.0];
        let v3 = [1.0, 1.0, 1.0];
        let call = |subs: ArrayView2<i64>, vals: &[f64], shape: &[usize], v: &[f64], mode| {
            ttv(
                subs,
                ArrayView1::from(vals),
                shape,
                ArrayView1::from(v),
                mode,
                TtvMethod::Auto,
            )
        };
        assert_eq!(
            call(subs.view(), &vals, &[], &v3, 0),
            Err(TtvError::EmptyShape)
        );
        assert_eq!(
            call(subs.view(), &vals, &[3, 3, 3], &v3, 3),
            Err(TtvError::ModeOutOfRange { mode: 3, order: 3 })
        );
        assert_eq!(
            call(subs.view(), &vals, &[3, 3], &v3, 0),
            Err(TtvError::ColumnCount {
                columns: 3,
                order: 2
            })
        );
        assert_eq!(
            call(subs.view(), &vals[..1], &[3, 3, 3], &v3, 0),
            Err(TtvError::LengthMismatch {
                subs_rows: 2,
                vals_len: 1
            })
        );
        assert_eq!(
            call(subs.view(), &vals, &[3, 4, 3], &v3, 1),
            Err(TtvError::VectorLength {
                len: 3,
                mode: 1,
                size: 4
            })
        );
        for bad_shape in [[3, 3, 2], [1, 3, 3]] {
            let err = call(subs.view(), &vals, &bad_shape, &v3, 1).unwrap_err();
            assert!(matches!(err, TtvError::SubscriptOutOfRange { .. }));
        }
        let negative = Array2::from_shape_vec((2, 3), vec![0, 1, 2, 1, -1, 0]).unwrap();
        for method in [TtvMethod::Auto, TtvMethod::Dense, TtvMethod::Sort] {
            let err = ttv(
                negative.view(),
                ArrayView1::from(&vals[..]),
                &[3, 3, 3],
                ArrayView1::from(&v3[..]),
                0,
                method,
            )
            .unwrap_err();
            assert_eq!(
                err,
                TtvError::SubscriptOutOfRange {
                    row: 1,
                    column: 1,
                    value: -1,
                    size: 3
                }
            );
            assert!(err.to_string().contains("subs[1, 1] = -1"));
        }
        // Order 1 and orders beyond the unrolled ones check subscripts too.
        let one = Array2::from_shape_vec((1, 1), vec![3]).unwrap();
        assert!(call(one.view(), &vals[..1], &[3], &v3, 0).is_err());
        let six = Array2::from_shape_vec((1, 6), vec![0, 0, 0, 0, 0, 2]).unwrap();
        assert!(call(six.view(), &vals[..1], &[3, 1, 1, 1, 1, 2], &v3, 0).is_err());
    }

    #[test]
    fn radix_sort_is_a_stable_sort_by_key() {
        let mut rng = StdRng::seed_from_u64(9);
        for (n, cells) in [
            (0usize, 1u64),
            (10, 7),
            (300, 1),
            (1000, 5),
            (5000, 1 << 20),
            (5000, u64::MAX),
        ] {
            let mut items: Vec<(u64, f64)> = (0..n)
                .map(|i| (rng.random_range(0..cells), i as f64))
                .collect();
            let mut expected = items.clone();
            expected.sort_by_key(|&(k, _)| k);
            radix_sort_by_key(&mut items, cells).unwrap();
            assert_eq!(items, expected, "n = {n}, cells = {cells}");
        }
    }

    #[test]
    fn method_names_parse() {
        assert_eq!(TtvMethod::parse("auto"), Some(TtvMethod::Auto));
        assert_eq!(TtvMethod::parse("dense"), Some(TtvMethod::Dense));
        assert_eq!(TtvMethod::parse("sort"), Some(TtvMethod::Sort));
        assert_eq!(TtvMethod::parse("hash"), None);
    }

    #[test]
    fn the_timer_returns_one_time_per_call() {
        let subs = Array2::from_shape_vec((2, 2), vec![0, 1, 1, 0]).unwrap();
        let t = time_ttv(
            subs.view(),
            ArrayView1::from(&[1.0, 2.0][..]),
            &[2, 2],
            ArrayView1::from(&[1.0, 1.0][..]),
            0,
            TtvMethod::Auto,
            3,
        )
        .unwrap();
        assert_eq!(t.len(), 4);
    }
}
