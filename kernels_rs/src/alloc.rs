//! Allocation that fails with an error instead of aborting the process: Rust's default
//! allocation-failure handler kills the Python interpreter, so every buffer whose size
//! the caller controls is allocated here.

use std::borrow::Cow;
use std::fmt;

use ndarray::{Array, ArrayView, Dimension};

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

/// The elements of `iter`, which yields exactly `len` of them, in a vector allocated once.
pub fn try_collect<T>(len: usize, iter: impl Iterator<Item = T>) -> Result<Vec<T>, AllocError> {
    let mut v = try_with_capacity(len)?;
    v.extend(iter.take(len));
    Ok(v)
}

/// The values of `view` in C order: borrowed when they are in C order already, else
/// copied (a broadcast view of 2^40 elements is a MemoryError here, not an abort in
/// `as_standard_layout`).
pub fn c_order_values<'a, T: Copy, D: Dimension>(
    view: ArrayView<'a, T, D>,
) -> Result<Cow<'a, [T]>, AllocError> {
    match view.to_slice() {
        Some(slice) => Ok(Cow::Borrowed(slice)),
        None => try_collect(view.len(), view.iter().copied()).map(Cow::Owned),
    }
}

/// An owned C-order copy of `view`.
pub fn try_to_owned<T: Copy, D: Dimension>(
    view: ArrayView<'_, T, D>,
) -> Result<Array<T, D>, AllocError> {
    let values = try_collect(view.len(), view.iter().copied())?;
    Ok(Array::from_shape_vec(view.raw_dim(), values).expect("one value per element"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::ShapeBuilder;

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

    #[test]
    fn c_order_values_borrow_c_order_and_copy_the_rest() {
        let a = ndarray::Array2::from_shape_fn((3, 4), |(i, j)| (10 * i + j) as i64);
        assert!(matches!(
            c_order_values(a.view()).unwrap(),
            Cow::Borrowed(_)
        ));
        let t = a.t();
        let copied = c_order_values(t).unwrap();
        assert!(matches!(copied, Cow::Owned(_)));
        assert_eq!(&*copied, t.iter().copied().collect::<Vec<_>>().as_slice());
        assert_eq!(try_to_owned(t).unwrap(), t.to_owned());
        // A broadcast view of 2^61 elements: its copy cannot be allocated.
        let one = [1.0f64];
        let huge = ArrayView::from_shape((1usize << 61,).strides((0,)), &one[..]).unwrap();
        assert!(c_order_values(huge).is_err());
        assert!(try_to_owned(huge).is_err());
    }
}
