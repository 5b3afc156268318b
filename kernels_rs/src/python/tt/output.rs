//! How a contraction's result reaches Python: computed into the caller's `out` in place
//! when that is safe, else into a new array (returned, or copied into `out`); tiny calls
//! read their inputs in place and compute into a stack buffer (`small_call`).

use ndarray::Dimension;
use numpy::npyffi::{_PyArray_GET_ITEM_DATA, NPY_ARRAY_WRITEABLE};
use numpy::{PyArray, PyArrayMethods, PyReadwriteArray, PyUntypedArrayMethods};
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;

use super::{checked, memory_error};
use crate::extent::{extents_overlap, slice_extent};
use crate::python::raw::{array_extent, new_array, Fill, InPlace, InPlaceReader};
use crate::python::validate::{shape_str, COPY_MAX_ELEMENTS, GIL_RELEASE_MIN_WORK};
use crate::tt::{self, C64};

fn zeros<'py, D: Dimension>(py: Python<'py>, dims: D) -> PyResult<Bound<'py, PyArray<C64, D>>> {
    // SAFETY: zeroed, so every element is initialised.
    unsafe { new_array(py, dims, Fill::Zeros) }
}

/// The values of `out`, an array this call has just made, for writing.
///
/// # Safety
/// `out` must have been created by this call (by [`zeros`]) and not yet handed to
/// Python or anyone else. A fresh array is reachable only through `out` (NumPy arrays
/// are not tracked by the garbage collector, so not even `gc.get_objects` can see it),
/// so the slice is the only reference to its data, with or without the GIL; `zeros`
/// made it C-contiguous, aligned and initialised.
// The `&mut` comes from a shared `&Bound` as in rust-numpy's own `as_slice_mut`; the
// contract below is what makes it unique.
#[allow(clippy::mut_from_ref)]
unsafe fn fresh_values<'a, D: Dimension>(
    out: &'a Bound<'_, PyArray<C64, D>>,
) -> PyResult<&'a mut [C64]> {
    // SAFETY: see the contract above; as_slice_mut checks contiguity and alignment.
    unsafe { out.as_slice_mut() }
        .map_err(|e| PyRuntimeError::new_err(format!("new array is not contiguous: {e}")))
}

/// The contraction's result, computed by `fill` (with the GIL released when the work,
/// in complex multiply-adds, is large) from `inputs`: straight into `dest`'s `out` when
/// that can be written in place and shares no memory with an input, else into a new
/// C-order array of shape `dims` that is returned or copied into `out`.
pub(super) fn output<'py, D, F>(
    py: Python<'py>,
    dims: D,
    dest: Destination<'_, 'py, D>,
    macs: usize,
    inputs: &[&[C64]],
    fill: F,
) -> PyResult<Bound<'py, PyArray<C64, D>>>
where
    D: Dimension,
    F: FnOnce(&mut [C64]) -> Result<(), tt::ScratchError> + Send,
{
    let run = |fill: F, values: &mut [C64]| {
        if macs >= GIL_RELEASE_MIN_WORK {
            py.detach(|| fill(values))
        } else {
            fill(values)
        }
        .map_err(memory_error)
    };
    if let Destination::Out(out) = dest {
        if let Some(mut target) = writable_in_place(out, inputs) {
            // The kernels overwrite every element of their output (never read it).
            let values = target.as_slice_mut().map_err(|e| {
                PyRuntimeError::new_err(format!("out is not contiguous after all: {e}"))
            })?;
            run(fill, values)?;
            return Ok(out.clone());
        }
    }
    let out = zeros(py, dims)?;
    // SAFETY: `out` was made just above and is returned only after `fill` is done.
    let values = unsafe { fresh_values(&out)? };
    run(fill, values)?;
    dest.deliver(out)
}

/// `out` borrowed for writing when the kernels can write it directly: C-contiguous,
/// aligned, not borrowed by anyone else, and sharing no byte with the memory the kernel
/// reads (`inputs`: the borrowed arrays' values, or copies). The overlap is decided on
/// addresses (`crate::extent`), since rust-numpy's borrow table only sees arrays with the same
/// base object; an `out` that overlaps gets the result through a new array instead.
fn writable_in_place<'py, D: Dimension>(
    out: &Bound<'py, PyArray<C64, D>>,
    inputs: &[&[C64]],
) -> Option<PyReadwriteArray<'py, C64, D>> {
    if !out.is_c_contiguous() || !out.is_aligned() {
        return None;
    }
    let target = array_extent(out.as_untyped());
    if inputs
        .iter()
        .any(|input| extents_overlap(slice_extent(input), target))
    {
        return None;
    }
    out.try_readwrite().ok()
}

/// Inputs of at most this many elements, C-contiguous and aligned, are read in place
/// by [`small_call`] (the same bound as the copies of small arrays).
const IN_PLACE_MAX_ELEMENTS: usize = COPY_MAX_ELEMENTS;

/// Outputs of [`small_call`] are computed into a stack buffer of this many elements
/// (4 KiB) or, up to 16 elements, of 16, so that a 1-element output does not zero 4 KiB.
const STACK_OUTPUT_MAX_ELEMENTS: usize = 256;
const SMALL_STACK_OUTPUT: usize = 16;

/// `obj` read in place (no copy, no borrow-table entry) when it is a complex128 ndarray
/// with `N` axes, C-contiguous and aligned, of at most [`IN_PLACE_MAX_ELEMENTS`]
/// elements; `None` for anything else, which the checked path then takes (or says what
/// is wrong with).
///
/// # Safety
/// As for [`InPlaceReader::read`].
#[inline(always)]
pub(super) unsafe fn in_place<'a, const N: usize>(
    reader: InPlaceReader,
    obj: &'a Bound<'_, PyAny>,
) -> Option<InPlace<'a, C64, N>> {
    // SAFETY: the caller upholds the reader's contract.
    unsafe { reader.read::<C64, N>(obj, IN_PLACE_MAX_ELEMENTS) }
}

/// The fast path of a tiny contraction, or `None` when it does not apply: when every
/// input was read [`in_place`], the output has at most [`STACK_OUTPUT_MAX_ELEMENTS`]
/// elements and the work is too small to release the GIL, `kernel` computes from the
/// inputs in place into a stack buffer, which is then copied into a new array. Every
/// input is read before anything that can run Python code (making the new array):
/// what `in_place` requires. This saves copying small inputs, about a third of a tiny
/// call.
#[inline(always)]
pub(super) fn small_call<'py, D, const K: usize>(
    py: Python<'py>,
    dims: D,
    dest: Destination<'_, 'py, D>,
    macs: usize,
    inputs: [&[C64]; K],
    kernel: impl FnOnce([&[C64]; K], &mut [C64]) -> Result<(), tt::ScratchError>,
) -> Option<PyResult<Bound<'py, PyArray<C64, D>>>>
where
    D: Dimension,
{
    let len = dims
        .size_checked()
        .filter(|&len| len <= STACK_OUTPUT_MAX_ELEMENTS)?;
    if macs >= GIL_RELEASE_MIN_WORK {
        return None;
    }
    Some(if len <= SMALL_STACK_OUTPUT {
        on_stack::<D, SMALL_STACK_OUTPUT>(py, dims, dest, len, |out| kernel(inputs, out))
    } else {
        on_stack::<D, STACK_OUTPUT_MAX_ELEMENTS>(py, dims, dest, len, |out| kernel(inputs, out))
    })
}

/// Compute `len` (<= `N`) values into a zeroed stack buffer with `fill`, then copy them
/// into `dest` (a new C-order array of shape `dims`, or `out`). `fill` is done before
/// anything here can run Python code.
#[inline(always)]
fn on_stack<'py, D: Dimension, const N: usize>(
    py: Python<'py>,
    dims: D,
    dest: Destination<'_, 'py, D>,
    len: usize,
    fill: impl FnOnce(&mut [C64]) -> Result<(), tt::ScratchError>,
) -> PyResult<Bound<'py, PyArray<C64, D>>> {
    let mut buffer = [C64::new(0.0, 0.0); N];
    let values = &mut buffer[..len];
    fill(values).map_err(memory_error)?;
    debug_assert_eq!(dims.size(), len);
    match dest {
        Destination::Out(out) if out.is_c_contiguous() && out.is_aligned() => {
            // SAFETY: `out` passed `out_array`: a writeable complex128 array of shape
            // `dims`, so `len` elements; C-contiguous and aligned (checked here). The
            // write happens with the GIL held and no Rust reference to its memory alive
            // (the inputs were last read by `fill`, above), from a stack buffer that
            // cannot overlap it. It is the write that NumPy's own `np.copyto` or a Python
            // `out[...] = values` would make, with the same guarantees.
            unsafe { std::ptr::copy_nonoverlapping(values.as_ptr(), out.data(), len) };
            Ok(out.clone())
        }
        dest => {
            // SAFETY: `new_array` returns a fresh C-contiguous array of `dims.size()`
            // == `len` elements that nothing else can see yet. C64 has no drop glue, and
            // every element is written here, from a stack buffer that cannot overlap the
            // new allocation, before the array is read or returned.
            let array = unsafe {
                let array = new_array::<C64, D>(py, dims, Fill::Uninit)?;
                std::ptr::copy_nonoverlapping(values.as_ptr(), array.data(), len);
                array
            };
            dest.deliver(array)
        }
    }
}

/// Where a contraction's result goes: a new array, or the caller's `out`.
#[derive(Clone, Copy)]
pub(super) enum Destination<'a, 'py, D: Dimension> {
    New,
    Out(&'a Bound<'py, PyArray<C64, D>>),
}

impl<'py, D: Dimension> Destination<'_, 'py, D> {
    /// `out=None` (a new array) or `out` checked by [`out_array`] against `dims`.
    #[inline(always)]
    pub(super) fn from_arg<'a>(
        out: Option<&'a Bound<'py, PyAny>>,
        dims: &D,
    ) -> PyResult<Destination<'a, 'py, D>> {
        Ok(match out {
            None => Destination::New,
            Some(out) => Destination::Out(out_array(out, dims)?),
        })
    }

    /// Return `result`, a new array, or copy it into `out` (any layout: NumPy's
    /// `PyArray_CopyInto`) and return `out`.
    fn deliver(self, result: Bound<'py, PyArray<C64, D>>) -> PyResult<Bound<'py, PyArray<C64, D>>> {
        match self {
            Destination::New => Ok(result),
            Destination::Out(out) => {
                result.copy_to(out)?;
                Ok(out.clone())
            }
        }
    }
}

fn writeable<D: Dimension>(array: &Bound<'_, PyArray<C64, D>>) -> bool {
    // SAFETY: `as_array_ptr` points to the array object, which `array` keeps alive; only
    // its flags field is read, with the GIL held.
    unsafe { (*_PyArray_GET_ITEM_DATA(array.as_array_ptr())).flags & NPY_ARRAY_WRITEABLE != 0 }
}

/// `out` checked as a writeable complex128 array of the result's shape `dims` (any
/// layout), or the TypeError/ValueError that says what is wrong.
pub(super) fn out_array<'a, 'py, D: Dimension>(
    out: &'a Bound<'py, PyAny>,
    dims: &D,
) -> PyResult<&'a Bound<'py, PyArray<C64, D>>> {
    let array = checked::<D>(out, "out")?;
    if array.shape() != dims.slice() {
        return Err(PyValueError::new_err(format!(
            "out must have the result's shape {}, got {}",
            shape_str(dims.slice()),
            shape_str(array.shape())
        )));
    }
    if !writeable(array) {
        return Err(PyValueError::new_err("out is read-only"));
    }
    Ok(array)
}
