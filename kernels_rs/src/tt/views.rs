//! The contractions on `ndarray` views of any layout (checked shapes), for Rust callers
//! and the tests; each returns a new array.

use ndarray::{Array2, Array3, ArrayView2, ArrayView3};

use super::{
    check_chain, check_env_bra, check_first_site, check_site_update, check_tmp_ket, dims2, dims3,
    env_bra_into, first_site_into, inner_checked, site_update_into, tmp_ket_into, ShapeError, Site,
    TtError, C64, ZERO,
};

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
