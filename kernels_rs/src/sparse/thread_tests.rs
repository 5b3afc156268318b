//! TTV on several threads ([`ttv_threads`], privatized accumulators) against one thread:
//! the same output subscripts, values equal to rounding (within 1e-12 of the sum of the
//! terms' magnitudes, which bounds what reassociation can move), the same errors.

use super::dense_threads::{tasks_for, MAX_CELLS_PER_TASK_NONZERO, MIN_NONZEROS_PER_TASK};
use super::*;
use ndarray::{Array2, ShapeBuilder};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{RngExt, SeedableRng};
use std::collections::BTreeMap;

fn call(
    subs: ArrayView2<i64>,
    vals: &[f64],
    shape: &[usize],
    vector: &[f64],
    mode: usize,
    threads: usize,
) -> Result<TtvOutput, TtvError> {
    ttv_threads(
        subs,
        ArrayView1::from(vals),
        shape,
        ArrayView1::from(vector),
        mode,
        TtvMethod::Auto,
        threads,
    )
}

fn sparse(out: TtvOutput) -> SparseTensor {
    match out {
        TtvOutput::Sparse(t) => t,
        TtvOutput::Scalar(x) => panic!("expected a sparse result, got {x}"),
    }
}

/// Output subscripts -> the sum of the magnitudes of their terms.
fn magnitudes(
    subs: &Array2<i64>,
    vals: &[f64],
    vector: &[f64],
    mode: usize,
) -> BTreeMap<Vec<i64>, f64> {
    let mut sums = BTreeMap::new();
    for (row, &v) in subs.rows().into_iter().zip(vals) {
        let mut key = row.to_vec();
        let s = key.remove(mode);
        *sums.entry(key).or_insert(0.0) += (v * vector[s as usize]).abs();
    }
    sums
}

fn assert_equal_to_rounding(
    got: &SparseTensor,
    serial: &SparseTensor,
    scale: &BTreeMap<Vec<i64>, f64>,
) {
    assert_eq!(got.shape, serial.shape);
    assert_eq!(got.subs, serial.subs, "the same nonzeros in the same order");
    for k in 0..serial.nnz() {
        let bound = 1e-12 * scale[&serial.row(k)];
        assert!(
            (got.vals[k] - serial.vals[k]).abs() <= bound,
            "row {k}: {} against {}",
            got.vals[k],
            serial.vals[k]
        );
    }
}

fn fortran(subs: &Array2<i64>) -> Array2<i64> {
    let mut f = Array2::<i64>::zeros(subs.raw_dim().f());
    f.assign(subs);
    f
}

/// `nnz` nonzeros over `shape` with few cells per mode (many duplicates), values that
/// are not small integers, in random order and sorted.
fn tensors(rng: &mut StdRng, shape: &[usize], nnz: usize) -> [(Array2<i64>, Vec<f64>); 2] {
    let mut rows: Vec<(Vec<i64>, f64)> = (0..nnz)
        .map(|_| {
            let sub = shape
                .iter()
                .map(|&n| rng.random_range(0..n as i64))
                .collect();
            (sub, rng.random_range(-1.0..1.0))
        })
        .collect();
    let as_arrays = |rows: &[(Vec<i64>, f64)]| {
        let subs = Array2::from_shape_fn((nnz, shape.len()), |(k, j)| rows[k].0[j]);
        (subs, rows.iter().map(|r| r.1).collect())
    };
    let random = as_arrays(&rows);
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    [random, as_arrays(&rows)]
}

/// Nonzeros that give every call below 2 or more tasks on any mode of `shape`.
fn enough_nonzeros(shape: &[usize]) -> usize {
    let cells = shape.iter().product::<usize>() / shape.iter().min().unwrap();
    (3 * MIN_NONZEROS_PER_TASK).max(3 * cells) + 17
}

#[test]
fn threads_match_one_thread_to_rounding_on_every_order_mode_layout_and_order() {
    let mut rng = StdRng::seed_from_u64(51);
    for shape in [
        vec![300, 290],
        vec![40, 30, 50],
        vec![9, 12, 8, 11],
        vec![5, 6, 4, 7, 5],
    ] {
        let nnz = enough_nonzeros(&shape);
        for (subs, vals) in tensors(&mut rng, &shape, nnz) {
            for mode in 0..shape.len() {
                let cells = shape.iter().product::<usize>() / shape[mode];
                assert!(
                    tasks_for(nnz, cells, 3) == 3,
                    "{shape:?} must run on 3 tasks"
                );
                let vector: Vec<f64> = (0..shape[mode]).map(|i| 0.5 + (i as f64).sin()).collect();
                let scale = magnitudes(&subs, &vals, &vector, mode);
                let serial = sparse(call(subs.view(), &vals, &shape, &vector, mode, 1).unwrap());
                for layout in [subs.clone(), fortran(&subs)] {
                    for threads in [2, 3, 8] {
                        let got = call(layout.view(), &vals, &shape, &vector, mode, threads);
                        assert_equal_to_rounding(&sparse(got.unwrap()), &serial, &scale);
                    }
                }
            }
        }
    }
}

#[test]
fn a_run_boundary_inside_a_run_of_duplicates_sums_them_all() {
    // Sorted input whose middle rows (where 2 tasks split it) all hit one output cell.
    let shape = [64, 32, 16];
    let nnz = enough_nonzeros(&shape);
    let mut rng = StdRng::seed_from_u64(52);
    let [_, (mut subs, mut vals)] = tensors(&mut rng, &shape, nnz);
    let half = nnz.div_ceil(2);
    for (row, value) in vals.iter_mut().enumerate().take(half + 50).skip(half - 50) {
        subs.row_mut(row)
            .assign(&ndarray::arr1(&[20, 7, (row % 16) as i64]));
        *value = 0.25 + row as f64 * 1e-6;
    }
    let vector: Vec<f64> = (0..16).map(|i| 1.0 + i as f64 / 3.0).collect();
    let serial = sparse(call(subs.view(), &vals, &shape, &vector, 2, 1).unwrap());
    let got = sparse(call(subs.view(), &vals, &shape, &vector, 2, 2).unwrap());
    assert_equal_to_rounding(&got, &serial, &magnitudes(&subs, &vals, &vector, 2));
    // The cell (20, 7) has the 100 terms on both sides of the boundary, and any others.
    let (sum, magnitude) = (0..nnz)
        .filter(|&row| subs[[row, 0]] == 20 && subs[[row, 1]] == 7)
        .map(|row| vals[row] * vector[subs[[row, 2]] as usize])
        .fold((0.0, 0.0), |(s, m), t: f64| (s + t, m + t.abs()));
    let k = (0..got.nnz()).find(|&k| got.row(k) == [20, 7]).unwrap();
    assert!((got.vals[k] - sum).abs() <= 1e-12 * magnitude);
    assert!(magnitude > 100.0 * 0.25);
}

#[test]
fn threads_report_the_first_bad_subscript_in_input_order() {
    let shape = [50, 40, 30];
    let nnz = enough_nonzeros(&shape);
    let mut rng = StdRng::seed_from_u64(53);
    let [(mut subs, vals), _] = tensors(&mut rng, &shape, nnz);
    let vector = vec![1.0; 40];
    // Only the second run's row is bad: the threaded kernel must still see it.
    subs[[nnz - 10, 2]] = 30;
    let expected = Err(TtvError::SubscriptOutOfRange {
        row: nnz - 10,
        column: 2,
        value: 30,
        size: 30,
    });
    for threads in [1, 2] {
        assert_eq!(
            call(subs.view(), &vals, &shape, &vector, 1, threads),
            expected
        );
    }
    // Bad rows in both runs: the earlier one is the error, in both layouts.
    subs[[nnz / 3, 0]] = -1;
    let expected = Err(TtvError::SubscriptOutOfRange {
        row: nnz / 3,
        column: 0,
        value: -1,
        size: 50,
    });
    for layout in [subs.clone(), fortran(&subs)] {
        for threads in [1, 2, 4] {
            assert_eq!(
                call(layout.view(), &vals, &shape, &vector, 1, threads),
                expected
            );
        }
    }
}

#[test]
fn tiny_and_cell_heavy_calls_stay_on_one_task() {
    let threads = 8;
    assert_eq!(tasks_for(2 * MIN_NONZEROS_PER_TASK - 1, 1, threads), 1);
    assert_eq!(tasks_for(2 * MIN_NONZEROS_PER_TASK, 1, threads), 2);
    // Enough nonzeros, but a second task would have more cells than allowed per nonzero.
    let nnz = 8 * MIN_NONZEROS_PER_TASK;
    let cells = nnz * MAX_CELLS_PER_TASK_NONZERO;
    assert_eq!(tasks_for(nnz, cells, threads), 1);
    assert_eq!(tasks_for(nnz, cells / 2, threads), 2);
    assert_eq!(tasks_for(nnz, 1, threads), 8);
    assert_eq!(tasks_for(nnz, 1, 1), 1);
    assert_eq!(tasks_for(0, 0, threads), 1);
    assert_eq!(tasks_for(usize::MAX, usize::MAX, threads), 1);
}

#[test]
fn the_sort_path_and_shuffled_input_on_threads_give_the_serial_result() {
    // A hypersparse output takes the key sort, which stays serial: bitwise the same.
    let shape = [2000, 1500, 3];
    let mut rng = StdRng::seed_from_u64(54);
    let nnz = 3 * MIN_NONZEROS_PER_TASK;
    let [(subs, mut vals), _] = tensors(&mut rng, &shape, nnz);
    vals.shuffle(&mut rng);
    let vector = [0.5, -1.5, 2.25];
    let serial = call(subs.view(), &vals, &shape, &vector, 2, 1).unwrap();
    assert_eq!(
        call(subs.view(), &vals, &shape, &vector, 2, 4).unwrap(),
        serial
    );
}
