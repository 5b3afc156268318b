//! Scalar and sequence arguments converted the kernels' way: an int beyond 64 bits is a
//! ValueError that says so, a count out of its range a ValueError naming it, and a
//! sequence whose `__len__` cannot be held a MemoryError, never a panic.

use pyo3::exceptions::{PyMemoryError, PyOverflowError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyBytes, PySequence, PyString};
use pyo3::Borrowed;

use super::validate::type_name;

/// A non-negative count from Python (a negative one is a ValueError, not an OverflowError).
pub fn count(value: Int, name: &str, minimum: i64) -> PyResult<usize> {
    let Int(value) = value;
    if value < minimum {
        return Err(PyValueError::new_err(format!(
            "{name} must be at least {minimum}, got {value}"
        )));
    }
    usize::try_from(value)
        .map_err(|_| PyValueError::new_err(format!("{name} is too large: {value}")))
}

/// More repetitions than any timing needs; a larger count would only ask for a result
/// vector that cannot be allocated (an error, but a late one).
pub const MAX_REPETITIONS: usize = 1 << 20;

/// `value` checked as a number of repetitions (trials, samples, passes): 1 to
/// [`MAX_REPETITIONS`], or a ValueError naming `name`.
pub fn repetitions(value: Int, name: &str) -> PyResult<usize> {
    let value = count(value, name, 1)?;
    if value > MAX_REPETITIONS {
        return Err(PyValueError::new_err(format!(
            "{name} must be at most {MAX_REPETITIONS}, got {value}"
        )));
    }
    Ok(value)
}

/// An integer argument that fits in an `i64`: a Python int or any object with
/// `__index__`, but not a bool (`threads=True` or `mode=False` is a mistake, not 1 or 0:
/// a TypeError). An int out of range is a ValueError that says so (PyO3's own `i64` gives
/// an OverflowError); anything else is PyO3's TypeError. PyO3 adds a note naming the
/// argument.
#[derive(Clone, Copy, Debug)]
pub struct Int(pub i64);

/// [`Int`] for arguments that fit in a `u64` (seeds).
#[derive(Clone, Copy, Debug)]
pub struct UInt(pub u64);

/// The ValueError for an int that does not fit in a `kind` (PyO3's OverflowError).
fn int_out_of_range(obj: Borrowed<'_, '_, PyAny>, error: PyErr, kind: &str) -> PyErr {
    if !error.is_instance_of::<PyOverflowError>(obj.py()) {
        return error;
    }
    let value = obj
        .str()
        .map(|s| s.to_string())
        .unwrap_or_else(|_| "?".into());
    PyValueError::new_err(format!("{value} is out of range for a {kind}"))
}

/// The TypeError for a bool given where an integer is expected.
fn refuse_bool(obj: Borrowed<'_, '_, PyAny>) -> PyResult<()> {
    if obj.is_instance_of::<PyBool>() {
        return Err(PyTypeError::new_err(format!(
            "expected an integer, got the bool {}",
            if obj.is_truthy().unwrap_or(false) {
                "True"
            } else {
                "False"
            }
        )));
    }
    Ok(())
}

impl<'a, 'py> FromPyObject<'a, 'py> for Int {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Int> {
        refuse_bool(obj)?;
        obj.extract::<i64>()
            .map(Int)
            .map_err(|e| int_out_of_range(obj, e, "signed 64-bit integer"))
    }
}

impl<'a, 'py> FromPyObject<'a, 'py> for UInt {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<UInt> {
        refuse_bool(obj)?;
        obj.extract::<u64>()
            .map(UInt)
            .map_err(|e| int_out_of_range(obj, e, "64-bit unsigned integer (0 to 2**64 - 1)"))
    }
}

/// Which objects a sequence argument accepts.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Sequences {
    /// What PyO3's own `Vec<T>` extraction accepts: anything that passes
    /// `PySequence_Check` (lists, tuples, NumPy arrays, any class with `__getitem__` but
    /// dict), but not str or bytes.
    Protocol,
    /// Instances of `collections.abc.Sequence` (lists, tuples, registered classes; not
    /// NumPy arrays), but not str or bytes: for lists of arrays, where an array of one
    /// more axis is a mistake, not a list.
    Abc,
}

/// `obj` as a sequence of the `accepted` kind and its length, or the TypeError that names
/// `name` and what was `expected`. A `__len__` of 2**63 or more is a MemoryError.
pub fn sequence_arg<'a, 'py>(
    obj: &'a Bound<'py, PyAny>,
    name: &str,
    expected: &str,
    accepted: Sequences,
) -> PyResult<(&'a Bound<'py, PySequence>, usize)> {
    let not_a_sequence =
        || PyTypeError::new_err(format!("{name} must be {expected}, got {}", type_name(obj)));
    if obj.is_instance_of::<PyString>() || obj.is_instance_of::<PyBytes>() {
        return Err(not_a_sequence());
    }
    let sequence = match accepted {
        Sequences::Abc => obj.cast::<PySequence>().map_err(|_| not_a_sequence())?,
        Sequences::Protocol => {
            // SAFETY: `obj` is a live object and the GIL is held.
            if unsafe { pyo3::ffi::PySequence_Check(obj.as_ptr()) } == 0 {
                return Err(not_a_sequence());
            }
            // SAFETY: `PySequence_Check` passed, which is what the sequence protocol
            // calls made on a `PySequence` (`len`, `get_item`) need; both report
            // failures as Python exceptions.
            unsafe { obj.cast_unchecked::<PySequence>() }
        }
    };
    let len = sequence.len().map_err(|e| {
        if e.is_instance_of::<PyOverflowError>(obj.py()) {
            // `__len__` returned 2**63 or more: more items than memory could hold.
            PyMemoryError::new_err(format!("{name} has more items than fit in memory"))
        } else {
            e
        }
    })?;
    Ok((sequence, len))
}

/// Room for the `len` items of sequence argument `name`. A length that cannot be held
/// (`__len__` = 2**62) is a MemoryError here, not the abort or the capacity-overflow
/// panic of pre-sizing a `Vec` from it (which PyO3's own `Vec<T>` extraction does).
pub fn room_for_items<T>(len: usize, name: &str) -> PyResult<Vec<T>> {
    crate::alloc::try_with_capacity(len).map_err(|e| {
        PyMemoryError::new_err(format!("{name} has {len} items, too many to hold: {e}"))
    })
}

/// `threads` as a count: the default ([`crate::pool::num_threads`]) for None, else an int
/// in `[1, MAX_THREADS]` (a ValueError naming the range otherwise).
pub fn threads_arg(threads: Option<Int>) -> PyResult<usize> {
    match threads {
        None => Ok(crate::pool::num_threads()),
        Some(Int(n)) => {
            crate::pool::checked_count(n).map_err(|e| PyValueError::new_err(e.to_string()))
        }
    }
}
