//! Bindings of the tensor-train contractions (`crate::tt`) and their in-Rust timer.
//!
//! Arrays are complex128 with the axes of `crate::tt` (row-major order of the values):
//! `env [chi_bra, chi_ket]`, site tensors `[chi_left, d, chi_right]`, first-site operands
//! `[d, chi]`. A wrong type or dtype is a TypeError, a wrong number of axes or
//! inconsistent shapes a ValueError naming the shapes.
//!
//! How inputs are read, cheapest first:
//! - a tiny call (every input of at most 256 elements, C-contiguous and aligned, too
//!   little work to release the GIL) reads its inputs in place with the GIL held and
//!   computes into a stack buffer before it makes the result array (`small_call`);
//! - otherwise a C-contiguous input is borrowed read-only through rust-numpy (small
//!   ones are copied, which is cheaper than the borrow table), any other layout (Fortran
//!   order, slices, negative strides) is copied into C order, and an unaligned array, or
//!   one whose strides are not whole elements, is first copied by NumPy, so the kernels
//!   only ever see aligned, contiguous data.

use std::borrow::Cow;

use ndarray::{Dimension, Ix2, Ix3};
use numpy::npyffi::{_PyArray_GET_ITEM_DATA, NPY_ARRAY_WRITEABLE};
use numpy::{PyArray, PyArray2, PyArray3, PyArrayMethods, PyReadwriteArray, PyUntypedArrayMethods};
use pyo3::exceptions::{PyMemoryError, PyRuntimeError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PySequence};

use super::bench::repetitions;
use super::raw::{new_array, Fill, InPlace, InPlaceReader};
use super::validate::{shape_str, take_array, type_name, typed, ArrayArg, COPY_MAX_ELEMENTS};
use crate::tt::{self, Site, C64};
use crate::tt_bench::{self, Operands};

const DTYPE: &str = "complex128";

/// Above this many complex multiply-adds a call runs with the GIL released; below it the
/// release and re-take (~0.1 us) would be a visible share of the call (site_update at
/// chi = 16, d = 2 is 16,384).
pub const GIL_RELEASE_MIN_MACS: usize = 1 << 15;

fn value_error(e: tt::ShapeError) -> PyErr {
    PyValueError::new_err(e.0)
}

/// `obj` as a complex128 array with `D`'s number of axes, or the TypeError/ValueError
/// that names `name` and what is wrong (`validate::typed`, without borrowing).
fn checked<'a, 'py, D: Dimension>(
    obj: &'a Bound<'py, PyAny>,
    name: &str,
) -> PyResult<&'a Bound<'py, PyArray<C64, D>>> {
    typed::<C64, D>(obj, name, DTYPE)
}

/// Borrow or copy a checked array (`validate::take_array`); one the kernels must not read
/// in place (unaligned, or strides that are not whole elements) is first copied by NumPy.
fn take<'py, D: Dimension>(
    array: &Bound<'py, PyArray<C64, D>>,
    name: &str,
) -> PyResult<ArrayArg<'py, C64, D>> {
    take_array(array, name, DTYPE)
}

/// `obj` checked as a complex128 array with `D`'s number of axes, then borrowed or copied.
fn complex_array<'py, D: Dimension>(
    obj: &Bound<'py, PyAny>,
    name: &str,
) -> PyResult<ArrayArg<'py, C64, D>> {
    take(checked::<D>(obj, name)?, name)
}

fn dims2(shape: &[usize]) -> [usize; 2] {
    [shape[0], shape[1]]
}

fn dims3(shape: &[usize]) -> [usize; 3] {
    [shape[0], shape[1], shape[2]]
}

fn zeros<'py, D: Dimension>(py: Python<'py>, dims: D) -> PyResult<Bound<'py, PyArray<C64, D>>> {
    // SAFETY: zeroed, so every element is initialised.
    unsafe { new_array(py, dims, Fill::Zeros) }
}

fn memory_error(e: tt::ScratchError) -> PyErr {
    PyMemoryError::new_err(e.to_string())
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
/// in complex multiply-adds, is large): straight into `dest`'s `out` when that can be
/// written in place, else into a new C-order array of shape `dims` that is returned or
/// copied into `out`.
fn output<'py, D, F>(
    py: Python<'py>,
    dims: D,
    dest: Destination<'_, 'py, D>,
    macs: usize,
    fill: F,
) -> PyResult<Bound<'py, PyArray<C64, D>>>
where
    D: Dimension,
    F: FnOnce(&mut [C64]) -> Result<(), tt::ScratchError> + Send,
{
    let run = |fill: F, values: &mut [C64]| {
        if macs >= GIL_RELEASE_MIN_MACS {
            py.detach(|| fill(values))
        } else {
            fill(values)
        }
        .map_err(memory_error)
    };
    if let Destination::Out(out) = dest {
        if let Some(mut target) = writable_in_place(out) {
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
/// aligned, and not borrowed by anyone else. rust-numpy's borrow table refuses the
/// borrow when `out` overlaps an input this call has borrowed for reading (a large input;
/// small ones are copies), so such an `out` gets the result through a new array instead.
fn writable_in_place<'py, D: Dimension>(
    out: &Bound<'py, PyArray<C64, D>>,
) -> Option<PyReadwriteArray<'py, C64, D>> {
    if !out.is_c_contiguous() || !out.is_aligned() {
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
unsafe fn in_place<'a, const N: usize>(
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
fn small_call<'py, D, const K: usize>(
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
    if macs >= GIL_RELEASE_MIN_MACS {
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
enum Destination<'a, 'py, D: Dimension> {
    New,
    Out(&'a Bound<'py, PyArray<C64, D>>),
}

impl<'py, D: Dimension> Destination<'_, 'py, D> {
    /// `out=None` (a new array) or `out` checked by [`out_array`] against `dims`.
    #[inline(always)]
    fn from_arg<'a>(
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
fn out_array<'a, 'py, D: Dimension>(
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

fn macs(factors: &[usize]) -> usize {
    factors.iter().fold(1usize, |acc, &f| acc.saturating_mul(f))
}

/// What a contraction needs once its input shapes have passed `tt::check_*`: the shape
/// of its output, its work in complex multiply-adds, and the kernel on C-order values.
struct Plan<D, F> {
    dims: D,
    macs: usize,
    kernel: F,
}

/// A contraction kernel on the C-order values of its `K` inputs.
trait Kernel<const K: usize>:
    Fn([&[C64]; K], &mut [C64]) -> Result<(), tt::ScratchError> + Copy + Send
{
}

impl<const K: usize, F> Kernel<K> for F where
    F: Fn([&[C64]; K], &mut [C64]) -> Result<(), tt::ScratchError> + Copy + Send
{
}

#[inline(always)]
fn first_site_plan(bra: [usize; 2], ket: [usize; 2]) -> PyResult<Plan<Ix2, impl Kernel<2>>> {
    tt::check_first_site(bra, ket).map_err(value_error)?;
    let (d, chi_bra, chi_ket) = (bra[0], bra[1], ket[1]);
    Ok(Plan {
        dims: Ix2(chi_bra, chi_ket),
        macs: macs(&[d, chi_bra, chi_ket]),
        kernel: move |[bra, ket]: [&[C64]; 2], out: &mut [C64]| {
            tt::first_site_into(d, chi_bra, chi_ket, bra, ket, out);
            Ok(())
        },
    })
}

/// `env[a, b] = sum_s conj(bra_first[s, a]) * ket_first[s, b]`, i.e.
/// `einsum("sa,sb->ab", bra_first.conj(), ket_first)`; shapes `[d, chi_bra]`, `[d, chi_ket]`.
#[pyfunction]
#[pyo3(signature = (bra_first, ket_first, out=None))]
fn tt_first_site<'py>(
    py: Python<'py>,
    bra_first: &Bound<'py, PyAny>,
    ket_first: &Bound<'py, PyAny>,
    out: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyArray2<C64>>> {
    // SAFETY (in_place): small_call reads these before it runs any Python code.
    if let (Some(bra), Some(ket)) = unsafe {
        let reader = InPlaceReader::new(py);
        (in_place(reader, bra_first), in_place(reader, ket_first))
    } {
        let plan = first_site_plan(bra.shape, ket.shape)?;
        let dest = Destination::from_arg(out, &plan.dims)?;
        let inputs = [bra.values, ket.values];
        if let Some(result) = small_call(py, plan.dims, dest, plan.macs, inputs, plan.kernel) {
            return result;
        }
    }
    let bra = checked::<Ix2>(bra_first, "bra_first")?;
    let ket = checked::<Ix2>(ket_first, "ket_first")?;
    // Shapes from the taken arrays: taking may run Python code (a NumPy copy).
    let (bra, ket) = (take(bra, "bra_first")?, take(ket, "ket_first")?);
    let plan = first_site_plan(dims2(bra.shape()), dims2(ket.shape()))?;
    let dest = Destination::from_arg(out, &plan.dims)?;
    let (bra, ket) = (bra.c_order_values(), ket.c_order_values());
    output(py, plan.dims, dest, plan.macs, |out| {
        (plan.kernel)([&bra, &ket], out)
    })
}

#[inline(always)]
fn env_bra_plan(env: [usize; 2], bra: [usize; 3]) -> PyResult<Plan<Ix3, impl Kernel<2>>> {
    tt::check_env_bra(env, bra).map_err(value_error)?;
    let site = Site::from_shape(&bra);
    let chi_ket = env[1];
    Ok(Plan {
        dims: Ix3(chi_ket, site.phys, site.right),
        macs: macs(&[site.len(), chi_ket]),
        kernel: move |[env, bra]: [&[C64]; 2], out: &mut [C64]| {
            tt::env_bra_into(chi_ket, site, env, bra, out);
            Ok(())
        },
    })
}

/// `tmp = einsum("ab,asc->bsc", env, bra.conj())`: env `[chi_bra, chi_ket]`, bra
/// `[chi_bra, d, chi_bra']` -> `[chi_ket, d, chi_bra']`.
#[pyfunction]
#[pyo3(signature = (env, bra, out=None))]
fn tt_env_bra<'py>(
    py: Python<'py>,
    env: &Bound<'py, PyAny>,
    bra: &Bound<'py, PyAny>,
    out: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyArray3<C64>>> {
    // SAFETY (in_place): small_call reads these before it runs any Python code.
    if let (Some(e), Some(b)) = unsafe {
        let reader = InPlaceReader::new(py);
        (in_place(reader, env), in_place(reader, bra))
    } {
        let plan = env_bra_plan(e.shape, b.shape)?;
        let dest = Destination::from_arg(out, &plan.dims)?;
        let inputs = [e.values, b.values];
        if let Some(result) = small_call(py, plan.dims, dest, plan.macs, inputs, plan.kernel) {
            return result;
        }
    }
    let env = checked::<Ix2>(env, "env")?;
    let bra = checked::<Ix3>(bra, "bra")?;
    // Shapes from the taken arrays: taking may run Python code (a NumPy copy).
    let (env, bra) = (take(env, "env")?, take(bra, "bra")?);
    let plan = env_bra_plan(dims2(env.shape()), dims3(bra.shape()))?;
    let dest = Destination::from_arg(out, &plan.dims)?;
    let (env, bra) = (env.c_order_values(), bra.c_order_values());
    output(py, plan.dims, dest, plan.macs, |out| {
        (plan.kernel)([&env, &bra], out)
    })
}

#[inline(always)]
fn tmp_ket_plan(tmp: [usize; 3], ket: [usize; 3]) -> PyResult<Plan<Ix2, impl Kernel<2>>> {
    tt::check_tmp_ket(tmp, ket).map_err(value_error)?;
    let site = Site::from_shape(&ket);
    let chi_bra_right = tmp[2];
    Ok(Plan {
        dims: Ix2(chi_bra_right, site.right),
        macs: macs(&[site.len(), chi_bra_right]),
        kernel: move |[tmp, ket]: [&[C64]; 2], out: &mut [C64]| {
            tt::tmp_ket_into(chi_bra_right, site, tmp, ket, out);
            Ok(())
        },
    })
}

/// `new = einsum("bsc,bse->ce", tmp, ket)`: tmp `[chi_ket, d, chi_bra']`, ket
/// `[chi_ket, d, chi_ket']` -> `[chi_bra', chi_ket']`.
#[pyfunction]
#[pyo3(signature = (tmp, ket, out=None))]
fn tt_tmp_ket<'py>(
    py: Python<'py>,
    tmp: &Bound<'py, PyAny>,
    ket: &Bound<'py, PyAny>,
    out: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyArray2<C64>>> {
    // SAFETY (in_place): small_call reads these before it runs any Python code.
    if let (Some(t), Some(k)) = unsafe {
        let reader = InPlaceReader::new(py);
        (in_place(reader, tmp), in_place(reader, ket))
    } {
        let plan = tmp_ket_plan(t.shape, k.shape)?;
        let dest = Destination::from_arg(out, &plan.dims)?;
        let inputs = [t.values, k.values];
        if let Some(result) = small_call(py, plan.dims, dest, plan.macs, inputs, plan.kernel) {
            return result;
        }
    }
    let tmp = checked::<Ix3>(tmp, "tmp")?;
    let ket = checked::<Ix3>(ket, "ket")?;
    // Shapes from the taken arrays: taking may run Python code (a NumPy copy).
    let (tmp, ket) = (take(tmp, "tmp")?, take(ket, "ket")?);
    let plan = tmp_ket_plan(dims3(tmp.shape()), dims3(ket.shape()))?;
    let dest = Destination::from_arg(out, &plan.dims)?;
    let (tmp, ket) = (tmp.c_order_values(), ket.c_order_values());
    output(py, plan.dims, dest, plan.macs, |out| {
        (plan.kernel)([&tmp, &ket], out)
    })
}

#[inline(always)]
fn site_update_plan(
    env: [usize; 2],
    bra: [usize; 3],
    ket: [usize; 3],
) -> PyResult<Plan<Ix2, impl Kernel<3>>> {
    tt::check_site_update(env, bra, ket).map_err(value_error)?;
    let (bra_site, ket_site) = (Site::from_shape(&bra), Site::from_shape(&ket));
    Ok(Plan {
        dims: Ix2(bra_site.right, ket_site.right),
        macs: macs(&[bra_site.len(), ket_site.left])
            .saturating_add(macs(&[ket_site.len(), bra_site.right])),
        kernel: move |[env, bra, ket]: [&[C64]; 3], out: &mut [C64]| {
            tt::site_update_into(bra_site, ket_site, env, bra, ket, out)
        },
    })
}

/// One site of `<bra|ket>`: `tt_tmp_ket(tt_env_bra(env, bra), ket)`; env
/// `[chi_bra, chi_ket]`, bra `[chi_bra, d, chi_bra']`, ket `[chi_ket, d, chi_ket']` ->
/// the new environment `[chi_bra', chi_ket']`.
#[pyfunction]
#[pyo3(signature = (env, bra, ket, out=None))]
fn tt_site_update<'py>(
    py: Python<'py>,
    env: &Bound<'py, PyAny>,
    bra: &Bound<'py, PyAny>,
    ket: &Bound<'py, PyAny>,
    out: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyArray2<C64>>> {
    // SAFETY (in_place): small_call reads these before it runs any Python code.
    let tiny = unsafe {
        let reader = InPlaceReader::new(py);
        (
            in_place(reader, env),
            in_place(reader, bra),
            in_place(reader, ket),
        )
    };
    if let (Some(e), Some(b), Some(k)) = tiny {
        let plan = site_update_plan(e.shape, b.shape, k.shape)?;
        let dest = Destination::from_arg(out, &plan.dims)?;
        let inputs = [e.values, b.values, k.values];
        if let Some(result) = small_call(py, plan.dims, dest, plan.macs, inputs, plan.kernel) {
            return result;
        }
    }
    let env = checked::<Ix2>(env, "env")?;
    let bra = checked::<Ix3>(bra, "bra")?;
    let ket = checked::<Ix3>(ket, "ket")?;
    // Shapes from the taken arrays: taking may run Python code (a NumPy copy).
    let (env, bra, ket) = (take(env, "env")?, take(bra, "bra")?, take(ket, "ket")?);
    let plan = site_update_plan(dims2(env.shape()), dims3(bra.shape()), dims3(ket.shape()))?;
    let dest = Destination::from_arg(out, &plan.dims)?;
    let (env, bra, ket) = (
        env.c_order_values(),
        bra.c_order_values(),
        ket.c_order_values(),
    );
    output(py, plan.dims, dest, plan.macs, |out| {
        (plan.kernel)([&env, &bra, &ket], out)
    })
}

/// Every element of a list (or tuple) of site tensors, checked as 3-D complex128 arrays.
fn site_arrays<'py>(
    items: &Bound<'py, PyAny>,
    name: &str,
) -> PyResult<Vec<Bound<'py, PyArray3<C64>>>> {
    let sequence = items.cast::<PySequence>().map_err(|_| {
        PyTypeError::new_err(format!(
            "{name} must be a list or tuple of 3-D numpy.ndarray of {DTYPE}, got {}",
            type_name(items)
        ))
    })?;
    let len = sequence.len()?;
    let mut arrays = Vec::with_capacity(len);
    for index in 0..len {
        let item = sequence.get_item(index)?;
        // The element's name is formatted only when something is wrong with it.
        if checked::<Ix3>(&item, name).is_err() {
            checked::<Ix3>(&item, &format!("{name}[{index}]"))?;
        }
        // SAFETY: checked just above to be a 3-D complex128 array.
        arrays.push(unsafe { item.cast_into_unchecked::<PyArray3<C64>>() });
    }
    Ok(arrays)
}

fn shapes(arrays: &[Bound<'_, PyArray3<C64>>]) -> Vec<Site> {
    arrays.iter().map(|a| Site::from_shape(a.shape())).collect()
}

fn chain_macs(bras: &[Site], kets: &[Site]) -> usize {
    bras.iter()
        .zip(kets)
        .map(|(b, k)| macs(&[b.len(), k.left]).saturating_add(macs(&[k.len(), b.right])))
        .fold(0usize, usize::saturating_add)
}

/// The sites with their values read [`in_place`], or `None` if one cannot be (or no
/// longer has the checked shape).
///
/// # Safety
/// As for [`InPlaceReader::read`], for as long as the returned slices are alive.
unsafe fn sites_in_place<'a>(
    py: Python<'_>,
    sites: &[Site],
    arrays: &'a [Bound<'_, PyArray3<C64>>],
) -> Option<Vec<(Site, &'a [C64])>> {
    let reader = InPlaceReader::new(py);
    sites
        .iter()
        .zip(arrays)
        .map(|(&site, array)| {
            // SAFETY: the caller upholds InPlaceReader::read's contract.
            let read = unsafe { in_place::<3>(reader, array.as_any()) }?;
            (Site::from_shape(&read.shape) == site).then_some((site, read.values))
        })
        .collect()
}

/// `<bra|ket>` of two lists of site tensors `[chi_left, d, chi_right]` (complex128): the
/// environment starts as `[[1]]`, every site applies `tt_site_update`, the 1 x 1 result is
/// returned. Boundary bonds must be 1, consecutive bonds must agree, bra and ket must
/// have the same number of sites and the same `d` at each.
#[pyfunction]
fn tt_inner<'py>(
    py: Python<'py>,
    bras: &Bound<'py, PyAny>,
    kets: &Bound<'py, PyAny>,
) -> PyResult<C64> {
    // Every call that can run Python code (reading the lists) happens here, first.
    let bra_arrays = site_arrays(bras, "bras")?;
    let ket_arrays = site_arrays(kets, "kets")?;
    let (bra_sites, ket_sites) = (shapes(&bra_arrays), shapes(&ket_arrays));
    tt::check_chain(&bra_sites, &ket_sites).map_err(value_error)?;
    let small = chain_macs(&bra_sites, &ket_sites) < GIL_RELEASE_MIN_MACS;
    if small {
        // SAFETY (InPlaceReader::read): the slices are read only by inner_checked, with
        // the GIL held and no Python code run between here and its return.
        let in_place = unsafe {
            (
                sites_in_place(py, &bra_sites, &bra_arrays),
                sites_in_place(py, &ket_sites, &ket_arrays),
            )
        };
        if let (Some(bras), Some(kets)) = in_place {
            return tt::inner_checked(&bras, &kets).map_err(memory_error);
        }
    }
    let bra_operands = take_all(&bra_arrays, "bras")?;
    let ket_operands = take_all(&ket_arrays, "kets")?;
    // Checked again on the taken arrays: taking may run Python code (a NumPy copy).
    let (bra_sites, ket_sites) = (operand_sites(&bra_operands), operand_sites(&ket_operands));
    tt::check_chain(&bra_sites, &ket_sites).map_err(value_error)?;
    let bra_data = all_values(&bra_operands);
    let ket_data = all_values(&ket_operands);
    let bras: Vec<(Site, &[C64])> = bra_sites
        .iter()
        .copied()
        .zip(bra_data.iter().map(|d| &**d))
        .collect();
    let kets: Vec<(Site, &[C64])> = ket_sites
        .iter()
        .copied()
        .zip(ket_data.iter().map(|d| &**d))
        .collect();
    if small {
        tt::inner_checked(&bras, &kets)
    } else {
        py.detach(|| tt::inner_checked(&bras, &kets))
    }
    .map_err(memory_error)
}

fn take_all<'py>(
    arrays: &[Bound<'py, PyArray3<C64>>],
    name: &str,
) -> PyResult<Vec<ArrayArg<'py, C64, Ix3>>> {
    arrays.iter().map(|a| take(a, name)).collect()
}

fn operand_sites(operands: &[ArrayArg<'_, C64, Ix3>]) -> Vec<Site> {
    operands
        .iter()
        .map(|a| Site::from_shape(a.shape()))
        .collect()
}

fn all_values<'a>(arrays: &'a [ArrayArg<'_, C64, Ix3>]) -> Vec<Cow<'a, [C64]>> {
    arrays.iter().map(ArrayArg::c_order_values).collect()
}

fn owned<D: Dimension>(array: &ArrayArg<'_, C64, D>) -> PyResult<Vec<C64>> {
    Ok(array.c_order_values().into_owned())
}

fn operand<'a, 'py>(operands: &'a [Bound<'py, PyAny>], index: usize) -> &'a Bound<'py, PyAny> {
    &operands[index]
}

/// The largest output `bench_tt` times (16 MiB of complex128; the study's largest is
/// 64 x 64).
const BENCH_OUTPUT_MAX_ELEMENTS: usize = 1 << 20;

/// Validate and copy the operands of one timed case.
fn bench_operands(case: &str, operands: &[Bound<'_, PyAny>]) -> PyResult<Operands> {
    let expected = match case {
        "first_site" | "env_bra" | "tmp_ket" | "chain" => 2,
        "site_update" => 3,
        _ => {
            return Err(PyValueError::new_err(format!(
                "case must be one of 'first_site', 'env_bra', 'tmp_ket', 'site_update', 'chain', \
                 got {case:?}"
            )))
        }
    };
    if operands.len() != expected {
        return Err(PyValueError::new_err(format!(
            "case {case:?} takes {expected} operands, got {}",
            operands.len()
        )));
    }
    let op = |i| operand(operands, i);
    Ok(match case {
        "first_site" => {
            let bra = complex_array::<Ix2>(op(0), "bra_first")?;
            let ket = complex_array::<Ix2>(op(1), "ket_first")?;
            tt::check_first_site(dims2(bra.shape()), dims2(ket.shape())).map_err(value_error)?;
            Operands::FirstSite {
                d: bra.shape()[0],
                chi_bra: bra.shape()[1],
                chi_ket: ket.shape()[1],
                bra: owned(&bra)?,
                ket: owned(&ket)?,
            }
        }
        "env_bra" => {
            let env = complex_array::<Ix2>(op(0), "env")?;
            let bra = complex_array::<Ix3>(op(1), "bra")?;
            tt::check_env_bra(dims2(env.shape()), dims3(bra.shape())).map_err(value_error)?;
            Operands::EnvBra {
                chi_ket: env.shape()[1],
                bra_site: Site::from_shape(bra.shape()),
                env: owned(&env)?,
                bra: owned(&bra)?,
            }
        }
        "tmp_ket" => {
            let tmp = complex_array::<Ix3>(op(0), "tmp")?;
            let ket = complex_array::<Ix3>(op(1), "ket")?;
            tt::check_tmp_ket(dims3(tmp.shape()), dims3(ket.shape())).map_err(value_error)?;
            Operands::TmpKet {
                chi_bra_right: tmp.shape()[2],
                ket_site: Site::from_shape(ket.shape()),
                tmp: owned(&tmp)?,
                ket: owned(&ket)?,
            }
        }
        "site_update" => {
            let env = complex_array::<Ix2>(op(0), "env")?;
            let bra = complex_array::<Ix3>(op(1), "bra")?;
            let ket = complex_array::<Ix3>(op(2), "ket")?;
            tt::check_site_update(dims2(env.shape()), dims3(bra.shape()), dims3(ket.shape()))
                .map_err(value_error)?;
            Operands::SiteUpdate {
                bra_site: Site::from_shape(bra.shape()),
                ket_site: Site::from_shape(ket.shape()),
                env: owned(&env)?,
                bra: owned(&bra)?,
                ket: owned(&ket)?,
            }
        }
        _ => {
            let bras = site_arrays(op(0), "bras")?;
            let kets = site_arrays(op(1), "kets")?;
            let (bra_sites, ket_sites) = (shapes(&bras), shapes(&kets));
            tt::check_chain(&bra_sites, &ket_sites).map_err(value_error)?;
            let copy = |sites: Vec<Site>, arrays: &[Bound<'_, PyArray3<C64>>], name| {
                sites
                    .into_iter()
                    .zip(arrays)
                    .map(|(s, a)| Ok((s, owned(&take(a, name)?)?)))
                    .collect::<PyResult<Vec<_>>>()
            };
            Operands::Chain {
                bras: copy(bra_sites, &bras, "bras")?,
                kets: copy(ket_sites, &kets, "kets")?,
            }
        }
    })
}

/// Time one contraction inside Rust on copies of the given arrays: returns (per-call
/// seconds, calls per sample). Element 0 is the first call alone; each later element is
/// the mean of a batch of `calls_per_sample` back-to-back calls (the smallest power of
/// two whose batch lasts at least `min_sample_seconds`). `case` is first_site
/// (bra_first, ket_first), env_bra (env, bra), tmp_ket (tmp, ket), site_update
/// (env, bra, ket) or chain (bras, kets).
#[pyfunction]
#[pyo3(signature = (case, operands, n_samples, min_sample_seconds))]
fn bench_tt(
    py: Python<'_>,
    case: &str,
    operands: Vec<Bound<'_, PyAny>>,
    n_samples: i64,
    min_sample_seconds: f64,
) -> PyResult<(Vec<f64>, usize)> {
    let n_samples = repetitions(n_samples, "n_samples")?;
    if !(min_sample_seconds.is_finite() && (0.0..=10.0).contains(&min_sample_seconds)) {
        return Err(PyValueError::new_err(format!(
            "min_sample_seconds must be between 0 and 10, got {min_sample_seconds}"
        )));
    }
    let operands = bench_operands(case, &operands)?;
    // Inputs with a zero dimension can have a huge output; every timed call allocates it
    // with an infallible `Vec`, so an impossible size must be refused here.
    match operands.output_len() {
        Some(len) if len <= BENCH_OUTPUT_MAX_ELEMENTS => {}
        len => {
            return Err(PyValueError::new_err(format!(
                "bench_tt times outputs of at most {BENCH_OUTPUT_MAX_ELEMENTS} elements; \
                 these operands give {}",
                len.map_or("more than usize::MAX".to_string(), |n| n.to_string())
            )))
        }
    }
    let timed = py
        .detach(|| tt_bench::time_contraction(&operands, n_samples, min_sample_seconds))
        .map_err(memory_error)?;
    Ok((timed.seconds, timed.calls_per_sample))
}

/// How the TT kernels run on this machine: the tiled code path (instruction set), every
/// available path, and the size thresholds.
#[pyfunction]
fn tt_kernel_info(py: Python<'_>) -> PyResult<Bound<'_, PyDict>> {
    let info = PyDict::new(py);
    info.set_item("tiled_path", tt::Path::best_tiled().name())?;
    let paths: Vec<&str> = tt::Path::available()
        .into_iter()
        .map(|p| p.name())
        .collect();
    info.set_item("available_paths", paths)?;
    info.set_item("direct_loop_max_macs", tt::SMALL_MACS)?;
    info.set_item("gil_release_min_macs", GIL_RELEASE_MIN_MACS)?;
    info.set_item("max_calls_per_sample", tt_bench::MAX_CALLS_PER_SAMPLE)?;
    info.set_item("threads", "calling thread only (no thread pool)")?;
    Ok(info)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(tt_first_site, m)?)?;
    m.add_function(wrap_pyfunction!(tt_env_bra, m)?)?;
    m.add_function(wrap_pyfunction!(tt_tmp_ket, m)?)?;
    m.add_function(wrap_pyfunction!(tt_site_update, m)?)?;
    m.add_function(wrap_pyfunction!(tt_inner, m)?)?;
    m.add_function(wrap_pyfunction!(bench_tt, m)?)?;
    m.add_function(wrap_pyfunction!(tt_kernel_info, m)?)?;
    Ok(())
}
