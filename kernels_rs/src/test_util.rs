//! Random operands and error measures shared by the kernels' unit tests.

use ndarray::{Array, Dimension, IntoDimension};
use num_complex::Complex64 as C64;
use rand::rngs::StdRng;
use rand_distr::{Distribution, Uniform};

/// `len` complex values with real and imaginary parts uniform in [-1, 1).
pub fn random(rng: &mut StdRng, len: usize) -> Vec<C64> {
    let unit = Uniform::new(-1.0, 1.0).expect("valid range");
    (0..len)
        .map(|_| C64::new(unit.sample(rng), unit.sample(rng)))
        .collect()
}

/// A C-order array of [`random`] values.
pub fn random_array<D: Dimension>(
    rng: &mut StdRng,
    shape: impl IntoDimension<Dim = D>,
) -> Array<C64, D> {
    let dim = shape.into_dimension();
    let data = random(rng, dim.size());
    Array::from_shape_vec(dim, data).expect("length matches")
}

/// The largest elementwise error relative to the largest magnitude of `want`.
pub fn max_rel_err(got: &[C64], want: &[C64]) -> f64 {
    assert_eq!(got.len(), want.len());
    let scale = want.iter().map(|z| z.norm()).fold(1e-300, f64::max);
    got.iter()
        .zip(want)
        .map(|(g, w)| (g - w).norm())
        .fold(0.0, f64::max)
        / scale
}
