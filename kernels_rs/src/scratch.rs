//! Thread-local scratch buffers, grown to the largest size seen and then reused, so a
//! steady stream of kernel calls does no heap work beyond its output; sizes that depend
//! on the input are allocated fallibly (an error, never an abort).

use std::cell::RefCell;
use std::fmt;

use num_complex::Complex64 as C64;

const ZERO: C64 = C64::new(0.0, 0.0);

/// A contraction's scratch space could not be allocated; `elements` is the number of
/// complex128 values asked for (`None`: the size overflows).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScratchError {
    pub elements: Option<usize>,
}

impl fmt::Display for ScratchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.elements {
            Some(n) => write!(
                f,
                "cannot allocate the contraction's scratch space of {n} complex128 values \
                 ({} bytes)",
                n.saturating_mul(16)
            ),
            None => f.write_str("the contraction's scratch space size overflows"),
        }
    }
}

impl std::error::Error for ScratchError {}

/// Run `f` on a thread-local buffer of at least `len` elements (contents unspecified),
/// grown when needed and then kept, so repeated calls allocate nothing. A nested use
/// (not made by this module) gets a fresh buffer instead of a borrow panic.
pub fn with_buffer<T: Copy + Default, R>(
    key: &'static std::thread::LocalKey<RefCell<Vec<T>>>,
    len: usize,
    f: impl FnOnce(&mut [T]) -> R,
) -> R {
    key.with(|cell| match cell.try_borrow_mut() {
        Ok(mut buffer) => {
            if buffer.len() < len {
                buffer.resize(len, T::default());
            }
            f(&mut buffer[..len])
        }
        Err(_) => f(&mut vec![T::default(); len]),
    })
}

/// At most this many values stay in the thread-local workspace between calls; a call
/// that needed more frees it at its end (a later call allocates again).
pub const WORKSPACE_RETAIN_MAX: usize = 1 << 20;

/// [`with_buffer`] for sizes that depend on the input: an allocation failure is an
/// error, and a buffer grown beyond [`WORKSPACE_RETAIN_MAX`] is freed after use.
pub fn try_with_buffer<R>(
    key: &'static std::thread::LocalKey<RefCell<Vec<C64>>>,
    len: usize,
    f: impl FnOnce(&mut [C64]) -> R,
) -> Result<R, ScratchError> {
    let grow = |buffer: &mut Vec<C64>| {
        if buffer.len() < len {
            buffer
                .try_reserve_exact(len - buffer.len())
                .map_err(|_| ScratchError {
                    elements: Some(len),
                })?;
            buffer.resize(len, ZERO);
        }
        Ok(())
    };
    key.with(|cell| match cell.try_borrow_mut() {
        Ok(mut buffer) => {
            grow(&mut buffer)?;
            let result = f(&mut buffer[..len]);
            if buffer.len() > WORKSPACE_RETAIN_MAX {
                *buffer = Vec::new();
            }
            Ok(result)
        }
        Err(_) => {
            let mut fresh = Vec::new();
            grow(&mut fresh)?;
            Ok(f(&mut fresh))
        }
    })
}

/// The product of `factors` as a scratch length, or the overflow as a [`ScratchError`].
pub fn product(factors: &[usize]) -> Result<usize, ScratchError> {
    factors
        .iter()
        .try_fold(1usize, |acc, &f| acc.checked_mul(f))
        .ok_or(ScratchError { elements: None })
}

#[cfg(test)]
mod tests {
    use super::*;

    thread_local! {
        static WORKSPACE: RefCell<Vec<C64>> = const { RefCell::new(Vec::new()) };
        static PANEL: RefCell<Vec<f64>> = const { RefCell::new(Vec::new()) };
    }

    #[test]
    fn scratch_that_cannot_be_allocated_is_an_error_not_an_abort() {
        for len in [1usize << 50, usize::MAX / 8] {
            let e = try_with_buffer(&WORKSPACE, len, |_| ()).unwrap_err();
            assert_eq!(e.elements, Some(len));
            assert!(e.to_string().contains("cannot allocate"));
        }
        assert_eq!(product(&[usize::MAX, 2]).unwrap_err().elements, None);
        assert_eq!(product(&[3, 4, 5]).unwrap(), 60);
        // The workspace still works afterwards, and a large one is not retained.
        try_with_buffer(&WORKSPACE, WORKSPACE_RETAIN_MAX + 1, |b| b.fill(ZERO)).unwrap();
        WORKSPACE.with(|cell| assert!(cell.borrow().is_empty()));
        try_with_buffer(&WORKSPACE, 8, |b| assert_eq!(b.len(), 8)).unwrap();
        WORKSPACE.with(|cell| assert_eq!(cell.borrow().len(), 8));
    }

    #[test]
    fn nested_buffer_use_gets_a_fresh_buffer() {
        let outer = try_with_buffer(&WORKSPACE, 4, |a| {
            a.fill(C64::new(1.0, 0.0));
            try_with_buffer(&WORKSPACE, 4, |b| {
                b.fill(C64::new(2.0, 0.0));
                b.len()
            })
            .unwrap()
                + a.iter().filter(|z| z.re == 1.0).count()
        });
        assert_eq!(outer, Ok(8));
        let panel = with_buffer(&PANEL, 3, |a| with_buffer(&PANEL, 5, |b| a.len() + b.len()));
        assert_eq!(panel, 8);
    }
}
