//! The output through a stable sort of (row-major output index, term) pairs: memory
//! O(nnz + output nonzeros), the output space is never allocated.

use super::coo::sum_in_order;
use super::subs_reader::SubsRead;
use super::{Input, SparseTensor, TtvError};
use crate::alloc::{try_vec, try_with_capacity};

pub(super) fn by_key_sort<S: SubsRead>(
    input: &Input<S>,
    strides: &[u64],
    cells: u64,
    out_shape: Vec<usize>,
) -> Result<SparseTensor, TtvError> {
    let mut terms = try_with_capacity::<(u64, f64)>(input.nnz())?;
    input.for_each_term(strides, |key, term| terms.push((key, term)))?;
    // Stable: equal keys keep input order, so each sum adds in input order like pyttb's
    // accumulation.
    radix_sort_by_key(&mut terms, cells)?;

    // Sum each group of equal keys in place, keeping the nonzero sums, so the output
    // arrays can be allocated at their exact size.
    let mut kept = 0;
    let mut start = 0;
    while start < terms.len() {
        let key = terms[start].0;
        let mut end = start + 1;
        while end < terms.len() && terms[end].0 == key {
            end += 1;
        }
        let sum = sum_in_order(terms[start..end].iter().map(|&(_, term)| term));
        if sum != 0.0 {
            terms[kept] = (key, sum);
            kept += 1;
        }
        start = end;
    }
    terms.truncate(kept);

    let out_strides: Vec<u64> = strides
        .iter()
        .enumerate()
        .filter(|&(j, _)| j != input.mode)
        .map(|(_, &s)| s)
        .collect();
    let mut subs = try_vec(kept * out_strides.len(), 0i64)?;
    let mut vals = try_with_capacity::<f64>(kept)?;
    for (k, &(key, sum)) in terms.iter().enumerate() {
        let mut rest = key;
        for (j, &stride) in out_strides.iter().enumerate() {
            subs[j * kept + k] = (rest / stride) as i64;
            rest %= stride;
        }
        vals.push(sum);
    }
    Ok(SparseTensor {
        subs,
        vals,
        shape: out_shape,
    })
}

/// Below this many items a comparison sort beats the radix sort's fixed costs.
const RADIX_SORT_MIN_ITEMS: usize = 256;

/// Stable LSD radix sort of `(key, value)` pairs by key, keys below `cells`: one byte per
/// pass, only as many passes as `cells` has bytes, and a pass is skipped when every key
/// has the same byte there; already sorted input returns at once. O(n) per pass, one
/// scratch buffer of n pairs.
pub(super) fn radix_sort_by_key(items: &mut Vec<(u64, f64)>, cells: u64) -> Result<(), TtvError> {
    let n = items.len();
    // Sorted input (mode = last of lexicographically sorted subscripts) needs no pass.
    if items.windows(2).all(|pair| pair[0].0 <= pair[1].0) {
        return Ok(());
    }
    if n < RADIX_SORT_MIN_ITEMS {
        items.sort_by_key(|&(key, _)| key);
        return Ok(());
    }
    let bits = 64 - cells.saturating_sub(1).leading_zeros() as usize;
    let passes = bits.div_ceil(8);
    // Every pass's histogram in one read of the keys.
    let mut counts = vec![[0usize; 256]; passes];
    for &(key, _) in items.iter() {
        for (pass, count) in counts.iter_mut().enumerate() {
            count[((key >> (8 * pass)) & 0xff) as usize] += 1;
        }
    }
    let mut scratch = try_vec(n, (0u64, 0.0f64))?;
    let mut sorted_in_items = true;
    for (pass, count) in counts.iter().enumerate() {
        if count.contains(&n) {
            continue; // every key has the same byte here: the order would not change
        }
        let mut next = [0usize; 256];
        let mut total = 0;
        for (slot, &c) in next.iter_mut().zip(count) {
            *slot = total;
            total += c;
        }
        let (from, to) = if sorted_in_items {
            (&items[..], &mut scratch[..])
        } else {
            (&scratch[..], &mut items[..])
        };
        for &item in from {
            let byte = ((item.0 >> (8 * pass)) & 0xff) as usize;
            to[next[byte]] = item;
            next[byte] += 1;
        }
        sorted_in_items = !sorted_in_items;
    }
    if !sorted_in_items {
        std::mem::swap(items, &mut scratch);
    }
    Ok(())
}
