use super::*;
use crate::test_util::{max_rel_err, random};
use rand::rngs::StdRng;
use rand::SeedableRng;

fn maybe_conj(z: C64, yes: bool) -> C64 {
    if yes {
        z.conj()
    } else {
        z
    }
}

/// Independent reference: the definition of C = op(A)^T op(B), one complex sum each.
fn atb_reference(k: usize, m: usize, n: usize, a: &[C64], b: &[C64], conj: Conj) -> Vec<C64> {
    let mut c = vec![ZERO; m * n];
    for i in 0..m {
        for j in 0..n {
            c[i * n + j] = (0..k)
                .map(|p| maybe_conj(a[p * m + i], conj.a) * maybe_conj(b[p * n + j], conj.b))
                .sum();
        }
    }
    c
}

#[test]
fn every_path_and_conjugation_matches_the_definition() {
    let mut rng = StdRng::seed_from_u64(1);
    let sizes = [
        (0, 3, 4),
        (3, 0, 4),
        (3, 4, 0),
        (1, 1, 1),
        (2, 1, 2),
        (5, 3, 7),
        (8, 8, 16),
        (16, 9, 33),
        (17, 13, 10),
        (32, 32, 64),
        (64, 32, 32),
        (7, 5, 3),
    ];
    for path in Path::available() {
        for &(k, m, n) in &sizes {
            let a = random(&mut rng, k * m);
            let b = random(&mut rng, k * n);
            for conj in [Conj::NONE, Conj::A, Conj::B, Conj::BOTH] {
                let want = atb_reference(k, m, n, &a, &b, conj);
                // Stale garbage in c must not leak into the result.
                let mut c = vec![C64::new(f64::NAN, 7.0); m * n];
                atb_with(path, k, m, n, &a, &b, conj, &mut c);
                let err = max_rel_err(&c, &want);
                assert!(err < 1e-13, "{path:?} k={k} m={m} n={n} {conj:?}: {err}");
            }
        }
    }
}

#[test]
fn atb_picks_direct_for_small_and_tiled_for_large_products() {
    let mut rng = StdRng::seed_from_u64(2);
    for (k, m, n) in [(2, 2, 4), (8, 8, 8), (9, 8, 8), (64, 64, 128)] {
        let a = random(&mut rng, k * m);
        let b = random(&mut rng, k * n);
        let mut c = vec![ZERO; m * n];
        atb(k, m, n, &a, &b, Conj::B, &mut c);
        assert!(max_rel_err(&c, &atb_reference(k, m, n, &a, &b, Conj::B)) < 1e-13);
    }
}

#[test]
#[should_panic(expected = "a must hold")]
fn atb_refuses_mismatched_slices() {
    atb(2, 2, 2, &[ZERO; 3], &[ZERO; 4], Conj::NONE, &mut [ZERO; 4]);
}

#[test]
fn long_contractions_run_in_passes_that_accumulate() {
    let mut rng = StdRng::seed_from_u64(9);
    for path in Path::available() {
        for (k, m, n) in [(KC + 1, 5, 9), (2 * KC + 17, 8, 16), (3 * KC, 3, 3)] {
            let a = random(&mut rng, k * m);
            let b = random(&mut rng, k * n);
            for conj in [Conj::NONE, Conj::B] {
                let mut c = vec![C64::new(f64::NAN, 1.0); m * n];
                atb_with(path, k, m, n, &a, &b, conj, &mut c);
                let err = max_rel_err(&c, &atb_reference(k, m, n, &a, &b, conj));
                assert!(err < 1e-13, "{path:?} k={k}: {err}");
            }
        }
    }
}
