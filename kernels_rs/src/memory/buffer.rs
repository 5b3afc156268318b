//! The probe's buffers: allocated fallibly, backed by huge pages where the OS offers them,
//! and written in full before any timing.
//!
//! NumPy asks Linux for transparent huge pages (`madvise(MADV_HUGEPAGE)`) on every array
//! of 4 MiB or more, so the kernels the bound limits read huge-page-backed arrays (one
//! TLB entry per 2 MiB instead of per 4 KiB). A probe on 4 KiB pages would measure
//! page walks NumPy's arrays do not pay, and be a lower bound, not an upper one. With
//! THP set to `never` the advice is ignored and both sides use 4 KiB pages.

use std::fmt;

use crate::alloc::{try_with_capacity, AllocError};

/// Why a buffer could not be made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BufferError {
    /// The allocator refused it.
    Alloc(AllocError),
    /// More bytes than the machine has memory: with overcommit the allocation could
    /// succeed and the process be killed when the pages are written.
    ExceedsMemory { bytes: u128, physical: u64 },
}

impl fmt::Display for BufferError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BufferError::Alloc(e) => e.fmt(f),
            BufferError::ExceedsMemory { bytes, physical } => write!(
                f,
                "cannot allocate {bytes} bytes: more than this machine's {physical} bytes of memory"
            ),
        }
    }
}

impl std::error::Error for BufferError {}

/// Bytes of physical memory, where the OS says.
pub fn physical_memory() -> Option<u64> {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: sysconf reads a system constant; it takes no pointers and has no
        // preconditions (an unknown name returns -1, handled below).
        let (pages, page) = unsafe {
            (
                libc::sysconf(libc::_SC_PHYS_PAGES),
                libc::sysconf(libc::_SC_PAGESIZE),
            )
        };
        if pages > 0 && page > 0 {
            return Some(pages as u64 * page as u64);
        }
    }
    None
}

/// Fail early when `bytes` in total could never be held.
pub fn check_fits(bytes: u128) -> Result<(), BufferError> {
    match physical_memory() {
        Some(physical) if bytes > physical as u128 => {
            Err(BufferError::ExceedsMemory { bytes, physical })
        }
        _ => Ok(()),
    }
}

/// Advise huge pages for the (not yet touched) spare capacity of `v`.
fn advise_huge_pages<T>(v: &mut Vec<T>) {
    #[cfg(target_os = "linux")]
    {
        const PAGE: usize = 4096;
        let spare = v.spare_capacity_mut();
        let start = spare.as_mut_ptr() as usize;
        let end = start + std::mem::size_of_val(spare);
        let aligned = start.next_multiple_of(PAGE);
        if end > aligned + PAGE {
            let len = (end - aligned) / PAGE * PAGE;
            // SAFETY: [aligned, aligned + len) is page-aligned and lies inside `v`'s own
            // allocation. MADV_HUGEPAGE is advice only: it changes neither the contents
            // nor the validity of any mapping, only the page size later faults may use;
            // its failure (e.g. a kernel without THP) is harmless and ignored.
            unsafe {
                libc::madvise(aligned as *mut libc::c_void, len, libc::MADV_HUGEPAGE);
            }
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = v;
}

/// `len` values `value(i)`, on huge pages where offered, every page written.
pub fn filled<T>(len: usize, value: impl Fn(usize) -> T) -> Result<Vec<T>, BufferError> {
    let mut v = try_with_capacity::<T>(len).map_err(BufferError::Alloc)?;
    advise_huge_pages(&mut v);
    v.extend((0..len).map(value));
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filled_holds_the_values() {
        let v = filled(5000, |i| i as u64 * 3).unwrap();
        assert_eq!(v.len(), 5000);
        assert!(v.iter().enumerate().all(|(i, &x)| x == i as u64 * 3));
        assert!(filled(0, |i| i).unwrap().is_empty());
    }

    #[test]
    fn impossible_sizes_are_errors() {
        assert!(matches!(
            filled(usize::MAX / 8, |i| i as u64),
            Err(BufferError::Alloc(_))
        ));
        if let Some(physical) = physical_memory() {
            assert!(check_fits(physical as u128).is_ok());
            assert!(matches!(
                check_fits(physical as u128 + 1),
                Err(BufferError::ExceedsMemory { .. })
            ));
        }
    }
}
