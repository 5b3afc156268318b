//! Bindings of the call-overhead probes (anatomy of a call).
//!
//! Each probe adds one step of a real kernel call to the one before it, so that the
//! difference between two probes' per-call times is the cost of that step:
//! `overhead_noop` (PyO3 dispatch), `overhead_two_objects` (plus two positional
//! arguments), `overhead_two_arrays_unborrowed` (plus checking both are 1-D float64
//! arrays and returning a float), `overhead_two_arrays` (the same through the kernels'
//! `validate::array_arg`: a copy of small arrays, a read-only borrow of large ones),
//! `overhead_two_arrays_borrowed` (rust-numpy's read-only borrows whatever the size),
//! `overhead_two_arrays_copied` (copies whatever the size), `overhead_return_array` (a
//! new array returned instead of the float) and `overhead_detach` (a GIL release and
//! re-take on top of `overhead_noop`).
//! `overhead_pool_entry` times `rayon::ThreadPool::install` inside Rust.

use ndarray::Ix1;
use numpy::{PyArray1, PyUntypedArrayMethods};
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use super::args::{count, repetitions, Int};
use super::validate::{array_arg, owned_copy, readonly, typed};
use crate::overhead::{self, PoolEntry};

/// Does nothing: the cost of calling a PyO3 function with no arguments.
#[pyfunction]
fn overhead_noop() {}

/// Takes two objects and does nothing with them: adds positional-argument passing.
#[pyfunction]
fn overhead_two_objects(x: &Bound<'_, PyAny>, y: &Bound<'_, PyAny>) {
    let _ = (x, y);
}

/// The type, dimension and dtype checks of the kernels (`validate::typed`) without a copy
/// or a borrow (what `overhead_two_arrays` adds on top).
fn checked_unborrowed<'a, 'py>(
    obj: &'a Bound<'py, PyAny>,
    name: &str,
) -> PyResult<&'a Bound<'py, PyArray1<f64>>> {
    typed::<f64, Ix1>(obj, name, "float64")
}

/// Checks two objects are 1-D float64 arrays without borrowing them; returns len(x) + len(y).
#[pyfunction]
fn overhead_two_arrays_unborrowed(x: &Bound<'_, PyAny>, y: &Bound<'_, PyAny>) -> PyResult<f64> {
    let x = checked_unborrowed(x, "x")?;
    let y = checked_unborrowed(y, "y")?;
    Ok((x.len() + y.len()) as f64)
}

/// Checks two 1-D float64 arrays as `overhead_two_arrays_unborrowed`, then copies both
/// (rust-numpy's safe `to_owned_array`, which copies under the GIL without the borrow
/// table): the alternative to borrowing for tiny inputs. Returns len(x) + len(y).
#[pyfunction]
fn overhead_two_arrays_copied(x: &Bound<'_, PyAny>, y: &Bound<'_, PyAny>) -> PyResult<f64> {
    let x = owned_copy(checked_unborrowed(x, "x")?, "x", "float64")?;
    let y = owned_copy(checked_unborrowed(y, "y")?, "y", "float64")?;
    Ok((x.len() + y.len()) as f64)
}

/// Takes two 1-D float64 arrays exactly as the kernels do (`validate::array_arg`: checks,
/// then a copy of small arrays or a read-only borrow of large ones); returns len(x) + len(y).
#[pyfunction]
fn overhead_two_arrays(x: &Bound<'_, PyAny>, y: &Bound<'_, PyAny>) -> PyResult<f64> {
    let x = array_arg::<f64, Ix1>(x, "x", "float64")?;
    let y = array_arg::<f64, Ix1>(y, "y", "float64")?;
    Ok((x.view().len() + y.view().len()) as f64)
}

/// Checks, then borrows two 1-D float64 arrays read-only through rust-numpy's borrow table
/// whatever their size (the kernels' path for large arrays); returns len(x) + len(y).
#[pyfunction]
fn overhead_two_arrays_borrowed(x: &Bound<'_, PyAny>, y: &Bound<'_, PyAny>) -> PyResult<f64> {
    let x = readonly::<f64, Ix1>(x, "x", "float64")?;
    let y = readonly::<f64, Ix1>(y, "y", "float64")?;
    Ok((x.len() + y.len()) as f64)
}

/// As `overhead_two_arrays`, but returns a new float64 array (a copy of x) instead of a
/// float: the array is made the way `matvec` makes its result.
#[pyfunction]
fn overhead_return_array<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    y: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyArray1<f64>>> {
    let x = array_arg::<f64, Ix1>(x, "x", "float64")?;
    let _y = array_arg::<f64, Ix1>(y, "y", "float64")?;
    let values = x.owned_values("x")?;
    Ok(PyArray1::from_vec(py, values))
}

/// Releases the GIL and takes it back, doing nothing in between.
#[pyfunction]
fn overhead_detach(py: Python<'_>) {
    py.detach(|| ());
}

/// Time a one-thread Rayon pool's `install(|| {})` ("install") or the same closure
/// called inline ("inline") entirely inside Rust: `samples` batches of
/// `calls_per_sample` calls. Returns a dict with `per_call_seconds` (one per sample),
/// `first_call_seconds` and `build_seconds` (making the pool).
#[pyfunction]
#[pyo3(signature = (entry, calls_per_sample, samples))]
fn overhead_pool_entry<'py>(
    py: Python<'py>,
    entry: &str,
    calls_per_sample: Int,
    samples: Int,
) -> PyResult<Bound<'py, PyDict>> {
    let mode = PoolEntry::parse(entry).ok_or_else(|| {
        PyValueError::new_err(format!(
            "entry must be 'install' or 'inline', got {entry:?}"
        ))
    })?;
    let calls_per_sample = count(calls_per_sample, "calls_per_sample", 1)?;
    let samples = repetitions(samples, "samples")?;
    let times = py
        .detach(|| overhead::time_pool_entry(mode, calls_per_sample, samples))
        .map_err(PyRuntimeError::new_err)?;
    let out = PyDict::new(py);
    out.set_item("entry", entry)?;
    out.set_item("calls_per_sample", calls_per_sample)?;
    out.set_item("build_seconds", times.build_seconds)?;
    out.set_item("first_call_seconds", times.first_call_seconds)?;
    out.set_item("per_call_seconds", times.per_call_seconds)?;
    Ok(out)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(overhead_noop, m)?)?;
    m.add_function(wrap_pyfunction!(overhead_two_objects, m)?)?;
    m.add_function(wrap_pyfunction!(overhead_two_arrays_unborrowed, m)?)?;
    m.add_function(wrap_pyfunction!(overhead_two_arrays_copied, m)?)?;
    m.add_function(wrap_pyfunction!(overhead_two_arrays, m)?)?;
    m.add_function(wrap_pyfunction!(overhead_two_arrays_borrowed, m)?)?;
    m.add_function(wrap_pyfunction!(overhead_return_array, m)?)?;
    m.add_function(wrap_pyfunction!(overhead_detach, m)?)?;
    m.add_function(wrap_pyfunction!(overhead_pool_entry, m)?)?;
    Ok(())
}
