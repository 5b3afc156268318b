//! Bindings of the STREAM-style bandwidth probes (crate::memory): one kernel at one
//! working-set size (`stream_bandwidth`) and against working-set size
//! (`bandwidth_curve`). `read_bandwidth`, the figures' bound, is bound in `sparse.rs`.

use pyo3::exceptions::{PyMemoryError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use super::args::{count, repetitions, room_for_items, sequence_arg, Int, Sequences};
use crate::memory::{self, BufferError, Kernel, Measurement, Variant};

/// The longest a timing may be asked to last (seconds): more is a mistake, not a
/// measurement.
const MAX_MIN_SECONDS: f64 = 10.0;

fn parse_kernel(name: &str) -> PyResult<Kernel> {
    Kernel::parse(name).ok_or_else(|| {
        PyValueError::new_err(format!(
            "kernel must be 'read', 'copy' or 'triad', got {name:?}"
        ))
    })
}

fn parse_variant(streams: Int, unroll: Int) -> PyResult<Variant> {
    let (Int(s), Int(u)) = (streams, unroll);
    let listed = |values: &[usize]| {
        values
            .iter()
            .map(|v| v.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    if !memory::simd::STREAMS.iter().any(|&x| x as i64 == s) {
        return Err(PyValueError::new_err(format!(
            "streams must be one of {}, got {s}",
            listed(&memory::simd::STREAMS)
        )));
    }
    if !memory::simd::UNROLLS.iter().any(|&x| x as i64 == u) {
        return Err(PyValueError::new_err(format!(
            "unroll must be one of {}, got {u}",
            listed(&memory::simd::UNROLLS)
        )));
    }
    Variant::new(s as usize, u as usize)
        .ok_or_else(|| PyValueError::new_err(format!("no such variant: streams {s}, unroll {u}")))
}

fn min_seconds_arg(value: f64) -> PyResult<f64> {
    if !(0.0..=MAX_MIN_SECONDS).contains(&value) {
        return Err(PyValueError::new_err(format!(
            "min_seconds must be between 0 and {MAX_MIN_SECONDS}, got {value}"
        )));
    }
    Ok(value)
}

fn size_arg(value: Int, name: &str, kernel: Kernel) -> PyResult<usize> {
    count(value, name, kernel.min_bytes() as i64)
}

fn buffer_error(name: &str, e: BufferError) -> PyErr {
    PyMemoryError::new_err(format!("{name}: {e}"))
}

fn measurement_dict<'py>(py: Python<'py>, m: &Measurement) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("kernel", m.kernel.name())?;
    d.set_item("streams", m.variant.streams())?;
    d.set_item("unroll", m.variant.unroll())?;
    d.set_item("isa", m.isa.name())?;
    d.set_item("working_set_bytes", m.working_set_bytes)?;
    d.set_item("bytes_per_pass", m.bytes_per_pass)?;
    d.set_item("write_allocate_bytes", m.write_allocate_bytes)?;
    d.set_item("passes_per_timing", m.passes_per_timing)?;
    d.set_item("seconds", m.seconds.clone())?;
    d.set_item("best_bytes_per_second", m.best_bytes_per_second())?;
    Ok(d)
}

/// One STREAM kernel ('read', 'copy' or 'triad') over a working set of `n_bytes` (all
/// its arrays together), `repeats` timings of at least `min_seconds` each.
#[pyfunction]
#[pyo3(signature = (kernel, n_bytes, repeats = Int(5), *, streams = Int(4), unroll = Int(4), min_seconds = 0.0))]
fn stream_bandwidth<'py>(
    py: Python<'py>,
    kernel: &str,
    n_bytes: Int,
    repeats: Int,
    streams: Int,
    unroll: Int,
    min_seconds: f64,
) -> PyResult<Bound<'py, PyDict>> {
    let kernel = parse_kernel(kernel)?;
    let n_bytes = size_arg(n_bytes, "n_bytes", kernel)?;
    let repeats = repetitions(repeats, "repeats")?;
    let variant = parse_variant(streams, unroll)?;
    let min_seconds = min_seconds_arg(min_seconds)?;
    let m = py
        .detach(|| memory::measure(kernel, variant, n_bytes, repeats, min_seconds))
        .map_err(|e| buffer_error("n_bytes", e))?;
    measurement_dict(py, &m)
}

/// [`stream_bandwidth`] at every working-set size of `sizes_bytes`, in order.
#[pyfunction]
#[pyo3(signature = (sizes_bytes, kernel = "read", repeats = Int(5), *, streams = Int(4), unroll = Int(4), min_seconds = 1e-3))]
fn bandwidth_curve<'py>(
    py: Python<'py>,
    sizes_bytes: &Bound<'py, PyAny>,
    kernel: &str,
    repeats: Int,
    streams: Int,
    unroll: Int,
    min_seconds: f64,
) -> PyResult<Vec<Bound<'py, PyDict>>> {
    let kernel = parse_kernel(kernel)?;
    let (sequence, len) = sequence_arg(
        sizes_bytes,
        "sizes_bytes",
        "a sequence of ints",
        Sequences::Protocol,
    )?;
    let mut sizes = room_for_items::<usize>(len, "sizes_bytes")?;
    for i in 0..len {
        let name = format!("sizes_bytes[{i}]");
        let item: Int = sequence.get_item(i)?.extract().map_err(|e: PyErr| {
            PyErr::from_type(e.get_type(py), format!("{name}: {}", e.value(py)))
        })?;
        sizes.push(size_arg(item, &name, kernel)?);
    }
    let repeats = repetitions(repeats, "repeats")?;
    let variant = parse_variant(streams, unroll)?;
    let min_seconds = min_seconds_arg(min_seconds)?;
    let curve = py
        .detach(|| memory::curve(kernel, variant, &sizes, repeats, min_seconds))
        .map_err(|(i, e)| buffer_error(&format!("sizes_bytes[{i}]"), e))?;
    curve.iter().map(|m| measurement_dict(py, m)).collect()
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(stream_bandwidth, m)?)?;
    m.add_function(wrap_pyfunction!(bandwidth_curve, m)?)?;
    m.add("STREAM_COUNTS", memory::simd::STREAMS.to_vec())?;
    m.add("STREAM_UNROLLS", memory::simd::UNROLLS.to_vec())?;
    Ok(())
}
