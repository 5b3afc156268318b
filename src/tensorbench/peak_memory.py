"""Peak resident memory of a stretch of code in this process (Linux).

tracemalloc sees only Python's allocator, not Rust's or NumPy's large buffers, so the
peak is read from the kernel instead: writing ``5`` to ``/proc/self/clear_refs`` resets
the process's high-water mark (``VmHWM``) to its current resident size (Linux >= 4.0),
and ``VmHWM`` read afterwards is the peak of whatever ran in between. Where the reset
is not allowed the lifetime peak ``ru_maxrss`` is used, which only shows a stretch
whose peak exceeds everything before it; the report says which method was used.

Freed memory that the allocator keeps for reuse is resident but not counted again, so a
call repeated in the same process can show no growth at all. :func:`release_free_memory`
returns it to the system first (``gc.collect`` and glibc's ``malloc_trim``), so that the
peak of the next call is that call's own working memory.
"""

from __future__ import annotations

import ctypes
import gc
import resource
from pathlib import Path

STATUS = Path("/proc/self/status")
CLEAR_REFS = Path("/proc/self/clear_refs")


def _status_bytes(field: str) -> int | None:
    try:
        for line in STATUS.read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024  # reported in kB
    except OSError:
        return None
    return None


def _reset_high_water_mark() -> bool:
    try:
        CLEAR_REFS.write_text("5")
    except OSError:
        return False
    return True


def release_free_memory() -> bool:
    """Collect garbage and hand the allocator's free pages back to the system; False
    where glibc's ``malloc_trim`` is not available (then only garbage is collected)."""
    gc.collect()
    try:
        return bool(ctypes.CDLL("libc.so.6").malloc_trim(0) >= 0)
    except (OSError, AttributeError):
        return False


class PeakMemory:
    """``start()`` before the code, ``stop()`` after it; ``report()`` gives the bytes."""

    def __init__(self) -> None:
        self.method = ""
        self.rss_at_start = 0
        self.peak = 0

    def start(self) -> None:
        if _reset_high_water_mark() and _status_bytes("VmHWM") is not None:
            self.method = "VmHWM after clear_refs reset"
        else:
            self.method = "ru_maxrss (lifetime peak)"
        self.rss_at_start = _status_bytes("VmRSS") or 0

    def stop(self) -> None:
        if self.method.startswith("VmHWM"):
            self.peak = _status_bytes("VmHWM") or 0
        else:  # ru_maxrss is in kB on Linux
            self.peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

    def report(self) -> dict:
        return {
            "rss_at_start_bytes": self.rss_at_start,
            "peak_rss_bytes": self.peak,
            "peak_above_start_bytes": max(self.peak - self.rss_at_start, 0),
            "peak_method": self.method,
        }
