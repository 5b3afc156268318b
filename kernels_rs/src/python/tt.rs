//! Bindings of the tensor-train contractions (`crate::tt`); their in-Rust timer
//! `bench_tt` is in `tt/bench.rs`, the ways a result reaches Python in `tt/output.rs`.
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

mod bench;
mod output;

use std::borrow::Cow;

use ndarray::{Dimension, Ix2, Ix3};
use numpy::{PyArray, PyArray2, PyArray3, PyUntypedArrayMethods};
use pyo3::exceptions::{PyMemoryError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use super::args::{room_for_items, sequence_arg, Sequences};
use super::raw::InPlaceReader;
use super::validate::{take_array, typed, ArrayArg, GIL_RELEASE_MIN_WORK};
use crate::tt::{self, dims2, dims3, Site, C64};
use output::{in_place, output, small_call, Destination};

const DTYPE: &str = "complex128";

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
fn memory_error(e: tt::ScratchError) -> PyErr {
    PyMemoryError::new_err(e.to_string())
}
/// Whether some operand has no elements. Then every sum of the contraction is empty, so
/// the result is all zeros (or empty) and no operand needs reading: none is copied, and
/// a broadcast operand of 2^40 elements beside an empty one is no MemoryError.
fn some_empty(shapes: &[&[usize]]) -> bool {
    shapes.iter().any(|shape| shape.contains(&0))
}

/// The all-zero result of a contraction with an empty operand (see [`some_empty`]).
fn zero_result<'py, D: Dimension>(
    py: Python<'py>,
    dims: D,
    dest: Destination<'_, 'py, D>,
) -> PyResult<Bound<'py, PyArray<C64, D>>> {
    output(py, dims, dest, 0, &[], |out| {
        out.fill(C64::new(0.0, 0.0));
        Ok(())
    })
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
    if some_empty(&[bra.shape(), ket.shape()]) {
        return zero_result(py, plan.dims, dest);
    }
    let (bra, ket) = (
        bra.c_order_values("bra_first")?,
        ket.c_order_values("ket_first")?,
    );
    output(py, plan.dims, dest, plan.macs, &[&bra, &ket], |out| {
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
    if some_empty(&[env.shape(), bra.shape()]) {
        return zero_result(py, plan.dims, dest);
    }
    let (env, bra) = (env.c_order_values("env")?, bra.c_order_values("bra")?);
    output(py, plan.dims, dest, plan.macs, &[&env, &bra], |out| {
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
    if some_empty(&[tmp.shape(), ket.shape()]) {
        return zero_result(py, plan.dims, dest);
    }
    let (tmp, ket) = (tmp.c_order_values("tmp")?, ket.c_order_values("ket")?);
    output(py, plan.dims, dest, plan.macs, &[&tmp, &ket], |out| {
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
    if some_empty(&[env.shape(), bra.shape(), ket.shape()]) {
        return zero_result(py, plan.dims, dest);
    }
    let (env, bra, ket) = (
        env.c_order_values("env")?,
        bra.c_order_values("bra")?,
        ket.c_order_values("ket")?,
    );
    output(py, plan.dims, dest, plan.macs, &[&env, &bra, &ket], |out| {
        (plan.kernel)([&env, &bra, &ket], out)
    })
}

/// Every element of a list (or tuple) of site tensors, checked as 3-D complex128 arrays.
fn site_arrays<'py>(
    items: &Bound<'py, PyAny>,
    name: &str,
) -> PyResult<Vec<Bound<'py, PyArray3<C64>>>> {
    let expected = format!("a list or tuple of 3-D numpy.ndarray of {DTYPE}");
    let (sequence, len) = sequence_arg(items, name, &expected, Sequences::Abc)?;
    let mut arrays = room_for_items(len, name)?;
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
    if bra_sites.iter().chain(&ket_sites).any(Site::is_empty) {
        // The sum over configurations is empty (see `some_empty`): nothing to read.
        return Ok(C64::new(0.0, 0.0));
    }
    let small = chain_macs(&bra_sites, &ket_sites) < GIL_RELEASE_MIN_WORK;
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
    let bra_data = all_values(&bra_operands, "bras")?;
    let ket_data = all_values(&ket_operands, "kets")?;
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

fn all_values<'a>(
    arrays: &'a [ArrayArg<'_, C64, Ix3>],
    name: &str,
) -> PyResult<Vec<Cow<'a, [C64]>>> {
    arrays.iter().map(|a| a.c_order_values(name)).collect()
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
    info.set_item("gil_release_min_macs", GIL_RELEASE_MIN_WORK)?;
    info.set_item("max_calls_per_sample", tt::bench::MAX_CALLS_PER_SAMPLE)?;
    info.set_item("threads", "calling thread only (no thread pool)")?;
    Ok(info)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(tt_first_site, m)?)?;
    m.add_function(wrap_pyfunction!(tt_env_bra, m)?)?;
    m.add_function(wrap_pyfunction!(tt_tmp_ket, m)?)?;
    m.add_function(wrap_pyfunction!(tt_site_update, m)?)?;
    m.add_function(wrap_pyfunction!(tt_inner, m)?)?;
    m.add_function(wrap_pyfunction!(bench::bench_tt, m)?)?;
    m.add_function(wrap_pyfunction!(tt_kernel_info, m)?)?;
    Ok(())
}
