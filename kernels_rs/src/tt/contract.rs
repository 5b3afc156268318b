//! The contractions on contiguous row-major slices whose shapes passed the checks of
//! `super::shapes`.

use std::cell::RefCell;

use super::{Site, C64, ZERO};
use crate::gemm::{atb, Conj};
use crate::scratch::{product, try_with_buffer, ScratchError};

thread_local! {
    /// Scratch of `site_update` (tmp) and `inner` (environments and tmp).
    pub(super) static WORKSPACE: RefCell<Vec<C64>> = const { RefCell::new(Vec::new()) };
}

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
