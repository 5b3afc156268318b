//! Whether two pieces of memory may overlap, decided on their address ranges the way
//! NumPy's `may_share_memory` does (the bounds of each array's memory extent, from its
//! data pointer, shape and strides), whatever object each was reached through.
//!
//! Why: rust-numpy's borrow table tells arrays apart by their base object, so it cannot
//! see two `np.frombuffer` views of one buffer, or an `__array_interface__` alias, as the
//! same memory. A kernel that wrote its result into such an `out` while still reading
//! the input would give a silently wrong answer.

/// The half-open byte range `[start, end)` that a piece of memory touches; `None` when it
/// touches none (zero elements).
pub type Extent = Option<(usize, usize)>;

/// The bytes an array with this data pointer, shape, byte strides and element size can
/// touch: from the lowest to the highest element address plus one element (NumPy's
/// `get_array_memory_extents`). Negative strides extend the range below the pointer.
pub fn strided_extent(data: usize, shape: &[usize], strides: &[isize], itemsize: usize) -> Extent {
    if shape.contains(&0) {
        return None;
    }
    let (mut low, mut high) = (0i128, 0i128);
    for (&n, &stride) in shape.iter().zip(strides) {
        let span = stride as i128 * (n as i128 - 1);
        if span < 0 {
            low += span;
        } else {
            high += span;
        }
    }
    let start = data as i128 + low;
    let end = data as i128 + high + itemsize as i128;
    Some((
        start.clamp(0, usize::MAX as i128) as usize,
        end.clamp(0, usize::MAX as i128) as usize,
    ))
}

/// The extent of a slice.
pub fn slice_extent<T>(values: &[T]) -> Extent {
    if values.is_empty() {
        return None;
    }
    let start = values.as_ptr() as usize;
    Some((start, start + std::mem::size_of_val(values)))
}

/// Whether two extents share at least one byte.
pub fn extents_overlap(a: Extent, b: Extent) -> bool {
    match (a, b) {
        (Some((a0, a1)), Some((b0, b1))) => a0 < b1 && b0 < a1,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extents_follow_numpy_bounds() {
        // 3 x 4 float64, C order at 1000: bytes 1000..1096.
        assert_eq!(
            strided_extent(1000, &[3, 4], &[32, 8], 8),
            Some((1000, 1096))
        );
        // The same memory seen reversed along axis 0: pointer at the last row.
        assert_eq!(
            strided_extent(1064, &[3, 4], &[-32, 8], 8),
            Some((1000, 1096))
        );
        // Every other column: the extent still spans the rows' bounds.
        assert_eq!(
            strided_extent(1000, &[3, 2], &[32, 16], 8),
            Some((1000, 1088))
        );
        // Broadcast (stride 0): one element.
        assert_eq!(
            strided_extent(1000, &[1 << 40], &[0], 16),
            Some((1000, 1016))
        );
        assert_eq!(strided_extent(1000, &[0, 4], &[32, 8], 8), None);
        assert_eq!(strided_extent(1000, &[], &[], 8), Some((1000, 1008)));
    }

    #[test]
    fn overlap_needs_a_shared_byte() {
        assert!(extents_overlap(Some((0, 10)), Some((9, 20))));
        assert!(!extents_overlap(Some((0, 10)), Some((10, 20))));
        assert!(extents_overlap(Some((5, 6)), Some((0, 100))));
        assert!(!extents_overlap(None, Some((0, 100))));
        let values = [1.0f64; 4];
        assert_eq!(
            slice_extent(&values[1..3]),
            Some((values.as_ptr() as usize + 8, values.as_ptr() as usize + 24))
        );
        assert_eq!(slice_extent::<f64>(&[]), None);
    }
}
