//! Bindings of the inside-Rust timers ("Rust" in the paper's figures).

use pyo3::exceptions::{PyMemoryError, PyValueError};
use pyo3::prelude::*;

use super::args::{count, repetitions, Int, UInt};
use crate::bench::{self, Form};

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

/// Seconds of `n_trials + 1` C-order matrix-vector products timed in Rust; element 0
/// is the first call.
#[pyfunction]
#[pyo3(signature = (form, n1, n2, n_trials, seed))]
fn bench_matvec(
    py: Python<'_>,
    form: &str,
    n1: Int,
    n2: Int,
    n_trials: Int,
    seed: UInt,
) -> PyResult<Vec<f64>> {
    let UInt(seed) = seed;
    let form = parse_form(form)?;
    let (n1, n2) = (count(n1, "n1", 0)?, count(n2, "n2", 0)?);
    let n_trials = repetitions(n_trials, "n_trials")?;
    n1.checked_mul(n2)
        .ok_or_else(|| PyValueError::new_err(format!("n1 * n2 overflows: {n1} x {n2}")))?;
    py.detach(|| bench::time_matvec(form, n1, n2, n_trials, seed))
        .map_err(memory_error)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(bench_dot, m)?)?;
    m.add_function(wrap_pyfunction!(bench_matvec, m)?)?;
    Ok(())
}
