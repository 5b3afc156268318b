//! Bindings of the inside-Rust timers ("Rust" in the paper's figures).

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::bench::{self, Form};

fn parse_form(form: &str) -> PyResult<Form> {
    Form::parse(form).ok_or_else(|| {
        PyValueError::new_err(format!("form must be 'loop' or 'tuned', got {form:?}"))
    })
}

fn check_trials(n_trials: usize) -> PyResult<()> {
    if n_trials == 0 {
        return Err(PyValueError::new_err("n_trials must be at least 1, got 0"));
    }
    Ok(())
}

/// Seconds of `n_trials + 1` dot products timed in Rust on data generated in Rust;
/// element 0 is the first call.
#[pyfunction]
#[pyo3(signature = (form, n, n_trials, seed))]
fn bench_dot(py: Python<'_>, form: &str, n: usize, n_trials: usize, seed: u64) -> PyResult<Vec<f64>> {
    let form = parse_form(form)?;
    check_trials(n_trials)?;
    Ok(py.detach(|| bench::time_dot(form, n, n_trials, seed)))
}

/// Seconds of `n_trials + 1` C-order matrix-vector products timed in Rust; element 0
/// is the first call.
#[pyfunction]
#[pyo3(signature = (form, n1, n2, n_trials, seed))]
fn bench_matvec(
    py: Python<'_>,
    form: &str,
    n1: usize,
    n2: usize,
    n_trials: usize,
    seed: u64,
) -> PyResult<Vec<f64>> {
    let form = parse_form(form)?;
    check_trials(n_trials)?;
    n1.checked_mul(n2)
        .ok_or_else(|| PyValueError::new_err(format!("n1 * n2 overflows: {n1} x {n2}")))?;
    Ok(py.detach(|| bench::time_matvec(form, n1, n2, n_trials, seed)))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(bench_dot, m)?)?;
    m.add_function(wrap_pyfunction!(bench_matvec, m)?)?;
    Ok(())
}
