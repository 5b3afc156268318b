//! Allocation that fails with an error instead of aborting the process: Rust's default
//! allocation-failure handler kills the Python interpreter, so every buffer whose size
//! the caller controls is allocated here.

use std::fmt;

/// `bytes` could not be allocated (a count that overflows `u128` cannot occur: lengths
/// are `usize` and element sizes small).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AllocError {
    pub bytes: u128,
}

impl fmt::Display for AllocError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot allocate {} bytes", self.bytes)
    }
}

impl std::error::Error for AllocError {}

fn refused<T>(len: usize) -> AllocError {
    AllocError {
        bytes: len as u128 * std::mem::size_of::<T>() as u128,
    }
}

/// An empty vector with room for exactly `len` elements.
pub fn try_with_capacity<T>(len: usize) -> Result<Vec<T>, AllocError> {
    let mut v = Vec::new();
    v.try_reserve_exact(len).map_err(|_| refused::<T>(len))?;
    Ok(v)
}

/// `len` copies of `fill`.
pub fn try_vec<T: Clone>(len: usize, fill: T) -> Result<Vec<T>, AllocError> {
    let mut v = try_with_capacity(len)?;
    v.resize(len, fill);
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn impossible_sizes_are_errors_not_aborts() {
        assert_eq!(
            try_vec(usize::MAX / 8, 0.0f64),
            Err(AllocError {
                bytes: (usize::MAX / 8) as u128 * 8
            })
        );
        assert!(try_with_capacity::<u64>(1 << 60).is_err());
        assert_eq!(try_vec(3, 7i64).unwrap(), vec![7, 7, 7]);
        assert!(try_with_capacity::<u8>(5).unwrap().capacity() >= 5);
    }
}
