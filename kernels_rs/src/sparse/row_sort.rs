//! The output for output spaces beyond 2^64 cells, where no 64-bit key exists: the row
//! numbers sorted by their output subscripts.

use super::coo::sum_in_order;
use super::subs_reader::SubsRead;
use super::{Input, SparseTensor, TtvError};
use crate::alloc::{try_vec, try_with_capacity};

/// For output spaces beyond 2^64 cells: sort the row numbers by their output subscripts.
pub(super) fn by_row_sort<S: SubsRead>(
    input: &Input<S>,
    out_shape: Vec<usize>,
) -> Result<SparseTensor, TtvError> {
    input.check_all_subscripts()?;
    let order = input.order();
    let mode = input.mode;
    let out_key = |i: usize| {
        (0..order)
            .filter(move |&j| j != mode)
            .map(move |j| input.sub(i, j))
    };
    let mut rows = try_with_capacity::<usize>(input.nnz())?;
    rows.extend(0..input.nnz());
    rows.sort_by(|&a, &b| out_key(a).cmp(out_key(b)));

    let mut firsts = try_with_capacity(input.nnz())?;
    let mut vals = try_with_capacity(input.nnz())?;
    for group in rows.chunk_by(|&a, &b| out_key(a).eq(out_key(b))) {
        let sum = sum_in_order(
            group
                .iter()
                .map(|&i| input.vals[i] * input.vector[input.sub(i, mode) as usize]),
        );
        if sum != 0.0 {
            firsts.push(group[0]);
            vals.push(sum);
        }
    }
    let kept = vals.len();
    let mut subs = try_vec(kept * (order - 1), 0i64)?;
    for (k, &first) in firsts.iter().enumerate() {
        for (j, s) in out_key(first).enumerate() {
            subs[j * kept + k] = s;
        }
    }
    Ok(SparseTensor {
        subs,
        vals,
        shape: out_shape,
    })
}
