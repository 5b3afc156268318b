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
//!   already in lexicographic order. When a sample of the input shows its output cells
//!   scattered over an accumulator beyond L2 (random order), each add's cell is
//!   prefetched a fixed number of nonzeros ahead (same adds, same bits);
//! * **sort on a linearized key** otherwise (hypersparse outputs): one pass builds
//!   (row-major output index, term) pairs, a stable sort groups equal keys, a pass
//!   sums them. Memory is O(nnz + output nonzeros); the output space is never allocated;
//! * **sort on the rows themselves** when the output space has more than 2^64 cells
//!   and no 64-bit key exists.
//!
//! On several threads ([`ttv_threads`]) a large dense accumulation is split: each thread
//! adds a run of nonzeros into its own accumulator, the accumulators are summed in thread
//! order and each thread emits a range of cells (`dense_threads`); equal to the 1-thread
//! result to rounding. The sort paths and small calls run on the calling thread.
//!
//! `subs` is read in place when C- or F-ordered (pyttb's own layout), through a reader
//! monomorphized per layout; only other strides are copied. Every subscript is
//! range-checked in the same pass that reads it, so bad input is an error
//! ([`TtvError`]), never a panic or an out-of-bounds read.
//!
//! Files: `coo` (the checked input and the passes over the nonzeros that check every
//! subscript), `subs_reader` (C- and F-order readers), `dense_accumulator` (with the
//! prefetch for scattered input), `dense_threads` (the same split between threads), `key_sort` (with its radix sort) and `row_sort`: the three ways to assemble the
//! output; `layout_tests`, `thread_tests` and `tests`.

mod chunked;
mod coo;
mod dense_accumulator;
mod dense_threads;
mod key_sort;
mod row_sort;
mod subs_reader;
// MTTKRP and the inner product with a Kruskal tensor, beside TTV (issue 15).
pub mod factors;
pub mod fibers;
pub mod innerprod;
pub mod mttkrp;

use std::fmt;
use std::hint::black_box;
use std::time::Instant;

use ndarray::{ArrayView1, ArrayView2};

use crate::alloc::{c_order_values, AllocError};
use coo::{in_range, key_strides, Input};
use dense_accumulator::by_dense_accumulator;
use factors::Subs;
use key_sort::by_key_sort;
use row_sort::by_row_sort;
use subs_reader::{with_reader, ReaderKernel, SubsRead};

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
    /// The thread pool could not be started.
    Threads(String),
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
            TtvError::Threads(why) => write!(f, "the thread pool could not be started: {why}"),
        }
    }
}

impl std::error::Error for TtvError {}

impl From<AllocError> for TtvError {
    fn from(e: AllocError) -> TtvError {
        TtvError::OutOfMemory { bytes: e.bytes }
    }
}

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
    ttv_threads(subs, vals, shape, vector, mode, method, 1)
}

/// [`ttv`] on up to `threads` threads: the dense accumulation of a large call is split
/// between them with privatized accumulators ([`dense_threads`]; equal to the 1-thread
/// result to rounding); small calls and the sort paths run on the calling thread.
pub fn ttv_threads(
    subs: ArrayView2<i64>,
    vals: ArrayView1<f64>,
    shape: &[usize],
    vector: ArrayView1<f64>,
    mode: usize,
    method: TtvMethod,
    threads: usize,
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
    // Contiguous views (a copy only for strided input), so the hot loops run over slices;
    // `subs` is read in place in C or F order. Copied fallibly: a broadcast (stride-0)
    // view can stand for more values than fit.
    let copied_subs;
    let subs = match Subs::from_view(subs) {
        Some(subs) => subs,
        None => {
            copied_subs = c_order_values(subs)?;
            Subs::RowMajor {
                data: &copied_subs,
                order,
            }
        }
    };
    let vals = c_order_values(vals)?;
    let vector = c_order_values(vector)?;
    with_reader(
        subs,
        Checked {
            vals: &vals,
            shape,
            vector: &vector,
            mode,
            method,
            threads,
        },
    )
}

/// The checked arguments, waiting for the subscripts' reader.
struct Checked<'a> {
    vals: &'a [f64],
    shape: &'a [usize],
    vector: &'a [f64],
    mode: usize,
    method: TtvMethod,
    threads: usize,
}

impl ReaderKernel<Result<TtvOutput, TtvError>> for Checked<'_> {
    fn run<S: SubsRead>(self, subs: S) -> Result<TtvOutput, TtvError> {
        let input = Input {
            subs,
            vals: self.vals,
            shape: self.shape,
            vector: self.vector,
            mode: self.mode,
        };
        ttv_checked(&input, self.method, self.threads)
    }
}

fn ttv_checked<S: SubsRead>(
    input: &Input<S>,
    method: TtvMethod,
    threads: usize,
) -> Result<TtvOutput, TtvError> {
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
                by_dense_accumulator(input, &strides, cells, out_shape, threads)?
            } else {
                by_key_sort(input, &strides, cells, out_shape)?
            }
        }
    };
    Ok(TtvOutput::Sparse(result))
}

/// Order 1: the sum of `vals[i] * vector[subs[i]]`, in input order.
fn scalar<S: SubsRead>(input: &Input<S>) -> Result<f64, TtvError> {
    let size = input.shape[0];
    let mut sum = 0.0;
    for (row, &value) in input.vals.iter().enumerate() {
        let s = input.sub(row, 0);
        if !in_range(s, size) {
            return Err(input.out_of_range(row));
        }
        sum += value * input.vector[s as usize];
    }
    Ok(sum)
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
mod layout_tests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod thread_tests;
