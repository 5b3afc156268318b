//! The complex product `C = op(A)^T op(B)` that every tensor-train contraction reduces
//! to (`crate::tt`), `op` being identity or complex conjugation; all operands row-major
//! and contiguous, `A` is `k x m`, `B` is `k x n`.
//!
//! [`atb`] computes that product. Tiny products (at most [`SMALL_MACS`] complex
//! multiply-adds, e.g. chi <= 2 for d = 2) run a direct loop with no set-up at all.
//! Larger ones run a register-tiled kernel (`tiled`): each `MR x NR` tile of `C` is
//! accumulated in SIMD registers from the operands in place (only a `k x NR` panel of
//! `B` is copied into a reused buffer), with separate real/imaginary accumulators so the
//! inner loop is pure fused multiply-adds and conjugation costs nothing (it only changes
//! the signs of the final combination). The instruction set is chosen at run time with
//! `pulp` (AVX-512, AVX2+FMA, or portable scalar code: `lanes`); the crate itself is
//! built for baseline x86-64. Everything runs on the calling thread.

mod lanes;
mod tiled;

use std::cell::RefCell;

use num_complex::Complex64 as C64;

use crate::scratch::with_buffer;

const ZERO: C64 = C64::new(0.0, 0.0);

/// At or below this many complex multiply-adds (`k * m * n`) [`atb`] runs the direct
/// loop: only there does the tiled kernel's bookkeeping (panel copy, tile sweep, SIMD
/// dispatch) cost more than it saves. Measured on the development machine (AVX-512):
/// a site_update at chi = 1 (2 x 2 multiply-adds) takes 0.05 us direct and 0.08 us
/// tiled, at chi = 2 (16 + 16) both about 0.1 us, at chi = 4 (128 + 128) 0.57 us
/// direct and 0.13 us tiled.
pub const SMALL_MACS: usize = 16;

/// Which operands of [`atb`] are complex-conjugated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Conj {
    pub a: bool,
    pub b: bool,
}

impl Conj {
    pub const NONE: Conj = Conj { a: false, b: false };
    pub const A: Conj = Conj { a: true, b: false };
    pub const B: Conj = Conj { a: false, b: true };
    pub const BOTH: Conj = Conj { a: true, b: true };
}

/// The code path of [`atb_with`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Path {
    /// Direct loop: one dot product per output element, no set-up.
    Direct,
    /// Register-tiled, portable scalar code.
    TiledScalar,
    /// Register-tiled, AVX2 + FMA (256-bit), if the CPU has them.
    TiledAvx2,
    /// Register-tiled, AVX-512 (512-bit), if the CPU has it.
    TiledAvx512,
}

impl Path {
    /// Every path this CPU can run (always Direct and TiledScalar).
    pub fn available() -> Vec<Path> {
        let mut paths = vec![Path::Direct, Path::TiledScalar];
        #[cfg(target_arch = "x86_64")]
        {
            if pulp::x86::V3::try_new().is_some() {
                paths.push(Path::TiledAvx2);
            }
            if pulp::x86::V4::try_new().is_some() {
                paths.push(Path::TiledAvx512);
            }
        }
        paths
    }

    /// The tiled path [`atb`] uses for products above [`SMALL_MACS`] on this CPU.
    pub fn best_tiled() -> Path {
        *Path::available()
            .last()
            .expect("available() always lists the portable paths")
    }

    pub fn name(self) -> &'static str {
        match self {
            Path::Direct => "direct",
            Path::TiledScalar => "tiled-scalar",
            Path::TiledAvx2 => "tiled-avx2-fma",
            Path::TiledAvx512 => "tiled-avx512",
        }
    }
}

fn check_atb_lengths(k: usize, m: usize, n: usize, a: &[C64], b: &[C64], c: &[C64]) {
    assert_eq!(
        a.len(),
        k * m,
        "atb: a must hold k * m = {k} * {m} elements"
    );
    assert_eq!(
        b.len(),
        k * n,
        "atb: b must hold k * n = {k} * {n} elements"
    );
    assert_eq!(
        c.len(),
        m * n,
        "atb: c must hold m * n = {m} * {n} elements"
    );
}

/// `c[i, j] = sum_p op(a[p, i]) * op(b[p, j])`: `a` is `k x m`, `b` is `k x n`, `c` is
/// `m x n`, all row-major and contiguous; `c` is overwritten (never read).
///
/// # Panics
/// If a slice length does not match `k`, `m`, `n`.
pub fn atb(k: usize, m: usize, n: usize, a: &[C64], b: &[C64], conj: Conj, c: &mut [C64]) {
    let path = if k.saturating_mul(m).saturating_mul(n) <= SMALL_MACS {
        Path::Direct
    } else {
        Path::TiledAvx512 // the best available; atb_with falls back
    };
    atb_with(path, k, m, n, a, b, conj, c);
}

/// [`atb`] on a chosen path. A SIMD path the CPU lacks falls back to the next lower
/// one, so every path is safe to request on every machine (tests run them all).
#[allow(clippy::too_many_arguments)]
pub fn atb_with(
    path: Path,
    k: usize,
    m: usize,
    n: usize,
    a: &[C64],
    b: &[C64],
    conj: Conj,
    c: &mut [C64],
) {
    check_atb_lengths(k, m, n, a, b, c);
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        c.fill(ZERO);
        return;
    }
    if path == Path::Direct {
        let g = Gemm {
            k,
            m,
            n,
            conj,
            accumulate: false,
        };
        return direct(g, a, 0, m, b, 0, n, c);
    }
    // The panel buffer is borrowed here, outside the SIMD region, so that everything
    // inside `vectorize` is inlined into the function compiled for that instruction set.
    let panel_len = 2 * KC.min(k) * MAX_PANEL_COMPLEX;
    with_buffer(&PANEL, panel_len + PANEL_ALIGN_SLACK, |buffer| {
        // Start the panel on a 64-byte boundary, so no 512-bit load of it splits a cache line.
        let offset = buffer.as_ptr().align_offset(64).min(PANEL_ALIGN_SLACK);
        let panel = &mut buffer[offset..offset + panel_len];
        // Passes over at most KC rows of a and b; later passes add to c.
        for k0 in (0..k).step_by(KC) {
            let depth = KC.min(k - k0);
            let g = Gemm {
                k: depth,
                m,
                n,
                conj,
                accumulate: k0 > 0,
            };
            let a = &a[k0 * m..(k0 + depth) * m];
            let b = &b[k0 * n..(k0 + depth) * n];
            match path {
                Path::TiledAvx2 | Path::TiledAvx512 => tiled::simd(path, g, a, b, c, panel),
                _ => tiled::scalar(g, a, b, c, panel),
            }
        }
    })
}

/// The tiled kernel's pass depth: the copied panel of `b` holds at most this many rows
/// (32 KiB on AVX-512), so it stays in cache and its buffer stays small whatever `k` is.
const KC: usize = 256;

/// Extra f64 values in the panel buffer, enough to start the panel 64-byte aligned.
const PANEL_ALIGN_SLACK: usize = 8;

/// The widest column panel of any tiled kernel, in complex numbers (AVX-512: 2 x 4).
const MAX_PANEL_COMPLEX: usize = 8;

/// Dimensions and conjugation of one product; `a` is `k x m`, `b` is `k x n`.
#[derive(Clone, Copy)]
struct Gemm {
    k: usize,
    m: usize,
    n: usize,
    conj: Conj,
    /// Add to `c` instead of overwriting it.
    accumulate: bool,
}

/// Combine the four real sums of one output element into the complex result.
/// `rr = sum Re a Re b`, `ri = sum Re a Im b`, `ir = sum Im a Re b`, `ii = sum Im a Im b`.
#[inline(always)]
fn combine(rr: f64, ri: f64, ir: f64, ii: f64, conj: Conj) -> C64 {
    match (conj.a, conj.b) {
        (false, false) => C64::new(rr - ii, ri + ir),
        (false, true) => C64::new(rr + ii, ir - ri),
        (true, false) => C64::new(rr + ii, ri - ir),
        (true, true) => C64::new(rr - ii, -(ri + ir)),
    }
}

/// The direct loop over rows `i0..i1` and columns `j0..j1` of `c` (also the tiled
/// kernel's fringe): one dot product over `p` per output element.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn direct(
    g: Gemm,
    a: &[C64],
    i0: usize,
    i1: usize,
    b: &[C64],
    j0: usize,
    j1: usize,
    c: &mut [C64],
) {
    let Gemm {
        k,
        m,
        n,
        conj,
        accumulate,
    } = g;
    for i in i0..i1 {
        for j in j0..j1 {
            let (mut rr, mut ri, mut ir, mut ii) = (0.0, 0.0, 0.0, 0.0);
            for p in 0..k {
                let x = a[p * m + i];
                let y = b[p * n + j];
                rr += x.re * y.re;
                ri += x.re * y.im;
                ir += x.im * y.re;
                ii += x.im * y.im;
            }
            let value = combine(rr, ri, ir, ii, conj);
            c[i * n + j] = if accumulate {
                c[i * n + j] + value
            } else {
                value
            };
        }
    }
}

thread_local! {
    /// The copied `k x NR` panel of `B` (as f64), reused by every tiled product.
    static PANEL: RefCell<Vec<f64>> = const { RefCell::new(Vec::new()) };
}

#[cfg(test)]
mod tests;
