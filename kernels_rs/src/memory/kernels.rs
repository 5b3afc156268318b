//! The STREAM-style loops: read (a sum), copy and triad, each over `N` interleaved
//! sequential streams (the arrays cut into `N` equal parts, one step reading every part)
//! and `U` SIMD vectors per stream per step (the unrolling).
//!
//! The loops are written on `pulp`'s vector types (`S::u64s`, `S::f64s`: 8 lanes on
//! AVX-512, 4 on AVX2, 1 for the portable `Scalar`), so each statement is one vector
//! instruction and the loop vectorizer has nothing left to decide. (Written on plain
//! `u64` arrays, LLVM vectorized most shapes across steps instead, with `vpgatherqq`
//! gathers: 3-5x slower in L1.) [`super::simd`] picks `S` at run time. What the loops
//! compile to (`objdump -d` of the release `.so`, this crate's x86-64 baseline build with
//! fat LTO, Rust 1.95), on the AVX-512 path for `N = 2, U = 4`:
//! - read: 8 `vpaddq zmm, zmm, [mem]` per step (4 per stream, one accumulator register
//!   each), then a pointer bump, a counter decrement and the loop branch: nothing else;
//! - copy: per vector one `vpxorq zmm, zmm, [mem]` (the load) and one `vmovdqu64 [mem],
//!   zmm` (the store);
//! - triad: per vector one `vmulpd zmm, zmm, [mem]`, one `vaddpd zmm, zmm, [mem]` and one
//!   `vmovupd [mem], zmm`.
//!
//! The AVX2 path is the same with `ymm` registers (half the bytes per instruction).
//! `N = 8, U = 4` reads with 32 accumulators, every `zmm` register, and LLVM stores them
//! to the stack every step: that variant is slower (the sweep's edge; the best is kept).

use pulp::Simd;

/// `body` (a multiple of `N * U` vectors long) cut into `N` parts of `steps` chunks each.
#[inline(always)]
fn parts<T, const N: usize, const U: usize>(body: &[T], steps: usize) -> [&[[T; U]]; N] {
    let mut rest = body;
    std::array::from_fn(|_| {
        let (part, tail) = rest.split_at(steps * U);
        rest = tail;
        // Re-slicing to `steps` tells LLVM every part's length, so `parts[s][i]` with
        // `i < steps` needs no bounds check.
        &part.as_chunks::<U>().0[..steps]
    })
}

/// [`parts`] for a destination.
#[inline(always)]
fn parts_mut<T, const N: usize, const U: usize>(
    body: &mut [T],
    steps: usize,
) -> [&mut [[T; U]]; N] {
    let mut rest = body;
    std::array::from_fn(|_| {
        let (part, tail) = std::mem::take(&mut rest).split_at_mut(steps * U);
        rest = tail;
        &mut part.as_chunks_mut::<U>().0[..steps]
    })
}

/// Steps of `N * U` vectors in `len` vectors, and the vectors they cover.
#[inline(always)]
fn steps_of<const N: usize, const U: usize>(len: usize) -> (usize, usize) {
    let steps = len / (N * U);
    (steps, steps * N * U)
}

/// The wrapping sum of the lanes of `v`.
#[inline(always)]
fn lane_sum<S: Simd>(v: S::u64s) -> u64 {
    pulp::bytemuck::cast_slice::<S::u64s, u64>(std::slice::from_ref(&v))
        .iter()
        .fold(0u64, |acc, &w| acc.wrapping_add(w))
}

/// The wrapping sum of `words`.
#[inline(always)]
pub fn read<S: Simd, const N: usize, const U: usize>(simd: S, words: &[u64]) -> u64 {
    let (vectors, tail) = S::as_simd_u64s(words);
    let (steps, covered) = steps_of::<N, U>(vectors.len());
    let (body, rest) = vectors.split_at(covered);
    let parts = parts::<S::u64s, N, U>(body, steps);
    let mut sums = [[simd.splat_u64s(0); U]; N];
    for i in 0..steps {
        for (sum, part) in sums.iter_mut().zip(&parts) {
            for (s, w) in sum.iter_mut().zip(&part[i]) {
                *s = simd.add_u64s(*s, *w);
            }
        }
    }
    let total = sums
        .iter()
        .flatten()
        .chain(rest)
        .fold(0u64, |acc, &v| acc.wrapping_add(lane_sum::<S>(v)));
    tail.iter().fold(total, |acc, &w| acc.wrapping_add(w))
}

/// `dst[i] = src[i] ^ key`; with `key = 0` a copy. The key is an argument the caller
/// hides from the optimizer (`black_box`), so LLVM cannot turn the loop into a call to
/// `memcpy`, whose strategy (`rep movsb`, non-temporal stores above a size threshold)
/// depends on the C library and the size: this is a plain load-store loop everywhere.
/// Copies `min(src.len(), dst.len())` words.
#[inline(always)]
pub fn copy<S: Simd, const N: usize, const U: usize>(
    simd: S,
    src: &[u64],
    dst: &mut [u64],
    key: u64,
) {
    let len = src.len().min(dst.len());
    let (src_vectors, src_tail) = S::as_simd_u64s(&src[..len]);
    let (dst_vectors, dst_tail) = S::as_mut_simd_u64s(&mut dst[..len]);
    let (steps, covered) = steps_of::<N, U>(src_vectors.len());
    let (src_body, src_rest) = src_vectors.split_at(covered);
    let (dst_body, dst_rest) = dst_vectors.split_at_mut(covered);
    let src_parts = parts::<S::u64s, N, U>(src_body, steps);
    let mut dst_parts = parts_mut::<S::u64s, N, U>(dst_body, steps);
    let keys = simd.splat_u64s(key);
    for i in 0..steps {
        for (d, s) in dst_parts.iter_mut().zip(&src_parts) {
            for (dv, sv) in d[i].iter_mut().zip(&s[i]) {
                *dv = simd.xor_u64s(*sv, keys);
            }
        }
    }
    for (dv, sv) in dst_rest.iter_mut().zip(src_rest) {
        *dv = simd.xor_u64s(*sv, keys);
    }
    for (dw, sw) in dst_tail.iter_mut().zip(src_tail) {
        *dw = *sw ^ key;
    }
}

/// STREAM's triad `a[i] = b[i] + q * c[i]`, a separate multiply and add (never fused, so
/// every path gives the same bits). Computes `min` of the three lengths elements.
#[inline(always)]
pub fn triad<S: Simd, const N: usize, const U: usize>(
    simd: S,
    a: &mut [f64],
    b: &[f64],
    c: &[f64],
    q: f64,
) {
    let len = a.len().min(b.len()).min(c.len());
    let (a_vectors, a_tail) = S::as_mut_simd_f64s(&mut a[..len]);
    let (b_vectors, b_tail) = S::as_simd_f64s(&b[..len]);
    let (c_vectors, c_tail) = S::as_simd_f64s(&c[..len]);
    let (steps, covered) = steps_of::<N, U>(a_vectors.len());
    let (a_body, a_rest) = a_vectors.split_at_mut(covered);
    let (b_body, b_rest) = b_vectors.split_at(covered);
    let (c_body, c_rest) = c_vectors.split_at(covered);
    let mut a_parts = parts_mut::<S::f64s, N, U>(a_body, steps);
    let b_parts = parts::<S::f64s, N, U>(b_body, steps);
    let c_parts = parts::<S::f64s, N, U>(c_body, steps);
    let qs = simd.splat_f64s(q);
    let step = |y: S::f64s, z: S::f64s| simd.add_f64s(y, simd.mul_f64s(qs, z));
    for i in 0..steps {
        for ((ap, bp), cp) in a_parts.iter_mut().zip(&b_parts).zip(&c_parts) {
            for ((x, y), z) in ap[i].iter_mut().zip(&bp[i]).zip(&cp[i]) {
                *x = step(*y, *z);
            }
        }
    }
    for ((x, y), z) in a_rest.iter_mut().zip(b_rest).zip(c_rest) {
        *x = step(*y, *z);
    }
    for ((x, y), z) in a_tail.iter_mut().zip(b_tail).zip(c_tail) {
        *x = *y + q * *z;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pulp::Scalar;

    fn plain_sum(words: &[u64]) -> u64 {
        words.iter().fold(0u64, |acc, &w| acc.wrapping_add(w))
    }

    fn words(n: usize) -> Vec<u64> {
        (0..n as u64)
            .map(|i| i.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (u64::MAX / 3))
            .collect()
    }

    macro_rules! each_shape {
        ($check:ident) => {
            $check::<1, 1>();
            $check::<2, 2>();
            $check::<4, 4>();
            $check::<8, 1>();
            $check::<8, 4>();
        };
    }

    // Lengths around every step boundary: empty, tails only, whole steps, steps + tail.
    fn lengths<const S: usize, const W: usize>() -> Vec<usize> {
        // Scalar vectors are single words; the AVX paths are checked in simd.rs.
        let step = S * W;
        vec![0, 1, step - 1, step, step + 1, 3 * step, 3 * step + 7]
    }

    fn read_matches<const S: usize, const W: usize>() {
        for n in lengths::<S, W>() {
            let w = words(n);
            assert_eq!(
                read::<Scalar, S, W>(Scalar, &w),
                plain_sum(&w),
                "S = {S}, W = {W}, n = {n}"
            );
        }
        assert_eq!(
            read::<Scalar, S, W>(Scalar, &[u64::MAX, 2]),
            1,
            "the sum wraps"
        );
    }

    fn copy_matches<const S: usize, const W: usize>() {
        for n in lengths::<S, W>() {
            let src = words(n);
            let mut dst = vec![0u64; n];
            copy::<Scalar, S, W>(Scalar, &src, &mut dst, 0);
            assert_eq!(dst, src, "S = {S}, W = {W}, n = {n}");
            copy::<Scalar, S, W>(Scalar, &src, &mut dst, 5);
            assert!(dst.iter().zip(&src).all(|(d, s)| *d == s ^ 5));
        }
    }

    fn triad_matches<const S: usize, const W: usize>() {
        for n in lengths::<S, W>() {
            let b: Vec<f64> = (0..n).map(|i| i as f64 * 0.5 - 3.0).collect();
            let c: Vec<f64> = (0..n).map(|i| 1.0 / (i as f64 + 1.0)).collect();
            let mut a = vec![f64::NAN; n];
            triad::<Scalar, S, W>(Scalar, &mut a, &b, &c, 3.0);
            for i in 0..n {
                assert_eq!(a[i].to_bits(), (b[i] + 3.0 * c[i]).to_bits(), "i = {i}");
            }
        }
    }

    #[test]
    fn read_is_the_wrapping_sum_for_every_shape() {
        each_shape!(read_matches);
    }

    #[test]
    fn copy_copies_every_word_for_every_shape() {
        each_shape!(copy_matches);
    }

    #[test]
    fn triad_is_b_plus_q_c_for_every_shape() {
        each_shape!(triad_matches);
    }
}
