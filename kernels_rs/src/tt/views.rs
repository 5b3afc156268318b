//! The contractions on `ndarray` views of any layout (checked shapes), for Rust callers
//! and the tests; each returns a new array. Operands in another layout are copied to C
//! order, and every allocation is fallible (a broadcast view can stand for more values
//! than fit): an error, never an abort.

use std::borrow::Cow;

use ndarray::{Array, Array2, Array3, ArrayView2, ArrayView3, Dimension, IntoDimension};

use super::{
    check_chain, check_env_bra, check_first_site, check_site_update, check_tmp_ket, dims2, dims3,
    env_bra_into, first_site_into, inner_checked, site_update_into, tmp_ket_into, Site, TtError,
    C64, ZERO,
};
use crate::alloc::{c_order_values, try_vec, AllocError};

/// A zeroed array of `shape`, allocated fallibly.
fn zeros<D: Dimension>(shape: impl IntoDimension<Dim = D>) -> Result<Array<C64, D>, TtError> {
    let dim = shape.into_dimension();
    let len = dim.size_checked().ok_or(AllocError { bytes: u128::MAX })?;
    Ok(Array::from_shape_vec(dim, try_vec(len, ZERO)?).expect("one value per element"))
}

/// [`first_site_into`] on views: `bra_first [d, chi_bra]`, `ket_first [d, chi_ket]`.
pub fn first_site(bra: ArrayView2<C64>, ket: ArrayView2<C64>) -> Result<Array2<C64>, TtError> {
    check_first_site(dims2(bra.shape()), dims2(ket.shape()))?;
    let (d, chi_bra, chi_ket) = (bra.nrows(), bra.ncols(), ket.ncols());
    let mut out = zeros((chi_bra, chi_ket))?;
    let (bra, ket) = (c_order_values(bra)?, c_order_values(ket)?);
    let values = out.as_slice_mut().expect("fresh array");
    first_site_into(d, chi_bra, chi_ket, &bra, &ket, values);
    Ok(out)
}

/// [`env_bra_into`] on views: `env [chi_bra, chi_ket]`, `bra [chi_bra, d, chi_bra']`.
pub fn env_bra(env: ArrayView2<C64>, bra: ArrayView3<C64>) -> Result<Array3<C64>, TtError> {
    check_env_bra(dims2(env.shape()), dims3(bra.shape()))?;
    let site = Site::from_shape(bra.shape());
    let chi_ket = env.ncols();
    let mut out = zeros((chi_ket, site.phys, site.right))?;
    let (env, bra) = (c_order_values(env)?, c_order_values(bra)?);
    env_bra_into(
        chi_ket,
        site,
        &env,
        &bra,
        out.as_slice_mut().expect("fresh array"),
    );
    Ok(out)
}

/// [`tmp_ket_into`] on views: `tmp [chi_ket, d, chi_bra']`, `ket [chi_ket, d, chi_ket']`.
pub fn tmp_ket(tmp: ArrayView3<C64>, ket: ArrayView3<C64>) -> Result<Array2<C64>, TtError> {
    check_tmp_ket(dims3(tmp.shape()), dims3(ket.shape()))?;
    let site = Site::from_shape(ket.shape());
    let chi_bra_right = tmp.shape()[2];
    let mut out = zeros((chi_bra_right, site.right))?;
    let (tmp, ket) = (c_order_values(tmp)?, c_order_values(ket)?);
    let values = out.as_slice_mut().expect("fresh array");
    tmp_ket_into(chi_bra_right, site, &tmp, &ket, values);
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
    let mut out = zeros((bra_site.right, ket_site.right))?;
    let (env, bra, ket) = (
        c_order_values(env)?,
        c_order_values(bra)?,
        c_order_values(ket)?,
    );
    let values = out.as_slice_mut().expect("fresh array");
    site_update_into(bra_site, ket_site, &env, &bra, &ket, values)?;
    Ok(out)
}

/// `<bra|ket>` of two lists of site tensors `[chi_left, d, chi_right]` (any layout).
pub fn inner(bras: &[ArrayView3<C64>], kets: &[ArrayView3<C64>]) -> Result<C64, TtError> {
    let bra_shapes: Vec<Site> = bras.iter().map(|t| Site::from_shape(t.shape())).collect();
    let ket_shapes: Vec<Site> = kets.iter().map(|t| Site::from_shape(t.shape())).collect();
    check_chain(&bra_shapes, &ket_shapes)?;
    let (bra_values, ket_values) = (chain_values(bras)?, chain_values(kets)?);
    let (bras, kets) = (
        with_shapes(&bra_shapes, &bra_values),
        with_shapes(&ket_shapes, &ket_values),
    );
    Ok(inner_checked(&bras, &kets)?)
}

fn chain_values<'a>(chain: &[ArrayView3<'a, C64>]) -> Result<Vec<Cow<'a, [C64]>>, AllocError> {
    chain.iter().map(|t| c_order_values(*t)).collect()
}

fn with_shapes<'a>(shapes: &[Site], values: &'a [Cow<'_, [C64]>]) -> Vec<(Site, &'a [C64])> {
    shapes.iter().zip(values).map(|(s, v)| (*s, &**v)).collect()
}
