"""Per call: every probe timed interleaved with the others in one fresh process, and the
process's report as rows.

A call of ~100 ns cannot be timed on its own (a ``perf_counter_ns`` reading costs about
as much), so every sample times ``calls_per_sample`` back-to-back calls in a ``timeit``
loop (:func:`tensorbench.timing.batch_timers`) and divides by that count; the empty loop
of the same length is timed right after every sample. The Rayon pool entry is timed
inside Rust.
"""

from __future__ import annotations

import numpy as np

from tensorbench.experiments.call_overhead.probes import probe
from tensorbench.timing import batch_timers, int_at_least, seconds_per_call, time_first_call


def measure_interleaved(
    probes: list[str],
    array_length: int,
    samples: int,
    calls_per_sample: int,
    rayon_calls_per_sample: int,
    warmup_samples: int,
) -> dict:
    """Every probe in this process, round-robin: in each of ``samples`` rounds, one
    sample of every probe (and its empty loop), starting the round one probe further on.

    Probes measured at different times see different machine conditions (other
    processes, frequency); interleaving gives every probe the same ones, so the
    differences between probes (the steps of a call) stay meaningful. The first call of
    each probe is timed first, in the order given (later probes find rust-numpy and
    Numba already initialised by earlier ones). Returns {probe: {"first_call",
    "calls_per_sample", "timed_in", "raw", "loop"}} in seconds per call."""
    if calls_per_sample < 1 or rayon_calls_per_sample < 1 or samples < 1:
        raise ValueError("calls per sample and samples must be at least 1")
    warmup_samples = int_at_least("warmup_samples", warmup_samples, 0)
    if isinstance(probes, str):
        raise TypeError(f"probes must be a list of probe names, got the string {probes!r}")
    if not probes:
        raise ValueError("probes must not be empty")
    if len(set(probes)) < len(probes):
        raise ValueError(f"probes must not repeat a name, got {probes}")
    kernels = None
    if any(p.startswith("rayon_") for p in probes):
        from tensorbench.build import release_kernels

        kernels = release_kernels()
    out, timers = {}, {}
    for name in probes:
        if name.startswith("rayon_"):
            entry = name.removeprefix("rayon_")
            first = kernels.overhead_pool_entry(entry, rayon_calls_per_sample, 1)
            out[name] = {
                "first_call": first["first_call_seconds"],
                "timed_in": "rust",
                "calls_per_sample": rayon_calls_per_sample,
            }
            timers[name] = entry
            continue
        func, args = probe(name, array_length)
        first, _ = time_first_call(func, args)
        out[name] = {
            "first_call": first,
            "timed_in": "python",
            "calls_per_sample": calls_per_sample,
        }
        timers[name] = batch_timers(func, args)

    def one_sample(name: str) -> tuple[float, float]:
        if name.startswith("rayon_"):
            # A fresh one-thread pool per sample; its build and first entry stay outside
            # the timed calls (overhead_pool_entry times them apart).
            times = kernels.overhead_pool_entry(timers[name], rayon_calls_per_sample, 1)
            return times["per_call_seconds"][0], 0.0
        calls, empty = timers[name]
        raw = seconds_per_call(calls, calls_per_sample)
        return raw, seconds_per_call(empty, calls_per_sample)

    for name in probes:
        out[name].update(raw=[], loop=[])
        for _ in range(warmup_samples):
            one_sample(name)
    for round_index in range(samples):
        shift = round_index % len(probes)
        for name in probes[shift:] + probes[:shift]:
            raw, loop = one_sample(name)
            out[name]["raw"].append(raw)
            out[name]["loop"].append(loop)
    return out


PER_CALL_COLUMNS = [
    "process",
    "probe",
    "timed_in",
    "calls_per_sample",
    "sample",
    "raw_seconds",
    "loop_seconds",
    "net_seconds",
]


def per_call_frame(reports_by_process: dict[int, dict]):
    """Long table, one row per (process, probe, sample): raw and empty-loop seconds per
    call and net = raw - loop (the in-Rust probes have no Python loop: loop = 0)."""
    import pandas as pd

    frames = []
    for process, report in sorted(reports_by_process.items()):
        for name, p in report["probes"].items():
            raw, loop = np.asarray(p["raw"], float), np.asarray(p["loop"], float)
            if len(raw) != len(loop):
                raise ValueError(f"{name}: {len(raw)} samples but {len(loop)} empty loops")
            frames.append(
                pd.DataFrame(
                    {
                        "process": process,
                        "probe": name,
                        "timed_in": p["timed_in"],
                        "calls_per_sample": p["calls_per_sample"],
                        "sample": np.arange(len(raw)),
                        "raw_seconds": raw,
                        "loop_seconds": loop,
                        "net_seconds": raw - loop,
                    }
                )
            )
    if not frames:
        return pd.DataFrame(columns=PER_CALL_COLUMNS)
    return pd.concat(frames, ignore_index=True)[PER_CALL_COLUMNS]


def first_calls_in_process(reports_by_process: dict[int, dict]):
    """One row per (process, probe): the probe's first call in that process."""
    import pandas as pd

    return pd.DataFrame(
        [
            {"process": process, "probe": name, "first_call_seconds": p["first_call"]}
            for process, report in sorted(reports_by_process.items())
            for name, p in report["probes"].items()
        ],
        columns=["process", "probe", "first_call_seconds"],
    )
