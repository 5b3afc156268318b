//! Argument checks shared by every binding: each failure is a Python exception that
//! names the argument and what was wrong (TypeError for type/dtype, ValueError for
//! shape/value), so no bad input reaches a kernel's assertions.

use numpy::{
    Element, PyArray, PyArrayMethods, PyReadonlyArray, PyUntypedArray, PyUntypedArrayMethods,
};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;

/// Above this many elements a kernel runs with the GIL released; below it the
/// release/re-acquire (~0.1 us) would be a visible share of the call.
pub const GIL_RELEASE_MIN_ELEMENTS: usize = 1 << 15;

/// A shape written as Python writes a tuple: `(3,)`, `(2, 4)`.
pub fn shape_str(shape: &[usize]) -> String {
    match shape {
        [one] => format!("({one},)"),
        _ => format!(
            "({})",
            shape
                .iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Borrow `obj` as a read-only NumPy array of element type `T` and dimension `D`.
///
/// `dtype_name` is the NumPy name of `T` used in messages (e.g. "float64").
pub fn readonly<'py, T: Element, D: ndarray::Dimension>(
    obj: &Bound<'py, PyAny>,
    name: &str,
    dtype_name: &str,
) -> PyResult<PyReadonlyArray<'py, T, D>> {
    let untyped = obj.cast::<PyUntypedArray>().map_err(|_| {
        let type_name = obj
            .get_type()
            .name()
            .map(|n| n.to_string())
            .unwrap_or_else(|_| "?".into());
        PyTypeError::new_err(format!(
            "{name} must be a numpy.ndarray of {dtype_name}, got {type_name}"
        ))
    })?;
    if let Some(ndim) = D::NDIM {
        if untyped.ndim() != ndim {
            return Err(PyValueError::new_err(format!(
                "{name} must be {ndim}-D, got an array of shape {}",
                shape_str(untyped.shape())
            )));
        }
    }
    let typed = untyped.cast::<PyArray<T, D>>().map_err(|_| {
        let dtype = untyped
            .dtype()
            .str()
            .map(|s| s.to_string())
            .unwrap_or_else(|_| "?".into());
        PyTypeError::new_err(format!("{name} must have dtype {dtype_name}, got {dtype}"))
    })?;
    typed
        .try_readonly()
        .map_err(|e| PyValueError::new_err(format!("{name} cannot be borrowed for reading: {e}")))
}
