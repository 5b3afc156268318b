//! The tuned matrix-vector product for each memory layout, shaped like the BLAS dgemv
//! kernels (OpenBLAS `dgemv_t` / `dgemv_n`, BLIS `dotxf` / `axpyf`), on the widest SIMD
//! this CPU has (`pulp`: AVX-512, AVX2+FMA or portable code, chosen at run time).
//!
//! * C order ([`rows_times_x`]): [`ROWS_PER_PASS`] rows per pass over a block of x, each
//!   with [`UNROLL`] independent vector accumulators, so one load of x feeds several FMAs
//!   and several rows stream at once; x is taken in blocks of [`X_BLOCK`] values that stay
//!   in L1 while every row reads its segment.
//! * Fortran order ([`columns_times_x`]): y += a[:, j..j+4] x[j..j+4] for
//!   [`COLS_PER_PASS`] columns per pass, on blocks of [`Y_BLOCK`] rows of y that stay in
//!   L1 across all columns (y is loaded and stored once per pass, not once per column).
//!
//! Both read `a` in place, once. Measured (callgrind instructions; best-of interleaved
//! wall times beside NumPy/OpenBLAS `A @ x` on the 2-core Xeon, rough) in the report of
//! branch `kernels-layout`; the numbers are also in the crate's `dense` module docs.

use ndarray::ArrayView2;
use pulp::{Arch, Simd, WithSimd};

/// Rows per pass in C order: 4 rows x [`UNROLL`] accumulators = 8 vector registers,
/// plus the x vectors, within AVX2's 16 registers.
pub const ROWS_PER_PASS: usize = 4;
/// Independent accumulators per row in C order: hides the FMA latency (4 cycles, 2 per
/// cycle) when a pass has few rows.
pub const UNROLL: usize = 2;
/// Values of x per block in C order: 2048 f64 = 16 KB, within every x86-64 L1d beside
/// the rows' streams.
pub const X_BLOCK: usize = 2048;
/// Columns per pass in Fortran order (OpenBLAS's dgemv_n does 4): one load and store of
/// y per 4 columns read.
pub const COLS_PER_PASS: usize = 4;
/// Rows of y per block in Fortran order: 2048 f64 = 16 KB, resident in L1d.
pub const Y_BLOCK: usize = 2048;

/// `out[i] += a[i, :] . x` for every row of a matrix whose rows are contiguous
/// (unit column stride). `out` is `a.nrows()` long, `x` is `a.ncols()` long.
///
/// # Panics
/// If the lengths disagree or a row is not contiguous (the caller checks both).
pub fn rows_times_x(a: ArrayView2<f64>, x: &[f64], out: &mut [f64]) {
    assert_eq!(a.ncols(), x.len(), "rows_times_x: x length");
    assert_eq!(a.nrows(), out.len(), "rows_times_x: out length");
    assert!(a.ncols() <= 1 || a.strides()[1] == 1, "rows_times_x: rows not contiguous");
    Arch::new().dispatch(RowsTimesX { a, x, out })
}

/// `out += a x` for a matrix whose columns are contiguous (unit row stride).
///
/// # Panics
/// As [`rows_times_x`], for columns.
pub fn columns_times_x(a: ArrayView2<f64>, x: &[f64], out: &mut [f64]) {
    assert_eq!(a.ncols(), x.len(), "columns_times_x: x length");
    assert_eq!(a.nrows(), out.len(), "columns_times_x: out length");
    assert!(a.nrows() <= 1 || a.strides()[0] == 1, "columns_times_x: columns not contiguous");
    Arch::new().dispatch(ColumnsTimesX { a, x, out })
}

struct RowsTimesX<'a, 'o> {
    a: ArrayView2<'a, f64>,
    x: &'a [f64],
    out: &'o mut [f64],
}

impl WithSimd for RowsTimesX<'_, '_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) {
        let RowsTimesX { a, x, out } = self;
        let n1 = out.len();
        // A row as a slice; `to_slice` succeeds for a unit column stride (checked above).
        let row = |i: usize| a.row(i).to_slice().expect("contiguous row");
        let mut j0 = 0;
        while j0 < x.len() {
            let j1 = (j0 + X_BLOCK).min(x.len());
            let xb = &x[j0..j1];
            let mut i = 0;
            while i + ROWS_PER_PASS <= n1 {
                let rows: [&[f64]; ROWS_PER_PASS] =
                    std::array::from_fn(|r| &row(i + r)[j0..j1]);
                let sums = dot_rows(simd, rows, xb);
                for (o, s) in out[i..i + ROWS_PER_PASS].iter_mut().zip(sums) {
                    *o += s;
                }
                i += ROWS_PER_PASS;
            }
            for (k, o) in out.iter_mut().enumerate().skip(i) {
                *o += dot_rows(simd, [&row(k)[j0..j1]], xb)[0];
            }
            j0 = j1;
        }
    }
}

/// The dot products of `R` equally long rows with `x`.
#[inline(always)]
fn dot_rows<S: Simd, const R: usize>(simd: S, rows: [&[f64]; R], x: &[f64]) -> [f64; R] {
    let (xv, xt) = S::as_simd_f64s(x);
    let nv = xv.len();
    // Re-sliced to x's vector count so the compiler can drop the bounds checks below.
    let heads: [&[S::f64s]; R] = std::array::from_fn(|r| &S::as_simd_f64s(rows[r]).0[..nv]);
    let tails: [&[f64]; R] = std::array::from_fn(|r| &rows[r][nv * S::F64_LANES..]);
    let zero = simd.splat_f64s(0.0);
    let mut acc = [[zero; UNROLL]; R];
    let paired = nv / UNROLL * UNROLL;
    let mut k = 0;
    while k < paired {
        for u in 0..UNROLL {
            let xk = xv[k + u];
            for r in 0..R {
                acc[r][u] = simd.mul_add_e_f64s(heads[r][k + u], xk, acc[r][u]);
            }
        }
        k += UNROLL;
    }
    while k < nv {
        for r in 0..R {
            acc[r][0] = simd.mul_add_e_f64s(heads[r][k], xv[k], acc[r][0]);
        }
        k += 1;
    }
    std::array::from_fn(|r| {
        let mut v = acc[r][0];
        for u in 1..UNROLL {
            v = simd.add_f64s(v, acc[r][u]);
        }
        let tail: f64 = tails[r].iter().zip(xt).map(|(p, q)| p * q).sum();
        simd.reduce_sum_f64s(v) + tail
    })
}

struct ColumnsTimesX<'a, 'o> {
    a: ArrayView2<'a, f64>,
    x: &'a [f64],
    out: &'o mut [f64],
}

impl WithSimd for ColumnsTimesX<'_, '_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) {
        let ColumnsTimesX { a, x, out } = self;
        let n2 = x.len();
        let column = |j: usize| a.column(j).to_slice().expect("contiguous column");
        let mut i0 = 0;
        for yb in out.chunks_mut(Y_BLOCK) {
            let i1 = i0 + yb.len();
            let mut j = 0;
            while j + COLS_PER_PASS <= n2 {
                let cols: [&[f64]; COLS_PER_PASS] =
                    std::array::from_fn(|c| &column(j + c)[i0..i1]);
                let xs: [f64; COLS_PER_PASS] = std::array::from_fn(|c| x[j + c]);
                axpy_columns(simd, cols, xs, yb);
                j += COLS_PER_PASS;
            }
            while j < n2 {
                axpy_columns(simd, [&column(j)[i0..i1]], [x[j]], yb);
                j += 1;
            }
            i0 = i1;
        }
    }
}

/// `y += sum_c cols[c] * xs[c]` for `C` columns as long as `y`.
#[inline(always)]
fn axpy_columns<S: Simd, const C: usize>(simd: S, cols: [&[f64]; C], xs: [f64; C], y: &mut [f64]) {
    let (yv, yt) = S::as_mut_simd_f64s(y);
    let nv = yv.len();
    let heads: [&[S::f64s]; C] = std::array::from_fn(|c| &S::as_simd_f64s(cols[c]).0[..nv]);
    let splats: [S::f64s; C] = std::array::from_fn(|c| simd.splat_f64s(xs[c]));
    for (k, yk) in yv.iter_mut().enumerate() {
        let mut v = *yk;
        for c in 0..C {
            v = simd.mul_add_e_f64s(heads[c][k], splats[c], v);
        }
        *yk = v;
    }
    let start = nv * S::F64_LANES;
    for (t, yt) in yt.iter_mut().enumerate() {
        let mut v = *yt;
        for c in 0..C {
            v += cols[c][start + t] * xs[c];
        }
        *yt = v;
    }
}
