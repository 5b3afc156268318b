//! `kernels_rs.SparseLayout`: a COO tensor copied once into the fiber layout of
//! crate::sparse::fibers, for repeated MTTKRPs (CP-ALS). Frozen: it never changes
//! after construction, so the kernels read it with the GIL released and no borrow flag.

use ndarray::ArrayView2;
use numpy::IntoPyArray;
use pyo3::prelude::*;
use pyo3::types::PyTuple;

use super::args::threads_arg;
use super::args::Int;
use super::mttkrp::{c_order, factor_args, mode_arg, subs_arg, to_py_err, SubsArg, SubsData};
use super::sparse::{shape_arg, vals_arg, vals_view};
use super::validate::{copy_error, GIL_RELEASE_MIN_WORK};
use crate::alloc::try_to_owned;
use crate::sparse::factors::FactorsError;
use crate::sparse::fibers::AnyLayout;

/// A sparse tensor in fiber layout (a copy of subs and vals), with `.mttkrp`.
#[pyclass(frozen, module = "kernels_rs", name = "SparseLayout")]
pub struct SparseLayout {
    layout: AnyLayout,
}

#[pymethods]
impl SparseLayout {
    /// Copy the COO tensor (`subs`, `vals`, `shape`), order >= 2, into fiber layout.
    #[new]
    fn new(
        py: Python<'_>,
        subs: &Bound<'_, PyAny>,
        vals: &Bound<'_, PyAny>,
        shape: &Bound<'_, PyAny>,
    ) -> PyResult<Self> {
        let subs = subs_arg(subs)?;
        let vals = vals_arg(vals)?;
        let shape = shape_arg(shape)?;
        if shape.len() < 2 {
            return Err(to_py_err(FactorsError::OrderBelowTwo {
                order: shape.len(),
            }));
        }
        let vals = vals_view(&vals)?;
        let vals = match vals.as_slice() {
            Some(_) => ndarray::CowArray::from(vals),
            None => ndarray::CowArray::from(try_to_owned(vals).map_err(|e| copy_error("vals", e))?),
        };
        let vals = vals.as_slice().expect("contiguous");
        let nnz = vals.len();
        let work = nnz.saturating_mul(shape.len());
        // The views borrow NumPy memory that the read-only borrows keep alive and
        // un-writable from Rust for the whole build (as in crate::python::mttkrp).
        let build = |run: &(dyn Fn() -> Result<AnyLayout, FactorsError> + Sync)| {
            if work >= GIL_RELEASE_MIN_WORK {
                py.detach(run)
            } else {
                run()
            }
        };
        let layout = match &subs {
            SubsArg::Wide(array) => {
                let data = SubsData::new(array.as_array(), nnz)?;
                build(&|| AnyLayout::build(data.subs(), vals, &shape))
            }
            SubsArg::Narrow(array) => {
                let data = SubsData::new(array.as_array(), nnz)?;
                build(&|| AnyLayout::build(data.subs(), vals, &shape))
            }
        }
        .map_err(to_py_err)?;
        Ok(SparseLayout { layout })
    }

    /// The tensor's shape.
    #[getter]
    fn shape<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        PyTuple::new(py, self.layout.shape())
    }

    /// The number of stored nonzeros (duplicates counted, as given).
    #[getter]
    fn nnz(&self) -> usize {
        self.layout.nnz()
    }

    /// Bits of the stored subscripts and pointers: 32 when every dimension and nnz fit.
    #[getter]
    fn index_bits(&self) -> usize {
        self.layout.index_bits()
    }

    /// The mode-`mode` MTTKRP with `factors`: a C-order `shape[mode]` x R float64 array.
    #[pyo3(signature = (factors, mode, *, threads = None))]
    fn mttkrp<'py>(
        &self,
        py: Python<'py>,
        factors: &Bound<'py, PyAny>,
        mode: Int,
        threads: Option<Int>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let shape = self.layout.shape();
        let mode = mode_arg(mode.0, shape.len())?;
        let threads = threads_arg(threads)?;
        let factors = factor_args(factors, Some(mode))?;
        let views = c_order(&factors)?;
        let views: Vec<ArrayView2<f64>> = views.iter().map(|f| f.view()).collect();
        let rank = views
            .iter()
            .enumerate()
            .find(|&(m, _)| m != mode)
            .map_or(0, |(_, f)| f.ncols());
        let layout = &self.layout;
        let run = || match layout {
            AnyLayout::Narrow(l) => l.mttkrp(&views, mode, threads),
            AnyLayout::Wide(l) => l.mttkrp(&views, mode, threads),
        };
        // The factor views borrow NumPy memory kept alive and un-writable from Rust by
        // the read-only borrows in `factors`; the layout is frozen (immutable).
        let out = if layout.nnz().saturating_mul(rank) >= GIL_RELEASE_MIN_WORK {
            py.detach(run)
        } else {
            run()
        }
        .map_err(to_py_err)?;
        Ok(out.into_pyarray(py).into_any())
    }

    fn __repr__(&self) -> String {
        format!(
            "SparseLayout(shape={:?}, nnz={}, index_bits={})",
            self.layout.shape(),
            self.layout.nnz(),
            self.layout.index_bits()
        )
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<SparseLayout>()
}
