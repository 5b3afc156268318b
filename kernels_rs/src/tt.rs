//! Tensor-train (MPS) inner-product contractions on complex128 (`Complex64`).
//!
//! The workload of the TT inner-product overhead note: the pairwise contractions of
//! `<bra|ket>` for two tensor trains with physical dimension `d` and bond dimension `chi`,
//! bra operands complex-conjugated.
//!
//! # Index conventions
//!
//! Row-major (C order) arrays whose axes are in the order the note lists them:
//! environment `env[chi_bra, chi_ket]`, site tensors `bra[chi_left, d, chi_right]` and
//! `ket[chi_left, d, chi_right]`, first-site operands `bra_first[d, chi]`,
//! `ket_first[d, chi]`. In NumPy `einsum` notation:
//!
//! | contraction   | definition                                                    | output |
//! |---------------|---------------------------------------------------------------|--------|
//! | `first_site`  | `einsum("sa,sb->ab", bra_first.conj(), ket_first)`            | `[chi_bra, chi_ket]` |
//! | `env_bra`     | `einsum("ab,asc->bsc", env, bra.conj())`                      | `[chi_ket, d, chi_bra']` |
//! | `tmp_ket`     | `einsum("bsc,bse->ce", tmp, ket)`                             | `[chi_bra', chi_ket']` |
//! | `site_update` | `tmp_ket(env_bra(env, bra), ket)`                             | `[chi_bra', chi_ket']` |
//! | `inner`       | `env = [[1]]`, `site_update` at every site, result `env[0, 0]` | scalar |
//!
//! With this layout every contraction is one product `C = op(A)^T op(B)` over the
//! leading (slowest) axis of both operands, `op` being identity or conjugation:
//! `first_site` is `A = bra_first` (k = d), `env_bra` is `A = env`, `B = bra` seen as
//! `chi_bra x (d chi_bra')`, `tmp_ket` is `A = tmp`, `B = ket` seen as
//! `(chi_ket d) x chi_ket'`. No operand is ever transposed or conjugated in memory.
//!
//! # Kernels
//!
//! [`atb`] computes that product. Tiny products (at most [`SMALL_MACS`] complex
//! multiply-adds, e.g. chi <= 2 for d = 2) run a direct loop with no set-up at all. Larger ones run a
//! register-tiled kernel: each `MR x NR` tile of `C` is accumulated in SIMD registers
//! from the operands in place (only a `k x NR` panel of `B` is copied into a reused
//! buffer), with separate real/imaginary accumulators so the inner loop is pure fused
//! multiply-adds and conjugation costs nothing (it only changes the signs of the final
//! combination). The instruction set is chosen at run time with `pulp` (AVX-512,
//! AVX2+FMA, or portable scalar code); the crate itself is built for baseline x86-64.
//!
//! Everything runs on the calling thread: no thread pool is ever entered, whatever the
//! size. Besides the output, the kernels need a scratch buffer (the `B` panel; the
//! intermediate `tmp` of `site_update`; the environments of `inner`), which lives in a
//! thread-local buffer that grows to the largest size seen and is then reused, so a
//! steady stream of calls does no heap work beyond the output.

use std::cell::RefCell;
use std::fmt;

use ndarray::{Array2, Array3, ArrayView2, ArrayView3};
use num_complex::Complex64;

/// The element type of every tensor-train kernel.
pub type C64 = Complex64;

const ZERO: C64 = C64::new(0.0, 0.0);

/// At or below this many complex multiply-adds (`k * m * n`) [`atb`] runs the direct
/// loop: only there does the tiled kernel's bookkeeping (panel copy, tile sweep, SIMD
/// dispatch) cost more than it saves. Measured on the development machine (AVX-512):
/// a site_update at chi = 1 (2 x 2 multiply-adds) takes 0.05 us direct and 0.08 us
/// tiled, at chi = 2 (16 + 16) both about 0.1 us, at chi = 4 (128 + 128) 0.57 us
/// direct and 0.13 us tiled.
pub const SMALL_MACS: usize = 16;

// ---------------------------------------------------------------------------------
// Shapes and their validation
// ---------------------------------------------------------------------------------

/// A shape refused by a contraction; the message names the operands and their shapes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShapeError(pub String);

impl fmt::Display for ShapeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ShapeError {}

/// A contraction's scratch space could not be allocated; `elements` is the number of
/// complex128 values asked for (`None`: the size overflows).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScratchError {
    pub elements: Option<usize>,
}

impl fmt::Display for ScratchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.elements {
            Some(n) => write!(
                f,
                "cannot allocate the contraction's scratch space of {n} complex128 values \
                 ({} bytes)",
                n.saturating_mul(16)
            ),
            None => f.write_str("the contraction's scratch space size overflows"),
        }
    }
}

impl std::error::Error for ScratchError {}

/// Why a contraction on views failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TtError {
    Shape(ShapeError),
    Scratch(ScratchError),
}

impl fmt::Display for TtError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TtError::Shape(e) => e.fmt(f),
            TtError::Scratch(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for TtError {}

impl From<ShapeError> for TtError {
    fn from(e: ShapeError) -> TtError {
        TtError::Shape(e)
    }
}

impl From<ScratchError> for TtError {
    fn from(e: ScratchError) -> TtError {
        TtError::Scratch(e)
    }
}

pub use crate::shape_str;

/// The shape of a site tensor `[chi_left, d, chi_right]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Site {
    pub left: usize,
    pub phys: usize,
    pub right: usize,
}

impl Site {
    pub fn new(left: usize, phys: usize, right: usize) -> Site {
        Site { left, phys, right }
    }

    /// From a 3-element shape (panics on another length: a programming error).
    pub fn from_shape(shape: &[usize]) -> Site {
        match *shape {
            [left, phys, right] => Site { left, phys, right },
            _ => panic!("a site tensor shape has 3 axes, got {}", shape_str(shape)),
        }
    }

    pub fn shape(&self) -> [usize; 3] {
        [self.left, self.phys, self.right]
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.left * self.phys * self.right
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn refuse(message: String) -> Result<(), ShapeError> {
    Err(ShapeError(message))
}

/// `first_site(bra_first [d, chi_bra], ket_first [d, chi_ket])`: same `d`.
pub fn check_first_site(bra: [usize; 2], ket: [usize; 2]) -> Result<(), ShapeError> {
    if bra[0] != ket[0] {
        return refuse(format!(
            "bra_first and ket_first must have the same physical dimension d (axis 0), \
             got shapes {} and {}",
            shape_str(&bra),
            shape_str(&ket)
        ));
    }
    Ok(())
}

/// `env_bra(env [chi_bra, chi_ket], bra [chi_bra, d, chi_bra'])`: the bra bonds agree.
pub fn check_env_bra(env: [usize; 2], bra: [usize; 3]) -> Result<(), ShapeError> {
    if env[0] != bra[0] {
        return refuse(format!(
            "env's axis 0 (chi_bra) must equal bra's left bond (axis 0), \
             got env shape {} and bra shape {}",
            shape_str(&env),
            shape_str(&bra)
        ));
    }
    Ok(())
}

/// `tmp_ket(tmp [chi_ket, d, chi_bra'], ket [chi_ket, d, chi_ket'])`: the contracted
/// axes (chi_ket, d) agree.
pub fn check_tmp_ket(tmp: [usize; 3], ket: [usize; 3]) -> Result<(), ShapeError> {
    if tmp[0] != ket[0] || tmp[1] != ket[1] {
        return refuse(format!(
            "tmp's axes 0 and 1 (chi_ket, d) must equal ket's left bond and physical \
             dimension, got tmp shape {} and ket shape {}",
            shape_str(&tmp),
            shape_str(&ket)
        ));
    }
    Ok(())
}

/// `site_update(env [chi_bra, chi_ket], bra [chi_bra, d, chi_bra'], ket [chi_ket, d, chi_ket'])`.
pub fn check_site_update(
    env: [usize; 2],
    bra: [usize; 3],
    ket: [usize; 3],
) -> Result<(), ShapeError> {
    let shapes = || {
        format!(
            "got env shape {}, bra shape {} and ket shape {}",
            shape_str(&env),
            shape_str(&bra),
            shape_str(&ket)
        )
    };
    if env[0] != bra[0] {
        return refuse(format!(
            "env's axis 0 (chi_bra) must equal bra's left bond (axis 0), {}",
            shapes()
        ));
    }
    if env[1] != ket[0] {
        return refuse(format!(
            "env's axis 1 (chi_ket) must equal ket's left bond (axis 0), {}",
            shapes()
        ));
    }
    if bra[1] != ket[1] {
        return refuse(format!(
            "bra and ket must have the same physical dimension d (axis 1), {}",
            shapes()
        ));
    }
    Ok(())
}

/// `inner(bras, kets)`: equally many sites (at least one), matching physical dimensions
/// per site, consecutive bonds that agree, and boundary bonds of 1 (the chain starts
/// from the 1 x 1 environment `[[1]]` and must end in one).
pub fn check_chain(bras: &[Site], kets: &[Site]) -> Result<(), ShapeError> {
    if bras.is_empty() || kets.is_empty() {
        return refuse(format!(
            "bras and kets must each hold at least one site tensor, got {} and {}",
            bras.len(),
            kets.len()
        ));
    }
    if bras.len() != kets.len() {
        return refuse(format!(
            "bras and kets must have the same number of sites, got {} and {}",
            bras.len(),
            kets.len()
        ));
    }
    for (name, sites) in [("bras", bras), ("kets", kets)] {
        let last = sites.len() - 1;
        if sites[0].left != 1 {
            return refuse(format!(
                "{name}[0] must have left bond 1 (the chain starts from a 1 x 1 \
                 environment), got shape {}",
                shape_str(&sites[0].shape())
            ));
        }
        if sites[last].right != 1 {
            return refuse(format!(
                "{name}[{last}] must have right bond 1 (the chain ends in a 1 x 1 \
                 environment), got shape {}",
                shape_str(&sites[last].shape())
            ));
        }
        for (i, pair) in sites.windows(2).enumerate() {
            if pair[0].right != pair[1].left {
                return refuse(format!(
                    "{name}[{i}]'s right bond must equal {name}[{}]'s left bond, \
                     got shapes {} and {}",
                    i + 1,
                    shape_str(&pair[0].shape()),
                    shape_str(&pair[1].shape())
                ));
            }
        }
    }
    for (i, (bra, ket)) in bras.iter().zip(kets).enumerate() {
        if bra.phys != ket.phys {
            return refuse(format!(
                "bras[{i}] and kets[{i}] must have the same physical dimension d (axis 1), \
                 got shapes {} and {}",
                shape_str(&bra.shape()),
                shape_str(&ket.shape())
            ));
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------
// The product C = op(A)^T op(B)
// ---------------------------------------------------------------------------------

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
                Path::TiledAvx2 | Path::TiledAvx512 => tiled_simd(path, g, a, b, c, panel),
                _ => tiled::<Scalar, 2, 2>(Scalar, g, a, b, c, panel),
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

#[cfg(target_arch = "x86_64")]
fn tiled_simd(path: Path, g: Gemm, a: &[C64], b: &[C64], c: &mut [C64], panel: &mut [f64]) {
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
fn tiled_simd(_path: Path, g: Gemm, a: &[C64], b: &[C64], c: &mut [C64], panel: &mut [f64]) {
    tiled::<Scalar, 2, 2>(Scalar, g, a, b, c, panel)
}

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

/// The few vector operations the tiled kernel needs, on `W` f64 lanes (`W / 2` complex
/// numbers stored re, im, re, im, ...).
trait Lanes: Copy {
    type V: Copy;
    const W: usize;
    fn splat(self, x: f64) -> Self::V;
    /// `a * b + c` (fused where the instruction set has FMA).
    fn mul_add(self, a: Self::V, b: Self::V, c: Self::V) -> Self::V;
    fn mul(self, a: Self::V, b: Self::V) -> Self::V;
    fn add(self, a: Self::V, b: Self::V) -> Self::V;
    /// Load `W` values; `x.len() == W`.
    fn load(self, x: &[f64]) -> Self::V;
    /// Store `W` values; `out.len() == W`.
    fn store(self, v: Self::V, out: &mut [f64]);
    /// Swap each (re, im) pair.
    fn swap_pairs(self, v: Self::V) -> Self::V;
    /// (re, im, re, im, ...)
    fn pairs(self, re: f64, im: f64) -> Self::V;
}

/// Portable fallback: 2 lanes, plain multiply and add.
#[derive(Clone, Copy)]
struct Scalar;

impl Lanes for Scalar {
    type V = [f64; 2];
    const W: usize = 2;
    #[inline(always)]
    fn splat(self, x: f64) -> [f64; 2] {
        [x, x]
    }
    #[inline(always)]
    fn mul_add(self, a: [f64; 2], b: [f64; 2], c: [f64; 2]) -> [f64; 2] {
        [a[0] * b[0] + c[0], a[1] * b[1] + c[1]]
    }
    #[inline(always)]
    fn mul(self, a: [f64; 2], b: [f64; 2]) -> [f64; 2] {
        [a[0] * b[0], a[1] * b[1]]
    }
    #[inline(always)]
    fn add(self, a: [f64; 2], b: [f64; 2]) -> [f64; 2] {
        [a[0] + b[0], a[1] + b[1]]
    }
    #[inline(always)]
    fn load(self, x: &[f64]) -> [f64; 2] {
        [x[0], x[1]]
    }
    #[inline(always)]
    fn store(self, v: [f64; 2], out: &mut [f64]) {
        out.copy_from_slice(&v)
    }
    #[inline(always)]
    fn swap_pairs(self, v: [f64; 2]) -> [f64; 2] {
        [v[1], v[0]]
    }
    #[inline(always)]
    fn pairs(self, re: f64, im: f64) -> [f64; 2] {
        [re, im]
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::Lanes;
    use pulp::x86::{V3, V4};
    use pulp::{f64x4, f64x8, Simd};

    impl Lanes for V3 {
        type V = f64x4;
        const W: usize = 4;
        #[inline(always)]
        fn splat(self, x: f64) -> f64x4 {
            self.splat_f64x4(x)
        }
        #[inline(always)]
        fn mul_add(self, a: f64x4, b: f64x4, c: f64x4) -> f64x4 {
            self.mul_add_f64x4(a, b, c)
        }
        #[inline(always)]
        fn mul(self, a: f64x4, b: f64x4) -> f64x4 {
            self.mul_f64x4(a, b)
        }
        #[inline(always)]
        fn add(self, a: f64x4, b: f64x4) -> f64x4 {
            self.add_f64x4(a, b)
        }
        #[inline(always)]
        fn load(self, x: &[f64]) -> f64x4 {
            let lanes: [f64; 4] = x.try_into().expect("caller passes W values");
            pulp::cast(lanes)
        }
        #[inline(always)]
        fn store(self, v: f64x4, out: &mut [f64]) {
            let lanes: [f64; 4] = pulp::cast(v);
            out.copy_from_slice(&lanes)
        }
        #[inline(always)]
        fn swap_pairs(self, v: f64x4) -> f64x4 {
            pulp::cast(self.swap_re_im_c64s(pulp::cast(v)))
        }
        #[inline(always)]
        fn pairs(self, re: f64, im: f64) -> f64x4 {
            f64x4(re, im, re, im)
        }
    }

    impl Lanes for V4 {
        type V = f64x8;
        const W: usize = 8;
        #[inline(always)]
        fn splat(self, x: f64) -> f64x8 {
            self.splat_f64x8(x)
        }
        #[inline(always)]
        fn mul_add(self, a: f64x8, b: f64x8, c: f64x8) -> f64x8 {
            self.mul_add_f64x8(a, b, c)
        }
        #[inline(always)]
        fn mul(self, a: f64x8, b: f64x8) -> f64x8 {
            self.mul_f64x8(a, b)
        }
        #[inline(always)]
        fn add(self, a: f64x8, b: f64x8) -> f64x8 {
            self.add_f64x8(a, b)
        }
        #[inline(always)]
        fn load(self, x: &[f64]) -> f64x8 {
            let lanes: [f64; 8] = x.try_into().expect("caller passes W values");
            pulp::cast(lanes)
        }
        #[inline(always)]
        fn store(self, v: f64x8, out: &mut [f64]) {
            let lanes: [f64; 8] = pulp::cast(v);
            out.copy_from_slice(&lanes)
        }
        #[inline(always)]
        fn swap_pairs(self, v: f64x8) -> f64x8 {
            pulp::cast(self.swap_re_im_c64s(pulp::cast(v)))
        }
        #[inline(always)]
        fn pairs(self, re: f64, im: f64) -> f64x8 {
            f64x8(re, im, re, im, re, im, re, im)
        }
    }
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

thread_local! {
    /// The copied `k x NR` panel of `B` (as f64), reused by every tiled product.
    static PANEL: RefCell<Vec<f64>> = const { RefCell::new(Vec::new()) };
    /// Scratch of `site_update` (tmp) and `inner` (environments and tmp).
    static WORKSPACE: RefCell<Vec<C64>> = const { RefCell::new(Vec::new()) };
}

/// Run `f` on a thread-local buffer of at least `len` elements (contents unspecified),
/// grown when needed and then kept, so repeated calls allocate nothing. A nested use
/// (not made by this module) gets a fresh buffer instead of a borrow panic.
fn with_buffer<T: Copy + Default, R>(
    key: &'static std::thread::LocalKey<RefCell<Vec<T>>>,
    len: usize,
    f: impl FnOnce(&mut [T]) -> R,
) -> R {
    key.with(|cell| match cell.try_borrow_mut() {
        Ok(mut buffer) => {
            if buffer.len() < len {
                buffer.resize(len, T::default());
            }
            f(&mut buffer[..len])
        }
        Err(_) => f(&mut vec![T::default(); len]),
    })
}

/// At most this many values stay in the thread-local workspace between calls; a call
/// that needed more frees it at its end (a later call allocates again).
const WORKSPACE_RETAIN_MAX: usize = 1 << 20;

/// [`with_buffer`] for sizes that depend on the input: an allocation failure is an
/// error, and a buffer grown beyond [`WORKSPACE_RETAIN_MAX`] is freed after use.
fn try_with_buffer<R>(
    key: &'static std::thread::LocalKey<RefCell<Vec<C64>>>,
    len: usize,
    f: impl FnOnce(&mut [C64]) -> R,
) -> Result<R, ScratchError> {
    let grow = |buffer: &mut Vec<C64>| {
        if buffer.len() < len {
            buffer
                .try_reserve_exact(len - buffer.len())
                .map_err(|_| ScratchError {
                    elements: Some(len),
                })?;
            buffer.resize(len, ZERO);
        }
        Ok(())
    };
    key.with(|cell| match cell.try_borrow_mut() {
        Ok(mut buffer) => {
            grow(&mut buffer)?;
            let result = f(&mut buffer[..len]);
            if buffer.len() > WORKSPACE_RETAIN_MAX {
                *buffer = Vec::new();
            }
            Ok(result)
        }
        Err(_) => {
            let mut fresh = Vec::new();
            grow(&mut fresh)?;
            Ok(f(&mut fresh))
        }
    })
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

// ---------------------------------------------------------------------------------
// The contractions on contiguous slices (shapes already validated)
// ---------------------------------------------------------------------------------

/// `env[a, b] = sum_s conj(bra[s, a]) ket[s, b]`; `bra` is `[d, chi_bra]`, `ket` is
/// `[d, chi_ket]`, `out` is `[chi_bra, chi_ket]`.
pub fn first_site_into(
    d: usize,
    chi_bra: usize,
    chi_ket: usize,
    bra: &[C64],
    ket: &[C64],
    out: &mut [C64],
) {
    atb(d, chi_bra, chi_ket, bra, ket, Conj::A, out);
}

/// `tmp[b, s, c] = sum_a env[a, b] conj(bra[a, s, c])`; `env` is `[bra.left, chi_ket]`,
/// `out` is `[chi_ket, bra.phys, bra.right]`.
pub fn env_bra_into(chi_ket: usize, bra: Site, env: &[C64], bra_data: &[C64], out: &mut [C64]) {
    atb(
        bra.left,
        chi_ket,
        bra.phys * bra.right,
        env,
        bra_data,
        Conj::B,
        out,
    );
}

/// `new[c, e] = sum_{b, s} tmp[b, s, c] ket[b, s, e]`; `tmp` is
/// `[ket.left, ket.phys, chi_bra_right]`, `out` is `[chi_bra_right, ket.right]`.
pub fn tmp_ket_into(
    chi_bra_right: usize,
    ket: Site,
    tmp: &[C64],
    ket_data: &[C64],
    out: &mut [C64],
) {
    atb(
        ket.left * ket.phys,
        chi_bra_right,
        ket.right,
        tmp,
        ket_data,
        Conj::NONE,
        out,
    );
}

/// `tmp_ket(env_bra(env, bra), ket)`; `env` is `[bra.left, ket.left]`, `out` is
/// `[bra.right, ket.right]`. The intermediate lives in the thread-local workspace; the
/// only possible error is that it cannot be allocated.
pub fn site_update_into(
    bra: Site,
    ket: Site,
    env: &[C64],
    bra_data: &[C64],
    ket_data: &[C64],
    out: &mut [C64],
) -> Result<(), ScratchError> {
    if env.is_empty() || bra_data.is_empty() || ket_data.is_empty() {
        // A zero bond or physical dimension: every sum is empty (or out is empty).
        out.fill(ZERO);
        return Ok(());
    }
    let tmp_len = product(&[ket.left, bra.phys, bra.right])?;
    try_with_buffer(&WORKSPACE, tmp_len, |tmp| {
        env_bra_into(ket.left, bra, env, bra_data, tmp);
        tmp_ket_into(bra.right, ket, tmp, ket_data, out);
    })
}

fn product(factors: &[usize]) -> Result<usize, ScratchError> {
    factors
        .iter()
        .try_fold(1usize, |acc, &f| acc.checked_mul(f))
        .ok_or(ScratchError { elements: None })
}

/// `<bra|ket>` of two chains of site tensors whose shapes passed [`check_chain`]:
/// `env = [[1]]`, then `env_bra` and `tmp_ket` at every site (2 L contractions), all in
/// one thread-local workspace (two environments and one intermediate).
///
/// # Panics
/// If a slice's length does not match its shape (shapes must have passed [`check_chain`]).
pub fn inner_checked(
    bras: &[(Site, &[C64])],
    kets: &[(Site, &[C64])],
) -> Result<C64, ScratchError> {
    if bras.iter().chain(kets).any(|(site, _)| site.is_empty()) {
        // A zero bond or physical dimension somewhere: the sum over configurations is empty.
        return Ok(ZERO);
    }
    let mut env_len = 1;
    let mut tmp_len = 0;
    for ((bra, _), (ket, _)) in bras.iter().zip(kets) {
        env_len = env_len.max(product(&[bra.right, ket.right])?);
        tmp_len = tmp_len.max(product(&[ket.left, bra.phys, bra.right])?);
    }
    let total = product(&[2, env_len])?
        .checked_add(tmp_len)
        .ok_or(ScratchError { elements: None })?;
    try_with_buffer(&WORKSPACE, total, |work| {
        let (env_a, rest) = work.split_at_mut(env_len);
        let (env_b, tmp) = rest.split_at_mut(env_len);
        let (mut env, mut next) = (env_a, env_b);
        env[0] = C64::new(1.0, 0.0);
        for (&(bra, bra_data), &(ket, ket_data)) in bras.iter().zip(kets) {
            let tmp = &mut tmp[..ket.left * bra.phys * bra.right];
            env_bra_into(ket.left, bra, &env[..bra.left * ket.left], bra_data, tmp);
            tmp_ket_into(
                bra.right,
                ket,
                tmp,
                ket_data,
                &mut next[..bra.right * ket.right],
            );
            std::mem::swap(&mut env, &mut next);
        }
        env[0]
    })
}

// ---------------------------------------------------------------------------------
// The contractions on ndarray views (any layout; validated)
// ---------------------------------------------------------------------------------

fn dims2(shape: &[usize]) -> [usize; 2] {
    [shape[0], shape[1]]
}

fn dims3(shape: &[usize]) -> [usize; 3] {
    [shape[0], shape[1], shape[2]]
}

/// [`first_site_into`] on views: `bra_first [d, chi_bra]`, `ket_first [d, chi_ket]`.
pub fn first_site(bra: ArrayView2<C64>, ket: ArrayView2<C64>) -> Result<Array2<C64>, ShapeError> {
    check_first_site(dims2(bra.shape()), dims2(ket.shape()))?;
    let (bra, ket) = (bra.as_standard_layout(), ket.as_standard_layout());
    let (d, chi_bra, chi_ket) = (bra.nrows(), bra.ncols(), ket.ncols());
    let mut out = Array2::from_elem((chi_bra, chi_ket), ZERO);
    first_site_into(
        d,
        chi_bra,
        chi_ket,
        bra.as_slice().expect("standard layout"),
        ket.as_slice().expect("standard layout"),
        out.as_slice_mut().expect("fresh array"),
    );
    Ok(out)
}

/// [`env_bra_into`] on views: `env [chi_bra, chi_ket]`, `bra [chi_bra, d, chi_bra']`.
pub fn env_bra(env: ArrayView2<C64>, bra: ArrayView3<C64>) -> Result<Array3<C64>, ShapeError> {
    check_env_bra(dims2(env.shape()), dims3(bra.shape()))?;
    let site = Site::from_shape(bra.shape());
    let (env, bra) = (env.as_standard_layout(), bra.as_standard_layout());
    let mut out = Array3::from_elem((env.ncols(), site.phys, site.right), ZERO);
    env_bra_into(
        env.ncols(),
        site,
        env.as_slice().expect("standard layout"),
        bra.as_slice().expect("standard layout"),
        out.as_slice_mut().expect("fresh array"),
    );
    Ok(out)
}

/// [`tmp_ket_into`] on views: `tmp [chi_ket, d, chi_bra']`, `ket [chi_ket, d, chi_ket']`.
pub fn tmp_ket(tmp: ArrayView3<C64>, ket: ArrayView3<C64>) -> Result<Array2<C64>, ShapeError> {
    check_tmp_ket(dims3(tmp.shape()), dims3(ket.shape()))?;
    let site = Site::from_shape(ket.shape());
    let chi_bra_right = tmp.shape()[2];
    let (tmp, ket) = (tmp.as_standard_layout(), ket.as_standard_layout());
    let mut out = Array2::from_elem((chi_bra_right, site.right), ZERO);
    tmp_ket_into(
        chi_bra_right,
        site,
        tmp.as_slice().expect("standard layout"),
        ket.as_slice().expect("standard layout"),
        out.as_slice_mut().expect("fresh array"),
    );
    Ok(out)
}

/// [`site_update_into`] on views: `env [chi_bra, chi_ket]`, `bra [chi_bra, d, chi_bra']`,
/// `ket [chi_ket, d, chi_ket']`; returns the new environment `[chi_bra', chi_ket']`.
pub fn site_update(
    env: ArrayView2<C64>,
    bra: ArrayView3<C64>,
    ket: ArrayView3<C64>,
) -> Result<Array2<C64>, TtError> {
    check_site_update(dims2(env.shape()), dims3(bra.shape()), dims3(ket.shape()))?;
    let (bra_site, ket_site) = (Site::from_shape(bra.shape()), Site::from_shape(ket.shape()));
    let (env, bra, ket) = (
        env.as_standard_layout(),
        bra.as_standard_layout(),
        ket.as_standard_layout(),
    );
    let mut out = Array2::from_elem((bra_site.right, ket_site.right), ZERO);
    site_update_into(
        bra_site,
        ket_site,
        env.as_slice().expect("standard layout"),
        bra.as_slice().expect("standard layout"),
        ket.as_slice().expect("standard layout"),
        out.as_slice_mut().expect("fresh array"),
    )?;
    Ok(out)
}

/// `<bra|ket>` of two lists of site tensors `[chi_left, d, chi_right]` (any layout).
pub fn inner(bras: &[ArrayView3<C64>], kets: &[ArrayView3<C64>]) -> Result<C64, TtError> {
    let bra_shapes: Vec<Site> = bras.iter().map(|t| Site::from_shape(t.shape())).collect();
    let ket_shapes: Vec<Site> = kets.iter().map(|t| Site::from_shape(t.shape())).collect();
    check_chain(&bra_shapes, &ket_shapes)?;
    let bras_std: Vec<_> = bras.iter().map(|t| t.as_standard_layout()).collect();
    let kets_std: Vec<_> = kets.iter().map(|t| t.as_standard_layout()).collect();
    let bra_slices: Vec<(Site, &[C64])> = bra_shapes
        .iter()
        .zip(&bras_std)
        .map(|(s, t)| (*s, t.as_slice().expect("standard layout")))
        .collect();
    let ket_slices: Vec<(Site, &[C64])> = ket_shapes
        .iter()
        .zip(&kets_std)
        .map(|(s, t)| (*s, t.as_slice().expect("standard layout")))
        .collect();
    Ok(inner_checked(&bra_slices, &ket_slices)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array, Axis, Dimension, IntoDimension, ShapeBuilder};
    use rand::rngs::StdRng;
    use rand::SeedableRng;
    use rand_distr::{Distribution, Uniform};

    fn random(rng: &mut StdRng, len: usize) -> Vec<C64> {
        let unit = Uniform::new(-1.0, 1.0).expect("valid range");
        (0..len)
            .map(|_| C64::new(unit.sample(rng), unit.sample(rng)))
            .collect()
    }

    fn random_array<D: Dimension>(
        rng: &mut StdRng,
        shape: impl IntoDimension<Dim = D>,
    ) -> Array<C64, D> {
        let dim = shape.into_dimension();
        let data = random(rng, dim.size());
        Array::from_shape_vec(dim, data).expect("length matches")
    }

    fn max_rel_err(got: &[C64], want: &[C64]) -> f64 {
        assert_eq!(got.len(), want.len());
        let scale = want.iter().map(|z| z.norm()).fold(1e-300, f64::max);
        got.iter()
            .zip(want)
            .map(|(g, w)| (g - w).norm())
            .fold(0.0, f64::max)
            / scale
    }

    fn maybe_conj(z: C64, yes: bool) -> C64 {
        if yes {
            z.conj()
        } else {
            z
        }
    }

    /// Independent reference: the definition of C = op(A)^T op(B), one complex sum each.
    fn atb_reference(k: usize, m: usize, n: usize, a: &[C64], b: &[C64], conj: Conj) -> Vec<C64> {
        let mut c = vec![ZERO; m * n];
        for i in 0..m {
            for j in 0..n {
                c[i * n + j] = (0..k)
                    .map(|p| maybe_conj(a[p * m + i], conj.a) * maybe_conj(b[p * n + j], conj.b))
                    .sum();
            }
        }
        c
    }

    #[test]
    fn every_path_and_conjugation_matches_the_definition() {
        let mut rng = StdRng::seed_from_u64(1);
        let sizes = [
            (0, 3, 4),
            (3, 0, 4),
            (3, 4, 0),
            (1, 1, 1),
            (2, 1, 2),
            (5, 3, 7),
            (8, 8, 16),
            (16, 9, 33),
            (17, 13, 10),
            (32, 32, 64),
            (64, 32, 32),
            (7, 5, 3),
        ];
        for path in Path::available() {
            for &(k, m, n) in &sizes {
                let a = random(&mut rng, k * m);
                let b = random(&mut rng, k * n);
                for conj in [Conj::NONE, Conj::A, Conj::B, Conj::BOTH] {
                    let want = atb_reference(k, m, n, &a, &b, conj);
                    // Stale garbage in c must not leak into the result.
                    let mut c = vec![C64::new(f64::NAN, 7.0); m * n];
                    atb_with(path, k, m, n, &a, &b, conj, &mut c);
                    let err = max_rel_err(&c, &want);
                    assert!(err < 1e-13, "{path:?} k={k} m={m} n={n} {conj:?}: {err}");
                }
            }
        }
    }

    #[test]
    fn atb_picks_direct_for_small_and_tiled_for_large_products() {
        let mut rng = StdRng::seed_from_u64(2);
        for (k, m, n) in [(2, 2, 4), (8, 8, 8), (9, 8, 8), (64, 64, 128)] {
            let a = random(&mut rng, k * m);
            let b = random(&mut rng, k * n);
            let mut c = vec![ZERO; m * n];
            atb(k, m, n, &a, &b, Conj::B, &mut c);
            assert!(max_rel_err(&c, &atb_reference(k, m, n, &a, &b, Conj::B)) < 1e-13);
        }
    }

    #[test]
    #[should_panic(expected = "a must hold")]
    fn atb_refuses_mismatched_slices() {
        atb(2, 2, 2, &[ZERO; 3], &[ZERO; 4], Conj::NONE, &mut [ZERO; 4]);
    }

    // --- the contractions against their einsum definitions, index by index ---------

    fn first_site_reference(bra: &Array2<C64>, ket: &Array2<C64>) -> Array2<C64> {
        let (d, chi_bra, chi_ket) = (bra.nrows(), bra.ncols(), ket.ncols());
        Array2::from_shape_fn((chi_bra, chi_ket), |(a, b)| {
            (0..d).map(|s| bra[[s, a]].conj() * ket[[s, b]]).sum()
        })
    }

    fn env_bra_reference(env: &Array2<C64>, bra: &Array3<C64>) -> Array3<C64> {
        let (chi_bra, chi_ket) = env.dim();
        let (_, d, right) = bra.dim();
        Array3::from_shape_fn((chi_ket, d, right), |(b, s, c)| {
            (0..chi_bra)
                .map(|a| env[[a, b]] * bra[[a, s, c]].conj())
                .sum()
        })
    }

    fn tmp_ket_reference(tmp: &Array3<C64>, ket: &Array3<C64>) -> Array2<C64> {
        let (chi_ket, d, chi_bra_right) = tmp.dim();
        let right = ket.dim().2;
        Array2::from_shape_fn((chi_bra_right, right), |(c, e)| {
            let mut sum = ZERO;
            for b in 0..chi_ket {
                for s in 0..d {
                    sum += tmp[[b, s, c]] * ket[[b, s, e]];
                }
            }
            sum
        })
    }

    #[test]
    fn contractions_match_their_definitions_for_every_bond_dimension() {
        let mut rng = StdRng::seed_from_u64(3);
        for d in [1, 2, 3] {
            for (cb, ck, cbr, ckr) in [
                (1, 1, 1, 1),
                (2, 3, 4, 5),
                (4, 4, 4, 4),
                (8, 8, 8, 8),
                (16, 16, 16, 16),
                (33, 32, 31, 30),
                (64, 64, 64, 64),
            ] {
                let bra_first = random_array(&mut rng, (d, cb));
                let ket_first = random_array(&mut rng, (d, ck));
                let got = first_site(bra_first.view(), ket_first.view()).unwrap();
                let want = first_site_reference(&bra_first, &ket_first);
                assert!(max_rel_err(got.as_slice().unwrap(), want.as_slice().unwrap()) < 1e-13);

                let env = random_array(&mut rng, (cb, ck));
                let bra = random_array(&mut rng, (cb, d, cbr));
                let ket = random_array(&mut rng, (ck, d, ckr));
                let tmp = env_bra(env.view(), bra.view()).unwrap();
                let tmp_want = env_bra_reference(&env, &bra);
                assert_eq!(tmp.dim(), (ck, d, cbr));
                assert!(max_rel_err(tmp.as_slice().unwrap(), tmp_want.as_slice().unwrap()) < 1e-13);

                let new = tmp_ket(tmp_want.view(), ket.view()).unwrap();
                let new_want = tmp_ket_reference(&tmp_want, &ket);
                assert_eq!(new.dim(), (cbr, ckr));
                assert!(max_rel_err(new.as_slice().unwrap(), new_want.as_slice().unwrap()) < 1e-12);

                let updated = site_update(env.view(), bra.view(), ket.view()).unwrap();
                assert!(
                    max_rel_err(updated.as_slice().unwrap(), new_want.as_slice().unwrap()) < 1e-12
                );
            }
        }
    }

    #[test]
    fn views_of_any_layout_give_the_same_result() {
        let mut rng = StdRng::seed_from_u64(4);
        let env = random_array(&mut rng, (5, 6));
        let bra = random_array(&mut rng, (5, 2, 7));
        let ket = random_array(&mut rng, (6, 2, 8));
        let want = site_update(env.view(), bra.view(), ket.view()).unwrap();
        // Fortran-ordered copies, a transposed-back view and a reversed axis.
        let env_f = {
            let mut f = Array2::from_elem((5, 6).f(), ZERO);
            f.assign(&env);
            f
        };
        let bra_f = {
            let mut f = Array3::from_elem((5, 2, 7).f(), ZERO);
            f.assign(&bra);
            f
        };
        // ket's values in a (8, 2, 6) C-order buffer, viewed as (6, 2, 8): strides (1, 8, 16).
        let ket_t = ket
            .view()
            .permuted_axes([2, 1, 0])
            .as_standard_layout()
            .into_owned();
        let ket_strided = ket_t.view().permuted_axes([2, 1, 0]);
        assert!(!ket_strided.is_standard_layout());
        let got = site_update(env_f.view(), bra_f.view(), ket_strided).unwrap();
        assert!(max_rel_err(got.as_slice().unwrap(), want.as_slice().unwrap()) < 1e-14);
        let mut env_rev = env.clone();
        env_rev.invert_axis(Axis(1));
        let ket_rev_data = {
            let mut k = ket.clone();
            k.invert_axis(Axis(0));
            k
        };
        let mut ket_rev = ket_rev_data.view();
        ket_rev.invert_axis(Axis(0)); // back to ket's values, negative stride
        let mut env_view = env_rev.view();
        env_view.invert_axis(Axis(1));
        let got = site_update(env_view, bra.view(), ket_rev).unwrap();
        assert!(max_rel_err(got.as_slice().unwrap(), want.as_slice().unwrap()) < 1e-14);
    }

    /// `<bra|ket>` by brute force: the sum over every physical configuration of
    /// conj(bra amplitude) * ket amplitude, each amplitude a product of matrices.
    fn inner_brute_force(bras: &[Array3<C64>], kets: &[Array3<C64>]) -> C64 {
        let dims: Vec<usize> = bras.iter().map(|t| t.dim().1).collect();
        let amplitude = |chain: &[Array3<C64>], config: &[usize]| -> C64 {
            let mut row = vec![C64::new(1.0, 0.0)];
            for (t, &s) in chain.iter().zip(config) {
                let (left, _, right) = t.dim();
                row = (0..right)
                    .map(|r| (0..left).map(|l| row[l] * t[[l, s, r]]).sum())
                    .collect();
            }
            row[0]
        };
        let total: usize = dims.iter().product();
        let mut sum = ZERO;
        for mut index in 0..total {
            let config: Vec<usize> = dims
                .iter()
                .map(|&d| {
                    let s = index % d;
                    index /= d;
                    s
                })
                .collect();
            sum += amplitude(bras, &config).conj() * amplitude(kets, &config);
        }
        sum
    }

    fn random_chain(rng: &mut StdRng, bonds: &[usize], dims: &[usize]) -> Vec<Array3<C64>> {
        dims.iter()
            .enumerate()
            .map(|(i, &d)| random_array(rng, (bonds[i], d, bonds[i + 1])))
            .collect()
    }

    #[test]
    fn inner_matches_the_brute_force_sum_over_configurations() {
        let mut rng = StdRng::seed_from_u64(5);
        for (bra_bonds, ket_bonds, dims) in [
            (vec![1, 1], vec![1, 1], vec![2]),
            (vec![1, 2, 1], vec![1, 3, 1], vec![2, 2]),
            (vec![1, 2, 4, 3, 1], vec![1, 4, 5, 2, 1], vec![2, 3, 2, 2]),
            (
                vec![1, 2, 4, 8, 4, 2, 1],
                vec![1, 2, 4, 8, 4, 2, 1],
                vec![2; 6],
            ),
            (vec![1, 3, 9, 12, 1], vec![1, 3, 9, 12, 1], vec![3; 4]),
        ] {
            let bras = random_chain(&mut rng, &bra_bonds, &dims);
            let kets = random_chain(&mut rng, &ket_bonds, &dims);
            let bra_views: Vec<_> = bras.iter().map(|t| t.view()).collect();
            let ket_views: Vec<_> = kets.iter().map(|t| t.view()).collect();
            let got = inner(&bra_views, &ket_views).unwrap();
            let want = inner_brute_force(&bras, &kets);
            assert!(
                (got - want).norm() <= 1e-12 * want.norm().max(1.0),
                "{got} vs {want}"
            );
            // <psi|psi> is real and positive.
            let norm = inner(&bra_views, &bra_views).unwrap();
            assert!(norm.re > 0.0 && norm.im.abs() <= 1e-12 * norm.re);
        }
    }

    #[test]
    fn inner_equals_a_loop_of_site_updates_at_large_bond_dimension() {
        let mut rng = StdRng::seed_from_u64(6);
        let chi = 40;
        let mut bonds = vec![1];
        bonds.extend(std::iter::repeat_n(chi, 5));
        bonds.push(1);
        let bras = random_chain(&mut rng, &bonds, &[2; 6]);
        let kets = random_chain(&mut rng, &bonds, &[2; 6]);
        let mut env = Array2::from_elem((1, 1), C64::new(1.0, 0.0));
        for (bra, ket) in bras.iter().zip(&kets) {
            env = site_update(env.view(), bra.view(), ket.view()).unwrap();
        }
        let bra_views: Vec<_> = bras.iter().map(|t| t.view()).collect();
        let ket_views: Vec<_> = kets.iter().map(|t| t.view()).collect();
        let got = inner(&bra_views, &ket_views).unwrap();
        assert!((got - env[[0, 0]]).norm() <= 1e-12 * got.norm());
    }

    #[test]
    fn reused_workspace_never_leaks_stale_values() {
        let mut rng = StdRng::seed_from_u64(7);
        for chi in [32, 2, 16, 1, 64, 3] {
            let env = random_array(&mut rng, (chi, chi));
            let bra = random_array(&mut rng, (chi, 2, chi));
            let ket = random_array(&mut rng, (chi, 2, chi));
            let got = site_update(env.view(), bra.view(), ket.view()).unwrap();
            let want = tmp_ket_reference(&env_bra_reference(&env, &bra), &ket);
            assert!(max_rel_err(got.as_slice().unwrap(), want.as_slice().unwrap()) < 1e-12);
        }
    }

    #[test]
    fn long_contractions_run_in_passes_that_accumulate() {
        let mut rng = StdRng::seed_from_u64(9);
        for path in Path::available() {
            for (k, m, n) in [(KC + 1, 5, 9), (2 * KC + 17, 8, 16), (3 * KC, 3, 3)] {
                let a = random(&mut rng, k * m);
                let b = random(&mut rng, k * n);
                for conj in [Conj::NONE, Conj::B] {
                    let mut c = vec![C64::new(f64::NAN, 1.0); m * n];
                    atb_with(path, k, m, n, &a, &b, conj, &mut c);
                    let err = max_rel_err(&c, &atb_reference(k, m, n, &a, &b, conj));
                    assert!(err < 1e-13, "{path:?} k={k}: {err}");
                }
            }
        }
    }

    #[test]
    fn scratch_that_cannot_be_allocated_is_an_error_not_an_abort() {
        for len in [1usize << 50, usize::MAX / 8] {
            let e = try_with_buffer(&WORKSPACE, len, |_| ()).unwrap_err();
            assert_eq!(e.elements, Some(len));
            assert!(e.to_string().contains("cannot allocate"));
        }
        assert_eq!(product(&[usize::MAX, 2]).unwrap_err().elements, None);
        assert_eq!(product(&[3, 4, 5]).unwrap(), 60);
        // The workspace still works afterwards, and a large one is not retained.
        try_with_buffer(&WORKSPACE, WORKSPACE_RETAIN_MAX + 1, |b| b.fill(ZERO)).unwrap();
        WORKSPACE.with(|cell| assert!(cell.borrow().is_empty()));
        try_with_buffer(&WORKSPACE, 8, |b| assert_eq!(b.len(), 8)).unwrap();
        WORKSPACE.with(|cell| assert_eq!(cell.borrow().len(), 8));
    }

    #[test]
    fn nested_buffer_use_gets_a_fresh_buffer() {
        let outer = try_with_buffer(&WORKSPACE, 4, |a| {
            a.fill(C64::new(1.0, 0.0));
            try_with_buffer(&WORKSPACE, 4, |b| {
                b.fill(C64::new(2.0, 0.0));
                b.len()
            })
            .unwrap()
                + a.iter().filter(|z| z.re == 1.0).count()
        });
        assert_eq!(outer, Ok(8));
        let panel = with_buffer(&PANEL, 3, |a| with_buffer(&PANEL, 5, |b| a.len() + b.len()));
        assert_eq!(panel, 8);
    }

    // --- validation ------------------------------------------------------------------

    #[test]
    fn shape_checks_name_the_operands_and_their_shapes() {
        let e = check_first_site([2, 3], [3, 3]).unwrap_err();
        assert!(e.0.contains("(2, 3)") && e.0.contains("(3, 3)") && e.0.contains("physical"));
        let e = check_env_bra([2, 2], [3, 2, 2]).unwrap_err();
        assert!(e.0.contains("env shape (2, 2)") && e.0.contains("bra shape (3, 2, 2)"));
        let e = check_tmp_ket([2, 2, 4], [2, 3, 4]).unwrap_err();
        assert!(e.0.contains("(2, 2, 4)") && e.0.contains("(2, 3, 4)"));
        let e = check_tmp_ket([2, 2, 4], [3, 2, 4]).unwrap_err();
        assert!(e.0.contains("chi_ket"));
        for (env, bra, ket, word) in [
            ([2, 3], [4, 2, 2], [3, 2, 2], "chi_bra"),
            ([2, 3], [2, 2, 2], [4, 2, 2], "chi_ket"),
            ([2, 3], [2, 2, 2], [3, 3, 2], "physical"),
        ] {
            let e = check_site_update(env, bra, ket).unwrap_err();
            assert!(e.0.contains(word) && e.0.contains(&shape_str(&env)), "{e}");
        }
        assert!(check_site_update([2, 3], [2, 5, 7], [3, 5, 1]).is_ok());
    }

    #[test]
    fn chain_checks_catch_every_inconsistency() {
        let s = Site::new;
        let ok = [s(1, 2, 3), s(3, 2, 1)];
        assert!(check_chain(&ok, &ok).is_ok());
        let cases: [(&[Site], &[Site], &str); 7] = [
            (&[], &[], "at least one"),
            (&ok, &[s(1, 2, 1)], "same number of sites"),
            (
                &[s(2, 2, 3), s(3, 2, 1)],
                &ok,
                "bras[0] must have left bond 1",
            ),
            (
                &ok,
                &[s(1, 2, 3), s(3, 2, 2)],
                "kets[1] must have right bond 1",
            ),
            (
                &[s(1, 2, 3), s(4, 2, 1)],
                &ok,
                "bras[0]'s right bond must equal bras[1]'s left bond",
            ),
            (
                &ok,
                &[s(1, 2, 3), s(3, 3, 1)],
                "bras[1] and kets[1] must have the same physical",
            ),
            (&[s(1, 2, 1)], &[], "at least one"),
        ];
        for (bras, kets, expected) in cases {
            let e = check_chain(bras, kets).unwrap_err();
            assert!(e.0.contains(expected), "{e} lacks {expected}");
        }
    }

    #[test]
    fn view_functions_return_shape_errors_instead_of_panicking() {
        let mut rng = StdRng::seed_from_u64(8);
        let env = random_array(&mut rng, (2, 3));
        let bra = random_array(&mut rng, (3, 2, 2));
        let ket = random_array(&mut rng, (3, 2, 2));
        assert!(env_bra(env.view(), bra.view()).is_err());
        assert!(site_update(env.view(), bra.view(), ket.view()).is_err());
        assert!(tmp_ket(bra.view(), random_array(&mut rng, (3, 3, 2)).view()).is_err());
        assert!(first_site(env.view(), random_array(&mut rng, (3, 3)).view()).is_err());
        assert!(inner(&[bra.view()], &[ket.view()]).is_err());
    }

    #[test]
    fn zero_sized_dimensions_give_zeros_not_panics() {
        let env = Array2::from_elem((2, 3), C64::new(1.0, 1.0));
        let bra = Array3::from_elem((2, 0, 4), ZERO);
        let ket = Array3::from_elem((3, 0, 5), ZERO);
        let out = site_update(env.view(), bra.view(), ket.view()).unwrap();
        assert_eq!(out.dim(), (4, 5));
        assert!(out.iter().all(|z| *z == ZERO));
        let empty = Array3::from_elem((1, 2, 0), ZERO);
        let last = Array3::from_elem((0, 2, 1), ZERO);
        let value = inner(&[empty.view(), last.view()], &[empty.view(), last.view()]).unwrap();
        assert_eq!(value, ZERO);
    }
}
