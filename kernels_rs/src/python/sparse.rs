//! Bindings of the sparse kernels: `ttv`, its in-Rust timer `bench_ttv`, and
//! `read_bandwidth` (crate::memory), the memory-traffic limit the TTV figure draws first.

use ndarray::{ArrayView1, ArrayView2, Axis, Ix1, Ix2, IxDyn, ShapeBuilder};
use numpy::{
    IntoPyArray, PyReadonlyArray, PyReadonlyArray1, PyReadonlyArray2, PyUntypedArrayMethods,
};
use pyo3::exceptions::{PyMemoryError, PyRuntimeError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyFloat, PyTuple};

use super::args::{count, repetitions, room_for_items, sequence_arg, threads_arg, Int, Sequences};
use super::validate::{readonly, shape_str, type_name, typed, GIL_RELEASE_MIN_WORK};
use crate::memory;
use crate::sparse::{self, TtvError, TtvMethod, TtvOutput};

/// The borrowed, shape-checked arguments of a TTV call.
struct TtvArgs<'py> {
    subs: PyReadonlyArray2<'py, i64>,
    vals: PyReadonlyArray<'py, f64, IxDyn>,
    shape: Vec<usize>,
    vector: PyReadonlyArray1<'py, f64>,
    mode: usize,
    method: TtvMethod,
}

impl TtvArgs<'_> {
    fn vals_view(&self) -> PyResult<ArrayView1<'_, f64>> {
        vals_view(&self.vals)
    }

    /// `subs` as an nnz x d view; pyttb stores an empty tensor's subs as a (1, 0) array,
    /// so any empty `subs` next to empty `vals` means nnz = 0.
    fn subs_view(&self, nnz: usize) -> ArrayView2<'_, i64> {
        let subs = self.subs.as_array();
        if subs.is_empty() && nnz == 0 {
            ArrayView2::from_shape((0, self.shape.len()), &[][..]).expect("empty")
        } else {
            subs
        }
    }
}

/// `vals` borrowed: at most 2 axes are checked before rust-numpy sees the array (it
/// panics on more than 32).
pub(super) fn vals_arg<'py>(
    vals: &Bound<'py, PyAny>,
) -> PyResult<PyReadonlyArray<'py, f64, IxDyn>> {
    let typed_vals = typed::<f64, IxDyn>(vals, "vals", "float64")?;
    if typed_vals.ndim() > 2 {
        return Err(vals_shape_error(typed_vals.shape()));
    }
    readonly::<f64, IxDyn>(vals, "vals", "float64")
}

/// `vals` as a 1-D view: (nnz,) as is, (nnz, 1) by its column, an empty 2-D array as
/// empty (shared by the sparse bindings).
pub(super) fn vals_view<'a>(
    vals: &'a PyReadonlyArray<'_, f64, IxDyn>,
) -> PyResult<ArrayView1<'a, f64>> {
    let vals = vals.as_array();
    let shape = vals.shape().to_vec();
    match shape.len() {
        1 => Ok(vals.into_dimensionality::<Ix1>().expect("1-D")),
        2 if shape[1] == 1 => Ok(vals
            .index_axis_move(Axis(1), 0)
            .into_dimensionality::<Ix1>()
            .expect("1-D")),
        2 if vals.is_empty() => Ok(ArrayView1::from(&[][..])),
        _ => Err(vals_shape_error(&shape)),
    }
}

fn vals_shape_error(shape: &[usize]) -> PyErr {
    PyValueError::new_err(format!(
        "vals must have shape (nnz,) or (nnz, 1), got {}",
        shape_str(shape)
    ))
}

/// The tensor's shape: a sequence of positive ints, each below 2**63. An int out of that
/// range is a ValueError that says so, anything but a sequence of ints a TypeError.
/// `shape` as positive dimensions: a sequence of ints, each checked (shared by the sparse
/// bindings).
pub(super) fn shape_arg(shape: &Bound<'_, PyAny>) -> PyResult<Vec<usize>> {
    const EXPECTED: &str = "a sequence of ints (e.g. a tuple)";
    let (sequence, len) = sequence_arg(shape, "shape", EXPECTED, Sequences::Protocol)?;
    let mut dims = room_for_items(len, "shape")?;
    for j in 0..len {
        let item = sequence.get_item(j)?;
        let n = match item.extract::<Int>() {
            Ok(Int(n)) => n,
            Err(e) if e.is_instance_of::<PyValueError>(shape.py()) => {
                return Err(PyValueError::new_err(format!(
                    "shape[{j}] = {} is out of range: dimensions must be positive integers \
                     below 2**63",
                    item.str()
                        .map(|s| s.to_string())
                        .unwrap_or_else(|_| "?".into())
                )))
            }
            Err(_) => {
                return Err(PyTypeError::new_err(format!(
                    "shape must be {EXPECTED}, got shape[{j}] of type {}",
                    type_name(&item)
                )))
            }
        };
        let n = usize::try_from(n).ok().filter(|&n| n > 0).ok_or_else(|| {
            PyValueError::new_err(format!("shape[{j}] must be a positive integer, got {n}"))
        })?;
        dims.push(n);
    }
    Ok(dims)
}

fn parse_args<'py>(
    subs: &Bound<'py, PyAny>,
    vals: &Bound<'py, PyAny>,
    shape: &Bound<'py, PyAny>,
    vector: &Bound<'py, PyAny>,
    mode: Int,
    method: &str,
) -> PyResult<TtvArgs<'py>> {
    let Int(mode) = mode;
    // The shape first: reading it can run Python code (`__len__`, `__getitem__`).
    let shape = shape_arg(shape)?;
    let subs = readonly::<i64, Ix2>(subs, "subs", "int64")?;
    let vals = vals_arg(vals)?;
    let vector = readonly::<f64, Ix1>(vector, "vector", "float64")?;
    let order = shape.len();
    let mode = usize::try_from(mode).map_err(|_| {
        PyValueError::new_err(format!(
            "mode must be in [0, {order}) for a tensor of order {order}, got {mode}"
        ))
    })?;
    let method = TtvMethod::parse(method).ok_or_else(|| {
        PyValueError::new_err(format!(
            "method must be 'auto', 'dense' or 'sort', got {method:?}"
        ))
    })?;
    Ok(TtvArgs {
        subs,
        vals,
        shape,
        vector,
        mode,
        method,
    })
}

fn to_py_err(err: TtvError) -> PyErr {
    match err {
        TtvError::OutOfMemory { .. } | TtvError::OutputTooLarge { .. } => {
            PyMemoryError::new_err(err.to_string())
        }
        TtvError::Threads(_) => PyRuntimeError::new_err(err.to_string()),
        _ => PyValueError::new_err(err.to_string()),
    }
}

/// Mode-`mode` product of the COO tensor (`subs`, `vals`, `shape`) with `vector`:
/// `(newsubs, newvals, newshape)` as pyttb's `sptensor.ttv` defines it (newsubs in
/// Fortran order, like pyttb's own layout), or a float for an order-1 tensor. On
/// `threads` threads (default `get_num_threads()`); equal to the 1-thread result to
/// rounding.
#[pyfunction]
#[pyo3(signature = (subs, vals, shape, vector, mode, *, method = "auto", threads = None))]
#[allow(clippy::too_many_arguments)] // the Python signature
fn ttv<'py>(
    py: Python<'py>,
    subs: &Bound<'py, PyAny>,
    vals: &Bound<'py, PyAny>,
    shape: &Bound<'py, PyAny>,
    vector: &Bound<'py, PyAny>,
    mode: Int,
    method: &str,
    threads: Option<Int>,
) -> PyResult<Bound<'py, PyAny>> {
    let threads = threads_arg(threads)?;
    let args = parse_args(subs, vals, shape, vector, mode, method)?;
    let vals = args.vals_view()?;
    let subs = args.subs_view(vals.len());
    let vector = args.vector.as_array();
    let (shape, mode, method) = (&args.shape[..], args.mode, args.method);
    let run = || sparse::ttv_threads(subs, vals, shape, vector, mode, method, threads);
    // The views borrow NumPy memory that the read-only borrows in `args` keep alive and
    // un-writable from Rust for the whole call; they are Send because i64 and f64 are Sync.
    let output = if vals.len() >= GIL_RELEASE_MIN_WORK {
        py.detach(run)
    } else {
        run()
    }
    .map_err(to_py_err)?;
    match output {
        TtvOutput::Scalar(value) => Ok(PyFloat::new(py, value).into_any()),
        TtvOutput::Sparse(result) => {
            let (nnz, order) = (result.nnz(), result.order());
            // Column-major, as the kernel writes it: NumPy gets an F-contiguous array.
            let newsubs = ndarray::Array2::from_shape_vec((nnz, order).f(), result.subs)
                .expect("the kernel returns nnz x order subscripts")
                .into_pyarray(py);
            let newvals = ndarray::Array2::from_shape_vec((nnz, 1), result.vals)
                .expect("one value per nonzero")
                .into_pyarray(py);
            let newshape = PyTuple::new(py, result.shape)?;
            Ok(PyTuple::new(
                py,
                [newsubs.into_any(), newvals.into_any(), newshape.into_any()],
            )?
            .into_any())
        }
    }
}

/// Seconds of `n_trials + 1` calls of the TTV kernel on the given tensor, timed inside
/// Rust (kernel only); element 0 is the first call.
#[pyfunction]
#[pyo3(signature = (subs, vals, shape, vector, mode, n_trials, *, method = "auto"))]
#[allow(clippy::too_many_arguments)]
fn bench_ttv(
    py: Python<'_>,
    subs: &Bound<'_, PyAny>,
    vals: &Bound<'_, PyAny>,
    shape: &Bound<'_, PyAny>,
    vector: &Bound<'_, PyAny>,
    mode: Int,
    n_trials: Int,
    method: &str,
) -> PyResult<Vec<f64>> {
    let n_trials = repetitions(n_trials, "n_trials")?;
    let args = parse_args(subs, vals, shape, vector, mode, method)?;
    let vals = args.vals_view()?;
    let subs = args.subs_view(vals.len());
    let vector = args.vector.as_array();
    let (shape, mode, method) = (&args.shape[..], args.mode, args.method);
    // Same borrows as in `ttv`: alive and read-only for the whole call.
    py.detach(|| sparse::time_ttv(subs, vals, shape, vector, mode, method, n_trials))
        .map_err(to_py_err)
}

/// Single-core read bandwidth in bytes per second: the fastest pass of every read variant
/// (crate::memory) over `repeats` rounds, summing a buffer of `n_bytes` bytes (default
/// 512 MiB, beyond most caches).
#[pyfunction]
#[pyo3(
    signature = (n_bytes = Int(memory::DEFAULT_BYTES as i64), repeats = Int(5)),
    text_signature = "(n_bytes=536870912, repeats=5)"
)]
fn read_bandwidth(py: Python<'_>, n_bytes: Int, repeats: Int) -> PyResult<f64> {
    let n_bytes = count(n_bytes, "n_bytes", 8)?;
    let repeats = repetitions(repeats, "repeats")?;
    py.detach(|| memory::read_bandwidth(n_bytes, repeats))
        .map(|bw| bw.best_bytes_per_second())
        .ok_or_else(|| PyMemoryError::new_err(format!("cannot allocate a {n_bytes}-byte buffer")))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(ttv, m)?)?;
    m.add_function(wrap_pyfunction!(bench_ttv, m)?)?;
    // The memory-bandwidth probe is shared by every figure; it is registered here, with
    // the first kernel that draws it, to keep python/mod.rs untouched.
    m.add_function(wrap_pyfunction!(read_bandwidth, m)?)?;
    Ok(())
}
