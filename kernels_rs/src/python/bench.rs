//! Bindings of the inside-Rust timers ("Rust" in the paper's figures).

use pyo3::exceptions::{PyMemoryError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use super::args::{count, repetitions, Int, UInt};
use crate::bench::{self, Form, Layout, Trial};

fn memory_error(e: bench::OperandsTooLarge) -> PyErr {
    PyMemoryError::new_err(e.to_string())
}

fn parse_form(form: &str) -> PyResult<Form> {
    Form::parse(form).ok_or_else(|| {
        PyValueError::new_err(format!("form must be 'loop' or 'tuned', got {form:?}"))
    })
}

/// Seconds of `n_trials + 1` dot products timed in Rust on data generated in Rust;
/// element 0 is the first call.
#[pyfunction]
#[pyo3(signature = (form, n, n_trials, seed))]
fn bench_dot(py: Python<'_>, form: &str, n: Int, n_trials: Int, seed: UInt) -> PyResult<Vec<f64>> {
    let UInt(seed) = seed;
    let form = parse_form(form)?;
    let n = count(n, "n", 0)?;
    let n_trials = repetitions(n_trials, "n_trials")?;
    py.detach(|| bench::time_dot(form, n, n_trials, seed))
        .map_err(memory_error)
}

fn parse_layout(layout: &str) -> PyResult<Layout> {
    Layout::parse(layout)
        .ok_or_else(|| PyValueError::new_err(format!("layout must be 'C' or 'F', got {layout:?}")))
}

/// The checked arguments of the matvec timers, then the trials.
fn matvec_trials(
    py: Python<'_>,
    form: &str,
    n1: Int,
    n2: Int,
    n_trials: Int,
    seed: UInt,
    layout: &str,
) -> PyResult<Vec<Trial>> {
    let UInt(seed) = seed;
    let form = parse_form(form)?;
    let layout = parse_layout(layout)?;
    let (n1, n2) = (count(n1, "n1", 0)?, count(n2, "n2", 0)?);
    let n_trials = repetitions(n_trials, "n_trials")?;
    n1.checked_mul(n2)
        .ok_or_else(|| PyValueError::new_err(format!("n1 * n2 overflows: {n1} x {n2}")))?;
    py.detach(|| bench::time_matvec(form, layout, n1, n2, n_trials, seed))
        .map_err(memory_error)
}

/// Seconds of `n_trials + 1` matrix-vector products (matrix in `layout`, "C" or "F")
/// timed in Rust; element 0 is the first call.
#[pyfunction]
#[pyo3(signature = (form, n1, n2, n_trials, seed, layout = "C"))]
fn bench_matvec(
    py: Python<'_>,
    form: &str,
    n1: Int,
    n2: Int,
    n_trials: Int,
    seed: UInt,
    layout: &str,
) -> PyResult<Vec<f64>> {
    let trials = matvec_trials(py, form, n1, n2, n_trials, seed, layout)?;
    Ok(trials.iter().map(|t| t.seconds).collect())
}

/// As [`bench_matvec`], with the minor page faults of each timed call:
/// `{"seconds": [...], "minor_faults": [...]}` (faults None where they cannot be read).
#[pyfunction]
#[pyo3(signature = (form, n1, n2, n_trials, seed, layout = "C"))]
fn bench_matvec_faults<'py>(
    py: Python<'py>,
    form: &str,
    n1: Int,
    n2: Int,
    n_trials: Int,
    seed: UInt,
    layout: &str,
) -> PyResult<Bound<'py, PyDict>> {
    let trials = matvec_trials(py, form, n1, n2, n_trials, seed, layout)?;
    let out = PyDict::new(py);
    out.set_item(
        "seconds",
        trials.iter().map(|t| t.seconds).collect::<Vec<_>>(),
    )?;
    out.set_item(
        "minor_faults",
        trials.iter().map(|t| t.minor_faults).collect::<Vec<_>>(),
    )?;
    Ok(out)
}

/// The process's minor page faults so far (None where they cannot be read).
#[pyfunction]
fn minor_page_faults() -> Option<u64> {
    bench::minor_faults()
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(bench_dot, m)?)?;
    m.add_function(wrap_pyfunction!(bench_matvec, m)?)?;
    m.add_function(wrap_pyfunction!(bench_matvec_faults, m)?)?;
    m.add_function(wrap_pyfunction!(minor_page_faults, m)?)?;
    Ok(())
}
