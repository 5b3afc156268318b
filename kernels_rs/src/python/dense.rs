//! Bindings of the dense kernels: `dot_loop`, `dot`, `matvec_loop`, `matvec`.

use ndarray::{ArrayView1, ArrayView2, Ix1, Ix2};
use numpy::PyArray1;
use pyo3::exceptions::{PyMemoryError, PyRuntimeError, PyValueError};
use pyo3::prelude::*;

use super::args::{threads_arg, Int};
use super::validate::{array_arg, shape_str, ArrayArg, GIL_RELEASE_MIN_WORK};
use crate::alloc::AllocError;
use crate::dense;
use crate::dense::threaded::{self, DenseError};

type DotKernel = fn(ArrayView1<f64>, ArrayView1<f64>) -> f64;
type MatvecKernel = fn(ArrayView2<f64>, ArrayView1<f64>) -> Result<Vec<f64>, AllocError>;

type Vector<'py> = ArrayArg<'py, f64, Ix1>;

fn checked_pair<'py>(
    x: &Bound<'py, PyAny>,
    y: &Bound<'py, PyAny>,
) -> PyResult<(Vector<'py>, Vector<'py>)> {
    let x = array_arg::<f64, Ix1>(x, "x", "float64")?;
    let y = array_arg::<f64, Ix1>(y, "y", "float64")?;
    let (nx, ny) = (x.view().len(), y.view().len());
    if nx != ny {
        return Err(PyValueError::new_err(format!(
            "x and y must have the same length, got shapes {} and {}",
            shape_str(&[nx]),
            shape_str(&[ny])
        )));
    }
    Ok((x, y))
}

fn run_dot(
    py: Python<'_>,
    x: &Bound<'_, PyAny>,
    y: &Bound<'_, PyAny>,
    k: DotKernel,
) -> PyResult<f64> {
    let (x, y) = checked_pair(x, y)?;
    let (xv, yv) = (x.view(), y.view());
    if xv.len() >= GIL_RELEASE_MIN_WORK {
        // Large inputs are borrowed: the read-only borrows above keep the NumPy memory
        // alive and un-writable from Rust for the whole call; views are Send (f64: Sync).
        Ok(py.detach(|| k(xv, yv)))
    } else {
        Ok(k(xv, yv))
    }
}

/// The paper's plain-loop dot product of two 1-D float64 arrays.
#[pyfunction]
fn dot_loop(py: Python<'_>, x: &Bound<'_, PyAny>, y: &Bound<'_, PyAny>) -> PyResult<f64> {
    run_dot(py, x, y, dense::dot_loop_view)
}

/// Tuned (vectorized, several accumulators) dot product of two 1-D float64 arrays, on
/// `threads` threads (default `get_num_threads()`; a call too small to split runs inline).
#[pyfunction]
#[pyo3(signature = (x, y, *, threads = None))]
fn dot(
    py: Python<'_>,
    x: &Bound<'_, PyAny>,
    y: &Bound<'_, PyAny>,
    threads: Option<Int>,
) -> PyResult<f64> {
    let threads = threads_arg(threads)?;
    let (x, y) = checked_pair(x, y)?;
    let (xv, yv) = (x.view(), y.view());
    let result = if xv.len() >= GIL_RELEASE_MIN_WORK {
        // As in run_dot: the read-only borrows keep the memory alive for the whole call.
        py.detach(|| threaded::dot(xv, yv, threads))
    } else {
        threaded::dot(xv, yv, threads)
    };
    result.map_err(|e| PyRuntimeError::new_err(format!("dot: {e}")))
}

fn check_matvec_shapes(a: ArrayView2<f64>, x: ArrayView1<f64>) -> PyResult<()> {
    if a.ncols() != x.len() {
        return Err(PyValueError::new_err(format!(
            "a's columns must match x's length, got shapes {} and {}",
            shape_str(a.shape()),
            shape_str(x.shape())
        )));
    }
    Ok(())
}

fn run_matvec<'py>(
    py: Python<'py>,
    a: &Bound<'py, PyAny>,
    x: &Bound<'py, PyAny>,
    k: MatvecKernel,
) -> PyResult<Bound<'py, PyArray1<f64>>> {
    let a = array_arg::<f64, Ix2>(a, "a", "float64")?;
    let x = array_arg::<f64, Ix1>(x, "x", "float64")?;
    let (av, xv) = (a.view(), x.view());
    check_matvec_shapes(av, xv)?;
    let out = if av.len() >= GIL_RELEASE_MIN_WORK {
        py.detach(|| k(av, xv))
    } else {
        k(av, xv)
    }
    .map_err(|e| PyMemoryError::new_err(format!("cannot allocate the result of a @ x: {e}")))?;
    Ok(PyArray1::from_vec(py, out))
}

/// The paper's nested-loop matrix-vector product `a @ x` (a: 2-D, x: 1-D, float64).
#[pyfunction]
fn matvec_loop<'py>(
    py: Python<'py>,
    a: &Bound<'py, PyAny>,
    x: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyArray1<f64>>> {
    run_matvec(py, a, x, dense::matvec_loop)
}

/// Tuned matrix-vector product `a @ x`; C and Fortran order without copies, any strides,
/// on `threads` threads (default `get_num_threads()`; bitwise the 1-thread result).
#[pyfunction]
#[pyo3(signature = (a, x, *, threads = None))]
fn matvec<'py>(
    py: Python<'py>,
    a: &Bound<'py, PyAny>,
    x: &Bound<'py, PyAny>,
    threads: Option<Int>,
) -> PyResult<Bound<'py, PyArray1<f64>>> {
    let threads = threads_arg(threads)?;
    let a = array_arg::<f64, Ix2>(a, "a", "float64")?;
    let x = array_arg::<f64, Ix1>(x, "x", "float64")?;
    let (av, xv) = (a.view(), x.view());
    check_matvec_shapes(av, xv)?;
    let out = if av.len() >= GIL_RELEASE_MIN_WORK {
        py.detach(|| threaded::matvec(av, xv, threads))
    } else {
        threaded::matvec(av, xv, threads)
    }
    .map_err(|e| match e {
        DenseError::Alloc(e) => {
            PyMemoryError::new_err(format!("cannot allocate the result of a @ x: {e}"))
        }
        DenseError::Pool(e) => PyRuntimeError::new_err(format!("matvec: {e}")),
    })?;
    Ok(PyArray1::from_vec(py, out))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(dot_loop, m)?)?;
    m.add_function(wrap_pyfunction!(dot, m)?)?;
    m.add_function(wrap_pyfunction!(matvec_loop, m)?)?;
    m.add_function(wrap_pyfunction!(matvec, m)?)?;
    Ok(())
}
