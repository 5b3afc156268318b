//! Dense kernels: vector dot product and matrix-vector product.
//!
//! Each kernel has two forms. The `*_loop` form is the paper's plain loop (what the
//! paper measured). The tuned form ([`gemv`]) splits the sums over several independent
//! vector accumulators, on the widest SIMD the CPU has (chosen at run time); it is meant
//! to run at memory bandwidth for large inputs.

use ndarray::{ArrayView1, ArrayView2};

use crate::alloc::{try_collect, try_vec, AllocError};

pub mod gemv;

/// The paper's dot product: one loop, one accumulator.
///
/// # Panics
/// If `x` and `y` differ in length (the Python layer checks this first).
pub fn dot_loop(x: &[f64], y: &[f64]) -> f64 {
    assert_eq!(x.len(), y.len(), "dot_loop: length mismatch");
    let mut sum = 0.0;
    for i in 0..x.len() {
        sum += x[i] * y[i];
    }
    sum
}

/// Tuned dot product on contiguous slices: [`gemv::dot`], vectorized for the widest SIMD
/// this CPU has. On the 2-core Xeon (AVX-512) under load, interleaved with `np.dot` at
/// 1e8: the portable 16-accumulator loop this replaced (baseline x86-64 code: SSE2) ran at
/// 0.81x of `np.dot`; see [`gemv`] for this one.
///
/// # Panics
/// If `x` and `y` differ in length (the Python layer checks this first).
pub fn dot(x: &[f64], y: &[f64]) -> f64 {
    gemv::dot(x, y)
}

/// Plain dot product on views of any stride.
pub fn dot_loop_view(x: ArrayView1<f64>, y: ArrayView1<f64>) -> f64 {
    match (x.as_slice(), y.as_slice()) {
        (Some(xs), Some(ys)) => dot_loop(xs, ys),
        _ => {
            assert_eq!(x.len(), y.len(), "dot_loop: length mismatch");
            let mut sum = 0.0;
            for (a, b) in x.iter().zip(y.iter()) {
                sum += a * b;
            }
            sum
        }
    }
}

/// Tuned dot product on views of any stride (contiguous inputs take the fast path).
pub fn dot_view(x: ArrayView1<f64>, y: ArrayView1<f64>) -> f64 {
    match (x.as_slice(), y.as_slice()) {
        (Some(xs), Some(ys)) => dot(xs, ys),
        _ => dot_loop_view(x, y),
    }
}

/// The paper's matrix-vector product: an outer loop over rows, an inner loop over columns.
/// Correct for any layout; fastest for C (row-major) order, which is what the paper used.
///
/// The output is allocated fallibly: a broadcast `a` can have more rows than fit.
///
/// # Panics
/// If `a.ncols() != x.len()` (the Python layer checks this first).
pub fn matvec_loop(a: ArrayView2<f64>, x: ArrayView1<f64>) -> Result<Vec<f64>, AllocError> {
    let (n1, n2) = a.dim();
    assert_eq!(n2, x.len(), "matvec_loop: shape mismatch");
    let mut out = try_vec(n1, 0.0)?;
    for (i, out_i) in out.iter_mut().enumerate() {
        let mut sum = 0.0;
        for j in 0..n2 {
            sum += a[[i, j]] * x[j];
        }
        *out_i = sum;
    }
    Ok(out)
}

/// Tuned matrix-vector product that follows the memory layout without copying `a`:
/// row panels for C order, column panels for Fortran order (see [`gemv`]), and an
/// indexed loop for any other strides. A strided `x` is copied first (n2 values, against
/// n1 x n2 read from `a`).
///
/// The output is allocated fallibly, as in [`matvec_loop`].
///
/// # Panics
/// If `a.ncols() != x.len()` (the Python layer checks this first).
pub fn matvec(a: ArrayView2<f64>, x: ArrayView1<f64>) -> Result<Vec<f64>, AllocError> {
    let (n1, n2) = a.dim();
    assert_eq!(n2, x.len(), "matvec: shape mismatch");
    if n1 == 0 || n2 == 0 {
        return try_vec(n1, 0.0);
    }
    let strides = a.strides();
    let (rows_contiguous, columns_contiguous) = (strides[1] == 1, strides[0] == 1);
    if !rows_contiguous && !columns_contiguous {
        return try_collect(n1, a.rows().into_iter().map(|row| dot_view(row, x)));
    }
    let copied;
    let xs = match x.as_slice() {
        Some(xs) => xs,
        None => {
            copied = try_collect(n2, x.iter().copied())?;
            &copied[..]
        }
    };
    let mut out = try_vec(n1, 0.0)?;
    if rows_contiguous {
        gemv::rows_times_x(a, xs, &mut out);
    } else {
        gemv::columns_times_x(a, xs, &mut out);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{s, Array1, Array2, ShapeBuilder};

    /// Values per pass of the tuned dot on AVX-512 (4 accumulators of 8): the tests run
    /// lengths around several multiples of it.
    const LANES: usize = 4 * 8;

    fn reference_dot(x: &[f64], y: &[f64]) -> f64 {
        x.iter().zip(y).map(|(a, b)| a * b).sum()
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-12 * (1.0 + a.abs().max(b.abs()))
    }

    #[test]
    fn dot_forms_agree_on_every_length_around_the_lane_width() {
        for n in 0..(3 * LANES + 3) {
            let x: Vec<f64> = (0..n).map(|i| (i as f64).sin()).collect();
            let y: Vec<f64> = (0..n).map(|i| 1.0 + (i as f64) * 0.25).collect();
            let expected = reference_dot(&x, &y);
            assert!(close(dot_loop(&x, &y), expected), "dot_loop n={n}");
            assert!(close(dot(&x, &y), expected), "dot n={n}");
        }
    }

    #[test]
    fn dot_of_empty_vectors_is_zero() {
        assert_eq!(dot(&[], &[]), 0.0);
        assert_eq!(dot_loop(&[], &[]), 0.0);
    }

    #[test]
    fn dot_view_handles_strided_input() {
        let x = Array1::from_iter((0..40).map(|i| i as f64));
        let y = Array1::from_iter((0..20).map(|i| 2.0 * i as f64));
        let xs = x.slice(s![..;2]);
        let expected: f64 = (0..20).map(|i| (2 * i) as f64 * 2.0 * i as f64).sum();
        assert!(close(dot_view(xs, y.view()), expected));
        assert!(close(dot_loop_view(xs, y.view()), expected));
    }

    #[test]
    #[should_panic(expected = "length mismatch")]
    fn dot_rejects_length_mismatch() {
        dot(&[1.0, 2.0], &[1.0]);
    }

    fn reference_matvec(a: &Array2<f64>, x: &Array1<f64>) -> Vec<f64> {
        a.rows()
            .into_iter()
            .map(|r| r.iter().zip(x).map(|(p, q)| p * q).sum())
            .collect()
    }

    #[test]
    fn matvec_forms_agree_for_c_f_and_strided_layouts() {
        for &(n1, n2) in &[(1, 1), (3, 17), (17, 3), (33, 40), (0, 5), (5, 0)] {
            let c = Array2::from_shape_fn((n1, n2), |(i, j)| (i * n2 + j) as f64 * 0.5 - 3.0);
            let f = Array2::from_shape_fn((n1, n2).f(), |(i, j)| c[[i, j]]);
            let x = Array1::from_shape_fn(n2, |j| 1.0 / (1.0 + j as f64));
            let expected = reference_matvec(&c, &x);
            for (name, got) in [
                ("loop C", matvec_loop(c.view(), x.view()).unwrap()),
                ("loop F", matvec_loop(f.view(), x.view()).unwrap()),
                ("tuned C", matvec(c.view(), x.view()).unwrap()),
                ("tuned F", matvec(f.view(), x.view()).unwrap()),
                ("tuned transposed", matvec(c.t().t(), x.view()).unwrap()),
            ] {
                assert_eq!(got.len(), n1, "{name}");
                for (g, e) in got.iter().zip(&expected) {
                    assert!(close(*g, *e), "{name} {n1}x{n2}: {g} vs {e}");
                }
            }
        }
    }

    #[test]
    fn matvec_handles_non_unit_strides_on_both_axes() {
        let big = Array2::from_shape_fn((10, 12), |(i, j)| (i as f64) - 2.0 * j as f64);
        let a = big.slice(s![..;2, ..;3]);
        let xbig = Array1::from_shape_fn(8, |j| j as f64 + 1.0);
        let x = xbig.slice(s![..;2]);
        let owned = a.to_owned();
        let expected = reference_matvec(&owned, &x.to_owned());
        assert_eq!(matvec(a, x).unwrap(), expected);
        assert_eq!(matvec_loop(a, x).unwrap(), expected);
    }

    #[test]
    fn an_output_that_cannot_be_allocated_is_an_error_not_an_abort() {
        // A broadcast matrix of 2^61 rows and no columns (its output would be 16 EiB).
        let empty: [f64; 0] = [];
        let a = ArrayView2::from_shape((1usize << 61, 0).strides((0, 1)), &empty[..]).unwrap();
        let x = ArrayView1::from(&empty[..]);
        assert!(matvec(a, x).is_err());
        assert!(matvec_loop(a, x).is_err());
    }
}
