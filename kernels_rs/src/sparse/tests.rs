use super::key_sort::radix_sort_by_key;
use super::*;
use ndarray::{Array1, Array2};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use std::collections::BTreeMap;

/// The definition: a map from output subscripts to the in-order sum, zeros dropped.
fn reference(
    subs: &Array2<i64>,
    vals: &[f64],
    vector: &[f64],
    mode: usize,
) -> BTreeMap<Vec<i64>, f64> {
    let mut sums: BTreeMap<Vec<i64>, f64> = BTreeMap::new();
    for (row, &v) in subs.rows().into_iter().zip(vals) {
        let mut key: Vec<i64> = row.to_vec();
        let s = key.remove(mode);
        *sums.entry(key).or_insert(0.0) += v * vector[s as usize];
    }
    sums.retain(|_, v| *v != 0.0);
    sums
}

fn as_map(result: &SparseTensor) -> BTreeMap<Vec<i64>, f64> {
    rows(result)
        .into_iter()
        .zip(result.vals.iter().copied())
        .collect()
}

fn rows(result: &SparseTensor) -> Vec<Vec<i64>> {
    (0..result.nnz()).map(|k| result.row(k)).collect()
}

fn random_tensor(rng: &mut StdRng, shape: &[usize], nnz: usize) -> (Array2<i64>, Vec<f64>) {
    let mut subs = Array2::<i64>::zeros((nnz, shape.len()));
    for mut row in subs.rows_mut() {
        for (s, &n) in row.iter_mut().zip(shape) {
            *s = rng.random_range(0..n as i64);
        }
    }
    // Integers so that some sums cancel to exactly zero and must be dropped.
    let vals = (0..nnz)
        .map(|_| rng.random_range(-3..=3) as f64 * 0.5)
        .collect();
    (subs, vals)
}

fn sparse(out: TtvOutput) -> SparseTensor {
    match out {
        TtvOutput::Sparse(s) => s,
        TtvOutput::Scalar(x) => panic!("expected a sparse result, got scalar {x}"),
    }
}

fn is_sorted_rows(t: &SparseTensor) -> bool {
    rows(t).windows(2).all(|w| w[0] < w[1])
}

#[test]
fn every_specialised_dense_loop_refuses_a_bad_subscript_in_any_column() {
    // accumulate_dense has one loop per (order, mode) for orders 2 to 5: each must
    // check every column, including the mode's, before it indexes.
    for order in 2..=6usize {
        let shape = vec![3usize; order];
        for mode in 0..order {
            for column in 0..order {
                for bad in [-1i64, 3] {
                    let mut subs = Array2::<i64>::ones((5, order));
                    subs[[3, column]] = bad;
                    let vals = vec![1.0; 5];
                    let vector = vec![1.0; 3];
                    let got = ttv(
                        subs.view(),
                        ArrayView1::from(&vals),
                        &shape,
                        ArrayView1::from(&vector),
                        mode,
                        TtvMethod::Dense,
                    );
                    assert_eq!(
                        got,
                        Err(TtvError::SubscriptOutOfRange {
                            row: 3,
                            column,
                            value: bad,
                            size: 3
                        }),
                        "order {order} mode {mode} column {column}"
                    );
                }
            }
        }
    }
}

#[test]
fn every_method_matches_the_definition_on_random_tensors() {
    let mut rng = StdRng::seed_from_u64(3);
    let shapes: [&[usize]; 6] = [
        &[4, 3],
        &[5, 1, 4],
        &[3, 4, 2, 3],
        &[2, 3, 2, 2, 3],
        &[2, 2, 2, 2, 2, 2],
        &[50, 60, 70],
    ];
    for shape in shapes {
        for nnz in [0, 1, 7, 40, 300] {
            let (subs, vals) = random_tensor(&mut rng, shape, nnz);
            for mode in 0..shape.len() {
                let vector: Vec<f64> = (0..shape[mode])
                    .map(|_| rng.random_range(-2..=2) as f64)
                    .collect();
                let expected = reference(&subs, &vals, &vector, mode);
                for method in [TtvMethod::Auto, TtvMethod::Dense, TtvMethod::Sort] {
                    let got = sparse(
                        ttv(
                            subs.view(),
                            ArrayView1::from(&vals),
                            shape,
                            ArrayView1::from(&vector),
                            mode,
                            method,
                        )
                        .unwrap(),
                    );
                    let mut out_shape = shape.to_vec();
                    out_shape.remove(mode);
                    assert_eq!(got.shape, out_shape);
                    assert_eq!(got.subs.len(), got.nnz() * got.order());
                    assert!(is_sorted_rows(&got), "{method:?} unsorted");
                    assert_eq!(as_map(&got), expected, "{shape:?} mode {mode} {method:?}");
                    assert!(got.vals.iter().all(|&v| v != 0.0));
                }
            }
        }
    }
}

#[test]
fn order_one_is_a_scalar() {
    let subs = Array2::from_shape_vec((3, 1), vec![2, 0, 2]).unwrap();
    let vals = Array1::from_vec(vec![1.0, 2.0, 3.0]);
    let vector = Array1::from_vec(vec![10.0, 20.0, 30.0]);
    let out = ttv(
        subs.view(),
        vals.view(),
        &[3],
        vector.view(),
        0,
        TtvMethod::Auto,
    );
    assert_eq!(out, Ok(TtvOutput::Scalar(30.0 + 20.0 + 90.0)));
    let empty = Array2::<i64>::zeros((0, 1));
    let out = ttv(
        empty.view(),
        ArrayView1::from(&[][..]),
        &[3],
        vector.view(),
        0,
        TtvMethod::Auto,
    );
    assert_eq!(out, Ok(TtvOutput::Scalar(0.0)));
}

#[test]
fn strided_subs_give_the_same_result() {
    let mut rng = StdRng::seed_from_u64(5);
    let shape = [6, 5, 4];
    let (subs, vals) = random_tensor(&mut rng, &shape, 100);
    let fortran = subs.t().as_standard_layout().into_owned();
    let fortran_view = fortran.t();
    assert!(!fortran_view.is_standard_layout());
    let vector = vec![1.0, -2.0, 3.0, 0.5, 4.0];
    let a = ttv(
        subs.view(),
        ArrayView1::from(&vals),
        &shape,
        ArrayView1::from(&vector),
        1,
        TtvMethod::Auto,
    );
    let b = ttv(
        fortran_view,
        ArrayView1::from(&vals),
        &shape,
        ArrayView1::from(&vector),
        1,
        TtvMethod::Auto,
    );
    assert_eq!(a, b);
}

#[test]
fn huge_output_spaces_use_row_sort_and_never_the_dense_space() {
    // 2^22 per dimension: 2^66 output cells, beyond a 64-bit key.
    let n = 1usize << 22;
    let shape = [n, n, n, n];
    let subs = Array2::from_shape_vec(
        (4, 4),
        vec![
            5,
            1,
            7,
            9, //
            5,
            2,
            7,
            9, //
            0,
            0,
            (n - 1) as i64,
            1, //
            5,
            1,
            7,
            8,
        ],
    )
    .unwrap();
    let vals = [1.0, 2.0, 4.0, 8.0];
    let mut vector = vec![0.0; n];
    vector[1] = 1.0;
    vector[2] = 10.0;
    vector[0] = 3.0;
    let view = ArrayView1::from(&vector);
    for method in [TtvMethod::Auto, TtvMethod::Sort] {
        let got = sparse(
            ttv(
                subs.view(),
                ArrayView1::from(&vals[..]),
                &shape,
                view,
                1,
                method,
            )
            .unwrap(),
        );
        let last = (n - 1) as i64;
        assert_eq!(
            rows(&got),
            vec![vec![0, last, 1], vec![5, 7, 8], vec![5, 7, 9]]
        );
        assert_eq!(got.subs, vec![0, 5, 5, last, 7, 7, 1, 8, 9]); // column-major
        assert_eq!(got.vals, vec![12.0, 8.0, 21.0]);
    }
    let dense = ttv(
        subs.view(),
        ArrayView1::from(&vals[..]),
        &shape,
        view,
        1,
        TtvMethod::Dense,
    );
    assert!(matches!(dense, Err(TtvError::OutputTooLarge { .. })));
    // Hypersparse but with a 64-bit key: auto sorts (it would need 2^44 cells).
    let small = [1usize << 22, 1 << 22, 3];
    let subs = Array2::from_shape_vec((2, 3), vec![7, 0, 1, 9, 0, 2]).unwrap();
    let got = sparse(
        ttv(
            subs.view(),
            ArrayView1::from(&[1.0, 2.0][..]),
            &small,
            ArrayView1::from(&[1.0, 1.0, 1.0][..]),
            2,
            TtvMethod::Auto,
        )
        .unwrap(),
    );
    assert_eq!(rows(&got), vec![vec![7, 0], vec![9, 0]]);
}

#[test]
fn nan_and_cancellation_follow_numpy() {
    let subs = Array2::from_shape_vec((4, 2), vec![0, 0, 0, 1, 1, 0, 2, 1]).unwrap();
    let vals = [1.0, -1.0, f64::NAN, 5.0];
    let vector = [2.0, 2.0];
    for method in [TtvMethod::Dense, TtvMethod::Sort] {
        let got = sparse(
            ttv(
                subs.view(),
                ArrayView1::from(&vals[..]),
                &[3, 2],
                ArrayView1::from(&vector[..]),
                1,
                method,
            )
            .unwrap(),
        );
        // Row 0 cancels to exactly 0 and is dropped; the NaN sum is kept.
        assert_eq!(got.subs, vec![1, 2]);
        assert!(got.vals[0].is_nan());
        assert_eq!(got.vals[1], 10.0);
    }
}

#[test]
fn bad_input_is_an_error_naming_the_problem() {
    let subs = Array2::from_shape_vec((2, 3), vec![0, 1, 2, 1, 0, 0]).unwrap();
    let vals = [1.0, 2.0];
    let v3 = [1.0, 1.0, 1.0];
    let call = |subs: ArrayView2<i64>, vals: &[f64], shape: &[usize], v: &[f64], mode| {
        ttv(
            subs,
            ArrayView1::from(vals),
            shape,
            ArrayView1::from(v),
            mode,
            TtvMethod::Auto,
        )
    };
    assert_eq!(
        call(subs.view(), &vals, &[], &v3, 0),
        Err(TtvError::EmptyShape)
    );
    assert_eq!(
        call(subs.view(), &vals, &[3, 3, 3], &v3, 3),
        Err(TtvError::ModeOutOfRange { mode: 3, order: 3 })
    );
    assert_eq!(
        call(subs.view(), &vals, &[3, 3], &v3, 0),
        Err(TtvError::ColumnCount {
            columns: 3,
            order: 2
        })
    );
    assert_eq!(
        call(subs.view(), &vals[..1], &[3, 3, 3], &v3, 0),
        Err(TtvError::LengthMismatch {
            subs_rows: 2,
            vals_len: 1
        })
    );
    assert_eq!(
        call(subs.view(), &vals, &[3, 4, 3], &v3, 1),
        Err(TtvError::VectorLength {
            len: 3,
            mode: 1,
            size: 4
        })
    );
    for bad_shape in [[3, 3, 2], [1, 3, 3]] {
        let err = call(subs.view(), &vals, &bad_shape, &v3, 1).unwrap_err();
        assert!(matches!(err, TtvError::SubscriptOutOfRange { .. }));
    }
    let negative = Array2::from_shape_vec((2, 3), vec![0, 1, 2, 1, -1, 0]).unwrap();
    for method in [TtvMethod::Auto, TtvMethod::Dense, TtvMethod::Sort] {
        let err = ttv(
            negative.view(),
            ArrayView1::from(&vals[..]),
            &[3, 3, 3],
            ArrayView1::from(&v3[..]),
            0,
            method,
        )
        .unwrap_err();
        assert_eq!(
            err,
            TtvError::SubscriptOutOfRange {
                row: 1,
                column: 1,
                value: -1,
                size: 3
            }
        );
        assert!(err.to_string().contains("subs[1, 1] = -1"));
    }
    // Order 1 and orders beyond the unrolled ones check subscripts too.
    let one = Array2::from_shape_vec((1, 1), vec![3]).unwrap();
    assert!(call(one.view(), &vals[..1], &[3], &v3, 0).is_err());
    let six = Array2::from_shape_vec((1, 6), vec![0, 0, 0, 0, 0, 2]).unwrap();
    assert!(call(six.view(), &vals[..1], &[3, 1, 1, 1, 1, 2], &v3, 0).is_err());
}

#[test]
fn radix_sort_is_a_stable_sort_by_key() {
    let mut rng = StdRng::seed_from_u64(9);
    for (n, cells) in [
        (0usize, 1u64),
        (10, 7),
        (300, 1),
        (1000, 5),
        (5000, 1 << 20),
        (5000, u64::MAX),
    ] {
        let mut items: Vec<(u64, f64)> = (0..n)
            .map(|i| (rng.random_range(0..cells), i as f64))
            .collect();
        let mut expected = items.clone();
        expected.sort_by_key(|&(k, _)| k);
        radix_sort_by_key(&mut items, cells).unwrap();
        assert_eq!(items, expected, "n = {n}, cells = {cells}");
    }
}

#[test]
fn method_names_parse() {
    assert_eq!(TtvMethod::parse("auto"), Some(TtvMethod::Auto));
    assert_eq!(TtvMethod::parse("dense"), Some(TtvMethod::Dense));
    assert_eq!(TtvMethod::parse("sort"), Some(TtvMethod::Sort));
    assert_eq!(TtvMethod::parse("hash"), None);
}

#[test]
fn the_timer_returns_one_time_per_call() {
    let subs = Array2::from_shape_vec((2, 2), vec![0, 1, 1, 0]).unwrap();
    let t = time_ttv(
        subs.view(),
        ArrayView1::from(&[1.0, 2.0][..]),
        &[2, 2],
        ArrayView1::from(&[1.0, 1.0][..]),
        0,
        TtvMethod::Auto,
        3,
    )
    .unwrap();
    assert_eq!(t.len(), 4);
}
