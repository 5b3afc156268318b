//! Single-core memory read bandwidth: the physical limit the figures draw.
//!
//! A kernel that must read B bytes from main memory cannot run faster than
//! B / (read bandwidth). [`read_bandwidth`] measures that bandwidth the simplest way a
//! kernel could use it: one thread summing a buffer much larger than the caches,
//! best of several passes (the best pass is the one least disturbed by other work).

use std::hint::black_box;
use std::time::Instant;

/// Default buffer size: 512 MiB, several times any last-level cache of today's CPUs.
pub const DEFAULT_BYTES: usize = 512 << 20;

/// What [`read_bandwidth`] measured.
#[derive(Clone, Debug, PartialEq)]
pub struct Bandwidth {
    /// Bytes read per pass (the buffer size rounded down to whole 8-byte words).
    pub bytes: usize,
    /// Seconds of every timed pass.
    pub seconds: Vec<f64>,
}

impl Bandwidth {
    /// Bytes per second of the fastest pass.
    pub fn best_bytes_per_second(&self) -> f64 {
        let best = self.seconds.iter().copied().fold(f64::INFINITY, f64::min);
        self.bytes as f64 / best
    }
}

/// Sequential streams read at once by [`sum_words`]. One stream underestimates what a
/// core can read: kernels such as dot (x and y) or TTV (subs and vals) read two or more
/// streams at once. Measured on this project's 2-core Xeon VM, summing one stream read
/// ~7 GB/s and four ~11 GB/s, about what the two-stream dot reaches.
pub const STREAMS: usize = 4;

/// The wrapping sum of `words`, read as [`STREAMS`] sequential streams at once (one per
/// quarter of the buffer). Zipping the four slices leaves no bounds checks in the loop, so
/// LLVM vectorizes it and the loop runs at the memory's speed.
pub fn sum_words(words: &[u64]) -> u64 {
    let quarter = words.len() / STREAMS;
    let (a, rest) = words.split_at(quarter);
    let (b, rest) = rest.split_at(quarter);
    let (c, rest) = rest.split_at(quarter);
    let (d, tail) = rest.split_at(quarter);
    let mut sums = [0u64; STREAMS];
    for (((wa, wb), wc), wd) in a.iter().zip(b).zip(c).zip(d) {
        sums[0] = sums[0].wrapping_add(*wa);
        sums[1] = sums[1].wrapping_add(*wb);
        sums[2] = sums[2].wrapping_add(*wc);
        sums[3] = sums[3].wrapping_add(*wd);
    }
    let tail_sum = tail.iter().fold(0u64, |acc, &w| acc.wrapping_add(w));
    sums.iter()
        .fold(tail_sum, |total, &s| total.wrapping_add(s))
}

/// Time `repeats` passes that read a freshly written buffer of `bytes` bytes.
///
/// Returns None when the buffer cannot be allocated (the caller reports it).
pub fn read_bandwidth(bytes: usize, repeats: usize) -> Option<Bandwidth> {
    let words = bytes / 8;
    let mut buffer: Vec<u64> = Vec::new();
    buffer.try_reserve_exact(words).ok()?;
    // Writing every word maps every page before the first timed pass.
    buffer.extend((0..words as u64).map(|i| i.wrapping_mul(0x9E37_79B9_7F4A_7C15)));
    let seconds = (0..repeats)
        .map(|_| {
            let start = Instant::now();
            black_box(sum_words(black_box(&buffer)));
            start.elapsed().as_secs_f64()
        })
        .collect();
    Some(Bandwidth {
        bytes: words * 8,
        seconds,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_wrap_and_match_a_plain_loop() {
        let words = [u64::MAX, 2, 3];
        assert_eq!(sum_words(&words), 4);
        assert_eq!(sum_words(&[]), 0);
        for n in 0..40u64 {
            let words: Vec<u64> = (0..n).map(|i| i * 3 + u64::MAX / 2).collect();
            let plain = words.iter().fold(0u64, |acc, &w| acc.wrapping_add(w));
            assert_eq!(sum_words(&words), plain, "n = {n}");
        }
    }

    #[test]
    fn a_small_measurement_is_positive_and_finite() {
        let bw = read_bandwidth(1 << 20, 3).unwrap();
        assert_eq!(bw.bytes, 1 << 20);
        assert_eq!(bw.seconds.len(), 3);
        let rate = bw.best_bytes_per_second();
        assert!(rate.is_finite() && rate > 0.0);
    }

    #[test]
    fn an_impossible_buffer_is_none_not_an_abort() {
        assert!(read_bandwidth(usize::MAX, 1).is_none());
    }
}
