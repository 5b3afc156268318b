//! "Rust" timings of the paper: data generated and kernels timed entirely inside Rust.
//!
//! As in the paper, every trial draws fresh data (`rand` + `rand_distr::Uniform` on
//! [0, 1), seeded) and only the kernel call sits between the two `Instant` readings.
//! The first returned time is the first call; the rest are the `n_trials` later calls.

use std::hint::black_box;
use std::time::Instant;

use ndarray::{Array2, ShapeBuilder};
use rand::rngs::StdRng;
use rand::SeedableRng;
use rand_distr::{Distribution, Uniform};

use crate::dense;

/// Which form of a dense kernel to time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Form {
    /// The paper's plain loop.
    Loop,
    /// The tuned, vectorizable form.
    Tuned,
}

impl Form {
    /// Parse "loop" or "tuned".
    pub fn parse(name: &str) -> Option<Form> {
        match name {
            "loop" => Some(Form::Loop),
            "tuned" => Some(Form::Tuned),
            _ => None,
        }
    }
}

/// The operands of a timing could not be allocated: `elements` float64 values (`None`:
/// the count overflows).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OperandsTooLarge {
    pub elements: Option<usize>,
}

impl std::fmt::Display for OperandsTooLarge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.elements {
            Some(n) => write!(
                f,
                "cannot allocate an operand of {n} float64 values ({} bytes)",
                n.saturating_mul(8)
            ),
            None => f.write_str("the operand size overflows"),
        }
    }
}

impl std::error::Error for OperandsTooLarge {}

/// `len` uniform values, or an error (not an abort) when they cannot be allocated.
fn uniform_vec(rng: &mut StdRng, len: usize) -> Result<Vec<f64>, OperandsTooLarge> {
    let unit = Uniform::new(0.0, 1.0).expect("[0, 1) is a valid range");
    let mut values = Vec::new();
    values
        .try_reserve_exact(len)
        .map_err(|_| OperandsTooLarge {
            elements: Some(len),
        })?;
    values.extend((0..len).map(|_| unit.sample(rng)));
    Ok(values)
}

/// Time `n_trials + 1` dot products of fresh length-`n` vectors; returns seconds per call.
pub fn time_dot(
    form: Form,
    n: usize,
    n_trials: usize,
    seed: u64,
) -> Result<Vec<f64>, OperandsTooLarge> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..=n_trials)
        .map(|_| {
            let x = uniform_vec(&mut rng, n)?;
            let y = uniform_vec(&mut rng, n)?;
            let start = Instant::now();
            let value = match form {
                Form::Loop => dense::dot_loop(black_box(&x), black_box(&y)),
                Form::Tuned => dense::dot(black_box(&x), black_box(&y)),
            };
            let elapsed = start.elapsed().as_secs_f64();
            black_box(value);
            Ok(elapsed)
        })
        .collect()
}

/// The memory layout of a timed matrix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// Row-major (C order, NumPy's default).
    C,
    /// Column-major (Fortran order).
    F,
}

impl Layout {
    /// Parse "C" or "F".
    pub fn parse(name: &str) -> Option<Layout> {
        match name {
            "C" => Some(Layout::C),
            "F" => Some(Layout::F),
            _ => None,
        }
    }
}

/// One timed call: its seconds and the process's minor page faults during it (`None`
/// where the count cannot be read: not Linux).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Trial {
    pub seconds: f64,
    pub minor_faults: Option<u64>,
}

/// The process's minor page faults so far (field 10 of `/proc/self/stat`; Linux only).
pub fn minor_faults() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name (field 2) is in parentheses and may hold spaces: count fields
    // from the last ')'. Field 10 is then the 8th after it.
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(7)?.parse().ok()
}

/// Time `n_trials + 1` products of a fresh `n1 x n2` matrix in `layout` with a fresh
/// vector. The values are drawn in memory order either way, so a Fortran-order matrix
/// is generated in the layout it is read in, as a C-order one is.
pub fn time_matvec(
    form: Form,
    layout: Layout,
    n1: usize,
    n2: usize,
    n_trials: usize,
    seed: u64,
) -> Result<Vec<Trial>, OperandsTooLarge> {
    let len = n1
        .checked_mul(n2)
        .ok_or(OperandsTooLarge { elements: None })?;
    let mut rng = StdRng::seed_from_u64(seed);
    (0..=n_trials)
        .map(|_| {
            let values = uniform_vec(&mut rng, len)?;
            let a = match layout {
                Layout::C => Array2::from_shape_vec((n1, n2), values),
                Layout::F => Array2::from_shape_vec((n1, n2).f(), values),
            }
            .expect("length n1 * n2 by construction");
            let x = ndarray::Array1::from_vec(uniform_vec(&mut rng, n2)?);
            let faults_before = minor_faults();
            let start = Instant::now();
            let value = match form {
                Form::Loop => dense::matvec_loop(black_box(a.view()), black_box(x.view())),
                Form::Tuned => dense::matvec(black_box(a.view()), black_box(x.view())),
            }
            .map_err(|_| OperandsTooLarge { elements: Some(n1) })?;
            let seconds = start.elapsed().as_secs_f64();
            let faults_after = minor_faults();
            black_box(value);
            Ok(Trial {
                seconds,
                minor_faults: faults_after
                    .zip(faults_before)
                    .map(|(after, before)| after.saturating_sub(before)),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timers_return_one_time_per_call_including_the_first() {
        for form in [Form::Loop, Form::Tuned] {
            let t = time_dot(form, 100, 4, 7).unwrap();
            assert_eq!(t.len(), 5);
            assert!(t.iter().all(|s| s.is_finite() && *s >= 0.0));
            for layout in [Layout::C, Layout::F] {
                let t = time_matvec(form, layout, 3, 5, 2, 7).unwrap();
                assert_eq!(t.len(), 3);
                assert!(t.iter().all(|t| t.seconds.is_finite() && t.seconds >= 0.0));
            }
        }
    }

    #[test]
    fn operands_that_cannot_be_allocated_are_an_error_not_an_abort() {
        let too_many = usize::MAX / 8;
        assert_eq!(
            time_dot(Form::Loop, too_many, 1, 0),
            Err(OperandsTooLarge {
                elements: Some(too_many)
            })
        );
        assert_eq!(
            time_matvec(Form::Loop, Layout::F, usize::MAX, 2, 1, 0),
            Err(OperandsTooLarge { elements: None })
        );
    }

    #[test]
    fn uniform_data_lies_in_the_unit_interval_and_is_seeded() {
        let mut a = StdRng::seed_from_u64(1);
        let mut b = StdRng::seed_from_u64(1);
        let x = uniform_vec(&mut a, 1000).unwrap();
        assert_eq!(x, uniform_vec(&mut b, 1000).unwrap());
        assert!(x.iter().all(|v| (0.0..1.0).contains(v)));
    }

    #[test]
    fn form_names_parse() {
        assert_eq!(Form::parse("loop"), Some(Form::Loop));
        assert_eq!(Form::parse("tuned"), Some(Form::Tuned));
        assert_eq!(Form::parse("fast"), None);
        assert_eq!(Layout::parse("C"), Some(Layout::C));
        assert_eq!(Layout::parse("F"), Some(Layout::F));
        assert_eq!(Layout::parse("c"), None);
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn minor_faults_count_the_first_touch_of_fresh_pages() {
        let before = minor_faults().expect("Linux has /proc/self/stat");
        // 64 MiB of fresh zeroed pages, each written once: at least 32 first touches
        // even with 2 MiB transparent huge pages.
        let mut pages = vec![0u8; 64 << 20];
        for page in pages.chunks_mut(4096) {
            page[0] = 1;
        }
        black_box(&pages);
        let after = minor_faults().unwrap();
        assert!(after - before >= 32, "{before} -> {after}");
    }
}
