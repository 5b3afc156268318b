//! The STREAM-style loops: read (a sum), copy and triad, each over `S` interleaved
//! sequential streams (the arrays cut into `S` equal parts, one step reading every part)
//! and `W` words per stream per step (the unrolling: `W / 8` cache lines).
//!
//! The loops are plain Rust on fixed-size chunks (`as_chunks`), so they have no bounds
//! checks and LLVM vectorizes them as wide as the function they are inlined into allows:
//! [`super::simd`] inlines them into functions compiled for AVX-512 or AVX2 when the CPU
//! has them. What the loops compile to (`objdump -d` of the release `.so`, this crate's
//! x86-64 baseline build, Rust 1.95) on the AVX-512 path, for `S = 2, W = 32`:
//! - read: 8 `vpaddq zmm, zmm, [mem]` per step (4 per stream: 256 bytes), one
//!   accumulator register each, then the pointer bump and loop branch: nothing else;
//! - copy: per 64 bytes one `vpxorq zmm, zmm, [mem]` (the load) and one `vmovdqu64 [mem],
//!   zmm` (the store);
//! - triad: per 64 bytes one `vmulpd zmm, zmm, [mem]`, one `vaddpd zmm, zmm, [mem]` and
//!   one `vmovupd [mem], zmm`.
//!
//! The AVX2 path is the same with `ymm` registers (half the bytes per instruction), the
//! baseline path with SSE2's `xmm`.

/// `body` (a multiple of `S * W` elements long) cut into `S` parts of `steps` chunks each.
#[inline(always)]
fn parts<T, const S: usize, const W: usize>(body: &[T], steps: usize) -> [&[[T; W]]; S] {
    let mut rest = body;
    std::array::from_fn(|_| {
        let (part, tail) = rest.split_at(steps * W);
        rest = tail;
        // Re-slicing to `steps` tells LLVM every part's length, so `parts[s][i]` with
        // `i < steps` needs no bounds check.
        &part.as_chunks::<W>().0[..steps]
    })
}

/// [`parts`] for a destination.
#[inline(always)]
fn parts_mut<T, const S: usize, const W: usize>(
    body: &mut [T],
    steps: usize,
) -> [&mut [[T; W]]; S] {
    let mut rest = body;
    std::array::from_fn(|_| {
        let (part, tail) = std::mem::take(&mut rest).split_at_mut(steps * W);
        rest = tail;
        &mut part.as_chunks_mut::<W>().0[..steps]
    })
}

/// Steps of `S * W` elements in `len` and the length they cover.
#[inline(always)]
fn steps_of<const S: usize, const W: usize>(len: usize) -> (usize, usize) {
    let steps = len / (S * W);
    (steps, steps * S * W)
}

/// The wrapping sum of `words`. Integer addition is associative, so LLVM may keep every
/// lane of every accumulator apart: the loop is loads and adds only.
#[inline(always)]
pub fn read<const S: usize, const W: usize>(words: &[u64]) -> u64 {
    let (steps, covered) = steps_of::<S, W>(words.len());
    let (body, tail) = words.split_at(covered);
    let parts = parts::<u64, S, W>(body, steps);
    let mut sums = [[0u64; W]; S];
    for i in 0..steps {
        for (sum, part) in sums.iter_mut().zip(&parts) {
            for (s, w) in sum.iter_mut().zip(&part[i]) {
                *s = s.wrapping_add(*w);
            }
        }
    }
    let tail_sum = tail.iter().fold(0u64, |acc, &w| acc.wrapping_add(w));
    sums.iter()
        .flatten()
        .fold(tail_sum, |acc, &s| acc.wrapping_add(s))
}

/// `dst[i] = src[i] ^ key`; with `key = 0` a copy. The key is an argument the caller
/// hides from the optimizer (`black_box`), so LLVM cannot turn the loop into a call to
/// `memcpy`, whose strategy (`rep movsb`, non-temporal stores above a size threshold)
/// depends on the C library and the size: this is a plain load-store loop everywhere.
/// `dst` and `src` have the same length.
#[inline(always)]
pub fn copy<const S: usize, const W: usize>(src: &[u64], dst: &mut [u64], key: u64) {
    let len = src.len().min(dst.len());
    let (steps, covered) = steps_of::<S, W>(len);
    let (src_body, src_tail) = src[..len].split_at(covered);
    let (dst_body, dst_tail) = dst[..len].split_at_mut(covered);
    let src_parts = parts::<u64, S, W>(src_body, steps);
    let mut dst_parts = parts_mut::<u64, S, W>(dst_body, steps);
    for i in 0..steps {
        for (d, s) in dst_parts.iter_mut().zip(&src_parts) {
            for (dw, sw) in d[i].iter_mut().zip(&s[i]) {
                *dw = *sw ^ key;
            }
        }
    }
    for (dw, sw) in dst_tail.iter_mut().zip(src_tail) {
        *dw = *sw ^ key;
    }
}

/// STREAM's triad `a[i] = b[i] + q * c[i]` (a separate multiply and add: Rust never
/// fuses them). The three arrays have the same length.
#[inline(always)]
pub fn triad<const S: usize, const W: usize>(a: &mut [f64], b: &[f64], c: &[f64], q: f64) {
    let len = a.len().min(b.len()).min(c.len());
    let (steps, covered) = steps_of::<S, W>(len);
    let (a_body, a_tail) = a[..len].split_at_mut(covered);
    let (b_body, b_tail) = b[..len].split_at(covered);
    let (c_body, c_tail) = c[..len].split_at(covered);
    let mut a_parts = parts_mut::<f64, S, W>(a_body, steps);
    let b_parts = parts::<f64, S, W>(b_body, steps);
    let c_parts = parts::<f64, S, W>(c_body, steps);
    for i in 0..steps {
        for ((ap, bp), cp) in a_parts.iter_mut().zip(&b_parts).zip(&c_parts) {
            for ((x, y), z) in ap[i].iter_mut().zip(&bp[i]).zip(&cp[i]) {
                *x = *y + q * *z;
            }
        }
    }
    for ((x, y), z) in a_tail.iter_mut().zip(b_tail).zip(c_tail) {
        *x = *y + q * *z;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
            $check::<1, 8>();
            $check::<2, 16>();
            $check::<4, 32>();
            $check::<8, 8>();
            $check::<8, 32>();
        };
    }

    // Lengths around every step boundary: empty, tails only, whole steps, steps + tail.
    fn lengths<const S: usize, const W: usize>() -> Vec<usize> {
        let step = S * W;
        vec![0, 1, step - 1, step, step + 1, 3 * step, 3 * step + 7]
    }

    fn read_matches<const S: usize, const W: usize>() {
        for n in lengths::<S, W>() {
            let w = words(n);
            assert_eq!(read::<S, W>(&w), plain_sum(&w), "S = {S}, W = {W}, n = {n}");
        }
        assert_eq!(read::<S, W>(&[u64::MAX, 2]), 1, "the sum wraps");
    }

    fn copy_matches<const S: usize, const W: usize>() {
        for n in lengths::<S, W>() {
            let src = words(n);
            let mut dst = vec![0u64; n];
            copy::<S, W>(&src, &mut dst, 0);
            assert_eq!(dst, src, "S = {S}, W = {W}, n = {n}");
            copy::<S, W>(&src, &mut dst, 5);
            assert!(dst.iter().zip(&src).all(|(d, s)| *d == s ^ 5));
        }
    }

    fn triad_matches<const S: usize, const W: usize>() {
        for n in lengths::<S, W>() {
            let b: Vec<f64> = (0..n).map(|i| i as f64 * 0.5 - 3.0).collect();
            let c: Vec<f64> = (0..n).map(|i| 1.0 / (i as f64 + 1.0)).collect();
            let mut a = vec![f64::NAN; n];
            triad::<S, W>(&mut a, &b, &c, 3.0);
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
