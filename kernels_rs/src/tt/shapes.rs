//! The shapes of the contractions' operands and their checks; each refusal names the
//! operands and their shapes.

use std::fmt;

/// A shape refused by a contraction; the message names the operands and their shapes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShapeError(pub String);

impl fmt::Display for ShapeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ShapeError {}

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
        // Saturating: an empty tensor may have huge other extents (0 x 2^40 x 2^40), and
        // a product that saturates before its zero factor still ends at 0.
        self.left
            .saturating_mul(self.phys)
            .saturating_mul(self.right)
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

/// The two extents of a shape already checked to have two axes.
pub fn dims2(shape: &[usize]) -> [usize; 2] {
    [shape[0], shape[1]]
}

/// The three extents of a shape already checked to have three axes.
pub fn dims3(shape: &[usize]) -> [usize; 3] {
    [shape[0], shape[1], shape[2]]
}
