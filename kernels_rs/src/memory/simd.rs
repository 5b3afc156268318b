//! Which instruction set the loops of [`super::kernels`] run on, and the one place that
//! turns a runtime [`Variant`] into a monomorphized loop compiled for it.
//!
//! The crate is built for baseline x86-64 (SSE2, 16-byte loads); the loops are
//! `#[inline(always)]` and inlined here into functions that `pulp` compiles for AVX-512
//! (`V4`, 64-byte loads) or AVX2 (`V3`, 32-byte loads), chosen at run time from what the
//! CPU reports, as `crate::gemm` does. A read of DRAM is not limited by the load width,
//! but a read of L1 or L2 is: the probe must use the widest loads to be an upper bound at
//! every working-set size.

use std::hint::black_box;

use super::kernels;

/// The instruction set a measurement ran on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Isa {
    Avx512,
    Avx2,
    Baseline,
}

impl Isa {
    /// The widest instruction set this CPU has.
    pub fn widest() -> Isa {
        #[cfg(target_arch = "x86_64")]
        {
            if pulp::x86::V4::try_new().is_some() {
                return Isa::Avx512;
            }
            if pulp::x86::V3::try_new().is_some() {
                return Isa::Avx2;
            }
        }
        Isa::Baseline
    }

    pub fn name(self) -> &'static str {
        match self {
            Isa::Avx512 => "avx512",
            Isa::Avx2 => "avx2",
            Isa::Baseline => "baseline",
        }
    }
}

/// Stream counts every kernel is compiled for.
pub const STREAMS: [usize; 4] = [1, 2, 4, 8];
/// Unrollings (cache lines of 64 bytes per stream per step) every kernel is compiled for.
pub const UNROLLS: [usize; 3] = [1, 2, 4];

/// One shape of a loop: `streams` interleaved streams, `unroll` cache lines of each per
/// step. Only the shapes in [`STREAMS`] x [`UNROLLS`] can be made (they are compiled in).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Variant {
    streams: usize,
    unroll: usize,
}

impl Variant {
    /// The variant, if it is one of the compiled shapes.
    pub fn new(streams: usize, unroll: usize) -> Option<Variant> {
        (STREAMS.contains(&streams) && UNROLLS.contains(&unroll))
            .then_some(Variant { streams, unroll })
    }

    /// Every compiled variant.
    pub fn all() -> Vec<Variant> {
        STREAMS
            .iter()
            .flat_map(|&streams| {
                UNROLLS
                    .iter()
                    .map(move |&unroll| Variant { streams, unroll })
            })
            .collect()
    }

    pub fn streams(self) -> usize {
        self.streams
    }

    pub fn unroll(self) -> usize {
        self.unroll
    }
}

/// Call `$f::<S, W>($args)` for variant `$v` (`W` = 8 words = one cache line per unroll).
macro_rules! by_variant {
    ($v:expr, $m:ident::$f:ident, ($($arg:expr),*)) => {
        match ($v.streams, $v.unroll) {
            (1, 1) => $m::$f::<1, 8>($($arg),*),
            (1, 2) => $m::$f::<1, 16>($($arg),*),
            (1, 4) => $m::$f::<1, 32>($($arg),*),
            (2, 1) => $m::$f::<2, 8>($($arg),*),
            (2, 2) => $m::$f::<2, 16>($($arg),*),
            (2, 4) => $m::$f::<2, 32>($($arg),*),
            (4, 1) => $m::$f::<4, 8>($($arg),*),
            (4, 2) => $m::$f::<4, 16>($($arg),*),
            (4, 4) => $m::$f::<4, 32>($($arg),*),
            (8, 1) => $m::$f::<8, 8>($($arg),*),
            (8, 2) => $m::$f::<8, 16>($($arg),*),
            (8, 4) => $m::$f::<8, 32>($($arg),*),
            _ => unreachable!("Variant::new admits only the compiled shapes"),
        }
    };
}

/// Run `$body` compiled for `$isa` (falling back to the build's baseline when the CPU
/// lacks it, which [`Isa::widest`] never asks for).
macro_rules! on_isa {
    ($isa:expr, $body:expr) => {{
        #[cfg(target_arch = "x86_64")]
        {
            match $isa {
                Isa::Avx512 => match pulp::x86::V4::try_new() {
                    Some(simd) => simd.vectorize(|| $body),
                    None => $body,
                },
                Isa::Avx2 => match pulp::x86::V3::try_new() {
                    Some(simd) => simd.vectorize(|| $body),
                    None => $body,
                },
                Isa::Baseline => $body,
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            let _ = $isa;
            $body
        }
    }};
}

/// One read pass ([`kernels::read`]) of `words`; returns the sum so it is not optimized away.
pub fn read(isa: Isa, v: Variant, words: &[u64]) -> u64 {
    on_isa!(isa, by_variant!(v, kernels::read, (words)))
}

/// One copy pass ([`kernels::copy`]) of `src` into `dst`.
pub fn copy(isa: Isa, v: Variant, src: &[u64], dst: &mut [u64]) {
    let key = black_box(0u64);
    on_isa!(isa, by_variant!(v, kernels::copy, (src, &mut *dst, key)))
}

/// One triad pass ([`kernels::triad`]): `a = b + q c`.
pub fn triad(isa: Isa, v: Variant, a: &mut [f64], b: &[f64], c: &[f64], q: f64) {
    on_isa!(isa, by_variant!(v, kernels::triad, (&mut *a, b, c, q)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_compiled_shapes_are_variants() {
        assert_eq!(Variant::all().len(), STREAMS.len() * UNROLLS.len());
        assert!(Variant::new(3, 1).is_none());
        assert!(Variant::new(4, 8).is_none());
        assert!(Variant::new(0, 1).is_none());
        assert_eq!(
            Variant::new(8, 4).map(|v| (v.streams(), v.unroll())),
            Some((8, 4))
        );
    }

    #[test]
    fn every_isa_and_variant_gives_the_plain_results() {
        let n = 8 * 32 * 3 + 5;
        let words: Vec<u64> = (0..n as u64).map(|i| i * 7 + u64::MAX / 5).collect();
        let sum = words.iter().fold(0u64, |a, &w| a.wrapping_add(w));
        let b: Vec<f64> = (0..n).map(|i| i as f64).collect();
        let c: Vec<f64> = (0..n).map(|i| 0.25 * i as f64 + 1.0).collect();
        for isa in [Isa::Baseline, Isa::Avx2, Isa::Avx512] {
            for v in Variant::all() {
                assert_eq!(read(isa, v, &words), sum, "{isa:?} {v:?}");
                let mut dst = vec![0u64; n];
                copy(isa, v, &words, &mut dst);
                assert_eq!(dst, words, "{isa:?} {v:?}");
                let mut a = vec![0.0; n];
                triad(isa, v, &mut a, &b, &c, 3.0);
                assert!((0..n).all(|i| a[i] == b[i] + 3.0 * c[i]), "{isa:?} {v:?}");
            }
        }
    }
}
