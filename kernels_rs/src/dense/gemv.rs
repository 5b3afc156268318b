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
//! Both read `a` in place, once; the last partial vector of a row or column goes through
//! masked loads (no scalar tail loop, which cost 5% on 100 x 1e6 in Fortran order).
//!
//! Measured on the 2-core Xeon (AVX-512), December 2026, beside NumPy 2.4 / OpenBLAS
//! `A @ x` on one thread: best of 5 interleaved rounds, rough (a busy machine):
//!
//! | shape          | C: NumPy / this | F: NumPy / this |
//! |----------------|-----------------|-----------------|
//! | 6000 x 6000    | 14.0 / 12.9 ms  | 13.6 / 13.4 ms  |
//! | 1e4 x 1e4      | 52.1 / 47.7 ms  | 49.0 / 48.4 ms  |
//! | 1e6 x 100      | 56.1 / 51.9 ms  | 49.5 / 48.4 ms  |
//! | 100 x 1e6      | 48.7 / 47.1 ms  | 48.9 / 50.0 ms  |
//! | 1000 x 1000    | 0.264 / 0.256 ms| 0.264 / 0.263 ms|
//!
//! The kernel this replaced (one row dot at a time, or one column axpy at a time, in
//! baseline x86-64 code: SSE2, no FMA) ran at 0.62x of `A @ x`. Instructions per call of
//! `kernels_rs.matvec` on 1000 x 1000 (callgrind, which runs the AVX2 path as it does not
//! emulate AVX-512): 2.27 M (C) and 3.28 M (F) before, 0.81 M and 0.77 M now.
//!
//! [`dot`] is the one-row case with [`DOT_UNROLL`] accumulators. At 1e8, interleaved
//! with `np.dot` on the loaded machine (20 rounds, best): 1.00x of `np.dot`, against 0.80x
//! for the portable 16-accumulator loop it replaced (baseline SSE2); callgrind on 1e6
//! values: 2.19 M instructions per call before, 1.56 M now (AVX2 path).

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
    assert!(
        a.ncols() <= 1 || a.strides()[1] == 1,
        "rows_times_x: rows not contiguous"
    );
    Arch::new().dispatch(RowsTimesX { a, x, out })
}

/// `out += a x` for a matrix whose columns are contiguous (unit row stride).
///
/// # Panics
/// As [`rows_times_x`], for columns.
pub fn columns_times_x(a: ArrayView2<f64>, x: &[f64], out: &mut [f64]) {
    assert_eq!(a.ncols(), x.len(), "columns_times_x: x length");
    assert_eq!(a.nrows(), out.len(), "columns_times_x: out length");
    assert!(
        a.nrows() <= 1 || a.strides()[0] == 1,
        "columns_times_x: columns not contiguous"
    );
    Arch::new().dispatch(ColumnsTimesX { a, x, out })
}

/// Independent accumulators of the vector dot product: one stream pair has no other rows
/// to hide the FMA latency behind (4 cycles at 2 per cycle: 8 would saturate the FMA
/// ports on cache-resident data; 4 is enough at memory bandwidth and keeps short
/// vectors' set-up small).
pub const DOT_UNROLL: usize = 4;

/// The dot product of two equally long slices, on the widest SIMD this CPU has: the
/// one-row case of the C-order kernel.
///
/// # Panics
/// If the lengths differ (the Python layer checks this first).
pub fn dot(x: &[f64], y: &[f64]) -> f64 {
    assert_eq!(x.len(), y.len(), "dot: length mismatch");
    Arch::new().dispatch(Dot { x, y })
}

struct Dot<'a> {
    x: &'a [f64],
    y: &'a [f64],
}

impl WithSimd for Dot<'_> {
    type Output = f64;

    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) -> f64 {
        dot_rows::<S, 1, DOT_UNROLL>(simd, [self.x], self.y)[0]
    }
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
                let rows: [&[f64]; ROWS_PER_PASS] = std::array::from_fn(|r| &row(i + r)[j0..j1]);
                let sums = dot_rows::<S, ROWS_PER_PASS, UNROLL>(simd, rows, xb);
                for (o, s) in out[i..i + ROWS_PER_PASS].iter_mut().zip(sums) {
                    *o += s;
                }
                i += ROWS_PER_PASS;
            }
            for (k, o) in out.iter_mut().enumerate().skip(i) {
                *o += dot_rows::<S, 1, UNROLL>(simd, [&row(k)[j0..j1]], xb)[0];
            }
            j0 = j1;
        }
    }
}

/// The dot products of `R` equally long rows with `x`.
#[inline(always)]
fn dot_rows<S: Simd, const R: usize, const U: usize>(
    simd: S,
    rows: [&[f64]; R],
    x: &[f64],
) -> [f64; R] {
    let (xv, xt) = S::as_simd_f64s(x);
    let nv = xv.len();
    // Re-sliced to x's vector count so the compiler can drop the bounds checks below.
    let heads: [&[S::f64s]; R] = std::array::from_fn(|r| &S::as_simd_f64s(rows[r]).0[..nv]);
    let tails: [&[f64]; R] = std::array::from_fn(|r| &rows[r][nv * S::F64_LANES..]);
    let zero = simd.splat_f64s(0.0);
    let mut acc = [[zero; U]; R];
    let paired = nv / U * U;
    let mut k = 0;
    while k < paired {
        for u in 0..U {
            let xk = xv[k + u];
            for r in 0..R {
                acc[r][u] = simd.mul_add_e_f64s(heads[r][k + u], xk, acc[r][u]);
            }
        }
        k += U;
    }
    while k < nv {
        for r in 0..R {
            acc[r][0] = simd.mul_add_e_f64s(heads[r][k], xv[k], acc[r][0]);
        }
        k += 1;
    }
    if !xt.is_empty() {
        // The last partial vector through masked loads (zeros past the end).
        let xk = simd.partial_load_f64s(xt);
        for r in 0..R {
            acc[r][1 % U] =
                simd.mul_add_e_f64s(simd.partial_load_f64s(tails[r]), xk, acc[r][1 % U]);
        }
    }
    std::array::from_fn(|r| {
        let v = acc[r][1..]
            .iter()
            .fold(acc[r][0], |v, &more| simd.add_f64s(v, more));
        simd.reduce_sum_f64s(v)
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
                let cols: [&[f64]; COLS_PER_PASS] = std::array::from_fn(|c| &column(j + c)[i0..i1]);
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
    if !yt.is_empty() {
        // The last partial vector through masked loads and a masked store (AVX-512; pulp
        // emulates them elsewhere): no scalar loop per column for short columns.
        let start = nv * S::F64_LANES;
        let mut v = simd.partial_load_f64s(yt);
        for c in 0..C {
            v = simd.mul_add_e_f64s(simd.partial_load_f64s(&cols[c][start..]), splats[c], v);
        }
        simd.partial_store_f64s(yt, v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{s, Array1, Array2, ShapeBuilder};

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-12 * (1.0 + a.abs().max(b.abs()))
    }

    /// `out = a x` by each instruction set this CPU has (portable code always).
    fn on_every_simd(a: ArrayView2<f64>, x: &[f64], by_rows: bool) -> Vec<Vec<f64>> {
        fn run<S: Simd>(simd: S, a: ArrayView2<f64>, x: &[f64], by_rows: bool) -> Vec<f64> {
            let mut out = vec![0.0; a.nrows()];
            if by_rows {
                simd.vectorize(RowsTimesX {
                    a,
                    x,
                    out: &mut out,
                });
            } else {
                simd.vectorize(ColumnsTimesX {
                    a,
                    x,
                    out: &mut out,
                });
            }
            out
        }
        let mut outs = vec![run(pulp::Scalar::new(), a, x, by_rows)];
        #[cfg(target_arch = "x86_64")]
        {
            if let Some(simd) = pulp::x86::V3::try_new() {
                outs.push(run(simd, a, x, by_rows));
            }
            if let Some(simd) = pulp::x86::V4::try_new() {
                outs.push(run(simd, a, x, by_rows));
            }
        }
        outs
    }

    fn reference(a: ArrayView2<f64>, x: &[f64]) -> Vec<f64> {
        a.rows()
            .into_iter()
            .map(|r| r.iter().zip(x).map(|(p, q)| p * q).sum())
            .collect()
    }

    fn check(got: &[f64], expected: &[f64], what: &str) {
        assert_eq!(got.len(), expected.len(), "{what}");
        for (i, (g, e)) in got.iter().zip(expected).enumerate() {
            assert!(close(*g, *e), "{what} [{i}]: {g} vs {e}");
        }
    }

    /// Sizes on both sides of every boundary: vector widths (2, 4, 8), rows and columns
    /// per pass (4), the unrolled pair, and the L1 blocks of x and y (2048).
    const EDGES: [usize; 14] = [1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 33, 2047, 2049];

    #[test]
    fn both_layouts_match_the_reference_on_every_edge_size_and_instruction_set() {
        for &n1 in &EDGES {
            for &n2 in &EDGES {
                if n1 * n2 > 1 << 16 {
                    continue;
                }
                let c =
                    Array2::from_shape_fn((n1, n2), |(i, j)| ((i * 7 + j * 3) % 11) as f64 - 5.0);
                let f = Array2::from_shape_fn((n1, n2).f(), |(i, j)| c[[i, j]]);
                let x: Vec<f64> = (0..n2).map(|j| 1.0 / (1.0 + j as f64)).collect();
                let expected = reference(c.view(), &x);
                for got in on_every_simd(c.view(), &x, true) {
                    check(&got, &expected, &format!("C {n1}x{n2}"));
                }
                for got in on_every_simd(f.view(), &x, false) {
                    check(&got, &expected, &format!("F {n1}x{n2}"));
                }
            }
        }
    }

    #[test]
    fn long_rows_and_long_columns_cross_several_blocks() {
        for (n1, n2) in [(5, 3 * X_BLOCK + 3), (3 * Y_BLOCK + 5, 6)] {
            let c = Array2::from_shape_fn((n1, n2), |(i, j)| ((i + 2 * j) % 13) as f64 * 0.25);
            let f = Array2::from_shape_fn((n1, n2).f(), |(i, j)| c[[i, j]]);
            let x: Vec<f64> = (0..n2).map(|j| (j % 5) as f64 - 2.0).collect();
            let expected = reference(c.view(), &x);
            for got in on_every_simd(c.view(), &x, true) {
                check(&got, &expected, &format!("C {n1}x{n2}"));
            }
            for got in on_every_simd(f.view(), &x, false) {
                check(&got, &expected, &format!("F {n1}x{n2}"));
            }
        }
    }

    #[test]
    fn submatrices_with_padded_rows_or_columns_are_read_in_place() {
        let big = Array2::from_shape_fn((13, 21), |(i, j)| i as f64 - 0.5 * j as f64);
        let c = big.slice(s![1..12, 2..19]); // row stride 21, unit column stride
        let bigf = Array2::from_shape_fn((21, 13).f(), |(i, j)| i as f64 * 0.5 + j as f64);
        let f = bigf.slice(s![3..20, 1..12]); // unit row stride, column stride 21
        for a in [c, f] {
            let x = Array1::from_shape_fn(a.ncols(), |j| 2.0 - j as f64);
            let xs = x.as_slice().unwrap();
            let mut out = vec![0.0; a.nrows()];
            if a.strides()[1] == 1 {
                rows_times_x(a, xs, &mut out);
            } else {
                columns_times_x(a, xs, &mut out);
            }
            check(&out, &reference(a, xs), "submatrix");
        }
    }

    #[test]
    fn the_result_is_added_to_out() {
        let a = Array2::from_shape_fn((6, 5), |(i, j)| (i + j) as f64);
        let x = [1.0; 5];
        let mut out = vec![10.0; 6];
        rows_times_x(a.view(), &x, &mut out);
        let expected: Vec<f64> = reference(a.view(), &x).iter().map(|v| v + 10.0).collect();
        check(&out, &expected, "C adds");
        let f = Array2::from_shape_fn((6, 5).f(), |(i, j)| a[[i, j]]);
        let mut out = vec![10.0; 6];
        columns_times_x(f.view(), &x, &mut out);
        check(&out, &expected, "F adds");
    }

    #[test]
    #[should_panic(expected = "rows not contiguous")]
    fn rows_times_x_refuses_strided_rows() {
        let a = Array2::<f64>::zeros((3, 4).f());
        rows_times_x(a.view(), &[0.0; 4], &mut [0.0; 3]);
    }

    #[test]
    #[should_panic(expected = "x length")]
    fn columns_times_x_refuses_a_short_x() {
        let a = Array2::<f64>::zeros((3, 4).f());
        columns_times_x(a.view(), &[0.0; 3], &mut [0.0; 3]);
    }
}
