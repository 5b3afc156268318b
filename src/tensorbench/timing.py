"""The timing module shared by every notebook.

* :func:`time_calls` times one implementation in the current process the paper's way:
  fresh data per trial from a generator, the first call timed apart, then
  ``n_trials`` timed calls, each bracketed by ``time.perf_counter_ns``.
* cells are planned, identified, run in fresh worker processes and stored by
  :mod:`tensorbench.harness`.
* :func:`int_at_least` and :func:`real_number` check the counts, sizes, seeds and
  fractions the experiments are given.
"""

from __future__ import annotations

import numbers
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    pass


def real_number(name: str, value: Any) -> float:
    """``value`` as a float: a TypeError naming ``name`` unless it is a real number (a bool
    is not). Range checks are the caller's."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {type(value).__name__} {value!r}")
    return float(value)


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
