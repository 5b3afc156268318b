//! TTV on every input layout and order: C- and F-ordered subscripts read in place,
//! strided ones copied, sorted and random order, and the prefetching dense accumulation
//! that random order takes; every result bitwise the definition's (sums in input order).

use super::coo::{key_strides, Input};
use super::dense_accumulator::is_scattered;
use super::subs_reader::RowMajor;
use super::*;
use ndarray::{s, Array2, ShapeBuilder};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{RngExt, SeedableRng};
use std::collections::BTreeMap;

/// The definition: output subscripts -> the in-order sum (from 0.0), zeros dropped.
fn reference(
    subs: &Array2<i64>,
    vals: &[f64],
    vector: &[f64],
    mode: usize,
) -> Vec<(Vec<i64>, u64)> {
    let mut sums: BTreeMap<Vec<i64>, f64> = BTreeMap::new();
    for (row, &v) in subs.rows().into_iter().zip(vals) {
        let mut key: Vec<i64> = row.to_vec();
        let s = key.remove(mode);
        *sums.entry(key).or_insert(0.0) += v * vector[s as usize];
    }
    sums.into_iter()
        .filter(|&(_, v)| v != 0.0)
        .map(|(k, v)| (k, v.to_bits()))
        .collect()
}

/// The result as (subscripts, value bits) rows, in its own order.
fn bits(out: &TtvOutput) -> Vec<(Vec<i64>, u64)> {
    match out {
        TtvOutput::Sparse(t) => (0..t.nnz())
            .map(|k| (t.row(k), t.vals[k].to_bits()))
            .collect(),
        TtvOutput::Scalar(x) => panic!("expected a sparse result, got {x}"),
    }
}

fn run(
    subs: ArrayView2<i64>,
    vals: &[f64],
    shape: &[usize],
    vector: &[f64],
    mode: usize,
    method: TtvMethod,
) -> Result<TtvOutput, TtvError> {
    ttv(
        subs,
        ArrayView1::from(vals),
        shape,
        ArrayView1::from(vector),
        mode,
        method,
    )
}

fn fortran(subs: &Array2<i64>) -> Array2<i64> {
    let mut f = Array2::<i64>::zeros(subs.raw_dim().f());
    f.assign(subs);
    f
}

/// Subscripts uniform over `shape`, and values that are not small integers, so that the
/// order of a sum shows in its last bits.
fn random_tensor(rng: &mut StdRng, shape: &[usize], nnz: usize) -> (Array2<i64>, Vec<f64>) {
    let subs = Array2::from_shape_fn((nnz, shape.len()), |(_, j)| {
        rng.random_range(0..shape[j] as i64)
    });
    let vals = (0..nnz).map(|_| rng.random_range(-1.0..1.0)).collect();
    (subs, vals)
}

fn sorted_rows(subs: &Array2<i64>, vals: &[f64]) -> (Array2<i64>, Vec<f64>) {
    let mut rows: Vec<usize> = (0..vals.len()).collect();
    rows.sort_by_key(|&k| subs.row(k).to_vec());
    let sorted = Array2::from_shape_fn(subs.raw_dim(), |(k, j)| subs[[rows[k], j]]);
    (sorted, rows.iter().map(|&k| vals[k]).collect())
}

#[test]
fn c_f_and_strided_subs_give_bitwise_the_same_result_for_every_method_and_mode() {
    let mut rng = StdRng::seed_from_u64(11);
    let shapes: [&[usize]; 6] = [
        &[7],
        &[4, 3],
        &[5, 1, 4],
        &[3, 4, 2, 3],
        &[2, 3, 2, 2, 3],
        &[2, 2, 3, 2, 2, 2],
    ];
    for shape in shapes {
        for nnz in [0, 1, 2, 9, 300] {
            let (subs, vals) = random_tensor(&mut rng, shape, nnz);
            let f = fortran(&subs);
            assert!(nnz < 2 || shape.len() < 2 || !f.is_standard_layout());
            // Every other row of a twice-as-long array: neither C nor F contiguous.
            let mut doubled = Array2::<i64>::zeros((2 * nnz, shape.len()));
            doubled.slice_mut(s![..;2, ..]).assign(&subs);
            let strided = doubled.slice(s![..;2, ..]);
            for mode in 0..shape.len() {
                let vector: Vec<f64> = (0..shape[mode])
                    .map(|_| rng.random_range(-2.0..2.0))
                    .collect();
                for method in [TtvMethod::Auto, TtvMethod::Dense, TtvMethod::Sort] {
                    let c = run(subs.view(), &vals, shape, &vector, mode, method).unwrap();
                    for other in [f.view(), strided] {
                        let got = run(other, &vals, shape, &vector, mode, method).unwrap();
                        match (&c, &got) {
                            (TtvOutput::Scalar(a), TtvOutput::Scalar(b)) => {
                                assert_eq!(a.to_bits(), b.to_bits())
                            }
                            _ => assert_eq!(bits(&c), bits(&got), "{shape:?} {mode} {method:?}"),
                        }
                    }
                    if shape.len() > 1 {
                        assert_eq!(bits(&c), reference(&subs, &vals, &vector, mode));
                    }
                }
            }
        }
    }
}

#[test]
fn a_bad_subscript_in_f_order_is_the_same_error_as_in_c_order() {
    for order in 1..=6usize {
        let shape = vec![3usize; order];
        for mode in 0..order {
            for column in 0..order {
                for bad in [-1i64, 3, i64::MIN, i64::MAX] {
                    let mut subs = Array2::<i64>::ones((6, order));
                    subs[[4, column]] = bad;
                    let vals = vec![1.0; 6];
                    let vector = vec![1.0; 3];
                    let expected = Err(TtvError::SubscriptOutOfRange {
                        row: 4,
                        column,
                        value: bad,
                        size: 3,
                    });
                    for method in [TtvMethod::Auto, TtvMethod::Dense, TtvMethod::Sort] {
                        let f = fortran(&subs);
                        let got = run(f.view(), &vals, &shape, &vector, mode, method);
                        assert_eq!(got, expected, "order {order} mode {mode} {method:?}");
                        let got = run(subs.view(), &vals, &shape, &vector, mode, method);
                        assert_eq!(got, expected, "order {order} mode {mode} {method:?}");
                    }
                }
            }
        }
    }
}

#[test]
fn f_order_chunks_report_the_first_bad_row_wherever_it_falls() {
    // F-ordered subscripts are read in chunks of 64 rows, the next chunk checked before
    // the current one is added: a bad row at either edge of a chunk, in the last partial
    // chunk, or behind a second bad row, is the same error as in C order.
    let mut rng = StdRng::seed_from_u64(17);
    let shape = [5usize, 6, 7];
    let (subs, vals) = random_tensor(&mut rng, &shape, 200);
    for rows in [
        vec![0],
        vec![63],
        vec![64],
        vec![65],
        vec![127, 128],
        vec![128, 3],
        vec![199],
        vec![130, 150],
    ] {
        let mut bad = subs.clone();
        for (k, &row) in rows.iter().enumerate() {
            bad[[row, k % 3]] = if k % 2 == 0 { 5 + k as i64 } else { -1 };
        }
        let first = *rows.iter().min().unwrap();
        let column = rows.iter().position(|&r| r == first).unwrap() % 3;
        let expected = Err(TtvError::SubscriptOutOfRange {
            row: first,
            column,
            value: bad[[first, column]],
            size: shape[column],
        });
        for mode in 0..3 {
            let vector = vec![0.5; shape[mode]];
            for method in [TtvMethod::Auto, TtvMethod::Dense] {
                let f = fortran(&bad);
                let got = run(f.view(), &vals, &shape, &vector, mode, method);
                assert_eq!(got, expected, "rows {rows:?} mode {mode} {method:?}");
                let got = run(bad.view(), &vals, &shape, &vector, mode, method);
                assert_eq!(got, expected, "rows {rows:?} mode {mode} {method:?} (C)");
            }
        }
    }
}

#[test]
fn a_mode_of_size_zero_refuses_every_row_in_both_layouts() {
    // No subscript of an empty mode is in range; the F loop must not read the (empty)
    // vector for it.
    let subs = Array2::from_shape_fn((70, 3), |(k, j)| (k % 2) as i64 * (j != 1) as i64);
    let vals = vec![1.0; 70];
    let shape = [3usize, 0, 3];
    let expected = Err(TtvError::SubscriptOutOfRange {
        row: 0,
        column: 1,
        value: 0,
        size: 0,
    });
    for layout in [subs.clone(), fortran(&subs)] {
        for method in [TtvMethod::Auto, TtvMethod::Dense] {
            assert_eq!(run(layout.view(), &vals, &shape, &[], 1, method), expected);
        }
    }
}

/// An output space of 1024 x 1024 cells (8 MiB, 32 locality blocks), large enough for the
/// scattered path.
const BIG: [usize; 3] = [1024, 3, 1024];

#[test]
fn random_order_is_scattered_and_sorted_order_is_not() {
    let mut rng = StdRng::seed_from_u64(12);
    let (subs, vals) = random_tensor(&mut rng, &BIG, 50_000);
    let (sorted, sorted_vals) = sorted_rows(&subs, &vals);
    let vector = [0.5, -1.0, 2.0];
    let (strides, cells) = key_strides(&BIG, 1).unwrap();
    let decide = |subs: &Array2<i64>, vals: &[f64]| {
        let input = Input {
            subs: RowMajor::new(subs.as_slice().unwrap(), 3),
            vals,
            shape: &BIG,
            vector: &vector,
            mode: 1,
        };
        is_scattered(&input, &strides, cells as usize)
    };
    assert!(decide(&subs, &vals));
    assert!(!decide(&sorted, &sorted_vals));
    // A small output space never takes the scattered path, whatever the order.
    let small = [64usize, 3, 64];
    let (subs, vals) = random_tensor(&mut rng, &small, 5_000);
    let (strides, cells) = key_strides(&small, 1).unwrap();
    let input = Input {
        subs: RowMajor::new(subs.as_slice().unwrap(), 3),
        vals: &vals,
        shape: &small,
        vector: &vector,
        mode: 1,
    };
    assert!(!is_scattered(&input, &strides, cells as usize));
}

#[test]
fn random_and_sorted_order_in_both_layouts_match_the_definition_bitwise() {
    let mut rng = StdRng::seed_from_u64(13);
    let (subs, vals) = random_tensor(&mut rng, &BIG, 120_000);
    let (sorted, sorted_vals) = sorted_rows(&subs, &vals);
    for (mode, &size) in BIG.iter().enumerate() {
        let vector: Vec<f64> = (0..size).map(|_| rng.random_range(-1.0..1.0)).collect();
        for (subs, vals) in [(&subs, &vals), (&sorted, &sorted_vals)] {
            let expected = reference(subs, vals, &vector, mode);
            for method in [TtvMethod::Auto, TtvMethod::Dense] {
                for layout in [subs.clone(), fortran(subs)] {
                    let got = run(layout.view(), vals, &BIG, &vector, mode, method).unwrap();
                    assert_eq!(bits(&got), expected, "mode {mode} {method:?}");
                }
            }
        }
    }
}

#[test]
fn duplicate_heavy_random_input_sums_every_cell_in_input_order() {
    // 200 000 terms on 300 output cells: each cell sums ~670 terms in input order, its
    // cell prefetched while earlier adds to it are still to come (Auto sorts keys here:
    // 220 000 nonzeros for 2^20 cells; Dense takes the scattered path).
    let mut rng = StdRng::seed_from_u64(14);
    // Rows 0..64 of the 1024 x 1024 output space.
    let cells: Vec<(i64, i64)> = (0..300)
        .map(|_| (rng.random_range(0..64), rng.random_range(0..1024)))
        .collect();
    let nnz = 200_000;
    let mut subs = Array2::<i64>::zeros((nnz, 3));
    for k in 0..nnz {
        let (i, l) = cells[rng.random_range(0..cells.len())];
        subs[[k, 0]] = i;
        subs[[k, 1]] = rng.random_range(0..3);
        subs[[k, 2]] = l;
    }
    // Spread the rest of the space too, so the input spans every block.
    let (spread, spread_vals) = random_tensor(&mut rng, &BIG, 20_000);
    let subs = ndarray::concatenate![ndarray::Axis(0), subs, spread];
    let mut vals: Vec<f64> = (0..nnz).map(|_| rng.random_range(-1.0..1.0)).collect();
    vals.extend(spread_vals);
    // Interleave the spread rows with the heavy ones.
    let mut rows: Vec<usize> = (0..vals.len()).collect();
    rows.shuffle(&mut rng);
    let subs = Array2::from_shape_fn(subs.raw_dim(), |(k, j)| subs[[rows[k], j]]);
    let vals: Vec<f64> = rows.iter().map(|&k| vals[k]).collect();
    let vector = [0.25, -1.5, 3.0];
    let (strides, cells) = key_strides(&BIG, 1).unwrap();
    let input = Input {
        subs: RowMajor::new(subs.as_slice().unwrap(), 3),
        vals: &vals,
        shape: &BIG,
        vector: &vector,
        mode: 1,
    };
    assert!(is_scattered(&input, &strides, cells as usize));
    let expected = reference(&subs, &vals, &vector, 1);
    for layout in [subs.clone(), fortran(&subs)] {
        for method in [TtvMethod::Auto, TtvMethod::Dense] {
            let got = run(layout.view(), &vals, &BIG, &vector, 1, method).unwrap();
            assert_eq!(bits(&got), expected, "{method:?}");
        }
    }
}

#[test]
fn a_bad_subscript_late_in_a_scattered_pass_is_refused() {
    let mut rng = StdRng::seed_from_u64(15);
    let (mut subs, vals) = random_tensor(&mut rng, &BIG, 60_000);
    let vector = [1.0, 2.0, 3.0];
    // The scattered pass prefetches each chunk's cells once the chunk is checked: a bad row is
    // refused wherever it falls, before its (wild) cell is touched.
    let (strides, cells) = key_strides(&BIG, 1).unwrap();
    let input = Input {
        subs: RowMajor::new(subs.as_slice().unwrap(), 3),
        vals: &vals,
        shape: &BIG,
        vector: &vector,
        mode: 1,
    };
    assert!(is_scattered(&input, &strides, cells as usize));
    // Rows at the edges of the chunked loop's 32-row chunks too, and the last row.
    for (row, column, bad) in [
        (59_000, 0, 1024i64),
        (59_000, 1, -1),
        (59_000, 2, 1024),
        (59_000, 2, i64::MIN),
        (0, 1, 3),
        (31, 0, -5),
        (32, 2, 2048),
        (59_999, 0, i64::MAX),
    ] {
        subs[[row, column]] = bad;
        let expected = Err(TtvError::SubscriptOutOfRange {
            row,
            column,
            value: bad,
            size: BIG[column],
        });
        for layout in [subs.clone(), fortran(&subs)] {
            for (mode, &size) in BIG.iter().enumerate() {
                let vector: Vec<f64> = (0..size).map(|i| vector[i % 3]).collect();
                for method in [TtvMethod::Auto, TtvMethod::Dense] {
                    let got = run(layout.view(), &vals, &BIG, &vector, mode, method);
                    assert_eq!(
                        got, expected,
                        "row {row} column {column} mode {mode} {method:?}"
                    );
                }
            }
        }
        subs[[row, column]] = 0;
    }
}

#[test]
fn the_kept_accumulator_starts_every_call_at_zero() {
    // Calls on one thread reuse one accumulator: after a call that filled it, after one
    // refused midway (partial sums left in it) and for a smaller output, each result is
    // still the definition's.
    let mut rng = StdRng::seed_from_u64(16);
    let (subs, vals) = random_tensor(&mut rng, &BIG, 30_000);
    let (mut bad, bad_vals) = random_tensor(&mut rng, &BIG, 30_000);
    bad[[29_000, 2]] = 1024;
    let small = [200usize, 3, 300];
    let (small_subs, small_vals) = random_tensor(&mut rng, &small, 20_000);
    let vector = [0.5, -1.0, 2.0];
    let expected = reference(&subs, &vals, &vector, 1);
    let expected_small = reference(&small_subs, &small_vals, &vector, 1);
    for _ in 0..2 {
        let got = run(subs.view(), &vals, &BIG, &vector, 1, TtvMethod::Dense).unwrap();
        assert_eq!(bits(&got), expected);
        let refused = run(bad.view(), &bad_vals, &BIG, &vector, 1, TtvMethod::Dense);
        assert!(refused.is_err());
        let got = run(subs.view(), &vals, &BIG, &vector, 1, TtvMethod::Dense).unwrap();
        assert_eq!(bits(&got), expected);
        let got = run(
            small_subs.view(),
            &small_vals,
            &small,
            &vector,
            1,
            TtvMethod::Dense,
        );
        assert_eq!(bits(&got.unwrap()), expected_small);
    }
}
