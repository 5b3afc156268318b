"""The timing module shared by every notebook.

* :func:`time_calls` times one implementation in the current process the paper's way:
  fresh data per trial from a generator, the first call timed apart, then
  ``n_trials`` timed calls, each bracketed by ``time.perf_counter_ns``.
* cells are planned, identified, run in fresh worker processes and stored by
  :mod:`tensorbench.harness`.
* :func:`time_batched` times calls too short for one ``perf_counter_ns`` bracket: in
  batches of back-to-back calls in a ``timeit`` loop (:func:`batch_timers`), beside the
  empty loop of the same length.
* :func:`int_at_least`, :func:`real_number`, :func:`seconds_at_least_zero` and
  :func:`names_among` check the counts, sizes, seeds, fractions, durations and names the
  experiments are given.
"""

from __future__ import annotations

import numbers
import time
import timeit
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

MAX_CALLS_PER_SAMPLE = 1 << 16
# Empty-loop batches timed after the samples when they are not paired with each sample.
EMPTY_LOOPS_AFTER = 5


def real_number(name: str, value: Any) -> float:
    """``value`` as a float: a TypeError naming ``name`` unless it is a real number (a bool
    is not). Range checks are the caller's."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {type(value).__name__} {value!r}")
    return float(value)


def seconds_at_least_zero(name: str, value: Any) -> float:
    """``value`` as a float, checked to be a number of seconds (0 or more, not NaN)."""
    value = real_number(name, value)
    if not value >= 0:
        raise ValueError(f"{name} must be at least 0, got {value}")
    return value


def int_at_least(name: str, value: Any, minimum: int = 1) -> int:
    """``value`` as an int, checked: a TypeError naming ``name`` unless it is a number
    (not a bool), a ValueError unless it is whole (profiles may write ``1.0e+3``) and at
    least ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__} {value!r}")
    if not isinstance(value, numbers.Integral) and not float(value).is_integer():
        raise ValueError(f"{name} must be a whole number, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")
    return int(value)


def names_among(
    kind: str, names: Any, known: Sequence[str], *, allow_empty: bool = False
) -> list[str]:
    """``names`` as a list, each one of ``known``: a TypeError for a single string (not a
    list), a ValueError naming the unknown ones or for an empty list (unless allowed)."""
    if isinstance(names, str):
        raise TypeError(f"{kind} must be a list of names, got the string {names!r}")
    names = list(names)
    unknown = sorted(set(names) - set(known))
    if unknown:
        raise ValueError(f"unknown {kind} {unknown}; known: {list(known)}")
    if not names and not allow_empty:
        raise ValueError(f"{kind} must not be empty")
    return names


def time_calls(
    func: Callable[..., Any],
    make_args: Callable[[], Sequence[Any]],
    n_trials: int,
) -> list[float]:
    """Seconds of ``n_trials + 1`` calls ``func(*make_args())``; element 0 is the first call.

    ``make_args`` runs outside the timed region before every call, so each trial can
    get fresh data (dot, matvec) or the same data (TTV).
    """
    if n_trials < 1:
        raise ValueError(f"n_trials must be at least 1, got {n_trials}")
    seconds = []
    for _ in range(n_trials + 1):
        args = make_args()
        start = time.perf_counter_ns()
        func(*args)
        stop = time.perf_counter_ns()
        seconds.append((stop - start) * 1e-9)
    return seconds


def batch_timers(func: Callable, args: Sequence) -> tuple[timeit.Timer, timeit.Timer]:
    """Timers of ``func(*args)`` and of an empty statement, each run in the same
    ``timeit`` loop with the function and its arguments in local variables (so the loop
    costs one iteration and a few local loads, not global look-ups)."""
    names = [f"a{i}" for i in range(len(args))]
    bound = {"_func": func, **{f"_{n}": a for n, a in zip(names, args, strict=True)}}
    setup = "; ".join(["f = _func", *(f"{n} = _{n}" for n in names)])
    call = f"f({', '.join(names)})"
    return (
        timeit.Timer(call, setup, timer=time.perf_counter_ns, globals=bound),
        timeit.Timer("pass", setup, timer=time.perf_counter_ns, globals=bound),
    )


def seconds_per_call(timer: timeit.Timer, calls_per_sample: int) -> float:
    """One sample: ``calls_per_sample`` runs of ``timer``'s statement, seconds per run."""
    return timer.timeit(calls_per_sample) * 1e-9 / calls_per_sample


def time_first_call(func: Callable, args: Sequence) -> tuple[float, Any]:
    """Seconds and result of one call ``func(*args)``, bracketed by ``perf_counter_ns``."""
    start = time.perf_counter_ns()
    result = func(*args)
    return (time.perf_counter_ns() - start) * 1e-9, result


def time_batched(
    func: Callable,
    args: Sequence,
    n_samples: int,
    min_sample_seconds: float = 0.0,
    max_calls_per_sample: int = MAX_CALLS_PER_SAMPLE,
    *,
    calls_per_sample: int | None = None,
    warmup_samples: int = 0,
    loop_after_each_sample: bool = False,
) -> dict:
    """Per-call seconds of ``func(*args)``: element 0 of ``seconds`` the first call alone,
    then ``n_samples`` batches of ``calls_per_sample`` calls each divided by that count.

    The batch size is either given (``calls_per_sample``, after ``warmup_samples``
    untimed batches, each followed by an empty loop as the samples are) or calibrated: the
    smallest power of two up to ``max_calls_per_sample`` whose batch lasts at least
    ``min_sample_seconds`` (the calibration batches are the warm-up).

    The empty ``timeit`` loop of the same length (``loop_seconds``, per call) is timed
    either right after every sample (``loop_after_each_sample``: sample - its loop is a
    paired net time) or :data:`EMPTY_LOOPS_AFTER` times after all samples;
    ``empty_loop_seconds`` is their median. Also returns the first call's ``result``."""
    n_samples = int_at_least("n_samples", n_samples)
    min_sample_seconds = seconds_at_least_zero("min_sample_seconds", min_sample_seconds)
    max_calls_per_sample = int_at_least("max_calls_per_sample", max_calls_per_sample)
    if calls_per_sample is not None:
        calls_per_sample = int_at_least("calls_per_sample", calls_per_sample)
    warmup_samples = int_at_least("warmup_samples", warmup_samples, 0)
    first, result = time_first_call(func, args)
    calls, empty = batch_timers(func, args)
    if calls_per_sample is None:
        calls_per_sample = 1
        while (
            calls_per_sample < max_calls_per_sample
            and calls.timeit(calls_per_sample) * 1e-9 < min_sample_seconds
        ):
            calls_per_sample *= 2
    for _ in range(warmup_samples):
        calls.timeit(calls_per_sample)
        empty.timeit(calls_per_sample)
    seconds, loops = [first], []
    for _ in range(n_samples):
        seconds.append(seconds_per_call(calls, calls_per_sample))
        if loop_after_each_sample:
            loops.append(seconds_per_call(empty, calls_per_sample))
    if not loop_after_each_sample:
        loops = [seconds_per_call(empty, calls_per_sample) for _ in range(EMPTY_LOOPS_AFTER)]
    return {
        "seconds": seconds,
        "calls_per_sample": calls_per_sample,
        "result": result,
        "loop_seconds": loops,
        "empty_loop_seconds": float(np.median(loops)),
    }
