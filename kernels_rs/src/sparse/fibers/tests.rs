use ndarray::{Array2, ArrayView1, ArrayView2};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use super::*;
use crate::sparse::mttkrp::{mttkrp as coo_mttkrp, Schedule};

fn random_case(
    rng: &mut StdRng,
    shape: &[usize],
    nnz: usize,
    rank: usize,
) -> (Array2<i64>, Vec<f64>, Vec<Array2<f64>>) {
    let mut subs = Array2::<i64>::zeros((nnz, shape.len()));
    for mut row in subs.rows_mut() {
        for (s, &n) in row.iter_mut().zip(shape) {
            *s = rng.random_range(0..n as i64);
        }
    }
    let vals = (0..nnz).map(|_| rng.random_range(-1.0..1.0)).collect();
    let factors = shape
        .iter()
        .map(|&n| Array2::from_shape_fn((n, rank), |_| rng.random_range(-1.0..1.0)))
        .collect();
    (subs, vals, factors)
}

fn views(factors: &[Array2<f64>]) -> Vec<ArrayView2<'_, f64>> {
    factors.iter().map(|f| f.view()).collect()
}

fn coo(
    subs: &Array2<i64>,
    vals: &[f64],
    shape: &[usize],
    factors: &[Array2<f64>],
    mode: usize,
) -> Array2<f64> {
    coo_mttkrp(
        Subs::from_view(subs.view()).unwrap(),
        ArrayView1::from(vals),
        shape,
        &views(factors),
        mode,
        1,
        Schedule::Auto,
    )
    .unwrap()
}

/// `got` within 1e-13 of `scale` (the MTTKRP of the absolute values) of `expected`.
fn assert_close(got: &Array2<f64>, expected: &Array2<f64>, scale: &Array2<f64>, what: &str) {
    assert_eq!(got.dim(), expected.dim(), "{what}");
    for ((g, e), s) in got.iter().zip(expected).zip(scale) {
        assert!((g - e).abs() <= 1e-13 * s, "{what}: {g} vs {e} (scale {s})");
    }
}

#[test]
fn matches_the_coo_kernel_on_every_order_mode_rank_and_thread_count() {
    let mut rng = StdRng::seed_from_u64(21);
    // Orders 2 to 5 have compiled loops; order 6 takes the runtime count.
    let shapes: [&[usize]; 6] = [
        &[7, 5],
        &[6, 1, 4],
        &[9, 8, 7],
        &[4, 3, 5, 2],
        &[3, 2, 3, 2, 4],
        &[2, 3, 2, 1, 2, 3],
    ];
    for shape in shapes {
        // R = 29 takes every register block (16, 8, 4, 1); nnz 2,000 makes duplicates.
        for (nnz, rank) in [(0, 8), (1, 3), (13, 29), (500, 16), (2_000, 29)] {
            let (subs, vals, factors) = random_case(&mut rng, shape, nnz, rank);
            let abs_vals: Vec<f64> = vals.iter().map(|v| v.abs()).collect();
            let abs_factors: Vec<Array2<f64>> = factors.iter().map(|f| f.mapv(f64::abs)).collect();
            let s = Subs::from_view(subs.view()).unwrap();
            let narrow = Layout::<u32>::build(s, &vals, shape).unwrap();
            let wide = Layout::<u64>::build(s, &vals, shape).unwrap();
            assert!(matches!(
                AnyLayout::build(s, &vals, shape).unwrap(),
                AnyLayout::Narrow(_)
            ));
            for mode in 0..shape.len() {
                let what = format!("{shape:?} nnz {nnz} R {rank} mode {mode}");
                let expected = coo(&subs, &vals, shape, &factors, mode);
                let scale = coo(&subs, &abs_vals, shape, &abs_factors, mode);
                let one = narrow.mttkrp(&views(&factors), mode, 1).unwrap();
                assert_close(&one, &expected, &scale, &what);
                assert_eq!(wide.mttkrp(&views(&factors), mode, 1).unwrap(), one);
                for threads in [2, 3, 7] {
                    let split = narrow
                        .split_mttkrp(&views(&factors), mode, threads, 1)
                        .unwrap();
                    assert_eq!(split, one, "{what}: {threads} threads, bitwise");
                }
            }
        }
    }
}

#[test]
fn the_layout_is_sorted_by_row_then_next_and_keeps_every_nonzero() {
    let mut rng = StdRng::seed_from_u64(22);
    let shape = [6, 9, 3, 5];
    let (subs, vals, _) = random_case(&mut rng, &shape, 300, 1);
    let layout =
        Layout::<u32>::build(Subs::from_view(subs.view()).unwrap(), &vals, &shape).unwrap();
    for (mode, f) in layout.modes.iter().enumerate() {
        assert_eq!(f.mode, mode);
        assert_eq!(
            f.next,
            if mode == 2 { 3 } else { 2 },
            "the smallest other dimension"
        );
        assert_eq!(f.rest.len(), 2);
        assert!(f.rows.windows(2).all(|w| w[0] < w[1]));
        let mut seen: Vec<(usize, usize, f64)> = Vec::new();
        for r in 0..f.rows.len() {
            let fibers = f.row_fibers[r] as usize..f.row_fibers[r + 1] as usize;
            assert_eq!(f.row_nonzeros[r], f.fiber_start[fibers.start]);
            assert!(f.fiber_next[fibers.clone()].windows(2).all(|w| w[0] < w[1]));
            for fiber in fibers {
                for k in f.fiber_start[fiber] as usize..f.fiber_start[fiber + 1] as usize {
                    seen.push((f.rows[r] as usize, f.fiber_next[fiber] as usize, f.vals[k]));
                }
            }
        }
        // Each (row, next) group holds the input's nonzeros of that pair in input order.
        let mut want: Vec<(usize, usize, f64)> = (0..vals.len())
            .map(|k| {
                (
                    subs[[k, mode]] as usize,
                    subs[[k, f.next]] as usize,
                    vals[k],
                )
            })
            .collect();
        want.sort_by_key(|&(i, j, _)| (i, j));
        assert_eq!(seen, want, "mode {mode}");
    }
}

#[test]
fn counting_and_comparison_sorts_give_the_same_layout() {
    let mut rng = StdRng::seed_from_u64(23);
    let shape = [5, 7, 4];
    let (subs, vals, _) = random_case(&mut rng, &shape, 400, 1);
    let s = Subs::from_view(subs.view()).unwrap();
    let counted = Layout::<u32>::build(s, &vals, &shape).unwrap();
    for mode in 0..3 {
        let next = next_mode(&shape, mode);
        let columns = columns::<u32>(&s, vals.len(), &shape).unwrap();
        let by_counts = sort_order(&columns, &shape, mode, next).unwrap();
        let mut by_comparison: Vec<usize> = (0..vals.len()).collect();
        by_comparison.sort_by_key(|&k| (subs[[k, mode]], subs[[k, next]]));
        assert_eq!(by_counts, by_comparison);
        // The one-pass pair counting sort (the build's path here) gives the same layout.
        let pairs = shape[mode] * shape[next];
        assert!(counts_pay(pairs, vals.len()));
        let gathered = by_sort_order(&columns, &vals, &shape, mode, next).unwrap();
        assert_eq!(gathered, counted.modes[mode]);
        assert_eq!(
            by_pair_counts(&columns, &vals, &shape, mode, next, pairs).unwrap(),
            gathered
        );
    }
    // A hypersparse dimension takes the comparison sort: same layout but for the shape.
    let mut wide_shape = shape;
    wide_shape[1] = 1 << 40;
    assert!(!counts_pay(wide_shape[1], vals.len()));
    let hyper = Layout::<u64>::build(s, &vals, &wide_shape).unwrap();
    let f = &hyper.modes[1];
    assert_eq!(f.next, 2);
    assert_eq!(f.rows.len(), counted.modes[1].rows.len());
    assert_eq!(f.vals, counted.modes[1].vals);
    assert!(matches!(
        AnyLayout::build(s, &vals, &wide_shape).unwrap(),
        AnyLayout::Wide(_)
    ));
}

#[test]
fn column_major_and_int32_subscripts_give_the_same_layout() {
    let mut rng = StdRng::seed_from_u64(24);
    let shape = [5, 6, 7];
    let (subs, vals, _) = random_case(&mut rng, &shape, 1_000, 1);
    let fortran = subs.t().as_standard_layout().into_owned();
    let narrow = subs.mapv(|x| x as i32);
    let c = AnyLayout::build(Subs::from_view(subs.view()).unwrap(), &vals, &shape).unwrap();
    let f = AnyLayout::build(Subs::from_view(fortran.t()).unwrap(), &vals, &shape).unwrap();
    let n = AnyLayout::build(Subs::from_view(narrow.view()).unwrap(), &vals, &shape).unwrap();
    assert_eq!(c, f);
    assert_eq!(c, n);
}

#[test]
fn duplicates_add_and_nan_propagates() {
    let subs = Array2::from_shape_vec((3, 2), vec![1i64, 0, 1, 0, 0, 1]).unwrap();
    let vals = [1.0, 3.0, f64::NAN];
    let layout =
        Layout::<u32>::build(Subs::from_view(subs.view()).unwrap(), &vals, &[2, 2]).unwrap();
    let factors = [Array2::ones((2, 2)), Array2::from_elem((2, 2), 2.0)];
    let got = layout.mttkrp(&views(&factors), 0, 1).unwrap();
    assert_eq!(got.row(1).to_vec(), vec![8.0, 8.0]);
    assert!(got.row(0).iter().all(|x| x.is_nan()));
}

#[test]
fn bad_input_is_an_error_naming_the_problem() {
    let subs = Array2::from_shape_vec((2, 3), vec![0i64, 1, 2, 1, 0, 0]).unwrap();
    let s = Subs::from_view(subs.view()).unwrap();
    let vals = [1.0, 2.0];
    let shape = [2, 2, 3];
    assert_eq!(
        Layout::<u32>::build(s, &vals, &shape[..1]),
        Err(FactorsError::OrderBelowTwo { order: 1 })
    );
    assert_eq!(
        Layout::<u32>::build(s, &vals, &shape[..2]),
        Err(FactorsError::ColumnCount {
            columns: 3,
            order: 2
        })
    );
    assert_eq!(
        Layout::<u32>::build(s, &vals[..1], &shape),
        Err(FactorsError::LengthMismatch {
            subs_rows: 2,
            vals_len: 1
        })
    );
    assert_eq!(
        Layout::<u32>::build(s, &vals, &[2, 2, 2]),
        Err(FactorsError::SubscriptOutOfRange {
            row: 0,
            column: 2,
            value: 2,
            size: 2
        })
    );
    let layout = Layout::<u32>::build(s, &vals, &shape).unwrap();
    let good = [
        Array2::<f64>::zeros((2, 4)),
        Array2::<f64>::zeros((2, 4)),
        Array2::<f64>::zeros((3, 4)),
    ];
    assert_eq!(
        layout.mttkrp(&views(&good), 3, 1),
        Err(FactorsError::ModeOutOfRange { mode: 3, order: 3 })
    );
    assert_eq!(
        layout.mttkrp(&views(&good[..2]), 0, 1),
        Err(FactorsError::FactorCount { count: 2, order: 3 })
    );
    let mut rows = good.clone();
    rows[2] = Array2::zeros((4, 4));
    assert_eq!(
        layout.mttkrp(&views(&rows), 0, 1),
        Err(FactorsError::FactorRows {
            index: 2,
            rows: 4,
            size: 3
        })
    );
    let mut ranks = good.clone();
    ranks[2] = Array2::zeros((3, 5));
    assert_eq!(
        layout.mttkrp(&views(&ranks), 0, 1),
        Err(FactorsError::RankMismatch {
            index: 2,
            columns: 5,
            first: 1,
            rank: 4
        })
    );
    // The skipped factor is never read, and rank 0 is an empty result.
    let mut skipped = good.clone();
    skipped[0] = Array2::zeros((9, 9));
    assert_eq!(layout.mttkrp(&views(&skipped), 0, 1).unwrap().dim(), (2, 4));
    let none = [
        Array2::<f64>::zeros((2, 0)),
        Array2::<f64>::zeros((2, 0)),
        Array2::<f64>::zeros((3, 0)),
    ];
    assert_eq!(layout.mttkrp(&views(&none), 2, 1).unwrap().dim(), (3, 0));
}

#[test]
fn an_impossible_output_is_out_of_memory_not_an_abort() {
    let subs = Array2::from_shape_vec((1, 2), vec![0i64, 0]).unwrap();
    let s = Subs::from_view(subs.view()).unwrap();
    let factors = [Array2::<f64>::zeros((1, 2)), Array2::<f64>::zeros((1, 2))];
    for rows in [usize::MAX / 2, 1usize << 60] {
        let layout = Layout::<u64>::build(s, &[1.0], &[rows, 1]).unwrap();
        let got = layout.mttkrp(&views(&factors), 0, 1);
        assert!(
            matches!(got, Err(FactorsError::OutOfMemory { .. })),
            "{got:?}"
        );
    }
}
