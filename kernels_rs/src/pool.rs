//! The thread pool of kernels_rs: one `rayon::ThreadPool` owned by this crate (the global
//! Rayon pool is never touched), built lazily on the first call that needs threads.
//!
//! The thread count a kernel uses by default is [`num_threads`]: set by
//! [`set_num_threads`], else taken from the environment like NumPy's BLAS takes it
//! (OpenBLAS reads `OPENBLAS_NUM_THREADS`, then `OMP_NUM_THREADS`, then uses every core):
//! the first of [`NUM_THREADS_ENV`] that holds a count in `[1, MAX_THREADS]`, else
//! `std::thread::available_parallelism()` (every core this process may run on, cgroup
//! quotas and affinity included). `RAYON_NUM_THREADS` is in the list because the
//! project's Makefile exports `RAYON_NUM_THREADS=1` (with `OMP_NUM_THREADS=1`) for its
//! single-thread experiments, which therefore run the kernels on one thread.
//!
//! Work runs as a list of tasks ([`run_tasks`]): on the calling thread, one after the
//! other, when one thread is asked for or there is one task; else on the pool, which is
//! grown (rebuilt) when a call asks for more threads than it has. A pool with more threads
//! than tasks leaves the extra threads asleep, so a call never uses more threads than it
//! has tasks.

use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

/// The most threads a call may ask for (a guard against typos such as 10**6, which would
/// try to start that many OS threads).
pub const MAX_THREADS: usize = 1024;

/// Environment variables read, in this order, for the default thread count.
pub const NUM_THREADS_ENV: [&str; 3] = [
    "KERNELS_RS_NUM_THREADS",
    "RAYON_NUM_THREADS",
    "OMP_NUM_THREADS",
];

/// 0 until the default is first read or a count is set.
static NUM_THREADS: AtomicUsize = AtomicUsize::new(0);

/// The pool, once built; replaced by a larger one when a call needs more threads.
static POOL: Mutex<Option<Arc<rayon::ThreadPool>>> = Mutex::new(None);

/// Why threads could not be used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PoolError {
    /// A thread count outside `[1, MAX_THREADS]`.
    BadCount(i64),
    /// The operating system refused to start the threads.
    Build(String),
}

impl fmt::Display for PoolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PoolError::BadCount(n) => write!(
                f,
                "the number of threads must be an integer in [1, {MAX_THREADS}], got {n}"
            ),
            PoolError::Build(why) => write!(f, "cannot start the worker threads: {why}"),
        }
    }
}

impl std::error::Error for PoolError {}

/// `n` as a thread count, if it is one in `[1, MAX_THREADS]`.
pub fn checked_count(n: i64) -> Result<usize, PoolError> {
    usize::try_from(n)
        .ok()
        .filter(|&n| (1..=MAX_THREADS).contains(&n))
        .ok_or(PoolError::BadCount(n))
}

/// A thread count read from an environment value: an integer in `[1, MAX_THREADS]`
/// (OpenMP's list form "4,2" gives its first item); anything else is ignored.
fn count_from_env(value: &str) -> Option<usize> {
    let first = value.split(',').next()?.trim();
    checked_count(first.parse().ok()?).ok()
}

/// The default thread count (see the module documentation), from `lookup(name)`.
fn default_count(lookup: impl Fn(&str) -> Option<String>) -> usize {
    NUM_THREADS_ENV
        .iter()
        .find_map(|name| lookup(name).as_deref().and_then(count_from_env))
        .unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map(|n| n.get().min(MAX_THREADS))
                .unwrap_or(1)
        })
}

/// The number of threads a kernel uses when its call does not say.
pub fn num_threads() -> usize {
    match NUM_THREADS.load(Ordering::Relaxed) {
        0 => {
            let n = default_count(|name| std::env::var(name).ok());
            // Another thread may have set a count meanwhile: keep it.
            match NUM_THREADS.compare_exchange(0, n, Ordering::Relaxed, Ordering::Relaxed) {
                Ok(_) => n,
                Err(set) => set,
            }
        }
        n => n,
    }
}

/// Set the default thread count. The pool is resized when next needed.
pub fn set_num_threads(n: i64) -> Result<(), PoolError> {
    NUM_THREADS.store(checked_count(n)?, Ordering::Relaxed);
    Ok(())
}

fn lock_pool() -> MutexGuard<'static, Option<Arc<rayon::ThreadPool>>> {
    // A panic while the lock was held cannot leave the Option half-written.
    POOL.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The pool, with at least `threads` threads.
fn pool_with(threads: usize) -> Result<Arc<rayon::ThreadPool>, PoolError> {
    let mut pool = lock_pool();
    if let Some(existing) = pool.as_ref() {
        if existing.current_num_threads() >= threads {
            return Ok(Arc::clone(existing));
        }
    }
    let built = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("kernels_rs-{i}"))
        .build()
        .map_err(|e| PoolError::Build(e.to_string()))?;
    // A call still running on the old pool keeps it alive through its Arc.
    let built = Arc::new(built);
    *pool = Some(Arc::clone(&built));
    Ok(built)
}

/// The number of threads in the pool (0 before it is first built).
pub fn pool_size() -> usize {
    lock_pool()
        .as_ref()
        .map_or(0, |pool| pool.current_num_threads())
}

/// How many tasks to split `work` units into for `threads` threads: one per
/// `min_work_per_task` units, at least 1 and at most `threads`.
pub fn task_count(work: usize, min_work_per_task: usize, threads: usize) -> usize {
    (work / min_work_per_task.max(1)).clamp(1, threads.max(1))
}

/// Run `f` on every task, on up to `threads` threads, and return the results in task
/// order. One thread or one task: inline on the calling thread, no pool involved.
pub fn run_tasks<T, R, F>(threads: usize, tasks: Vec<T>, f: F) -> Result<Vec<R>, PoolError>
where
    T: Send,
    R: Send,
    F: Fn(T) -> R + Sync,
{
    if threads <= 1 || tasks.len() <= 1 {
        return Ok(tasks.into_iter().map(f).collect());
    }
    let pool = pool_with(threads.min(tasks.len()))?;
    let mut results: Vec<Option<R>> = (0..tasks.len()).map(|_| None).collect();
    let f = &f;
    pool.scope(|scope| {
        for (task, slot) in tasks.into_iter().zip(results.iter_mut()) {
            scope.spawn(move |_| *slot = Some(f(task)));
        }
    });
    // scope() returns once every task has run (a task's panic is re-raised by scope).
    Ok(results
        .into_iter()
        .map(|r| r.expect("every task ran"))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_outside_the_range_are_refused() {
        assert_eq!(checked_count(1), Ok(1));
        assert_eq!(checked_count(MAX_THREADS as i64), Ok(MAX_THREADS));
        for bad in [0, -1, MAX_THREADS as i64 + 1, i64::MIN] {
            assert_eq!(checked_count(bad), Err(PoolError::BadCount(bad)));
        }
        assert!(PoolError::BadCount(0).to_string().contains("[1, 1024]"));
    }

    #[test]
    fn the_default_reads_the_environment_in_order() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| v.to_string())
            }
        };
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        assert_eq!(default_count(env(&[])), cores);
        assert_eq!(default_count(env(&[("OMP_NUM_THREADS", "3")])), 3);
        assert_eq!(default_count(env(&[("OMP_NUM_THREADS", "4,2")])), 4);
        assert_eq!(
            default_count(env(&[("RAYON_NUM_THREADS", "1"), ("OMP_NUM_THREADS", "3")])),
            1
        );
        assert_eq!(
            default_count(env(&[
                ("KERNELS_RS_NUM_THREADS", "5"),
                ("RAYON_NUM_THREADS", "1")
            ])),
            5
        );
        // Values that are not a usable count are skipped.
        assert_eq!(
            default_count(env(&[
                ("KERNELS_RS_NUM_THREADS", "many"),
                ("RAYON_NUM_THREADS", "0"),
                ("OMP_NUM_THREADS", "2")
            ])),
            2
        );
    }

    #[test]
    fn task_count_is_between_one_and_the_threads() {
        assert_eq!(task_count(0, 100, 8), 1);
        assert_eq!(task_count(99, 100, 8), 1);
        assert_eq!(task_count(250, 100, 8), 2);
        assert_eq!(task_count(10_000, 100, 8), 8);
        assert_eq!(task_count(10_000, 100, 0), 1);
        assert_eq!(task_count(10_000, 0, 3), 3);
    }

    #[test]
    fn tasks_run_once_each_and_results_keep_task_order() {
        for threads in [1, 2, 3, 8] {
            let tasks: Vec<usize> = (0..20).collect();
            let got = run_tasks(threads, tasks, |i| i * i).unwrap();
            assert_eq!(got, (0..20).map(|i| i * i).collect::<Vec<_>>());
        }
        assert!(pool_size() >= 2);
    }

    #[test]
    fn one_thread_runs_inline_on_the_caller() {
        let caller = std::thread::current().id();
        let ids = run_tasks(1, vec![(); 4], |_| std::thread::current().id()).unwrap();
        assert!(ids.iter().all(|&id| id == caller));
        let ids = run_tasks(4, vec![()], |_| std::thread::current().id()).unwrap();
        assert_eq!(ids, vec![caller]);
    }

    #[test]
    fn tasks_write_disjoint_chunks() {
        let mut out = vec![0usize; 100];
        let tasks: Vec<(usize, &mut [usize])> = out.chunks_mut(7).enumerate().collect();
        run_tasks(4, tasks, |(i, chunk)| chunk.fill(i)).unwrap();
        assert!(out.iter().enumerate().all(|(k, &v)| v == k / 7));
    }
}
