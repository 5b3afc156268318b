//! The cost of entering a Rayon thread pool, timed entirely inside Rust.
//!
//! `rayon::ThreadPool::install` called from a thread outside the pool does not run the
//! closure on the caller: it injects a job into the pool's queue, wakes a worker, blocks
//! the caller on a latch until the worker ran the job, and wakes the caller again. The
//! TT-overhead note measured 5.5 us per `install(|| {})` on one thread. These timers
//! measure the same thing here, beside calling the same empty closure inline.
//!
//! Calls of a few nanoseconds cannot be timed one by one (an `Instant` reading costs
//! about as much), so every sample times `calls_per_sample` back-to-back calls and
//! divides by that count.

use std::hint::black_box;
use std::time::Instant;

/// How the empty closure is run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PoolEntry {
    /// `pool.install(|| {})` from the calling thread, which is outside the pool.
    Install,
    /// The same closure called directly on the calling thread.
    Inline,
}

impl PoolEntry {
    /// Parse "install" or "inline".
    pub fn parse(name: &str) -> Option<PoolEntry> {
        match name {
            "install" => Some(PoolEntry::Install),
            "inline" => Some(PoolEntry::Inline),
            _ => None,
        }
    }
}

/// What [`time_pool_entry`] measured, all in seconds.
#[derive(Clone, Debug)]
pub struct PoolEntryTimes {
    /// Building the one-thread pool (spawning its worker).
    pub build_seconds: f64,
    /// The very first entry, timed on its own (the worker may not be running yet).
    pub first_call_seconds: f64,
    /// One value per sample: the sample's time divided by `calls_per_sample`.
    pub per_call_seconds: Vec<f64>,
}

fn run_once(entry: PoolEntry, pool: &rayon::ThreadPool, work: &(dyn Fn() + Sync)) {
    match entry {
        // black_box hides the closure from the optimiser, so the inline call is not
        // removed and both modes run the same (empty) body.
        PoolEntry::Install => pool.install(|| black_box(work)()),
        PoolEntry::Inline => black_box(work)(),
    }
}

/// Time `samples` batches of `calls_per_sample` entries of an empty closure on a
/// one-thread Rayon pool (`Install`) or inline on the caller (`Inline`).
///
/// Errors (as text) when a count is zero or the pool cannot be built.
pub fn time_pool_entry(
    entry: PoolEntry,
    calls_per_sample: usize,
    samples: usize,
) -> Result<PoolEntryTimes, String> {
    if calls_per_sample == 0 || samples == 0 {
        return Err(format!(
            "calls_per_sample and samples must be at least 1, got {calls_per_sample} and {samples}"
        ));
    }
    let start = Instant::now();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .thread_name(|i| format!("overhead-probe-{i}"))
        .build()
        .map_err(|e| format!("cannot build a one-thread Rayon pool: {e}"))?;
    let build_seconds = start.elapsed().as_secs_f64();
    let work = || {};

    let start = Instant::now();
    run_once(entry, &pool, &work);
    let first_call_seconds = start.elapsed().as_secs_f64();

    let per_call_seconds = (0..samples)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..calls_per_sample {
                run_once(entry, &pool, &work);
            }
            start.elapsed().as_secs_f64() / calls_per_sample as f64
        })
        .collect();
    Ok(PoolEntryTimes {
        build_seconds,
        first_call_seconds,
        per_call_seconds,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn both_entries_return_one_finite_time_per_sample() {
        for entry in [PoolEntry::Install, PoolEntry::Inline] {
            let t = time_pool_entry(entry, 10, 4).unwrap();
            assert_eq!(t.per_call_seconds.len(), 4);
            assert!(t
                .per_call_seconds
                .iter()
                .chain([&t.build_seconds, &t.first_call_seconds])
                .all(|s| s.is_finite() && *s >= 0.0));
        }
    }

    #[test]
    fn zero_counts_are_errors_not_panics() {
        assert!(time_pool_entry(PoolEntry::Install, 0, 3).is_err());
        assert!(time_pool_entry(PoolEntry::Inline, 3, 0).is_err());
    }

    #[test]
    fn install_runs_the_closure_on_the_pool_worker_and_inline_on_the_caller() {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap();
        let ran = AtomicUsize::new(0);
        let caller = std::thread::current().id();
        let on_worker = |expect_worker: bool| {
            move || {
                assert_eq!(std::thread::current().id() != caller, expect_worker);
            }
        };
        run_once(PoolEntry::Install, &pool, &on_worker(true));
        run_once(PoolEntry::Inline, &pool, &on_worker(false));
        let count = || {
            ran.fetch_add(1, Ordering::Relaxed);
        };
        run_once(PoolEntry::Install, &pool, &count);
        run_once(PoolEntry::Inline, &pool, &count);
        assert_eq!(ran.load(Ordering::Relaxed), 2);
    }

    #[test]
    fn entry_names_parse() {
        assert_eq!(PoolEntry::parse("install"), Some(PoolEntry::Install));
        assert_eq!(PoolEntry::parse("inline"), Some(PoolEntry::Inline));
        assert_eq!(PoolEntry::parse("spawn"), None);
    }
}
