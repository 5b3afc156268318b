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
//! Each contraction is one call of [`crate::gemm::atb`]. Besides the output, the
//! contractions need scratch (the intermediate `tmp` of `site_update`, the environments
//! of `inner`), which lives in a thread-local workspace (`crate::scratch`).
//!
//! Files: `shapes` (shape checks with their messages), `contract` (the contractions on
//! contiguous slices), `views` (the same on `ndarray` views of any layout), `bench` (the
//! contractions timed inside Rust).

pub mod bench;
mod contract;
mod shapes;
mod views;

use std::fmt;

use num_complex::Complex64;

use crate::alloc::AllocError;
pub use crate::gemm::{Path, SMALL_MACS};
pub use crate::scratch::ScratchError;
pub use contract::{env_bra_into, first_site_into, inner_checked, site_update_into, tmp_ket_into};
pub use shapes::{
    check_chain, check_env_bra, check_first_site, check_site_update, check_tmp_ket, dims2, dims3,
    shape_str, ShapeError, Site,
};
pub use views::{env_bra, first_site, inner, site_update, tmp_ket};

/// The element type of every tensor-train kernel.
pub type C64 = Complex64;

const ZERO: C64 = C64::new(0.0, 0.0);

/// Why a contraction on views failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TtError {
    Shape(ShapeError),
    Scratch(ScratchError),
    /// The result or a C-order copy of an operand could not be allocated.
    OutOfMemory(AllocError),
}

impl fmt::Display for TtError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TtError::Shape(e) => e.fmt(f),
            TtError::Scratch(e) => e.fmt(f),
            TtError::OutOfMemory(e) => e.fmt(f),
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

impl From<AllocError> for TtError {
    fn from(e: AllocError) -> TtError {
        TtError::OutOfMemory(e)
    }
}

#[cfg(test)]
mod tests;
