//! Bindings of the kernels that combine a COO tensor with factor matrices:
//! `mttkrp` (crate::sparse::mttkrp) and `innerprod_ktensor` (crate::sparse::innerprod).
//!
//! Subscripts are read in place when C- or F-contiguous (pyttb keeps either), as int64
//! or int32; factor matrices are read in C order (a copy for other layouts: they are
//! small next to the nonzeros, and the kernels read their rows).

use ndarray::{Array2, ArrayView2, CowArray, Ix1, Ix2};
use numpy::{
    IntoPyArray, PyArrayDescrMethods, PyReadonlyArray2, PyUntypedArray, PyUntypedArrayMethods,
};
use pyo3::exceptions::{PyMemoryError, PyRuntimeError, PyTypeError, PyValueError};
use pyo3::prelude::*;

use super::args::{room_for_items, sequence_arg, threads_arg, Int, Sequences};
use super::sparse::{shape_arg, vals_arg, vals_view};
use super::validate::{copy_error, readonly, shape_str, type_name, GIL_RELEASE_MIN_WORK};
use crate::alloc::try_to_owned;
use crate::pool::{self, PoolError};
use crate::sparse::factors::{FactorsError, Index, Subs};
use crate::sparse::mttkrp::Schedule;
use crate::sparse::{innerprod as innerprod_kernel, mttkrp as mttkrp_kernel};

/// `subs` borrowed with the integer width it has.
pub(super) enum SubsArg<'py> {
    Wide(PyReadonlyArray2<'py, i64>),
    Narrow(PyReadonlyArray2<'py, i32>),
}

pub(super) fn subs_arg<'py>(obj: &Bound<'py, PyAny>) -> PyResult<SubsArg<'py>> {
    let array = obj.cast::<PyUntypedArray>().map_err(|_| {
        PyTypeError::new_err(format!(
            "subs must be a numpy.ndarray of int64 or int32, got {}",
            type_name(obj)
        ))
    })?;
    if array.ndim() != 2 {
        return Err(PyValueError::new_err(format!(
            "subs must be 2-D (nnz, order), got an array of shape {}",
            shape_str(array.shape())
        )));
    }
    let dtype = array.dtype();
    let py = obj.py();
    if dtype.is_equiv_to(&numpy::dtype::<i64>(py)) {
        Ok(SubsArg::Wide(readonly::<i64, Ix2>(obj, "subs", "int64")?))
    } else if dtype.is_equiv_to(&numpy::dtype::<i32>(py)) {
        Ok(SubsArg::Narrow(readonly::<i32, Ix2>(obj, "subs", "int32")?))
    } else {
        Err(PyTypeError::new_err(format!(
            "subs must have dtype int64 or int32, got {}",
            dtype
                .str()
                .map(|s| s.to_string())
                .unwrap_or_else(|_| "?".into())
        )))
    }
}

/// `subs` as the kernels read it: in place when C- or F-contiguous, else a C-order copy;
/// any empty `subs` next to empty `vals` is nnz = 0 (pyttb stores an empty tensor's
/// subs as a (1, 0) array).
pub(super) enum SubsData<'a, I> {
    InPlace(Subs<'a, I>),
    Copied(Array2<I>),
}

impl<'a, I: Index + numpy::Element> SubsData<'a, I> {
    /// The subscripts in place, or a C-order copy (a MemoryError naming `subs` when a
    /// broadcast array's copy cannot be allocated).
    pub(super) fn new(view: ArrayView2<'a, I>, nnz: usize) -> PyResult<Self> {
        if view.is_empty() && nnz == 0 {
            return Ok(SubsData::InPlace(Subs::RowMajor {
                data: &[],
                order: view.ncols(),
            }));
        }
        Ok(match Subs::from_view(view) {
            Some(subs) => SubsData::InPlace(subs),
            None => SubsData::Copied(try_to_owned(view).map_err(|e| copy_error("subs", e))?),
        })
    }

    pub(super) fn subs(&self) -> Subs<'_, I> {
        match self {
            SubsData::InPlace(subs) => *subs,
            SubsData::Copied(array) => Subs::from_view(array.view()).expect("C order"),
        }
    }
}

/// Every factor matrix but `skip` borrowed as a 2-D float64 array; `None` at `skip`
/// (whatever object is there is not read).
pub(super) fn factor_args<'py>(
    factors: &Bound<'py, PyAny>,
    skip: Option<usize>,
) -> PyResult<Vec<Option<PyReadonlyArray2<'py, f64>>>> {
    const EXPECTED: &str = "a list or tuple of 2-D numpy.ndarray of float64";
    let (sequence, len) = sequence_arg(factors, "factors", EXPECTED, Sequences::Protocol)?;
    let mut out = room_for_items(len, "factors")?;
    for index in 0..len {
        if Some(index) == skip {
            out.push(None);
            continue;
        }
        let item = sequence.get_item(index)?;
        out.push(Some(readonly::<f64, Ix2>(
            &item,
            &format!("factors[{index}]"),
            "float64",
        )?));
    }
    Ok(out)
}

/// C-order views of the borrowed factors (an empty 0 x 0 view at a skipped mode); a copy
/// that cannot be allocated (a broadcast factor) is a MemoryError naming it.
pub(super) fn c_order<'a>(
    factors: &'a [Option<PyReadonlyArray2<'_, f64>>],
) -> PyResult<Vec<CowArray<'a, f64, Ix2>>> {
    let mut out = room_for_items(factors.len(), "factors")?;
    for (index, factor) in factors.iter().enumerate() {
        out.push(match factor {
            Some(array) => {
                let view = array.as_array();
                if view.is_standard_layout() {
                    CowArray::from(view)
                } else {
                    CowArray::from(
                        try_to_owned(view)
                            .map_err(|e| copy_error(&format!("factors[{index}]"), e))?,
                    )
                }
            }
            None => CowArray::from(Array2::<f64>::zeros((0, 0))),
        });
    }
    Ok(out)
}

pub(super) fn mode_arg(mode: i64, order: usize) -> PyResult<usize> {
    usize::try_from(mode)
        .ok()
        .filter(|&m| m < order)
        .ok_or_else(|| {
            PyValueError::new_err(format!(
                "mode must be in [0, {order}) for a tensor of order {order}, got {mode}"
            ))
        })
}

pub(super) fn to_py_err(err: FactorsError) -> PyErr {
    match err {
        FactorsError::OutOfMemory { .. } => PyMemoryError::new_err(err.to_string()),
        FactorsError::Threads(PoolError::Build(_)) => PyRuntimeError::new_err(err.to_string()),
        _ => PyValueError::new_err(err.to_string()),
    }
}

/// Run `kernel` on the subscripts (whichever width they have), with the GIL released
/// when there is enough work for the release to pay.
fn with_subs<T: Send>(
    py: Python<'_>,
    subs: &SubsArg<'_>,
    nnz: usize,
    work: usize,
    kernel: impl Fn(SubsView<'_>) -> Result<T, FactorsError> + Send + Sync,
) -> PyResult<T> {
    let run = |subs: SubsView<'_>| {
        // The views borrow NumPy memory that the read-only borrows (`subs`, the caller's
        // `vals` and factors) keep alive and un-writable from Rust for the whole call;
        // they are Send because i32, i64 and f64 are Sync.
        if work >= GIL_RELEASE_MIN_WORK {
            py.detach(|| kernel(subs))
        } else {
            kernel(subs)
        }
    };
    match subs {
        SubsArg::Wide(array) => {
            let data = SubsData::new(array.as_array(), nnz)?;
            run(SubsView::Wide(data.subs()))
        }
        SubsArg::Narrow(array) => {
            let data = SubsData::new(array.as_array(), nnz)?;
            run(SubsView::Narrow(data.subs()))
        }
    }
    .map_err(to_py_err)
}

/// The subscripts with their width, for a kernel generic over it.
#[derive(Clone, Copy)]
enum SubsView<'a> {
    Wide(Subs<'a, i64>),
    Narrow(Subs<'a, i32>),
}

/// The mode-`mode` MTTKRP of the COO tensor (`subs`, `vals`, `shape`) with `factors`:
/// a C-order `shape[mode]` x R float64 array, R the factors' column count.
#[pyfunction]
#[pyo3(signature = (subs, vals, shape, factors, mode, *, threads = None, schedule = "auto"))]
#[allow(clippy::too_many_arguments)]
fn mttkrp<'py>(
    py: Python<'py>,
    subs: &Bound<'py, PyAny>,
    vals: &Bound<'py, PyAny>,
    shape: &Bound<'py, PyAny>,
    factors: &Bound<'py, PyAny>,
    mode: Int,
    threads: Option<Int>,
    schedule: &str,
) -> PyResult<Bound<'py, PyAny>> {
    let schedule = Schedule::parse(schedule).ok_or_else(|| {
        PyValueError::new_err(format!(
            "schedule must be 'auto', 'private' or 'rows', got {schedule:?}"
        ))
    })?;
    let subs = subs_arg(subs)?;
    let vals = vals_arg(vals)?;
    let shape = shape_arg(shape)?;
    if shape.len() < 2 {
        return Err(to_py_err(FactorsError::OrderBelowTwo {
            order: shape.len(),
        }));
    }
    let mode = mode_arg(mode.0, shape.len())?;
    let threads = threads_arg(threads)?;
    let factors = factor_args(factors, Some(mode))?;
    let vals = vals_view(&vals)?;
    let views = c_order(&factors)?;
    let views: Vec<ArrayView2<f64>> = views.iter().map(|f| f.view()).collect();
    let rank = views
        .iter()
        .enumerate()
        .find(|&(m, _)| m != mode)
        .map_or(0, |(_, f)| f.ncols());
    let work = vals.len().saturating_mul(rank);
    let out = with_subs(py, &subs, vals.len(), work, |subs| match subs {
        SubsView::Wide(s) => {
            mttkrp_kernel::mttkrp(s, vals, &shape, &views, mode, threads, schedule)
        }
        SubsView::Narrow(s) => {
            mttkrp_kernel::mttkrp(s, vals, &shape, &views, mode, threads, schedule)
        }
    })?;
    Ok(out.into_pyarray(py).into_any())
}

/// The inner product of the COO tensor (`subs`, `vals`, `shape`) with the ktensor
/// (`weights`, `factors`).
#[pyfunction]
#[pyo3(signature = (subs, vals, shape, weights, factors, *, threads = None))]
fn innerprod_ktensor(
    py: Python<'_>,
    subs: &Bound<'_, PyAny>,
    vals: &Bound<'_, PyAny>,
    shape: &Bound<'_, PyAny>,
    weights: &Bound<'_, PyAny>,
    factors: &Bound<'_, PyAny>,
    threads: Option<Int>,
) -> PyResult<f64> {
    let subs = subs_arg(subs)?;
    let vals = vals_arg(vals)?;
    let shape = shape_arg(shape)?;
    let weights = readonly::<f64, Ix1>(weights, "weights", "float64")?;
    let threads = threads_arg(threads)?;
    let factors = factor_args(factors, None)?;
    let vals = vals_view(&vals)?;
    let weights = weights.as_array();
    let views = c_order(&factors)?;
    let views: Vec<ArrayView2<f64>> = views.iter().map(|f| f.view()).collect();
    let work = vals.len().saturating_mul(weights.len());
    with_subs(py, &subs, vals.len(), work, |subs| match subs {
        SubsView::Wide(s) => {
            innerprod_kernel::innerprod_ktensor(s, vals, &shape, weights, &views, threads)
        }
        SubsView::Narrow(s) => {
            innerprod_kernel::innerprod_ktensor(s, vals, &shape, weights, &views, threads)
        }
    })
}

/// Set the number of threads the kernels use when a call gives no `threads=`.
#[pyfunction]
fn set_num_threads(n: Int) -> PyResult<()> {
    pool::set_num_threads(n.0).map_err(|e| PyValueError::new_err(e.to_string()))
}

/// The number of threads the kernels use when a call gives no `threads=`.
#[pyfunction]
fn get_num_threads() -> usize {
    pool::num_threads()
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(mttkrp, m)?)?;
    m.add_function(wrap_pyfunction!(innerprod_ktensor, m)?)?;
    m.add_function(wrap_pyfunction!(set_num_threads, m)?)?;
    m.add_function(wrap_pyfunction!(get_num_threads, m)?)?;
    m.add("MAX_THREADS", pool::MAX_THREADS)?;
    Ok(())
}
