//! The tensor-train contractions timed entirely inside Rust: the floor that the calls
//! from Python are compared with.
//!
//! A single `Instant` bracket around a sub-microsecond call would mostly measure the
//! clock, so (like the Python side of the study) every sample times a batch of `k`
//! back-to-back calls and divides by `k`. Element 0 is the very first call, timed
//! alone (`k = 1`), so first-call cost (CPU-feature detection, growing the scratch
//! buffers) stays visible. Then `k` is calibrated: the smallest power of two for which
//! one batch lasts at least `min_sample_seconds` (at most [`MAX_CALLS_PER_SAMPLE`]);
//! the calibration batches double as warm-up. Then `n_samples` batches are timed.
//!
//! Every call does what a call from Python does apart from crossing the boundary:
//! it allocates its output (a fresh `Vec`, as the binding allocates a fresh NumPy
//! array) and computes into it; inputs and outputs pass through `black_box`.

use std::cell::Cell;
use std::hint::black_box;
use std::time::Instant;

use crate::tt::{self, ScratchError, Site, C64};

/// The largest batch the calibration picks.
pub const MAX_CALLS_PER_SAMPLE: usize = 1 << 16;

/// Per-call seconds of batched samples; `seconds[0]` is the first call alone.
#[derive(Clone, Debug, PartialEq)]
pub struct Batched {
    pub seconds: Vec<f64>,
    pub calls_per_sample: usize,
}

fn time_batch(call: &mut impl FnMut(), calls: usize) -> f64 {
    let start = Instant::now();
    for _ in 0..calls {
        call();
    }
    start.elapsed().as_secs_f64()
}

/// Time `call` as the module documentation describes.
pub fn time_batched(mut call: impl FnMut(), n_samples: usize, min_sample_seconds: f64) -> Batched {
    let mut seconds = Vec::with_capacity(n_samples + 1);
    seconds.push(time_batch(&mut call, 1));
    let mut calls = 1;
    while calls < MAX_CALLS_PER_SAMPLE && time_batch(&mut call, calls) < min_sample_seconds {
        calls *= 2;
    }
    for _ in 0..n_samples {
        seconds.push(time_batch(&mut call, calls) / calls as f64);
    }
    Batched {
        seconds,
        calls_per_sample: calls,
    }
}

/// Owned operands of one timed contraction (copied in, so nothing outside can change
/// them while they are timed). Shapes must already satisfy the `tt::check_*` functions.
#[derive(Clone, Debug)]
pub enum Operands {
    /// `bra_first [d, chi_bra]`, `ket_first [d, chi_ket]`.
    FirstSite {
        d: usize,
        chi_bra: usize,
        chi_ket: usize,
        bra: Vec<C64>,
        ket: Vec<C64>,
    },
    /// `env [bra.left, chi_ket]`, `bra`.
    EnvBra {
        chi_ket: usize,
        bra_site: Site,
        env: Vec<C64>,
        bra: Vec<C64>,
    },
    /// `tmp [ket.left, ket.phys, chi_bra_right]`, `ket`.
    TmpKet {
        chi_bra_right: usize,
        ket_site: Site,
        tmp: Vec<C64>,
        ket: Vec<C64>,
    },
    /// `env [bra.left, ket.left]`, `bra`, `ket`.
    SiteUpdate {
        bra_site: Site,
        ket_site: Site,
        env: Vec<C64>,
        bra: Vec<C64>,
        ket: Vec<C64>,
    },
    /// Two chains (shapes as `tt::check_chain` requires).
    Chain {
        bras: Vec<(Site, Vec<C64>)>,
        kets: Vec<(Site, Vec<C64>)>,
    },
}

impl Operands {
    /// The case name used by the study: first_site, env_bra, tmp_ket, site_update, chain.
    pub fn case(&self) -> &'static str {
        match self {
            Operands::FirstSite { .. } => "first_site",
            Operands::EnvBra { .. } => "env_bra",
            Operands::TmpKet { .. } => "tmp_ket",
            Operands::SiteUpdate { .. } => "site_update",
            Operands::Chain { .. } => "chain",
        }
    }

    /// The number of elements of the output that every timed call allocates (`None` if it
    /// overflows); the chain's is 1 (its buffers are the thread's reusable workspace).
    pub fn output_len(&self) -> Option<usize> {
        match self {
            Operands::FirstSite {
                chi_bra, chi_ket, ..
            } => chi_bra.checked_mul(*chi_ket),
            Operands::EnvBra {
                chi_ket, bra_site, ..
            } => chi_ket
                .checked_mul(bra_site.phys)?
                .checked_mul(bra_site.right),
            Operands::TmpKet {
                chi_bra_right,
                ket_site,
                ..
            } => chi_bra_right.checked_mul(ket_site.right),
            Operands::SiteUpdate {
                bra_site, ket_site, ..
            } => bra_site.right.checked_mul(ket_site.right),
            Operands::Chain { .. } => Some(1),
        }
    }
}

fn zeros(len: usize) -> Vec<C64> {
    vec![C64::new(0.0, 0.0); len]
}

/// Time the contraction of `operands` (see the module documentation). The only error is
/// a scratch allocation that failed (reported after the timing loop, which then stops
/// being meaningful).
pub fn time_contraction(
    operands: &Operands,
    n_samples: usize,
    min_sample_seconds: f64,
) -> Result<Batched, ScratchError> {
    let failure: Cell<Option<ScratchError>> = Cell::new(None);
    let record = |result: Result<(), ScratchError>| {
        if let Err(e) = result {
            failure.set(Some(e));
        }
    };
    let timed = match operands {
        Operands::FirstSite {
            d,
            chi_bra,
            chi_ket,
            bra,
            ket,
        } => time_batched(
            || {
                let mut out = zeros(chi_bra * chi_ket);
                tt::first_site_into(
                    *d,
                    *chi_bra,
                    *chi_ket,
                    black_box(bra),
                    black_box(ket),
                    &mut out,
                );
                black_box(out);
            },
            n_samples,
            min_sample_seconds,
        ),
        Operands::EnvBra {
            chi_ket,
            bra_site,
            env,
            bra,
        } => time_batched(
            || {
                let mut out = zeros(chi_ket * bra_site.phys * bra_site.right);
                tt::env_bra_into(
                    *chi_ket,
                    *bra_site,
                    black_box(env),
                    black_box(bra),
                    &mut out,
                );
                black_box(out);
            },
            n_samples,
            min_sample_seconds,
        ),
        Operands::TmpKet {
            chi_bra_right,
            ket_site,
            tmp,
            ket,
        } => time_batched(
            || {
                let mut out = zeros(chi_bra_right * ket_site.right);
                tt::tmp_ket_into(
                    *chi_bra_right,
                    *ket_site,
                    black_box(tmp),
                    black_box(ket),
                    &mut out,
                );
                black_box(out);
            },
            n_samples,
            min_sample_seconds,
        ),
        Operands::SiteUpdate {
            bra_site,
            ket_site,
            env,
            bra,
            ket,
        } => time_batched(
            || {
                let mut out = zeros(bra_site.right * ket_site.right);
                record(tt::site_update_into(
                    *bra_site,
                    *ket_site,
                    black_box(env),
                    black_box(bra),
                    black_box(ket),
                    &mut out,
                ));
                black_box(out);
            },
            n_samples,
            min_sample_seconds,
        ),
        Operands::Chain { bras, kets } => {
            let bras: Vec<(Site, &[C64])> = bras.iter().map(|(s, v)| (*s, v.as_slice())).collect();
            let kets: Vec<(Site, &[C64])> = kets.iter().map(|(s, v)| (*s, v.as_slice())).collect();
            time_batched(
                || {
                    record(
                        black_box(tt::inner_checked(black_box(&bras), black_box(&kets)))
                            .map(|_| ()),
                    );
                },
                n_samples,
                min_sample_seconds,
            )
        }
    };
    match failure.take() {
        Some(e) => Err(e),
        None => Ok(timed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_sample_is_one_call_then_batches_long_enough() {
        let mut count = 0usize;
        let timed = time_batched(|| count += 1, 5, 1e-5);
        assert_eq!(timed.seconds.len(), 6);
        assert!(timed.calls_per_sample.is_power_of_two());
        assert!(timed.calls_per_sample <= MAX_CALLS_PER_SAMPLE);
        assert!(timed.seconds.iter().all(|s| s.is_finite() && *s >= 0.0));
        // 1 first call + the calibration batches + 5 batches of k. The calibration ran
        // 1 + 2 + ... + k, or, when no batch reached the target (a fast build can
        // reduce the closure to an addition) and k is the cap, 1 + 2 + ... + k / 2.
        let k = timed.calls_per_sample;
        let calibration = if k == MAX_CALLS_PER_SAMPLE {
            k - 1
        } else {
            2 * k - 1
        };
        assert_eq!(count, 1 + calibration + 5 * k);
    }

    #[test]
    fn a_zero_target_needs_one_call_per_sample() {
        let timed = time_batched(|| {}, 3, 0.0);
        assert_eq!(timed.calls_per_sample, 1);
        assert_eq!(timed.seconds.len(), 4);
    }

    #[test]
    fn every_case_runs_and_is_named() {
        let one = |n: usize| vec![C64::new(0.5, -0.25); n];
        let site = Site::new(2, 2, 2);
        let cases = [
            Operands::FirstSite {
                d: 2,
                chi_bra: 2,
                chi_ket: 2,
                bra: one(4),
                ket: one(4),
            },
            Operands::EnvBra {
                chi_ket: 2,
                bra_site: site,
                env: one(4),
                bra: one(8),
            },
            Operands::TmpKet {
                chi_bra_right: 2,
                ket_site: site,
                tmp: one(8),
                ket: one(8),
            },
            Operands::SiteUpdate {
                bra_site: site,
                ket_site: site,
                env: one(4),
                bra: one(8),
                ket: one(8),
            },
            Operands::Chain {
                bras: vec![(Site::new(1, 2, 2), one(4)), (Site::new(2, 2, 1), one(4))],
                kets: vec![(Site::new(1, 2, 2), one(4)), (Site::new(2, 2, 1), one(4))],
            },
        ];
        let names: Vec<_> = cases.iter().map(|c| c.case()).collect();
        assert_eq!(
            names,
            ["first_site", "env_bra", "tmp_ket", "site_update", "chain"]
        );
        for case in &cases {
            let timed = time_contraction(case, 2, 1e-6).expect("small scratch");
            assert_eq!(timed.seconds.len(), 3);
        }
    }
}
