//! Tensor kernels for the tensorbench compendium.
//!
//! The kernels are pure Rust on slices and `ndarray` views, grouped by family:
//! [`dense`] (dot, matvec), [`sparse`] (COO tensor times vector) and [`tt`]
//! (tensor-train contractions, built on the complex product of [`gemm`]). [`bench`] times
//! kernels
//! entirely inside Rust ("Rust" in the paper's figures). The PyO3 layer lives in
//! `python/` behind the `python` feature, so `cargo test` needs no Python.

pub mod alloc;
pub mod bench;
pub mod dense;
pub mod extent;
pub mod gemm;
pub mod memory;
pub mod overhead;
pub mod pool;
pub mod scratch;
pub mod sparse;
#[cfg(test)]
mod test_util;
pub mod tt;

#[cfg(feature = "python")]
mod python;

/// True when compiled without debug assertions (a release build).
pub const IS_RELEASE_BUILD: bool = !cfg!(debug_assertions);

/// A shape written as Python writes a tuple: `(3,)`, `(2, 4)`; used in error messages.
pub fn shape_str(shape: &[usize]) -> String {
    match shape {
        [one] => format!("({one},)"),
        _ => format!(
            "({})",
            shape
                .iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}
