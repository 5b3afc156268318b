//! The register-tiled kernel of [`super::atb_with`] and its SIMD dispatch.

use num_complex::Complex64 as C64;

use super::lanes::{Lanes, Scalar};
use super::{direct, Conj, Gemm, Path};

/// The tiled kernel in portable scalar code.
pub(super) fn scalar(g: Gemm, a: &[C64], b: &[C64], c: &mut [C64], panel: &mut [f64]) {
    tiled::<Scalar, 2, 2>(Scalar, g, a, b, c, panel)
}

/// The tiled kernel on the widest instruction set of `path` this CPU has (else the next
/// lower one).
#[cfg(target_arch = "x86_64")]
pub(super) fn simd(path: Path, g: Gemm, a: &[C64], b: &[C64], c: &mut [C64], panel: &mut [f64]) {
    use pulp::x86::{V3, V4};
    if path == Path::TiledAvx512 {
        if let Some(simd) = V4::try_new() {
            // 4 rows x 8 complex columns: 16 accumulators of the 32 zmm registers.
            return simd.vectorize(|| tiled::<V4, 4, 2>(simd, g, a, b, c, panel));
        }
    }
    if let Some(simd) = V3::try_new() {
        // 2 rows x 4 complex columns: 8 accumulators of the 16 ymm registers.
        return simd.vectorize(|| tiled::<V3, 2, 2>(simd, g, a, b, c, panel));
    }
    tiled::<Scalar, 2, 2>(Scalar, g, a, b, c, panel)
}

#[cfg(not(target_arch = "x86_64"))]
pub(super) fn simd(_path: Path, g: Gemm, a: &[C64], b: &[C64], c: &mut [C64], panel: &mut [f64]) {
    tiled::<Scalar, 2, 2>(Scalar, g, a, b, c, panel)
}
/// Signs `(s1, s2)` with `c = s1 * acc_re + s2 * swap_pairs(acc_im)` per conjugation,
/// where `acc_re = sum Re(a) b` and `acc_im = sum Im(a) b` lane by lane (see [`combine`]).
#[inline(always)]
fn combine_signs(conj: Conj) -> ((f64, f64), (f64, f64)) {
    match (conj.a, conj.b) {
        (false, false) => ((1.0, 1.0), (-1.0, 1.0)),
        (false, true) => ((1.0, -1.0), (1.0, 1.0)),
        (true, false) => ((1.0, 1.0), (1.0, -1.0)),
        (true, true) => ((1.0, -1.0), (-1.0, -1.0)),
    }
}

/// The register-tiled product: for every panel of `NR = NV * W / 2` columns, copy the
/// `k x NR` panel of `b` into contiguous scratch (no cache-set conflicts when `n` is a
/// power of two), then sweep `MR`-row tiles of `c`; leftover rows use 1-row tiles,
/// leftover columns one-vector tiles, then the direct loop. `panel` holds at least
/// `2 k NR` values.
#[inline(always)]
fn tiled<S: Lanes, const MR: usize, const NV: usize>(
    s: S,
    g: Gemm,
    a: &[C64],
    b: &[C64],
    c: &mut [C64],
    panel: &mut [f64],
) {
    let Gemm { m, n, .. } = g;
    let half = S::W / 2; // complex numbers per vector
    let wide = NV * half;
    let n_wide = n / wide * wide;
    let n_vec = n_wide + (n - n_wide) / half * half;
    {
        let bf: &[f64] = pulp::bytemuck::cast_slice(b);
        let cf: &mut [f64] = pulp::bytemuck::cast_slice_mut(c);
        let mut j0 = 0;
        while j0 < n_wide {
            panel_tiles::<S, MR, NV>(s, g, a, bf, j0, panel, cf);
            j0 += wide;
        }
        while j0 < n_vec {
            panel_tiles::<S, MR, 1>(s, g, a, bf, j0, panel, cf);
            j0 += half;
        }
    }
    if n_vec < n {
        direct(g, a, 0, m, b, n_vec, n, c);
    }
}

/// All row tiles of the column panel starting at `j0` (`NV` vectors wide).
#[inline(always)]
fn panel_tiles<S: Lanes, const MR: usize, const NV: usize>(
    s: S,
    g: Gemm,
    a: &[C64],
    bf: &[f64],
    j0: usize,
    panel: &mut [f64],
    cf: &mut [f64],
) {
    let Gemm { k, m, n, .. } = g;
    let width = NV * S::W; // f64 values per panel row
    let panel = &mut panel[..k * width];
    for (p, row) in panel.chunks_exact_mut(width).enumerate() {
        let start = 2 * (p * n + j0);
        row.copy_from_slice(&bf[start..start + width]);
    }
    let m_tiles = m / MR * MR;
    let mut i0 = 0;
    while i0 < m_tiles {
        tile::<S, MR, NV>(s, g, a, i0, panel, j0, cf);
        i0 += MR;
    }
    while i0 < m {
        tile::<S, 1, NV>(s, g, a, i0, panel, j0, cf);
        i0 += 1;
    }
}

/// One `MR x (NV * W / 2)` tile of `c` at row `i0`, column `j0`.
#[inline(always)]
fn tile<S: Lanes, const MR: usize, const NV: usize>(
    s: S,
    g: Gemm,
    a: &[C64],
    i0: usize,
    panel: &[f64],
    j0: usize,
    cf: &mut [f64],
) {
    let Gemm {
        m,
        n,
        conj,
        accumulate,
        ..
    } = g;
    let w = S::W;
    let zero = s.splat(0.0);
    let mut acc_re = [[zero; NV]; MR];
    let mut acc_im = [[zero; NV]; MR];
    for (p, b_row) in panel.chunks_exact(NV * w).enumerate() {
        let mut bv = [zero; NV];
        for (v, lanes) in bv.iter_mut().zip(b_row.chunks_exact(w)) {
            *v = s.load(lanes);
        }
        let a_row = &a[p * m + i0..p * m + i0 + MR];
        for (i, x) in a_row.iter().enumerate() {
            let (xr, xi) = (s.splat(x.re), s.splat(x.im));
            for v in 0..NV {
                acc_re[i][v] = s.mul_add(xr, bv[v], acc_re[i][v]);
                acc_im[i][v] = s.mul_add(xi, bv[v], acc_im[i][v]);
            }
        }
    }
    let ((r1, i1), (r2, i2)) = combine_signs(conj);
    let (s1, s2) = (s.pairs(r1, i1), s.pairs(r2, i2));
    for i in 0..MR {
        let start = 2 * ((i0 + i) * n + j0);
        let c_row = &mut cf[start..start + NV * w];
        for (v, out) in c_row.chunks_exact_mut(w).enumerate() {
            let value = s.mul_add(s2, s.swap_pairs(acc_im[i][v]), s.mul(s1, acc_re[i][v]));
            let value = if accumulate {
                s.add(value, s.load(out))
            } else {
                value
            };
            s.store(value, out);
        }
    }
}
