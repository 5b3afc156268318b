use super::*;
use ndarray::{Array1, Array2};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

/// The definition, term by term in pyttb's order.
fn reference(
    subs: &Array2<i64>,
    vals: &[f64],
    shape: &[usize],
    factors: &[Array2<f64>],
    mode: usize,
) -> Array2<f64> {
    let rank = factors[(mode + 1) % shape.len()].ncols();
    let mut out = Array2::<f64>::zeros((shape[mode], rank));
    for (row, &v) in subs.rows().into_iter().zip(vals) {
        for r in 0..rank {
            let mut term = v;
            for m in (0..shape.len()).filter(|&m| m != mode) {
                term *= factors[m][[row[m] as usize, r]];
            }
            out[[row[mode] as usize, r]] += term;
        }
    }
    out
}

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

fn run(
    subs: &Array2<i64>,
    vals: &[f64],
    shape: &[usize],
    factors: &[Array2<f64>],
    mode: usize,
    threads: usize,
) -> Result<Array2<f64>, FactorsError> {
    run_with(subs, vals, shape, factors, mode, threads, Schedule::Auto)
}

fn run_with(
    subs: &Array2<i64>,
    vals: &[f64],
    shape: &[usize],
    factors: &[Array2<f64>],
    mode: usize,
    threads: usize,
    schedule: Schedule,
) -> Result<Array2<f64>, FactorsError> {
    let views: Vec<_> = factors.iter().map(|f| f.view()).collect();
    // One task per thread even for small calls, so every schedule runs.
    split_mttkrp(
        Subs::from_view(subs.view()).unwrap(),
        ArrayView1::from(vals),
        shape,
        &views,
        mode,
        (threads, schedule),
        1,
    )
}

/// `got` within 1e-13 of the sum of the terms' magnitudes (`scale`: the MTTKRP of
/// the absolute values), the scale of a sum's rounding error whatever cancels.
fn assert_close(got: &Array2<f64>, expected: &Array2<f64>, scale: &Array2<f64>) {
    assert_eq!(got.dim(), expected.dim());
    for ((g, e), s) in got.iter().zip(expected).zip(scale) {
        assert!((g - e).abs() <= 1e-13 * s, "{g} vs {e} (scale {s})");
    }
}

#[test]
fn matches_the_definition_bitwise_on_every_mode_and_thread_count() {
    let mut rng = StdRng::seed_from_u64(11);
    // Orders 2 to 5 have their own loops; order 6 takes the generic one.
    let shapes: [&[usize]; 5] = [
        &[7, 5],
        &[6, 1, 4],
        &[4, 3, 5, 2],
        &[3, 2, 3, 2, 4],
        &[2, 3, 2, 1, 2, 3],
    ];
    for shape in shapes {
        // R = 29 takes every register block (16, 8, 4, 1).
        for (nnz, rank) in [(0, 8), (1, 8), (13, 29), (500, 8), (2_000, 29)] {
            let (subs, vals, factors) = random_case(&mut rng, shape, nnz, rank);
            let abs_vals: Vec<f64> = vals.iter().map(|v| v.abs()).collect();
            let abs_factors: Vec<Array2<f64>> = factors.iter().map(|f| f.mapv(f64::abs)).collect();
            for mode in 0..shape.len() {
                let expected = reference(&subs, &vals, shape, &factors, mode);
                let scale = reference(&subs, &abs_vals, shape, &abs_factors, mode);
                let what = format!("{shape:?} nnz {nnz} R {rank} mode {mode}");
                assert_eq!(
                    run(&subs, &vals, shape, &factors, mode, 1).unwrap(),
                    expected
                );
                for threads in [2, 3, 7] {
                    let rows =
                        run_with(&subs, &vals, shape, &factors, mode, threads, Schedule::Rows);
                    assert_eq!(rows.unwrap(), expected, "{what} rows, {threads} threads");
                    let private = run_with(
                        &subs,
                        &vals,
                        shape,
                        &factors,
                        mode,
                        threads,
                        Schedule::Private,
                    )
                    .unwrap();
                    assert_close(&private, &expected, &scale);
                    let again = run_with(
                        &subs,
                        &vals,
                        shape,
                        &factors,
                        mode,
                        threads,
                        Schedule::Private,
                    )
                    .unwrap();
                    assert_eq!(private, again, "{what}: private outputs are deterministic");
                    let auto = run(&subs, &vals, shape, &factors, mode, threads).unwrap();
                    assert_close(&auto, &expected, &scale);
                }
            }
        }
    }
}

#[test]
fn column_major_and_int32_subscripts_give_the_same_result() {
    let mut rng = StdRng::seed_from_u64(12);
    let shape = [5, 6, 7];
    let (subs, vals, factors) = random_case(&mut rng, &shape, 4_000, 4);
    let views: Vec<_> = factors.iter().map(|f| f.view()).collect();
    let fortran = subs.t().as_standard_layout().into_owned();
    let narrow = subs.mapv(|x| x as i32);
    for (threads, schedule) in [
        (1, Schedule::Auto),
        (2, Schedule::Rows),
        (2, Schedule::Private),
    ] {
        let expected = run_with(&subs, &vals, &shape, &factors, 1, threads, schedule).unwrap();
        let f = split_mttkrp(
            Subs::from_view(fortran.t()).unwrap(),
            ArrayView1::from(&vals),
            &shape,
            &views,
            1,
            (threads, schedule),
            1,
        )
        .unwrap();
        let n = split_mttkrp(
            Subs::from_view(narrow.view()).unwrap(),
            ArrayView1::from(&vals),
            &shape,
            &views,
            1,
            (threads, schedule),
            1,
        )
        .unwrap();
        assert_eq!(f, expected);
        assert_eq!(n, expected);
    }
}

#[test]
fn schedule_names_parse() {
    assert_eq!(Schedule::parse("auto"), Some(Schedule::Auto));
    assert_eq!(Schedule::parse("private"), Some(Schedule::Private));
    assert_eq!(Schedule::parse("rows"), Some(Schedule::Rows));
    assert_eq!(Schedule::parse("csf"), None);
}

#[test]
fn duplicates_add_and_nan_propagates() {
    let subs = Array2::from_shape_vec((3, 2), vec![1i64, 0, 1, 0, 0, 1]).unwrap();
    let factors = vec![Array2::ones((2, 2)), Array2::from_elem((2, 2), 2.0)];
    let got = run(&subs, &[1.0, 3.0, f64::NAN], &[2, 2], &factors, 0, 1).unwrap();
    assert_eq!(got.row(1).to_vec(), vec![8.0, 8.0]);
    assert!(got.row(0).iter().all(|x| x.is_nan()));
}

#[test]
fn the_skipped_factor_is_never_read_and_rank_zero_is_empty() {
    let subs = Array2::from_shape_vec((1, 2), vec![0i64, 1]).unwrap();
    // factors[0] has the wrong shape on purpose: mode 0 does not read it.
    let factors = vec![Array2::<f64>::zeros((9, 9)), Array2::from_elem((2, 3), 2.0)];
    let got = run(&subs, &[5.0], &[1, 2], &factors, 0, 1).unwrap();
    assert_eq!(got, Array2::from_elem((1, 3), 10.0));
    let none = vec![Array2::<f64>::zeros((1, 0)), Array2::<f64>::zeros((2, 0))];
    assert_eq!(
        run(&subs, &[5.0], &[1, 2], &none, 1, 1).unwrap().dim(),
        (2, 0)
    );
}

#[test]
fn bad_input_is_an_error_naming_the_problem() {
    let subs = Array2::from_shape_vec((2, 3), vec![0i64, 1, 2, 1, 0, 0]).unwrap();
    let vals = [1.0, 2.0];
    let shape = [2, 2, 3];
    let good = vec![
        Array2::<f64>::zeros((2, 4)),
        Array2::<f64>::zeros((2, 4)),
        Array2::<f64>::zeros((3, 4)),
    ];
    let one = Array2::from_shape_vec((1, 1), vec![0i64]).unwrap();
    assert_eq!(
        run(&one, &[1.0], &[2], &good[..1], 0, 1),
        Err(FactorsError::OrderBelowTwo { order: 1 })
    );
    assert_eq!(
        run(&subs, &vals, &shape, &good, 3, 1),
        Err(FactorsError::ModeOutOfRange { mode: 3, order: 3 })
    );
    assert_eq!(
        run(&subs, &vals, &shape[..2], &good[..2], 0, 1),
        Err(FactorsError::ColumnCount {
            columns: 3,
            order: 2
        })
    );
    assert_eq!(
        run(&subs, &vals[..1], &shape, &good, 0, 1),
        Err(FactorsError::LengthMismatch {
            subs_rows: 2,
            vals_len: 1
        })
    );
    assert_eq!(
        run(&subs, &vals, &shape, &good[..2], 0, 1),
        Err(FactorsError::FactorCount { count: 2, order: 3 })
    );
    let mut rows = good.clone();
    rows[2] = Array2::zeros((4, 4));
    assert_eq!(
        run(&subs, &vals, &shape, &rows, 0, 1),
        Err(FactorsError::FactorRows {
            index: 2,
            rows: 4,
            size: 3
        })
    );
    let mut ranks = good.clone();
    ranks[2] = Array2::zeros((3, 5));
    let err = run(&subs, &vals, &shape, &ranks, 0, 1).unwrap_err();
    assert_eq!(
        err,
        FactorsError::RankMismatch {
            index: 2,
            columns: 5,
            first: 1,
            rank: 4
        }
    );
    assert!(err
        .to_string()
        .contains("factors[1] has 4, factors[2] has 5"));
}

#[test]
fn a_bad_subscript_is_the_same_error_on_every_schedule() {
    let mut rng = StdRng::seed_from_u64(13);
    let shape = [4, 5, 6];
    let (mut subs, vals, factors) = random_case(&mut rng, &shape, 50_000, 8);
    subs[[30_000, 2]] = 6;
    subs[[40_000, 0]] = -1;
    for mode in 0..3 {
        for (threads, schedule) in [
            (1, Schedule::Auto),
            (2, Schedule::Rows),
            (4, Schedule::Private),
        ] {
            assert_eq!(
                run_with(&subs, &vals, &shape, &factors, mode, threads, schedule),
                Err(FactorsError::SubscriptOutOfRange {
                    row: 30_000,
                    column: 2,
                    value: 6,
                    size: 6
                }),
                "mode {mode} threads {threads}"
            );
        }
    }
}

#[test]
fn an_impossible_output_is_out_of_memory_not_an_abort() {
    let subs = Array2::from_shape_vec((1, 2), vec![0i64, 0]).unwrap();
    // factors[0] is skipped (mode 0); factors[1] fits shape[1] = 1.
    let factors = [Array2::<f64>::zeros((1, 2)), Array2::<f64>::zeros((1, 2))];
    let views: Vec<_> = factors.iter().map(|f| f.view()).collect();
    for rows in [usize::MAX / 2, 1usize << 60] {
        let got = mttkrp(
            Subs::from_view(subs.view()).unwrap(),
            Array1::from_vec(vec![1.0]).view(),
            &[rows, 1],
            &views,
            0,
            1,
            Schedule::Auto,
        );
        assert!(
            matches!(got, Err(FactorsError::OutOfMemory { .. })),
            "{got:?}"
        );
    }
}
