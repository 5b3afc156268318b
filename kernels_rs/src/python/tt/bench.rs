//! `bench_tt`: a contraction timed inside Rust (`crate::tt::bench`) on copies of
//! operands checked as the bindings check them.

use ndarray::{Ix2, Ix3};
use numpy::PyArray3;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use super::{complex_array, memory_error, shapes, site_arrays, take, value_error};
use crate::python::args::{repetitions, sequence_arg, Int, Sequences};
use crate::tt::bench::{self as tt_bench, Operands};
use crate::tt::{self, dims2, dims3, Site, C64};

/// The largest output `bench_tt` times (16 MiB of complex128; the study's largest is
/// 64 x 64).
const BENCH_OUTPUT_MAX_ELEMENTS: usize = 1 << 20;

/// Validate and copy the operands of one timed case.
fn bench_operands(case: &str, operands: &Bound<'_, PyAny>) -> PyResult<Operands> {
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
    let (sequence, len) = sequence_arg(
        operands,
        "operands",
        "a list or tuple of operands",
        Sequences::Protocol,
    )?;
    if len != expected {
        return Err(PyValueError::new_err(format!(
            "case {case:?} takes {expected} operands, got {len}"
        )));
    }
    let mut items = Vec::with_capacity(expected); // at most 3
    for index in 0..expected {
        items.push(sequence.get_item(index)?);
    }
    let op = |i: usize| &items[i];
    Ok(match case {
        "first_site" => {
            let bra = complex_array::<Ix2>(op(0), "bra_first")?;
            let ket = complex_array::<Ix2>(op(1), "ket_first")?;
            tt::check_first_site(dims2(bra.shape()), dims2(ket.shape())).map_err(value_error)?;
            Operands::FirstSite {
                d: bra.shape()[0],
                chi_bra: bra.shape()[1],
                chi_ket: ket.shape()[1],
                bra: bra.owned_values("bra_first")?,
                ket: ket.owned_values("ket_first")?,
            }
        }
        "env_bra" => {
            let env = complex_array::<Ix2>(op(0), "env")?;
            let bra = complex_array::<Ix3>(op(1), "bra")?;
            tt::check_env_bra(dims2(env.shape()), dims3(bra.shape())).map_err(value_error)?;
            Operands::EnvBra {
                chi_ket: env.shape()[1],
                bra_site: Site::from_shape(bra.shape()),
                env: env.owned_values("env")?,
                bra: bra.owned_values("bra")?,
            }
        }
        "tmp_ket" => {
            let tmp = complex_array::<Ix3>(op(0), "tmp")?;
            let ket = complex_array::<Ix3>(op(1), "ket")?;
            tt::check_tmp_ket(dims3(tmp.shape()), dims3(ket.shape())).map_err(value_error)?;
            Operands::TmpKet {
                chi_bra_right: tmp.shape()[2],
                ket_site: Site::from_shape(ket.shape()),
                tmp: tmp.owned_values("tmp")?,
                ket: ket.owned_values("ket")?,
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
                env: env.owned_values("env")?,
                bra: bra.owned_values("bra")?,
                ket: ket.owned_values("ket")?,
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
                    .map(|(s, a)| Ok((s, take(a, name)?.owned_values(name)?)))
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
pub(super) fn bench_tt(
    py: Python<'_>,
    case: &str,
    operands: &Bound<'_, PyAny>,
    n_samples: Int,
    min_sample_seconds: f64,
) -> PyResult<(Vec<f64>, usize)> {
    let n_samples = repetitions(n_samples, "n_samples")?;
    if !(min_sample_seconds.is_finite() && (0.0..=10.0).contains(&min_sample_seconds)) {
        return Err(PyValueError::new_err(format!(
            "min_sample_seconds must be between 0 and 10, got {min_sample_seconds}"
        )));
    }
    let operands = bench_operands(case, operands)?;
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
