//! The output through a dense accumulator over the whole output space: one pass adds
//! every term into a zeroed array, one pass over it emits the nonzeros, already in
//! lexicographic order.

use super::{Input, SparseTensor, TtvError};
use crate::alloc::{try_vec, try_with_capacity};

pub(super) fn by_dense_accumulator(
    input: &Input,
    strides: &[u64],
    cells: u64,
    out_shape: Vec<usize>,
) -> Result<SparseTensor, TtvError> {
    let cells = usize::try_from(cells).map_err(|_| TtvError::OutputTooLarge {
        cells: cells as u128,
    })?;
    let mut acc = try_vec(cells, 0.0f64).map_err(|_| TtvError::OutputTooLarge {
        cells: cells as u128,
    })?;
    input.accumulate_dense(strides, &mut acc)?;

    // NaN != 0, so NaN sums are kept, as NumPy's nonzero keeps them.
    let nonzeros = acc.iter().filter(|&&v| v != 0.0).count();
    let out_order = out_shape.len();
    let mut subs = try_vec(nonzeros * out_order, 0i64)?;
    let mut vals = try_with_capacity::<f64>(nonzeros)?;
    // Walk the output space row by row (last dimension fastest), carrying the leading
    // subscripts as an odometer: no division per nonzero, lexicographic order for free.
    let last = out_shape[out_order - 1];
    let mut prefix = vec![0i64; out_order - 1];
    for row in acc.chunks_exact(last) {
        for (c, &v) in row.iter().enumerate() {
            if v != 0.0 {
                let k = vals.len();
                for (j, &p) in prefix.iter().enumerate() {
                    subs[j * nonzeros + k] = p;
                }
                subs[(out_order - 1) * nonzeros + k] = c as i64;
                vals.push(v);
            }
        }
        for j in (0..out_order - 1).rev() {
            prefix[j] += 1;
            if (prefix[j] as usize) < out_shape[j] {
                break;
            }
            prefix[j] = 0;
        }
    }
    Ok(SparseTensor {
        subs,
        vals,
        shape: out_shape,
    })
}
