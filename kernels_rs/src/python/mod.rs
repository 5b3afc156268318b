//! The PyO3 layer: thin wrappers that borrow NumPy arrays, validate them with clear
//! Python exceptions, release the GIL for long work and call the pure-Rust kernels.

mod args;
mod bench;
mod dense;
mod layout;
// The STREAM-style bandwidth probes (issue 11).
mod memory;
mod mttkrp;
mod overhead;
mod raw;
mod sparse;
mod tt;
pub(crate) mod validate;

use pyo3::prelude::*;
use pyo3::types::PyDict;

/// How this extension was built: profile, optimisation level, compiler and crate versions.
#[pyfunction]
fn build_info(py: Python<'_>) -> PyResult<Bound<'_, PyDict>> {
    let info = PyDict::new(py);
    info.set_item("is_release", crate::IS_RELEASE_BUILD)?;
    info.set_item("cargo_profile", env!("KERNELS_RS_PROFILE"))?;
    info.set_item("opt_level", env!("KERNELS_RS_OPT_LEVEL"))?;
    info.set_item("target", env!("KERNELS_RS_TARGET"))?;
    info.set_item(
        "target_features",
        env!("KERNELS_RS_CARGO_CFG_TARGET_FEATURE"),
    )?;
    info.set_item("rustc", env!("KERNELS_RS_RUSTC_VERSION"))?;
    info.set_item("pyo3", env!("KERNELS_RS_PYO3_VERSION"))?;
    info.set_item("rust_numpy", env!("KERNELS_RS_NUMPY_VERSION"))?;
    info.set_item("ndarray", env!("KERNELS_RS_NDARRAY_VERSION"))?;
    info.set_item("rand", env!("KERNELS_RS_RAND_VERSION"))?;
    info.set_item("rand_distr", env!("KERNELS_RS_RAND_DISTR_VERSION"))?;
    info.set_item("version", env!("CARGO_PKG_VERSION"))?;
    Ok(info)
}

// gil_used = true: on a free-threaded Python the module keeps the GIL enabled. The
// bindings' soundness arguments (reading small arrays in place, writing `out`) rely on
// no Python code running while they hold the GIL.
// The compiled module is `kernels_rs._kernels_rs`; the package `kernels_rs`
// (python/kernels_rs/__init__.py) re-exports it beside the pure-Python drop-in for pyttb.
#[pymodule(gil_used = true, name = "_kernels_rs")]
fn kernels_rs(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("IS_RELEASE_BUILD", crate::IS_RELEASE_BUILD)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_function(wrap_pyfunction!(build_info, m)?)?;
    dense::register(m)?;
    bench::register(m)?;
    sparse::register(m)?;
    tt::register(m)?;
    overhead::register(m)?;
    mttkrp::register(m)?;
    layout::register(m)?;
    memory::register(m)?;
    Ok(())
}
