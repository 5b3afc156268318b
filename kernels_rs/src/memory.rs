//! Single-core memory bandwidth, STREAM-style: the physical limit the figures draw.
//!
//! A kernel that must move B bytes cannot run faster than B / (bandwidth of the level
//! its data live in). The probe must therefore be an upper bound: the fastest one core
//! moves data, not one simple loop's rate. It measures three kernels, as STREAM does:
//! read (a sum), copy (`a = b`) and triad (`a = b + q c`), each in every compiled
//! [`Variant`] (1, 2, 4 or 8 interleaved streams; 1, 2 or 4 SIMD vectors unrolled per
//! stream), on the widest instruction set the CPU has ([`simd`]), over buffers on huge
//! pages as NumPy's are ([`buffer`]); the best of several passes (the one least disturbed).
//!
//! Bytes are counted as STREAM counts them: every array read or written once per pass
//! (copy 2 words per element, triad 3). The write-allocate traffic of a store that
//! misses the cache (the line is read before it is written: one more word per written
//! element) is NOT counted; [`Measurement::write_allocate_bytes`] says how much it is.

pub mod buffer;
pub mod kernels;
pub mod simd;

use std::hint::black_box;
use std::time::Instant;

pub use buffer::BufferError;
pub use simd::{Isa, Variant};

/// Default buffer size: 512 MiB, several times most last-level caches of today's CPUs.
pub const DEFAULT_BYTES: usize = 512 << 20;

/// More passes per timing than any working set needs (16 KiB in L1 takes ~0.2 us).
pub const MAX_PASSES: usize = 1 << 24;

/// Bytes of one element of every array (u64 words or f64 values).
const ELEMENT: usize = 8;

/// A STREAM kernel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kernel {
    /// Sum one array.
    Read,
    /// Copy one array into another.
    Copy,
    /// `a = b + q c`.
    Triad,
}

impl Kernel {
    pub const ALL: [Kernel; 3] = [Kernel::Read, Kernel::Copy, Kernel::Triad];

    pub fn parse(name: &str) -> Option<Kernel> {
        Kernel::ALL.into_iter().find(|k| k.name() == name)
    }

    pub fn name(self) -> &'static str {
        match self {
            Kernel::Read => "read",
            Kernel::Copy => "copy",
            Kernel::Triad => "triad",
        }
    }

    /// Arrays the kernel touches (all of one length).
    pub fn arrays(self) -> usize {
        match self {
            Kernel::Read => 1,
            Kernel::Copy => 2,
            Kernel::Triad => 3,
        }
    }

    /// Arrays the kernel writes.
    pub fn written(self) -> usize {
        match self {
            Kernel::Read => 0,
            Kernel::Copy | Kernel::Triad => 1,
        }
    }

    /// The smallest working set in bytes: one element per array.
    pub fn min_bytes(self) -> usize {
        self.arrays() * ELEMENT
    }
}

/// The arrays of one kernel, filled (every page written) before any timing.
enum Arrays {
    Read(Vec<u64>),
    Copy(Vec<u64>, Vec<u64>),
    Triad(Vec<f64>, Vec<f64>, Vec<f64>),
}

fn word(i: usize) -> u64 {
    (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

impl Arrays {
    /// A working set of at most `n_bytes` split evenly into the kernel's arrays.
    fn new(kernel: Kernel, n_bytes: usize) -> Result<Arrays, BufferError> {
        let len = n_bytes / (kernel.arrays() * ELEMENT);
        buffer::check_fits((len * kernel.arrays() * ELEMENT) as u128)?;
        let value = |i: usize| 1.0 + (i % 1024) as f64;
        Ok(match kernel {
            Kernel::Read => Arrays::Read(buffer::filled(len, word)?),
            Kernel::Copy => Arrays::Copy(buffer::filled(len, word)?, buffer::filled(len, word)?),
            Kernel::Triad => Arrays::Triad(
                buffer::filled(len, value)?,
                buffer::filled(len, value)?,
                buffer::filled(len, value)?,
            ),
        })
    }

    /// Elements of each array.
    fn len(&self) -> usize {
        match self {
            Arrays::Read(a) | Arrays::Copy(a, _) => a.len(),
            Arrays::Triad(a, _, _) => a.len(),
        }
    }

    /// One pass of the kernel over the arrays.
    fn pass(&mut self, isa: Isa, v: Variant) {
        match self {
            Arrays::Read(words) => {
                black_box(simd::read(isa, v, black_box(words)));
            }
            Arrays::Copy(src, dst) => simd::copy(isa, v, black_box(src), black_box(dst)),
            Arrays::Triad(a, b, c) => simd::triad(isa, v, black_box(a), b, c, black_box(3.0)),
        }
    }

    /// Seconds of `passes` back-to-back passes.
    fn time(&mut self, isa: Isa, v: Variant, passes: usize) -> f64 {
        let start = Instant::now();
        for _ in 0..passes {
            self.pass(isa, v);
        }
        start.elapsed().as_secs_f64()
    }
}

/// What one kernel in one variant measured at one working-set size.
#[derive(Clone, Debug, PartialEq)]
pub struct Measurement {
    pub kernel: Kernel,
    pub variant: Variant,
    pub isa: Isa,
    /// Bytes of all the kernel's arrays (the requested size rounded down to whole
    /// elements per array).
    pub working_set_bytes: usize,
    /// Bytes counted per pass, as STREAM counts them (each array once): here equal to
    /// the working set.
    pub bytes_per_pass: usize,
    /// Bytes per pass a write-allocating cache reads in addition (the written arrays'
    /// bytes), not counted in `bytes_per_pass`.
    pub write_allocate_bytes: usize,
    /// Passes in each timing, so that a timing of a small working set lasts at least the
    /// requested minimum.
    pub passes_per_timing: usize,
    /// Seconds of every timing (each of `passes_per_timing` passes).
    pub seconds: Vec<f64>,
}

impl Measurement {
    /// Bytes (as counted in `bytes_per_pass`) per second of the fastest timing.
    pub fn best_bytes_per_second(&self) -> f64 {
        let best = self.seconds.iter().copied().fold(f64::INFINITY, f64::min);
        (self.bytes_per_pass as f64 * self.passes_per_timing as f64) / best
    }
}

/// Passes per timing so one timing lasts at least `min_seconds`, from `one_pass` seconds.
fn passes_for(min_seconds: f64, one_pass: f64) -> usize {
    if min_seconds <= 0.0 {
        return 1;
    }
    let passes = (min_seconds / one_pass.max(1e-9)).ceil();
    passes.clamp(1.0, MAX_PASSES as f64) as usize
}

/// Time `timings` timings of `kernel` in `variant` over a working set of `n_bytes`, each
/// timing lasting at least `min_seconds` (one untimed warm-up pass first, which also
/// calibrates the number of passes).
pub fn measure(
    kernel: Kernel,
    variant: Variant,
    n_bytes: usize,
    timings: usize,
    min_seconds: f64,
) -> Result<Measurement, BufferError> {
    let isa = Isa::widest();
    let mut arrays = Arrays::new(kernel, n_bytes)?;
    arrays.pass(isa, variant);
    let passes = passes_for(min_seconds, arrays.time(isa, variant, 1));
    let seconds = (0..timings)
        .map(|_| arrays.time(isa, variant, passes))
        .collect();
    let array_bytes = arrays.len() * ELEMENT;
    Ok(Measurement {
        kernel,
        variant,
        isa,
        working_set_bytes: array_bytes * kernel.arrays(),
        bytes_per_pass: array_bytes * kernel.arrays(),
        write_allocate_bytes: array_bytes * kernel.written(),
        passes_per_timing: passes,
        seconds,
    })
}

/// [`measure`] at every size of `sizes` (a bandwidth-against-working-set curve); the
/// error names the index of the size that failed.
pub fn curve(
    kernel: Kernel,
    variant: Variant,
    sizes: &[usize],
    timings: usize,
    min_seconds: f64,
) -> Result<Vec<Measurement>, (usize, BufferError)> {
    sizes
        .iter()
        .enumerate()
        .map(|(i, &n)| measure(kernel, variant, n, timings, min_seconds).map_err(|e| (i, e)))
        .collect()
}

/// What [`read_bandwidth`] measured.
#[derive(Clone, Debug, PartialEq)]
pub struct Bandwidth {
    /// Bytes read per pass (the buffer size rounded down to whole 8-byte words).
    pub bytes: usize,
    /// Seconds of the fastest variant's pass in every round.
    pub seconds: Vec<f64>,
    /// The variant of the fastest pass of all.
    pub best_variant: Variant,
    pub isa: Isa,
}

impl Bandwidth {
    /// Bytes per second of the fastest pass.
    pub fn best_bytes_per_second(&self) -> f64 {
        let best = self.seconds.iter().copied().fold(f64::INFINITY, f64::min);
        self.bytes as f64 / best
    }
}

/// The best single-core read rate over one buffer of `bytes` bytes: `repeats` rounds,
/// each timing one pass of every read variant (interleaved, so a slow spell of the
/// machine hits every variant alike). The rate is the fastest pass of all.
///
/// Returns None when the buffer cannot be allocated (the caller reports it).
pub fn read_bandwidth(bytes: usize, repeats: usize) -> Option<Bandwidth> {
    let isa = Isa::widest();
    let mut arrays = Arrays::new(Kernel::Read, bytes).ok()?;
    let variants = Variant::all();
    let mut best = (f64::INFINITY, variants[0]);
    let seconds = (0..repeats)
        .map(|_| {
            let mut round = f64::INFINITY;
            for &v in &variants {
                let t = arrays.time(isa, v, 1);
                round = round.min(t);
                if t < best.0 {
                    best = (t, v);
                }
            }
            round
        })
        .collect();
    Some(Bandwidth {
        bytes: arrays.len() * ELEMENT,
        seconds,
        best_variant: best.1,
        isa,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_small_read_measurement_is_positive_and_finite() {
        let bw = read_bandwidth(1 << 20, 3).unwrap();
        assert_eq!(bw.bytes, 1 << 20);
        assert_eq!(bw.seconds.len(), 3);
        let rate = bw.best_bytes_per_second();
        assert!(rate.is_finite() && rate > 0.0);
        assert_eq!(read_bandwidth(8 * 3 + 7, 1).unwrap().bytes, 24);
    }

    #[test]
    fn an_impossible_buffer_is_none_not_an_abort() {
        assert!(read_bandwidth(usize::MAX, 1).is_none());
    }

    #[test]
    fn bytes_are_counted_as_stream_counts_them() {
        let v = Variant::new(2, 1).unwrap();
        // 1000 bytes: read 125 words; copy 2 x 62; triad 3 x 41.
        for (kernel, working_set, write_allocate) in [
            (Kernel::Read, 1000, 0),
            (Kernel::Copy, 2 * 62 * 8, 62 * 8),
            (Kernel::Triad, 3 * 41 * 8, 41 * 8),
        ] {
            let m = measure(kernel, v, 1000, 2, 0.0).unwrap();
            assert_eq!(m.working_set_bytes, working_set, "{kernel:?}");
            assert_eq!(m.bytes_per_pass, working_set, "{kernel:?}");
            assert_eq!(m.write_allocate_bytes, write_allocate, "{kernel:?}");
            assert_eq!(m.passes_per_timing, 1);
            assert_eq!(m.seconds.len(), 2);
            assert!(m.best_bytes_per_second() > 0.0);
        }
    }

    #[test]
    fn small_working_sets_repeat_passes_to_reach_the_minimum_time() {
        let v = Variant::new(1, 1).unwrap();
        // A 16 KiB pass takes microseconds, far below 50 ms however busy the machine.
        let m = measure(Kernel::Read, v, 16 << 10, 2, 0.05).unwrap();
        assert!(m.passes_per_timing > 1);
        assert_eq!(passes_for(1.0, 0.0), MAX_PASSES);
        assert_eq!(passes_for(0.0, 1e-6), 1);
        assert_eq!(passes_for(1e-3, 1e-4), 10);
    }

    #[test]
    fn a_curve_names_the_size_that_failed() {
        let v = Variant::new(1, 1).unwrap();
        let ok = curve(Kernel::Copy, v, &[1 << 12, 1 << 14], 1, 0.0).unwrap();
        assert_eq!(ok.len(), 2);
        let err = curve(Kernel::Read, v, &[1 << 12, usize::MAX], 1, 0.0).unwrap_err();
        assert_eq!(err.0, 1);
    }

    #[test]
    fn kernels_parse_by_name() {
        for k in Kernel::ALL {
            assert_eq!(Kernel::parse(k.name()), Some(k));
        }
        assert_eq!(Kernel::parse("scale"), None);
        assert_eq!(Kernel::Triad.min_bytes(), 24);
    }
}
