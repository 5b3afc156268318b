//! NumPy at the lowest level the bindings use: reading a tiny array's header straight
//! from NumPy's object struct, and making result arrays with a cached descriptor and a
//! Python error (not a panic) when NumPy cannot allocate.
//!
//! Why: a tensor-train call at chi = 1 does 8 complex multiply-adds, and everything else
//! in it is this boundary (notebooks/tt_overhead.ipynb). rust-numpy's safe accessors
//! each take a reference to the dtype, look up the ndarray type through a once-cell,
//! multiply the shape out again and look the descriptor up in NumPy for every new array;
//! here each input is one type check and a few field reads.

use std::os::raw::c_int;

use ndarray::Dimension;
use numpy::npyffi::{
    self, _PyArray_GET_ITEM_DATA, _PyDataType_GET_ITEM_DATA, npy_intp, NpyTypes, PyArray_Descr,
    NPY_ARRAY_ALIGNED, NPY_ARRAY_C_CONTIGUOUS, PY_ARRAY_API,
};
use numpy::{PyArray, PyArrayDescr, PyArrayDescrMethods, PyUntypedArray, PyUntypedArrayMethods};
use pyo3::exceptions::PyMemoryError;
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;

use super::validate::Dtype;

/// An array argument read in place: its shape and its values in C order.
#[derive(Clone, Copy)]
pub struct InPlace<'a, T, const N: usize> {
    pub shape: [usize; N],
    pub values: &'a [T],
}

/// NumPy's byte-order character says native: `=` (NumPy's canonical form), or the
/// explicit character of this machine's order.
fn native_byteorder(byteorder: u8) -> bool {
    byteorder == b'=' || byteorder == npyffi::NPY_BYTEORDER_CHAR::NPY_NATBYTE as u8
}

/// Reads tiny array arguments in place; made once per call, so that the ndarray type
/// object is looked up once, not once per argument.
#[derive(Clone, Copy)]
pub struct InPlaceReader {
    ndarray_type: *mut ffi::PyTypeObject,
}

impl InPlaceReader {
    #[inline(always)]
    pub fn new(py: Python<'_>) -> Self {
        // SAFETY: NumPy's API table is loaded (or loads) with the GIL held.
        let ndarray_type = unsafe { npyffi::get_type_object(py, NpyTypes::PyArray_Type) };
        InPlaceReader { ndarray_type }
    }

    /// `obj` read in place when it is a `numpy.ndarray` (or subclass) with `N` axes,
    /// `T`'s type number in native byte order, C-contiguous and aligned, with at most
    /// `max_len` elements; `None` for anything else (which the caller's checked path then
    /// takes, or says what is wrong with).
    ///
    /// # Safety
    /// The caller must hold the GIL, must not release it, and must not call anything
    /// that can run Python code (or NumPy, which may start the garbage collector) while
    /// the returned slice is alive. Then no Python code can write, resize or free the
    /// array meanwhile (`obj` keeps the object alive). This is the contract under which
    /// rust-numpy's safe `to_owned_array` and `to_vec` read an array without its borrow
    /// table; like them it cannot see native code that writes the array from another
    /// thread without holding the GIL, which no NumPy reader can see either.
    #[inline(always)]
    pub unsafe fn read<'a, T: Dtype, const N: usize>(
        self,
        obj: &'a Bound<'_, PyAny>,
        max_len: usize,
    ) -> Option<InPlace<'a, T, N>> {
        let ptr = obj.as_ptr();
        // SAFETY: `obj` is a live object, the GIL is held (the caller's contract) and
        // `ndarray_type` is NumPy's ndarray type object.
        let is_array = unsafe {
            let ty = ffi::Py_TYPE(ptr);
            ty == self.ndarray_type || ffi::PyType_IsSubtype(ty, self.ndarray_type) != 0
        };
        if !is_array {
            return None;
        }
        // SAFETY: an ndarray (or subclass) object starts with NumPy's array struct; `obj`
        // keeps it alive and, with the GIL held, nothing changes it while it is read.
        let array = unsafe { &*_PyArray_GET_ITEM_DATA(ptr.cast()) };
        let layout = NPY_ARRAY_C_CONTIGUOUS | NPY_ARRAY_ALIGNED;
        if array.nd != N as c_int || array.flags & layout != layout {
            return None;
        }
        // SAFETY: every array has a descriptor, kept alive by the array.
        let descr = unsafe { &*_PyDataType_GET_ITEM_DATA(array.descr) };
        if descr.type_num != T::NUM || !native_byteorder(descr.byteorder as u8) {
            return None;
        }
        let mut shape = [0usize; N];
        let mut len = 1usize;
        for (axis, extent) in shape.iter_mut().enumerate() {
            // SAFETY: `dimensions` holds `nd` == N extents (the loop runs only for N > 0,
            // and an array with axes has a dimensions pointer); extents are >= 0.
            *extent = unsafe { *array.dimensions.add(axis) } as usize;
            len = len.checked_mul(*extent)?;
        }
        if len > max_len {
            return None;
        }
        if len == 0 {
            return Some(InPlace { shape, values: &[] });
        }
        // SAFETY: the flags say the `len` elements at `data` are aligned and contiguous
        // in C order, and the type number says they are `T`; a non-empty array's data
        // pointer is not null. The caller's contract keeps them alive and unwritten.
        let values = unsafe { std::slice::from_raw_parts(array.data as *const T, len) };
        Some(InPlace { shape, values })
    }
}

/// An element type whose NumPy descriptor is looked up once per process.
pub trait CachedDescr: Dtype {
    fn descr_cell() -> &'static PyOnceLock<Py<PyArrayDescr>>;

    /// A new reference to `Self`'s descriptor, for a NumPy function that steals one.
    fn new_descr_ref(py: Python<'_>) -> *mut PyArray_Descr {
        Self::descr_cell()
            .get_or_init(py, || Self::get_dtype(py).unbind())
            .clone_ref(py)
            .into_ptr()
            .cast()
    }
}

impl CachedDescr for num_complex::Complex64 {
    fn descr_cell() -> &'static PyOnceLock<Py<PyArrayDescr>> {
        static DESCR: PyOnceLock<Py<PyArrayDescr>> = PyOnceLock::new();
        &DESCR
    }
}

impl CachedDescr for f64 {
    fn descr_cell() -> &'static PyOnceLock<Py<PyArrayDescr>> {
        static DESCR: PyOnceLock<Py<PyArrayDescr>> = PyOnceLock::new();
        &DESCR
    }
}

/// What a new array's elements hold when it is handed over.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Fill {
    /// Whatever the allocator left: the caller must write every element before the array
    /// is read or handed to Python.
    Uninit,
    Zeros,
}

/// A new C-order `numpy.ndarray` of `T` with shape `dims`, or NumPy's MemoryError
/// (rust-numpy's own constructors panic instead).
///
/// # Safety
/// With [`Fill::Uninit`], the caller must write every element before the array is read
/// or handed to Python (for `T` without drop glue, as every [`Dtype`] is).
pub unsafe fn new_array<'py, T: CachedDescr, D: Dimension>(
    py: Python<'py>,
    mut dims: D,
    fill: Fill,
) -> PyResult<Bound<'py, PyArray<T, D>>> {
    // NumPy refuses more than isize::MAX bytes with a ValueError ("array is too big");
    // an impossible size is a MemoryError here, like every other allocation that fails.
    let fits = dims
        .size_checked()
        .and_then(|n| n.checked_mul(std::mem::size_of::<T>()))
        .is_some_and(|bytes| bytes <= isize::MAX as usize);
    if !fits {
        return Err(PyMemoryError::new_err(format!(
            "cannot allocate an array of shape {}: more than {} bytes",
            crate::shape_str(dims.slice()),
            isize::MAX
        )));
    }
    let ndim = dims.ndim() as c_int;
    // usize and npy_intp (isize) have the same size; every extent is at most isize::MAX
    // (checked above).
    let extents = dims.slice_mut().as_mut_ptr().cast::<npy_intp>();
    // SAFETY: NumPy's documented constructors, called with the GIL held: each steals the
    // descriptor reference it is given, reads (never writes) `ndim` extents and returns a
    // new reference, or null with an exception set. The type object is the base ndarray
    // type (no subclass hook can run). The descriptor is `T`'s own, so the result holds
    // `T`s and may be typed as `PyArray<T, D>`: it has D's number of axes.
    unsafe {
        let ptr = match fill {
            Fill::Uninit => PY_ARRAY_API.PyArray_NewFromDescr(
                py,
                npyffi::get_type_object(py, NpyTypes::PyArray_Type),
                T::new_descr_ref(py),
                ndim,
                extents,
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                0,
                std::ptr::null_mut(),
            ),
            Fill::Zeros => PY_ARRAY_API.PyArray_Zeros(py, ndim, extents, T::new_descr_ref(py), 0),
        };
        Ok(Bound::from_owned_ptr_or_err(py, ptr)?.cast_into_unchecked())
    }
}

/// The extent of a NumPy array (any layout).
pub fn array_extent(array: &Bound<'_, PyUntypedArray>) -> crate::extent::Extent {
    // SAFETY: `as_array_ptr` points to the live array object (kept alive by `array`);
    // only its data pointer field is read, with the GIL held.
    let data = unsafe { (*_PyArray_GET_ITEM_DATA(array.as_array_ptr())).data };
    crate::extent::strided_extent(
        data as usize,
        array.shape(),
        array.strides(),
        array.dtype().itemsize(),
    )
}
