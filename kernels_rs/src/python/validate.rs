//! Argument checks shared by every binding: each failure is a Python exception that
//! names the argument and what was wrong (TypeError for type/dtype, ValueError for
//! shape/value), so no bad input reaches a kernel's assertions.

use std::borrow::Cow;

use ndarray::{Array, ArrayView};
use std::os::raw::c_int;

use numpy::npyffi::NPY_TYPES;
use numpy::{
    Element, PyArray, PyArrayDescrMethods, PyArrayMethods, PyReadonlyArray, PyUntypedArray,
    PyUntypedArrayMethods,
};
use pyo3::exceptions::{PyMemoryError, PyRuntimeError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::IntoPyDict;

/// Above this much work a kernel runs with the GIL released; below it the release and
/// re-take (~0.1 us) would be a visible share of the call. Work is counted in elements
/// read by the streaming kernels (dense, TTV) and in complex multiply-adds by the
/// tensor-train contractions (site_update at chi = 16, d = 2 is 16,384). Each unit costs
/// between a fraction of a nanosecond and about one, so 2^15 of either is microseconds
/// of work, and the release is at most a few percent of any call that makes it: one
/// number serves both.
pub const GIL_RELEASE_MIN_WORK: usize = 1 << 15;

/// Arrays of at most this many elements are copied instead of borrowed. rust-numpy's
/// read-only borrow registers the array in a process-wide, mutex-protected table and
/// removes it again: ~135 ns per array measured here (notebooks/call_overhead.ipynb),
/// more than copying 256 float64 values costs. Larger arrays are borrowed (no copy).
pub const COPY_MAX_ELEMENTS: usize = 256;

/// A validated array argument: copied when small, borrowed read-only when large.
pub enum ArrayArg<'py, T: Element, D: ndarray::Dimension> {
    Copied(Array<T, D>),
    Borrowed(PyReadonlyArray<'py, T, D>),
}

impl<T: Element, D: ndarray::Dimension> ArrayArg<'_, T, D> {
    /// The shape, whichever way it was taken.
    pub fn shape(&self) -> &[usize] {
        match self {
            ArrayArg::Copied(array) => array.shape(),
            ArrayArg::Borrowed(array) => array.shape(),
        }
    }

    /// A view of the data, whichever way it was taken.
    pub fn view(&self) -> ArrayView<'_, T, D> {
        match self {
            ArrayArg::Copied(array) => array.view(),
            ArrayArg::Borrowed(array) => array.as_array(),
        }
    }

    /// The values in C order: in place when they are in C order already, else a copy
    /// (a MemoryError naming `name` when that cannot be allocated, e.g. for a broadcast
    /// array of 2^40 elements).
    pub fn c_order_values(&self, name: &str) -> PyResult<Cow<'_, [T]>>
    where
        T: Copy,
    {
        crate::alloc::c_order_values(self.view()).map_err(|e| copy_error(name, e))
    }

    /// The values in C order as an owned vector (a copy, allocated fallibly).
    pub fn owned_values(&self, name: &str) -> PyResult<Vec<T>>
    where
        T: Copy,
    {
        let view = self.view();
        crate::alloc::try_collect(view.len(), view.iter().copied()).map_err(|e| copy_error(name, e))
    }
}

pub use crate::shape_str;

/// The MemoryError for a copy of argument `name` that cannot be allocated.
pub fn copy_error(name: &str, e: crate::alloc::AllocError) -> PyErr {
    PyMemoryError::new_err(format!("cannot allocate a C-order copy of {name}: {e}"))
}

/// An element type with its NumPy type number, for the fast path of [`typed`].
pub trait Dtype: Element {
    /// NumPy's type number of `Self` (`dtype.num`).
    const NUM: c_int;
}

impl Dtype for f64 {
    const NUM: c_int = NPY_TYPES::NPY_DOUBLE as c_int;
}

impl Dtype for num_complex::Complex64 {
    const NUM: c_int = NPY_TYPES::NPY_CDOUBLE as c_int;
}

impl Dtype for i64 {
    // NumPy's int64 is C `long` where that has 64 bits, else `long long`; an array whose
    // number is the other one still passes, through the slow path.
    #[cfg(all(not(windows), target_pointer_width = "64"))]
    const NUM: c_int = NPY_TYPES::NPY_LONG as c_int;
    #[cfg(not(all(not(windows), target_pointer_width = "64")))]
    const NUM: c_int = NPY_TYPES::NPY_LONGLONG as c_int;
}

impl Dtype for i32 {
    const NUM: c_int = NPY_TYPES::NPY_INT as c_int;
}

/// The Python type name of `obj`, for messages.
pub fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "?".into())
}

/// `obj` when it is an ndarray with `ndim` axes (any number for `None`) and exactly
/// `T`'s type number in native byte order: the common case, which [`typed`] accepts
/// without rust-numpy's own check. That check (in `typed_slow`) would also accept it, but
/// looks up T's dtype through NumPy on every call: about a third of the checks' cost.
#[inline(always)]
fn typed_fast<'a, 'py, T: Dtype>(
    obj: &'a Bound<'py, PyAny>,
    ndim: Option<usize>,
) -> Option<&'a Bound<'py, PyUntypedArray>> {
    let array = obj.cast::<PyUntypedArray>().ok()?;
    let dtype = array.dtype();
    (ndim.is_none_or(|ndim| ndim == array.ndim())
        && dtype.num() == T::NUM
        && dtype.is_native_byteorder() == Some(true))
    .then_some(array)
}

/// Check that `obj` is a NumPy array of element type `T` and dimension `D`.
///
/// `dtype_name` is the NumPy name of `T` used in messages (e.g. "float64").
#[inline(always)]
pub fn typed<'a, 'py, T: Dtype, D: ndarray::Dimension>(
    obj: &'a Bound<'py, PyAny>,
    name: &str,
    dtype_name: &str,
) -> PyResult<&'a Bound<'py, PyArray<T, D>>> {
    if let Some(array) = typed_fast::<T>(obj, D::NDIM) {
        // SAFETY: `PyArray<T, D>` is `PyUntypedArray` with a type-level promise of T and
        // D, both just checked: D's number of axes (if it has one), and a dtype NumPy
        // treats as T (the same type number, native byte order), which is what
        // rust-numpy's `PyArray::type_check` establishes through `PyArray_EquivTypes`.
        return Ok(unsafe { array.cast_unchecked::<PyArray<T, D>>() });
    }
    typed_slow(obj, name, dtype_name)
}

/// [`typed`] for every object its fast path does not accept: an array of an equivalent
/// dtype with another type number passes, anything else gets its error message.
#[cold]
#[inline(never)]
fn typed_slow<'a, 'py, T: Dtype, D: ndarray::Dimension>(
    obj: &'a Bound<'py, PyAny>,
    name: &str,
    dtype_name: &str,
) -> PyResult<&'a Bound<'py, PyArray<T, D>>> {
    if let Ok(array) = obj.cast::<PyArray<T, D>>() {
        return Ok(array);
    }
    let untyped = obj.cast::<PyUntypedArray>().map_err(|_| {
        PyTypeError::new_err(format!(
            "{name} must be a numpy.ndarray of {dtype_name}, got {}",
            type_name(obj)
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
    let dtype = untyped
        .dtype()
        .str()
        .map(|s| s.to_string())
        .unwrap_or_else(|_| "?".into());
    Err(PyTypeError::new_err(format!(
        "{name} must have dtype {dtype_name}, got {dtype}"
    )))
}

/// Whether the kernels may read `array` through a slice or an `ndarray` view: aligned,
/// with strides that are whole elements. A field of a structured array (`a["x"]`) can
/// have strides that are not, and an array over an offset buffer can be unaligned;
/// rust-numpy's views would divide such strides (a silently wrong answer) or point at
/// misaligned elements (undefined behaviour).
pub fn kernel_readable<T: Element, D: ndarray::Dimension>(
    array: &Bound<'_, PyArray<T, D>>,
) -> bool {
    let item = std::mem::size_of::<T>() as isize;
    // An empty array with a negative stride is copied too: rust-numpy's view would move
    // its data pointer by a stride times (0 - 1), outside any allocation.
    let empty_reversed = array.is_empty() && array.strides().iter().any(|&s| s < 0);
    // A C-contiguous array's strides are whole elements on every axis that is ever
    // stepped along (NumPy ignores the stride of a length-1 axis, and so does indexing).
    array.is_aligned()
        && !empty_reversed
        && (array.is_c_contiguous() || array.strides().iter().all(|s| s % item == 0))
}

/// A C-order copy of `array` made by NumPy (`numpy.array(array, order="C")`: a fresh
/// base-class array, aligned, whose strides are whole elements), for an array that is
/// not [`kernel_readable`]. The copy runs Python code, so call this before anything that
/// must not (reading arrays in place) and take shapes from its result.
#[cold]
pub fn readable_copy<'py, T: Dtype, D: ndarray::Dimension>(
    array: &Bound<'py, PyArray<T, D>>,
    name: &str,
    dtype_name: &str,
) -> PyResult<Bound<'py, PyArray<T, D>>> {
    let py = array.py();
    let kwargs = [("order", "C")].into_py_dict(py)?;
    let copy = py
        .import("numpy")?
        .call_method("array", (array,), Some(&kwargs))?;
    let copy = typed::<T, D>(&copy, name, dtype_name)?.clone();
    if !kernel_readable(&copy) {
        return Err(PyRuntimeError::new_err(format!(
            "{name}: NumPy's C-order copy is not aligned"
        )));
    }
    Ok(copy)
}

/// Borrow `obj` as a read-only NumPy array of element type `T` and dimension `D` (a copy
/// if the kernels may not read it in place: see [`readable_copy`]).
pub fn readonly<'py, T: Dtype, D: ndarray::Dimension>(
    obj: &Bound<'py, PyAny>,
    name: &str,
    dtype_name: &str,
) -> PyResult<PyReadonlyArray<'py, T, D>> {
    let array = typed::<T, D>(obj, name, dtype_name)?;
    if !kernel_readable(array) {
        return readonly(
            readable_copy(array, name, dtype_name)?.as_any(),
            name,
            dtype_name,
        );
    }
    array
        .try_readonly()
        .map_err(|e| PyValueError::new_err(format!("{name} cannot be borrowed for reading: {e}")))
}

/// An owned C-order copy of `array` whatever its size (first copied by NumPy if the
/// kernels may not read it in place): a MemoryError naming `name` when it cannot be
/// allocated (rust-numpy's `to_owned_array` would abort).
pub fn owned_copy<T: Dtype + Copy, D: ndarray::Dimension>(
    array: &Bound<'_, PyArray<T, D>>,
    name: &str,
    dtype_name: &str,
) -> PyResult<Array<T, D>> {
    if !kernel_readable(array) {
        return owned_copy(&readable_copy(array, name, dtype_name)?, name, dtype_name);
    }
    // SAFETY: the array is aligned with whole-element strides (kernel_readable), and the
    // view is read only by this copy, with the GIL held and no Python code run: the
    // contract under which rust-numpy's safe `to_owned_array` reads an array.
    let view = unsafe { array.as_array() };
    crate::alloc::try_to_owned(view).map_err(|e| copy_error(name, e))
}

/// The kernels' way to take an array argument: checked as [`readonly`] does (and copied
/// by [`readable_copy`] if need be), then taken by [`take_array`].
pub fn array_arg<'py, T: Dtype, D: ndarray::Dimension>(
    obj: &Bound<'py, PyAny>,
    name: &str,
    dtype_name: &str,
) -> PyResult<ArrayArg<'py, T, D>> {
    take_array(typed::<T, D>(obj, name, dtype_name)?, name, dtype_name)
}

/// A checked array (first copied by [`readable_copy`] if it is not [`kernel_readable`]),
/// then copied if it has at most
/// [`COPY_MAX_ELEMENTS`] elements (rust-numpy's safe `to_owned_array`, under the GIL) and
/// borrowed read-only otherwise.
pub fn take_array<'py, T: Dtype, D: ndarray::Dimension>(
    array: &Bound<'py, PyArray<T, D>>,
    name: &str,
    dtype_name: &str,
) -> PyResult<ArrayArg<'py, T, D>> {
    if !kernel_readable(array) {
        return take_array(&readable_copy(array, name, dtype_name)?, name, dtype_name);
    }
    if array.len() <= COPY_MAX_ELEMENTS {
        return Ok(ArrayArg::Copied(array.to_owned_array()));
    }
    array
        .try_readonly()
        .map(ArrayArg::Borrowed)
        .map_err(|e| PyValueError::new_err(format!("{name} cannot be borrowed for reading: {e}")))
}
