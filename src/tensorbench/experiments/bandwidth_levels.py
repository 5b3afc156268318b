"""Memory levels from a measured bandwidth curve: which level a working set lives in, the
plateau (bandwidth) of each level, the bound of a kernel cell, and the rule that a kernel
measured faster than its bound is a probe error.

The levels are the machine's caches (``tensorbench.machine.cache_bytes``: L1 data, L2,
L3 of CPU 0) and DRAM beyond them. A working set of ``w`` bytes lives in the smallest
level that holds it (``w <= capacity``).

A level's plateau is the fastest rate the curve reached in its range, which starts at
``DRAM_FACTOR`` times the capacity of the level before: just beyond a cache, part of the
data still hits in it (on the Xeon VM the read curve gives 43.9 GB/s at 1.4x its 2 MiB
L2 and 33-36 GB/s through the rest of its L3), so counting those sizes would make the
next level's plateau a rate it never sustains. DRAM's range starts further out, at
``LAST_CACHE_FACTOR`` times the last cache: AMD's L3 is a victim cache that keeps part
of a stream several times its size. The read curves committed for the two EPYC VMs
(32 MiB L3 each) show it: Zen 3, 28.7 and 28.2 GB/s at 64 and 91 MiB against 21.4-25.7
GB/s from 128 MiB to 1 GiB; Zen 5, 50.8 and 44.3 GB/s against 35.8-39.4 GB/s. Where the
curve stops short of that (a VM that reports its host's whole L3), DRAM's plateau is the
largest working set measured. The probe is an upper bound, so the
plateau is the best rate measured there, not a typical one. A working set inside such a
transition zone is bounded by the best rate measured anywhere from the smaller level's
capacity on (:func:`bound_for`): an upper bound there too, never the tighter plateau a
kernel that still hits the smaller cache could beat.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

#: A cache level's plateau: working sets at least this many times the level before it.
DRAM_FACTOR = 2
#: DRAM's plateau: working sets at least this many times the last cache.
LAST_CACHE_FACTOR = 4
#: Default capacities where the OS does not say (sysfs): 32 KiB, 1 MiB, 32 MiB.
DEFAULT_CACHE_BYTES = {1: 32 << 10, 2: 1 << 20, 3: 32 << 20}

WITHIN = "within"
PROBE_ERROR = "probe error"
NO_BOUND = "no bound"


@dataclass(frozen=True)
class Level:
    """A memory level and the working sets that live in it: ``low < w <= high``; its
    plateau is measured on ``plateau_low < w <= high`` (beyond the transition zone)."""

    name: str
    low: float
    high: float
    plateau_low: float

    def holds(self, working_set_bytes: float) -> bool:
        return self.low < working_set_bytes <= self.high

    def in_transition(self, working_set_bytes: float) -> bool:
        """Within ``DRAM_FACTOR`` of the level before: part of it may still hit there."""
        return self.low < working_set_bytes <= self.plateau_low


def machine_cache_bytes() -> dict[str, int]:
    """This machine's cache capacities by level name ("L1", "L2", "L3")."""
    from tensorbench.machine import cache_bytes

    return {f"L{k}": cache_bytes(k, default) for k, default in DEFAULT_CACHE_BYTES.items()}


def levels(caches: dict[str, int] | None = None) -> list[Level]:
    """L1, L2, L3 and DRAM as ranges of working-set size, from ``caches`` (capacity per
    level name; this machine's by default). A cache level no larger than the one before it
    is left out (e.g. a VM reporting no L3)."""
    caches = machine_cache_bytes() if caches is None else caches
    out: list[Level] = []
    low = 0.0
    for name in sorted(caches):
        capacity = float(caches[name])
        if capacity > low:
            # A level under twice the one before has no zone clear of it: all of it counts.
            plateau_low = DRAM_FACTOR * low if DRAM_FACTOR * low < capacity else low
            out.append(Level(name, low, capacity, plateau_low))
            low = capacity
    out.append(Level("DRAM", low, math.inf, LAST_CACHE_FACTOR * low))
    return out


def level_of(working_set_bytes: float, all_levels: list[Level]) -> str:
    """The name of the level a working set lives in (the smallest that holds it)."""
    return _level(working_set_bytes, all_levels).name


def _level(working_set_bytes: float, all_levels: list[Level]) -> Level:
    return next(level for level in all_levels if working_set_bytes <= level.high)


def _best_rate(points: pd.DataFrame, low: float, high: float) -> tuple[int, float]:
    """(points, best bytes per second) of the curve's points with ``low < w <= high``."""
    inside = points[(points["working_set_bytes"] > low) & (points["working_set_bytes"] <= high)]
    best = float(inside["bytes_per_second"].max()) if len(inside) else math.nan
    return len(inside), best


def _plateau_low(level: Level, points: pd.DataFrame) -> float:
    """Where ``level``'s plateau starts on this curve: ``plateau_low``, or for DRAM when
    the curve has no point beyond it, just below the largest working set measured past
    the last cache."""
    sizes = points["working_set_bytes"]
    if level.name == "DRAM" and not (sizes > level.plateau_low).any():
        beyond = sizes[sizes > level.low]
        if len(beyond):
            return float(beyond.max()) * (1 - 1e-9)
    return level.plateau_low


def _kernel_points(curve: pd.DataFrame, kernel: str) -> pd.DataFrame:
    return curve[curve["kernel"] == kernel] if "kernel" in curve else curve


def plateaus(curve: pd.DataFrame, all_levels: list[Level], kernel: str = "read") -> pd.DataFrame:
    """One row per level: its range, the curve's points in it and its plateau (the best
    bytes per second there, beyond the transition zone; NaN without points). ``curve``
    has columns kernel, working_set_bytes, bytes_per_second (one row per size, e.g.
    :func:`best_curve`)."""
    points = _kernel_points(curve, kernel)
    rows = []
    for level in all_levels:
        low = _plateau_low(level, points)
        count, best = _best_rate(points, low, level.high)
        rows.append(
            {
                "kernel": kernel,
                "level": level.name,
                "from_bytes": low,
                "to_bytes": level.high,
                "points": count,
                "bytes_per_second": best,
            }
        )
    return pd.DataFrame(rows)


def bound_for(
    working_set_bytes: float,
    curve: pd.DataFrame,
    *,
    caches: dict[str, int] | None = None,
    kernel: str = "read",
) -> tuple[str, float]:
    """(level name, bytes per second) of the level where a working set of
    ``working_set_bytes`` lives, from the measured ``curve`` of ``kernel`` (see
    :func:`plateaus`) and the cache sizes ``caches`` of the machine that measured it. In
    a level's transition zone the rate is the best measured from the level before's
    capacity on, so it stays an upper bound. NaN when the curve has no point there."""
    if not working_set_bytes > 0:
        raise ValueError(f"working_set_bytes must be positive, got {working_set_bytes}")
    level = _level(working_set_bytes, levels(caches))
    points = _kernel_points(curve, kernel)
    low = level.low if level.in_transition(working_set_bytes) else _plateau_low(level, points)
    _, rate = _best_rate(points, low, level.high)
    return level.name, rate


def fraction_of_bound(seconds: float, bytes_moved: float, bound_bytes_per_second: float) -> float:
    """The kernel's rate over its bound's: 1 means at the limit, above 1 faster than it."""
    if not (seconds > 0 and bytes_moved >= 0):
        raise ValueError(f"need seconds > 0 and bytes_moved >= 0, got {seconds}, {bytes_moved}")
    return (bytes_moved / seconds) / bound_bytes_per_second


def classify(
    seconds: float, bytes_moved: float, bound_bytes_per_second: float, tolerance: float = 0.0
) -> str:
    """``"within"`` the bound, or ``"probe error"`` when the kernel moved its bytes faster
    than the bound allows (by more than ``tolerance``, a fraction): the probe, not the
    kernel, is wrong then, and the cell is never drawn as within the limit. ``"no bound"``
    when the bound was not measured (NaN)."""
    if math.isnan(bound_bytes_per_second):
        return NO_BOUND
    if not bound_bytes_per_second > 0:
        raise ValueError(f"bound_bytes_per_second must be positive, got {bound_bytes_per_second}")
    fraction = fraction_of_bound(seconds, bytes_moved, bound_bytes_per_second)
    return PROBE_ERROR if fraction > 1.0 + tolerance else WITHIN
