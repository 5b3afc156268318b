//! The tuned dense kernels split between threads of the crate's pool ([`crate::pool`]).
//!
//! * [`dot`]: the vectors are cut into equal runs, one per task; each task's partial sum
//!   is the tuned [`super::dot`] of its run, and the partial sums are added in task order.
//!   The result depends on the number of tasks (rounding only), never on scheduling.
//! * [`matvec`]: the rows are cut into blocks, one per task, each task owning its block of
//!   the output (no shared writes). Blocks are multiples of [`gemv::ROWS_PER_PASS`] rows, so
//!   every row is summed exactly as on one thread: the result is bitwise the 1-thread one.
//!
//! A call with less than [`MIN_ELEMENTS_PER_TASK`] values per task runs inline on the
//! calling thread: entering the pool costs 5-9 us on this project's machines, and this
//! many values take ~20-60 us to read from memory on one core, so a task never costs
//! much more in overhead than it saves.

use ndarray::{s, ArrayView1, ArrayView2};

use super::gemv;
use crate::alloc::{try_collect, try_vec, AllocError};
use crate::pool::{self, PoolError};

/// Values read per task below which a call stays on one thread (see the module docs).
pub const MIN_ELEMENTS_PER_TASK: usize = 1 << 16;

/// Why a threaded dense kernel failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DenseError {
    Alloc(AllocError),
    Pool(PoolError),
}

impl std::fmt::Display for DenseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DenseError::Alloc(e) => write!(f, "{e}"),
            DenseError::Pool(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for DenseError {}

impl From<AllocError> for DenseError {
    fn from(e: AllocError) -> Self {
        DenseError::Alloc(e)
    }
}

impl From<PoolError> for DenseError {
    fn from(e: PoolError) -> Self {
        DenseError::Pool(e)
    }
}

/// Half-open runs `[start, end)` cutting `0..n` into `tasks` runs of equal length (the
/// last shorter), each a multiple of `multiple` long except the last.
fn runs(n: usize, tasks: usize, multiple: usize) -> Vec<(usize, usize)> {
    let multiple = multiple.max(1);
    let per = n.div_ceil(tasks.max(1)).div_ceil(multiple) * multiple;
    (0..n)
        .step_by(per.max(1))
        .map(|start| (start, (start + per).min(n)))
        .collect()
}

/// The tuned dot product of `x` and `y` (any strides) on up to `threads` threads.
///
/// # Panics
/// If the lengths differ (the Python layer checks this first).
pub fn dot(x: ArrayView1<f64>, y: ArrayView1<f64>, threads: usize) -> Result<f64, PoolError> {
    assert_eq!(x.len(), y.len(), "dot: length mismatch");
    let tasks = pool::task_count(x.len(), MIN_ELEMENTS_PER_TASK, threads);
    if tasks <= 1 {
        return Ok(super::dot_view(x, y));
    }
    let pieces: Vec<_> = runs(x.len(), tasks, 1)
        .into_iter()
        .map(|(a, b)| (x.slice(s![a..b]), y.slice(s![a..b])))
        .collect();
    let partial = pool::run_tasks(threads, pieces, |(xs, ys)| super::dot_view(xs, ys))?;
    Ok(partial.iter().sum())
}

/// The tuned matrix-vector product `a @ x` (any strides; C and Fortran order read in
/// place) on up to `threads` threads, bitwise equal to [`super::matvec`].
///
/// # Panics
/// If `a.ncols() != x.len()` (the Python layer checks this first).
pub fn matvec(
    a: ArrayView2<f64>,
    x: ArrayView1<f64>,
    threads: usize,
) -> Result<Vec<f64>, DenseError> {
    let (n1, n2) = a.dim();
    assert_eq!(n2, x.len(), "matvec: shape mismatch");
    let tasks =
        pool::task_count(n1.saturating_mul(n2), MIN_ELEMENTS_PER_TASK, threads).min(n1.max(1));
    let strides = a.strides();
    let (rows_contiguous, columns_contiguous) = (strides[1] == 1, strides[0] == 1);
    if tasks <= 1 || !(rows_contiguous || columns_contiguous) {
        return Ok(super::matvec(a, x)?);
    }
    let copied;
    let xs = match x.as_slice() {
        Some(xs) => xs,
        None => {
            copied = try_collect(n2, x.iter().copied())?;
            &copied[..]
        }
    };
    let mut out = try_vec(n1, 0.0)?;
    let blocks = runs(n1, tasks, gemv::ROWS_PER_PASS);
    let mut work = Vec::with_capacity(blocks.len());
    let mut rest = &mut out[..];
    for &(start, end) in &blocks {
        let (mine, tail) = rest.split_at_mut(end - start);
        work.push((a.slice(s![start..end, ..]), mine));
        rest = tail;
    }
    pool::run_tasks(threads, work, |(block, out)| {
        if rows_contiguous {
            gemv::rows_times_x(block, xs, out);
        } else {
            gemv::columns_times_x(block, xs, out);
        }
    })?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array1, Array2, ShapeBuilder};

    #[test]
    fn runs_cover_everything_once_in_multiples() {
        for n in [0, 1, 5, 64, 1000, 1001] {
            for tasks in 1..6 {
                let found = runs(n, tasks, 4);
                assert!(found.len() <= tasks.max(1));
                let mut next = 0;
                for (i, &(a, b)) in found.iter().enumerate() {
                    assert_eq!(a, next);
                    assert!(b > a);
                    if i + 1 < found.len() {
                        assert_eq!((b - a) % 4, 0);
                    }
                    next = b;
                }
                assert_eq!(next, n);
            }
        }
    }

    #[test]
    fn matvec_on_several_threads_is_bitwise_the_one_thread_result() {
        // Big enough to split: 2 x MIN_ELEMENTS_PER_TASK values and more.
        for &(n1, n2) in &[(1027, 130), (130, 1027), (4099, 33)] {
            let c = Array2::from_shape_fn((n1, n2), |(i, j)| ((i * 7 + j * 13) % 17) as f64 - 8.25);
            let f = Array2::from_shape_fn((n1, n2).f(), |(i, j)| c[[i, j]]);
            let x = Array1::from_shape_fn(n2, |j| 1.0 / (1.0 + j as f64));
            for a in [c.view(), f.view()] {
                let one = super::super::matvec(a, x.view()).unwrap();
                for threads in [2, 3, 8] {
                    assert_eq!(
                        matvec(a, x.view(), threads).unwrap(),
                        one,
                        "{n1}x{n2} t={threads}"
                    );
                }
            }
        }
    }

    #[test]
    fn dot_on_several_threads_agrees_to_rounding_and_tiny_calls_stay_inline() {
        let n = 5 * MIN_ELEMENTS_PER_TASK + 3;
        let x = Array1::from_shape_fn(n, |i| ((i % 11) as f64) * 0.5 - 2.0);
        let y = Array1::from_shape_fn(n, |i| 1.0 + ((i % 7) as f64) * 0.125);
        let one = super::super::dot_view(x.view(), y.view());
        for threads in [2, 3, 8] {
            let got = dot(x.view(), y.view(), threads).unwrap();
            assert!(
                (got - one).abs() <= 1e-12 * one.abs().max(1.0),
                "t={threads}"
            );
        }
        let small = x.slice(s![..1000]);
        let small_y = y.slice(s![..1000]);
        assert_eq!(
            dot(small, small_y, 8).unwrap(),
            super::super::dot_view(small, small_y)
        );
    }
}
