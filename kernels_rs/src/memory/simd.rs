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

use pulp::{Simd, WithSimd};

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
/// Unrollings (SIMD vectors per stream per step: 64 bytes each on AVX-512, 32 on AVX2)
/// every kernel is compiled for.
pub const UNROLLS: [usize; 3] = [1, 2, 4];

/// One shape of a loop: `streams` interleaved streams, `unroll` vectors of each per step. Only the shapes in [`STREAMS`] x [`UNROLLS`] can be made (they are compiled in).
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

/// Call `$m::$f::<_, N, U>($simd, $args)` for variant `$v`.
macro_rules! by_variant {
    ($v:expr, $m:ident::$f:ident, $simd:expr, ($($arg:expr),*)) => {
        match ($v.streams, $v.unroll) {
            (1, 1) => $m::$f::<_, 1, 1>($simd, $($arg),*),
            (1, 2) => $m::$f::<_, 1, 2>($simd, $($arg),*),
            (1, 4) => $m::$f::<_, 1, 4>($simd, $($arg),*),
            (2, 1) => $m::$f::<_, 2, 1>($simd, $($arg),*),
            (2, 2) => $m::$f::<_, 2, 2>($simd, $($arg),*),
            (2, 4) => $m::$f::<_, 2, 4>($simd, $($arg),*),
            (4, 1) => $m::$f::<_, 4, 1>($simd, $($arg),*),
            (4, 2) => $m::$f::<_, 4, 2>($simd, $($arg),*),
            (4, 4) => $m::$f::<_, 4, 4>($simd, $($arg),*),
            (8, 1) => $m::$f::<_, 8, 1>($simd, $($arg),*),
            (8, 2) => $m::$f::<_, 8, 2>($simd, $($arg),*),
            (8, 4) => $m::$f::<_, 8, 4>($simd, $($arg),*),
            _ => unreachable!("Variant::new admits only the compiled shapes"),
        }
    };
}

/// Run `op` on the vectors of `isa` (or the next narrower one this CPU has; `Scalar` for
/// the baseline). `pulp`'s `Simd::vectorize` calls `op.with_simd` inside a function
/// compiled for the instruction set; every `with_simd` below is `#[inline(always)]`, so
/// the kernel is compiled there. (Through a closure instead, LLVM declined to inline the
/// triad's twelve variants into it, and the triad ran as scalar code with calls to the
/// vector operations.)
#[inline(always)]
fn run<Op: WithSimd>(isa: Isa, op: Op) -> Op::Output {
    #[cfg(target_arch = "x86_64")]
    {
        if isa == Isa::Avx512 {
            if let Some(simd) = pulp::x86::V4::try_new() {
                return Simd::vectorize(simd, op);
            }
        }
        if isa != Isa::Baseline {
            if let Some(simd) = pulp::x86::V3::try_new() {
                return Simd::vectorize(simd, op);
            }
        }
    }
    op.with_simd(pulp::Scalar::new())
}

struct Read<'a> {
    v: Variant,
    words: &'a [u64],
}

impl WithSimd for Read<'_> {
    type Output = u64;

    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) -> u64 {
        by_variant!(self.v, kernels::read, simd, (self.words))
    }
}

struct Copy<'a> {
    v: Variant,
    src: &'a [u64],
    dst: &'a mut [u64],
    key: u64,
}

impl WithSimd for Copy<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) {
        by_variant!(
            self.v,
            kernels::copy,
            simd,
            (self.src, &mut *self.dst, self.key)
        )
    }
}

struct Triad<'a> {
    v: Variant,
    a: &'a mut [f64],
    b: &'a [f64],
    c: &'a [f64],
    q: f64,
}

impl WithSimd for Triad<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) {
        by_variant!(
            self.v,
            kernels::triad,
            simd,
            (&mut *self.a, self.b, self.c, self.q)
        )
    }
}

/// One read pass ([`kernels::read`]) of `words`; returns the sum so it is not optimized away.
pub fn read(isa: Isa, v: Variant, words: &[u64]) -> u64 {
    run(isa, Read { v, words })
}

/// One copy pass ([`kernels::copy`]) of `src` into `dst`.
pub fn copy(isa: Isa, v: Variant, src: &[u64], dst: &mut [u64]) {
    let key = black_box(0u64);
    run(isa, Copy { v, src, dst, key })
}

/// One triad pass ([`kernels::triad`]): `a = b + q c`.
pub fn triad(isa: Isa, v: Variant, a: &mut [f64], b: &[f64], c: &[f64], q: f64) {
    run(isa, Triad { v, a, b, c, q })
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
        // Whole steps, leftover vectors (37 = 4 x 8 + 5) and leftover words, on every path.
        for n in [8 * 32 * 3 + 5, 8 * 37 + 3, 5] {
            check_every_isa_and_variant(n);
        }
    }

    fn check_every_isa_and_variant(n: usize) {
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
