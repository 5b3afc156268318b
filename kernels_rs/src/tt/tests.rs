use super::*;
use crate::test_util::{max_rel_err, random_array};
use ndarray::{Array2, Array3, ArrayView2, ArrayView3, Axis, ShapeBuilder};
use rand::rngs::StdRng;
use rand::SeedableRng;

// --- the contractions against their einsum definitions, index by index ---------

fn first_site_reference(bra: &Array2<C64>, ket: &Array2<C64>) -> Array2<C64> {
    let (d, chi_bra, chi_ket) = (bra.nrows(), bra.ncols(), ket.ncols());
    Array2::from_shape_fn((chi_bra, chi_ket), |(a, b)| {
        (0..d).map(|s| bra[[s, a]].conj() * ket[[s, b]]).sum()
    })
}

fn env_bra_reference(env: &Array2<C64>, bra: &Array3<C64>) -> Array3<C64> {
    let (chi_bra, chi_ket) = env.dim();
    let (_, d, right) = bra.dim();
    Array3::from_shape_fn((chi_ket, d, right), |(b, s, c)| {
        (0..chi_bra)
            .map(|a| env[[a, b]] * bra[[a, s, c]].conj())
            .sum()
    })
}

fn tmp_ket_reference(tmp: &Array3<C64>, ket: &Array3<C64>) -> Array2<C64> {
    let (chi_ket, d, chi_bra_right) = tmp.dim();
    let right = ket.dim().2;
    Array2::from_shape_fn((chi_bra_right, right), |(c, e)| {
        let mut sum = ZERO;
        for b in 0..chi_ket {
            for s in 0..d {
                sum += tmp[[b, s, c]] * ket[[b, s, e]];
            }
        }
        sum
    })
}

#[test]
fn contractions_match_their_definitions_for_every_bond_dimension() {
    let mut rng = StdRng::seed_from_u64(3);
    for d in [1, 2, 3] {
        for (cb, ck, cbr, ckr) in [
            (1, 1, 1, 1),
            (2, 3, 4, 5),
            (4, 4, 4, 4),
            (8, 8, 8, 8),
            (16, 16, 16, 16),
            (33, 32, 31, 30),
            (64, 64, 64, 64),
        ] {
            let bra_first = random_array(&mut rng, (d, cb));
            let ket_first = random_array(&mut rng, (d, ck));
            let got = first_site(bra_first.view(), ket_first.view()).unwrap();
            let want = first_site_reference(&bra_first, &ket_first);
            assert!(max_rel_err(got.as_slice().unwrap(), want.as_slice().unwrap()) < 1e-13);

            let env = random_array(&mut rng, (cb, ck));
            let bra = random_array(&mut rng, (cb, d, cbr));
            let ket = random_array(&mut rng, (ck, d, ckr));
            let tmp = env_bra(env.view(), bra.view()).unwrap();
            let tmp_want = env_bra_reference(&env, &bra);
            assert_eq!(tmp.dim(), (ck, d, cbr));
            assert!(max_rel_err(tmp.as_slice().unwrap(), tmp_want.as_slice().unwrap()) < 1e-13);

            let new = tmp_ket(tmp_want.view(), ket.view()).unwrap();
            let new_want = tmp_ket_reference(&tmp_want, &ket);
            assert_eq!(new.dim(), (cbr, ckr));
            assert!(max_rel_err(new.as_slice().unwrap(), new_want.as_slice().unwrap()) < 1e-12);

            let updated = site_update(env.view(), bra.view(), ket.view()).unwrap();
            assert!(max_rel_err(updated.as_slice().unwrap(), new_want.as_slice().unwrap()) < 1e-12);
        }
    }
}

#[test]
fn views_of_any_layout_give_the_same_result() {
    let mut rng = StdRng::seed_from_u64(4);
    let env = random_array(&mut rng, (5, 6));
    let bra = random_array(&mut rng, (5, 2, 7));
    let ket = random_array(&mut rng, (6, 2, 8));
    let want = site_update(env.view(), bra.view(), ket.view()).unwrap();
    // Fortran-ordered copies, a transposed-back view and a reversed axis.
    let env_f = {
        let mut f = Array2::from_elem((5, 6).f(), ZERO);
        f.assign(&env);
        f
    };
    let bra_f = {
        let mut f = Array3::from_elem((5, 2, 7).f(), ZERO);
        f.assign(&bra);
        f
    };
    // ket's values in a (8, 2, 6) C-order buffer, viewed as (6, 2, 8): strides (1, 8, 16).
    let ket_t = ket
        .view()
        .permuted_axes([2, 1, 0])
        .as_standard_layout()
        .into_owned();
    let ket_strided = ket_t.view().permuted_axes([2, 1, 0]);
    assert!(!ket_strided.is_standard_layout());
    let got = site_update(env_f.view(), bra_f.view(), ket_strided).unwrap();
    assert!(max_rel_err(got.as_slice().unwrap(), want.as_slice().unwrap()) < 1e-14);
    let mut env_rev = env.clone();
    env_rev.invert_axis(Axis(1));
    let ket_rev_data = {
        let mut k = ket.clone();
        k.invert_axis(Axis(0));
        k
    };
    let mut ket_rev = ket_rev_data.view();
    ket_rev.invert_axis(Axis(0)); // back to ket's values, negative stride
    let mut env_view = env_rev.view();
    env_view.invert_axis(Axis(1));
    let got = site_update(env_view, bra.view(), ket_rev).unwrap();
    assert!(max_rel_err(got.as_slice().unwrap(), want.as_slice().unwrap()) < 1e-14);
}

/// `<bra|ket>` by brute force: the sum over every physical configuration of
/// conj(bra amplitude) * ket amplitude, each amplitude a product of matrices.
fn inner_brute_force(bras: &[Array3<C64>], kets: &[Array3<C64>]) -> C64 {
    let dims: Vec<usize> = bras.iter().map(|t| t.dim().1).collect();
    let amplitude = |chain: &[Array3<C64>], config: &[usize]| -> C64 {
        let mut row = vec![C64::new(1.0, 0.0)];
        for (t, &s) in chain.iter().zip(config) {
            let (left, _, right) = t.dim();
            row = (0..right)
                .map(|r| (0..left).map(|l| row[l] * t[[l, s, r]]).sum())
                .collect();
        }
        row[0]
    };
    let total: usize = dims.iter().product();
    let mut sum = ZERO;
    for mut index in 0..total {
        let config: Vec<usize> = dims
            .iter()
            .map(|&d| {
                let s = index % d;
                index /= d;
                s
            })
            .collect();
        sum += amplitude(bras, &config).conj() * amplitude(kets, &config);
    }
    sum
}

fn random_chain(rng: &mut StdRng, bonds: &[usize], dims: &[usize]) -> Vec<Array3<C64>> {
    dims.iter()
        .enumerate()
        .map(|(i, &d)| random_array(rng, (bonds[i], d, bonds[i + 1])))
        .collect()
}

#[test]
fn inner_matches_the_brute_force_sum_over_configurations() {
    let mut rng = StdRng::seed_from_u64(5);
    for (bra_bonds, ket_bonds, dims) in [
        (vec![1, 1], vec![1, 1], vec![2]),
        (vec![1, 2, 1], vec![1, 3, 1], vec![2, 2]),
        (vec![1, 2, 4, 3, 1], vec![1, 4, 5, 2, 1], vec![2, 3, 2, 2]),
        (
            vec![1, 2, 4, 8, 4, 2, 1],
            vec![1, 2, 4, 8, 4, 2, 1],
            vec![2; 6],
        ),
        (vec![1, 3, 9, 12, 1], vec![1, 3, 9, 12, 1], vec![3; 4]),
    ] {
        let bras = random_chain(&mut rng, &bra_bonds, &dims);
        let kets = random_chain(&mut rng, &ket_bonds, &dims);
        let bra_views: Vec<_> = bras.iter().map(|t| t.view()).collect();
        let ket_views: Vec<_> = kets.iter().map(|t| t.view()).collect();
        let got = inner(&bra_views, &ket_views).unwrap();
        let want = inner_brute_force(&bras, &kets);
        assert!(
            (got - want).norm() <= 1e-12 * want.norm().max(1.0),
            "{got} vs {want}"
        );
        // <psi|psi> is real and positive.
        let norm = inner(&bra_views, &bra_views).unwrap();
        assert!(norm.re > 0.0 && norm.im.abs() <= 1e-12 * norm.re);
    }
}

#[test]
fn inner_equals_a_loop_of_site_updates_at_large_bond_dimension() {
    let mut rng = StdRng::seed_from_u64(6);
    let chi = 40;
    let mut bonds = vec![1];
    bonds.extend(std::iter::repeat_n(chi, 5));
    bonds.push(1);
    let bras = random_chain(&mut rng, &bonds, &[2; 6]);
    let kets = random_chain(&mut rng, &bonds, &[2; 6]);
    let mut env = Array2::from_elem((1, 1), C64::new(1.0, 0.0));
    for (bra, ket) in bras.iter().zip(&kets) {
        env = site_update(env.view(), bra.view(), ket.view()).unwrap();
    }
    let bra_views: Vec<_> = bras.iter().map(|t| t.view()).collect();
    let ket_views: Vec<_> = kets.iter().map(|t| t.view()).collect();
    let got = inner(&bra_views, &ket_views).unwrap();
    assert!((got - env[[0, 0]]).norm() <= 1e-12 * got.norm());
}

#[test]
fn reused_workspace_never_leaks_stale_values() {
    let mut rng = StdRng::seed_from_u64(7);
    for chi in [32, 2, 16, 1, 64, 3] {
        let env = random_array(&mut rng, (chi, chi));
        let bra = random_array(&mut rng, (chi, 2, chi));
        let ket = random_array(&mut rng, (chi, 2, chi));
        let got = site_update(env.view(), bra.view(), ket.view()).unwrap();
        let want = tmp_ket_reference(&env_bra_reference(&env, &bra), &ket);
        assert!(max_rel_err(got.as_slice().unwrap(), want.as_slice().unwrap()) < 1e-12);
    }
}

// --- validation ------------------------------------------------------------------

#[test]
fn shape_checks_name_the_operands_and_their_shapes() {
    let e = check_first_site([2, 3], [3, 3]).unwrap_err();
    assert!(e.0.contains("(2, 3)") && e.0.contains("(3, 3)") && e.0.contains("physical"));
    let e = check_env_bra([2, 2], [3, 2, 2]).unwrap_err();
    assert!(e.0.contains("env shape (2, 2)") && e.0.contains("bra shape (3, 2, 2)"));
    let e = check_tmp_ket([2, 2, 4], [2, 3, 4]).unwrap_err();
    assert!(e.0.contains("(2, 2, 4)") && e.0.contains("(2, 3, 4)"));
    let e = check_tmp_ket([2, 2, 4], [3, 2, 4]).unwrap_err();
    assert!(e.0.contains("chi_ket"));
    for (env, bra, ket, word) in [
        ([2, 3], [4, 2, 2], [3, 2, 2], "chi_bra"),
        ([2, 3], [2, 2, 2], [4, 2, 2], "chi_ket"),
        ([2, 3], [2, 2, 2], [3, 3, 2], "physical"),
    ] {
        let e = check_site_update(env, bra, ket).unwrap_err();
        assert!(e.0.contains(word) && e.0.contains(&shape_str(&env)), "{e}");
    }
    assert!(check_site_update([2, 3], [2, 5, 7], [3, 5, 1]).is_ok());
}

#[test]
fn chain_checks_catch_every_inconsistency() {
    let s = Site::new;
    let ok = [s(1, 2, 3), s(3, 2, 1)];
    assert!(check_chain(&ok, &ok).is_ok());
    let cases: [(&[Site], &[Site], &str); 7] = [
        (&[], &[], "at least one"),
        (&ok, &[s(1, 2, 1)], "same number of sites"),
        (
            &[s(2, 2, 3), s(3, 2, 1)],
            &ok,
            "bras[0] must have left bond 1",
        ),
        (
            &ok,
            &[s(1, 2, 3), s(3, 2, 2)],
            "kets[1] must have right bond 1",
        ),
        (
            &[s(1, 2, 3), s(4, 2, 1)],
            &ok,
            "bras[0]'s right bond must equal bras[1]'s left bond",
        ),
        (
            &ok,
            &[s(1, 2, 3), s(3, 3, 1)],
            "bras[1] and kets[1] must have the same physical",
        ),
        (&[s(1, 2, 1)], &[], "at least one"),
    ];
    for (bras, kets, expected) in cases {
        let e = check_chain(bras, kets).unwrap_err();
        assert!(e.0.contains(expected), "{e} lacks {expected}");
    }
}

#[test]
fn view_functions_return_shape_errors_instead_of_panicking() {
    let mut rng = StdRng::seed_from_u64(8);
    let env = random_array(&mut rng, (2, 3));
    let bra = random_array(&mut rng, (3, 2, 2));
    let ket = random_array(&mut rng, (3, 2, 2));
    assert!(env_bra(env.view(), bra.view()).is_err());
    assert!(site_update(env.view(), bra.view(), ket.view()).is_err());
    assert!(tmp_ket(bra.view(), random_array(&mut rng, (3, 3, 2)).view()).is_err());
    assert!(first_site(env.view(), random_array(&mut rng, (3, 3)).view()).is_err());
    assert!(inner(&[bra.view()], &[ket.view()]).is_err());
}

#[test]
fn zero_sized_dimensions_give_zeros_not_panics() {
    let env = Array2::from_elem((2, 3), C64::new(1.0, 1.0));
    let bra = Array3::from_elem((2, 0, 4), ZERO);
    let ket = Array3::from_elem((3, 0, 5), ZERO);
    let out = site_update(env.view(), bra.view(), ket.view()).unwrap();
    assert_eq!(out.dim(), (4, 5));
    assert!(out.iter().all(|z| *z == ZERO));
    let empty = Array3::from_elem((1, 2, 0), ZERO);
    let last = Array3::from_elem((0, 2, 1), ZERO);
    let value = inner(&[empty.view(), last.view()], &[empty.view(), last.view()]).unwrap();
    assert_eq!(value, ZERO);
}

#[test]
fn view_operands_that_cannot_be_copied_are_errors_not_aborts() {
    // Broadcast views of 2^40 x 2 x 2^20 elements: their C-order copies cannot exist.
    let one = [C64::new(1.0, 0.0)];
    let huge = ArrayView3::from_shape((1usize << 40, 2, 1 << 20).strides((0, 0, 0)), &one[..])
        .expect("stride-0 view of one element");
    assert!(matches!(tmp_ket(huge, huge), Err(TtError::OutOfMemory(_))));
    // A result of 2^60 elements from empty operands.
    let empty: [C64; 0] = [];
    let env = ArrayView2::from_shape((0, 1usize << 30), &empty[..]).unwrap();
    let bra = ArrayView3::from_shape((0, 1, 1usize << 30), &empty[..]).unwrap();
    assert!(matches!(env_bra(env, bra), Err(TtError::OutOfMemory(_))));
}
