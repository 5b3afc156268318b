"""The anatomy of a call: where the time of a tiny call from Python goes.

Two parts, both recorded under ``data/<machine>/<profile>/call_overhead/``:

* **Per call** (``per_call/``): a few fresh processes (every thread pool pinned to one
  thread), each timing every probe interleaved with the others, round by round, so that
  all probes see the same machine conditions and the differences between them (the
  steps of a call, :data:`STEPS`) are paired. A call of ~100 ns cannot be timed on its
  own (a ``perf_counter_ns`` reading costs about as much), so every sample times
  ``calls_per_sample`` back-to-back calls in a ``timeit`` loop (function and arguments
  bound to local variables, garbage collector off) and divides by that count. An empty
  loop of the same length is timed right after every sample, the same way; *net* =
  sample - its empty loop. The Rayon pool entry is timed inside Rust. Each process is
  one file on disk as soon as it finishes; a rerun continues with the missing ones.
* **First call** (``first_call/``): fresh interpreters (``sys.executable -c ...``, every
  thread pool pinned to one thread), each scenario repeated ``repeats`` times:
  interpreter start, ``import numpy``, ``import kernels_rs``, first and later calls of
  ``kernels_rs.dot_loop``; ``import numba``, the compiling first call of ``@njit``, and
  ``@njit(cache=True)`` in a process that writes the cache and in a second one that
  reads it (a temporary ``NUMBA_CACHE_DIR``, deleted afterwards). Every finished
  (scenario, repeat) is on disk at once; a rerun continues where the last one stopped.
"""

from __future__ import annotations

import inspect
import json
import subprocess
import sys
import tempfile
import textwrap
import time
import timeit
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tensorbench.build import release_kernels
from tensorbench.experiments.registry import Notebook
from tensorbench.findings import Finding, described
from tensorbench.harness.cell import Cell
from tensorbench.timing import int_at_least, real_number

EXPERIMENT = "call_overhead"

# Probe name -> what one call does. Timed from Python unless the name starts with "rayon".
PROBES: dict[str, str] = {
    "python_noop": "a Python function that does nothing (`def f(): pass`)",
    "rust_noop": "`kernels_rs.overhead_noop()`: a PyO3 function without arguments",
    "rust_two_objects": "`overhead_two_objects(x, y)`: two positional arguments, unused",
    "rust_two_arrays_unborrowed": (
        "`overhead_two_arrays_unborrowed(x, y)`: checks both are 1-D float64 arrays, "
        "returns a float"
    ),
    "rust_two_arrays": (
        "`overhead_two_arrays(x, y)`: the kernels' `validate::array_arg` on both "
        "(checks, then a copy of arrays of at most 256 elements, a rust-numpy read-only "
        "borrow of larger ones), returns a float"
    ),
    "rust_two_arrays_borrowed": (
        "`overhead_two_arrays_borrowed(x, y)`: the same checks, then rust-numpy read-only "
        "borrows whatever the size (the kernels' path for arrays of more than 256 elements)"
    ),
    "rust_two_arrays_copied": (
        "`overhead_two_arrays_copied(x, y)`: the same checks, then copies both arrays "
        "(rust-numpy's safe `to_owned_array`) instead of borrowing them"
    ),
    "rust_return_array": "`overhead_return_array(x, y)`: as two_arrays, returns a new array",
    "rust_detach": "`overhead_detach()`: releases the GIL and takes it back",
    "rust_dot_loop": "`kernels_rs.dot_loop(x, y)`: the real kernel on 1-element arrays",
    "numba_noop": "an `@njit` function without arguments",
    "numba_dot": "the `@njit` dot loop of the dot experiment on 1-element arrays",
    "numpy_dot": "`np.dot(x, y)` on 1-element arrays",
    "rayon_install": "`pool.install(|| {})` on a one-thread Rayon pool, timed inside Rust",
    "rayon_inline": "the same empty closure called inline, timed inside Rust",
}

LABELS: dict[str, str] = {
    "python_noop": "Python no-op function",
    "rust_noop": "kernels_rs no-op",
    "rust_two_objects": "kernels_rs, two objects",
    "rust_two_arrays_unborrowed": "kernels_rs, two arrays checked",
    "rust_two_arrays": "kernels_rs, two arrays (kernels' path)",
    "rust_two_arrays_borrowed": "kernels_rs, two arrays borrowed",
    "rust_two_arrays_copied": "kernels_rs, two arrays copied",
    "rust_return_array": "kernels_rs, returns an array",
    "rust_detach": "kernels_rs, GIL released",
    "rust_dot_loop": "kernels_rs.dot_loop (n = 1)",
    "numba_noop": "Numba no-op",
    "numba_dot": "Numba dot loop (n = 1)",
    "numpy_dot": "np.dot (n = 1)",
    "rayon_install": "Rayon install (in Rust)",
    "rayon_inline": "inline closure (in Rust)",
}

EMPTY_LOOP = "empty loop iteration"

# The bars of the anatomy figure: each a list of (step, probe, probe it builds on).
# A step's cost is net(probe) - net(base); the first segment is always the empty loop.
STEPS: dict[str, list[tuple[str, str, str | None]]] = {
    "rust_dot_loop": [
        ("PyO3 call, no arguments", "rust_noop", None),
        ("two positional arguments", "rust_two_objects", "rust_noop"),
        ("array type/ndim/dtype checks", "rust_two_arrays_unborrowed", "rust_two_objects"),
        ("small-array copies", "rust_two_arrays", "rust_two_arrays_unborrowed"),
        ("length check + 1-element kernel", "rust_dot_loop", "rust_two_arrays"),
    ],
    "rust_return_array": [
        ("PyO3 call, no arguments", "rust_noop", None),
        ("two positional arguments", "rust_two_objects", "rust_noop"),
        ("array type/ndim/dtype checks", "rust_two_arrays_unborrowed", "rust_two_objects"),
        ("small-array copies", "rust_two_arrays", "rust_two_arrays_unborrowed"),
        ("new array instead of a float", "rust_return_array", "rust_two_arrays"),
    ],
    "rust_two_arrays_borrowed": [
        ("PyO3 call, no arguments", "rust_noop", None),
        ("two positional arguments", "rust_two_objects", "rust_noop"),
        ("array type/ndim/dtype checks", "rust_two_arrays_unborrowed", "rust_two_objects"),
        ("read-only borrow checks", "rust_two_arrays_borrowed", "rust_two_arrays_unborrowed"),
    ],
    "rust_two_arrays_copied": [
        ("PyO3 call, no arguments", "rust_noop", None),
        ("two positional arguments", "rust_two_objects", "rust_noop"),
        ("array type/ndim/dtype checks", "rust_two_arrays_unborrowed", "rust_two_objects"),
        ("copies instead of borrows", "rust_two_arrays_copied", "rust_two_arrays_unborrowed"),
    ],
    "rust_detach": [
        ("PyO3 call, no arguments", "rust_noop", None),
        ("GIL release + re-take", "rust_detach", "rust_noop"),
    ],
    "python_noop": [("Python function call", "python_noop", None)],
    "numba_dot": [
        ("Numba dispatch, no arguments", "numba_noop", None),
        ("typing two arrays + 1-element loop", "numba_dot", "numba_noop"),
    ],
    "numpy_dot": [("np.dot on one element", "numpy_dot", None)],
}


# ----------------------------------------------------------------------------------
# Per call: every probe interleaved in each of a few fresh processes
# ----------------------------------------------------------------------------------


def probe(name: str, array_length: int = 1) -> tuple[Callable, tuple]:
    """The callable and arguments of a Python-side probe (Numba ones not yet compiled)."""
    if name not in PROBES or name.startswith("rayon_"):
        raise ValueError(f"unknown Python-side probe {name!r}")
    array_length = int_at_least("array_length", array_length)
    x = np.full(array_length, 0.5)
    y = np.full(array_length, 2.0)
    if name == "python_noop":

        def noop():
            pass

        return noop, ()
    if name.startswith("rust_"):
        from tensorbench.build import release_kernels

        kernels = release_kernels()
        if name == "rust_dot_loop":
            return kernels.dot_loop, (x, y)
        func = getattr(kernels, "overhead_" + name.removeprefix("rust_"))
        return func, () if name in ("rust_noop", "rust_detach") else (x, y)
    if name.startswith("numba_"):
        import numba

        from tensorbench.experiments.dense_impls import dot_python

        if name == "numba_dot":
            return numba.njit(dot_python), (x, y)

        def noop():
            pass

        return numba.njit(noop), ()
    return np.dot, (x, y)  # numpy_dot


def batch_timers(func: Callable, args: tuple) -> tuple[timeit.Timer, timeit.Timer]:
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


def time_batches(
    func: Callable, args: tuple, calls_per_sample: int, samples: int, warmup_samples: int = 0
) -> tuple[float, list[float], list[float]]:
    """(first call, per-call seconds of each sample, per-call seconds of the empty loop
    timed right after each sample) of one function on its own. The first call is timed
    before anything else."""
    if calls_per_sample < 1 or samples < 1:
        raise ValueError(
            f"calls_per_sample and samples must be at least 1, got {calls_per_sample}, {samples}"
        )
    start = time.perf_counter_ns()
    func(*args)
    first = (time.perf_counter_ns() - start) * 1e-9
    calls, empty = batch_timers(func, args)
    for _ in range(warmup_samples):
        calls.timeit(calls_per_sample)
        empty.timeit(calls_per_sample)
    per_call, per_loop = [], []
    for _ in range(samples):
        per_call.append(calls.timeit(calls_per_sample) * 1e-9 / calls_per_sample)
        per_loop.append(empty.timeit(calls_per_sample) * 1e-9 / calls_per_sample)
    return first, per_call, per_loop


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
        start = time.perf_counter_ns()
        func(*args)
        first = (time.perf_counter_ns() - start) * 1e-9
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
        raw = calls.timeit(calls_per_sample) * 1e-9 / calls_per_sample
        return raw, empty.timeit(calls_per_sample) * 1e-9 / calls_per_sample

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


def median_ci(values, level: float = 0.95) -> tuple[float, float]:
    """Distribution-free confidence interval of the median (binomial order statistics);
    NaN when there are too few values for the level."""
    from scipy.stats import binom

    level = real_number("level", level)
    if not 0 < level < 1:
        raise ValueError(f"level must be between 0 and 1 (exclusive), got {level}")
    v = np.asarray(values, dtype=float)
    if v.ndim != 1:
        raise ValueError(f"values must be 1-D, got shape {v.shape}")
    v = np.sort(v)
    n = len(v)
    j = int(binom.ppf((1 - level) / 2, n, 0.5)) if n else 0
    if j < 1:
        return float("nan"), float("nan")
    return float(v[j - 1]), float(v[n - j])


def per_call_summary(samples, firsts=None):
    """One row per probe (in :data:`PROBES` order), pooled over processes: medians of
    raw, loop and net seconds per call, a 95% CI of the net median, the fastest sample
    less the median loop, the spread of the per-process net medians, the median first
    call in a process."""
    import pandas as pd

    rows = []
    present = set(samples["probe"]) if len(samples) else set()
    for name in [p for p in PROBES if p in present]:
        s = samples[samples["probe"] == name]
        low, high = median_ci(s["net_seconds"])
        per_process = s.groupby("process")["net_seconds"].median()
        first = (
            firsts.loc[firsts["probe"] == name, "first_call_seconds"].median()
            if firsts is not None and len(firsts)
            else float("nan")
        )
        rows.append(
            {
                "probe": name,
                "label": LABELS[name],
                "timed_in": s["timed_in"].iloc[0],
                "processes": int(s["process"].nunique()),
                "samples": len(s),
                "calls_per_sample": int(s["calls_per_sample"].iloc[0]),
                "raw_median_s": float(s["raw_seconds"].median()),
                "loop_median_s": float(s["loop_seconds"].median()),
                "net_median_s": float(s["net_seconds"].median()),
                "net_ci95_low_s": low,
                "net_ci95_high_s": high,
                # An interrupted empty loop would make min(raw - loop) meaningless.
                "net_min_s": float(s["raw_seconds"].min() - s["loop_seconds"].median()),
                "process_median_low_s": float(per_process.min()),
                "process_median_high_s": float(per_process.max()),
                "first_call_s": float(first),
            }
        )
    return pd.DataFrame(rows)


def anatomy(samples):
    """The stacked bars as a table: one row per (bar, step) with the step's seconds,
    its 95% CI and the number of paired samples.

    A step costs net(probe) - net(base). Probes were interleaved, so the difference is
    taken sample by sample within each round and process (paired), and its median is
    reported; the first segment of every bar is the median empty-loop iteration.
    Medians are not exactly additive, so a step that costs ~nothing can come out
    slightly negative."""
    import pandas as pd

    columns = ["bar", "label", "step", "seconds", "ci95_low", "ci95_high", "pairs"]
    if not len(samples):
        return pd.DataFrame(columns=columns)
    net = samples.pivot_table(index=["process", "sample"], columns="probe", values="net_seconds")
    python_loops = samples.loc[samples["timed_in"] == "python", "loop_seconds"]
    loop = float(python_loops.median()) if len(python_loops) else float("nan")
    loop_ci = median_ci(python_loops)
    rows = []
    for bar, steps in STEPS.items():
        if any(p not in net or (b and b not in net) for _, p, b in steps):
            continue
        rows.append([bar, LABELS[bar], EMPTY_LOOP, loop, *loop_ci, len(python_loops)])
        for step, name, base in steps:
            diff = (net[name] - (net[base] if base else 0.0)).dropna()
            rows.append([bar, LABELS[bar], step, float(diff.median()), *median_ci(diff), len(diff)])
    return pd.DataFrame(rows, columns=columns)


# ----------------------------------------------------------------------------------
# First call: fresh interpreters
# ----------------------------------------------------------------------------------

FIRST_CALL_SCENARIOS: dict[str, str] = {
    "interpreter": "`python -c pass`, wall time seen by the parent (start to exit)",
    "rust": "import numpy, import kernels_rs, first call of dot_loop, later calls",
    "rust_stepwise": (
        "import numpy, import kernels_rs, then the first (and second) calls of "
        "overhead_noop, overhead_two_arrays_unborrowed, overhead_two_arrays and dot_loop "
        "in that order"
    ),
    "rust_version_check_first": (
        "import numpy, then the NumPy version check rust-numpy makes on its first array "
        "call (numpy.lib.NumpyVersion(numpy.__version__)), then import kernels_rs and its "
        "first array call"
    ),
    "numba": "import numpy, import numba, first (compiling) call of @njit dot, later calls",
    "numba_cache_write": "as numba with @njit(cache=True) and an empty cache: compiles, writes",
    "numba_cache_read": "the next process with the same cache: loads instead of compiling",
}

# The child scripts print {"stages": {stage: seconds}, "facts": {name: count}} as the
# last line; a fact "<stage>_new_modules" counts the modules a timed step imported.
_PRELUDE = """
import json, sys, time
clock = time.perf_counter
stages, facts = {}, {}
def timed(stage, action):
    modules = len(sys.modules)
    start = clock()
    result = action()
    stages[stage] = clock() - start
    facts[stage + "_new_modules"] = len(sys.modules) - modules
    return result
def later(stage, func, *args):
    times = []
    for _ in range(LATER_CALLS):
        start = clock()
        func(*args)
        times.append(clock() - start)
    stages[stage] = sum(times) / len(times)
start = clock()
import numpy as np
stages["import_numpy"] = clock() - start
x = np.random.default_rng(0).uniform(0.0, 1.0, LENGTH)
y = np.random.default_rng(1).uniform(0.0, 1.0, LENGTH)
"""

_RUST = """
start = clock()
import kernels_rs
stages["import_kernels_rs"] = clock() - start
timed("first_call", lambda: kernels_rs.dot_loop(x, y))
later("later_call_mean", kernels_rs.dot_loop, x, y)
"""

_RUST_STEPWISE = """
start = clock()
import kernels_rs
stages["import_kernels_rs"] = clock() - start
timed("first_call_noop", kernels_rs.overhead_noop)
timed("second_call_noop", kernels_rs.overhead_noop)
timed("first_call_arrays_checked", lambda: kernels_rs.overhead_two_arrays_unborrowed(x, y))
timed("second_call_arrays_checked", lambda: kernels_rs.overhead_two_arrays_unborrowed(x, y))
timed("first_call_two_arrays", lambda: kernels_rs.overhead_two_arrays(x, y))
timed("second_call_two_arrays", lambda: kernels_rs.overhead_two_arrays(x, y))
timed("first_call", lambda: kernels_rs.dot_loop(x, y))
later("later_call_mean", kernels_rs.dot_loop, x, y)
"""

# rust-numpy decides between numpy.core and numpy._core on its first array call by
# parsing numpy.__version__ with numpy.lib.NumpyVersion (numpy-0.30.0/src/npyffi/array.rs).
_RUST_VERSION_CHECK_FIRST = """
import numpy.lib
timed("numpy_version_check", lambda: numpy.lib.NumpyVersion(np.__version__))
start = clock()
import kernels_rs
stages["import_kernels_rs"] = clock() - start
timed("first_call_arrays_checked", lambda: kernels_rs.overhead_two_arrays_unborrowed(x, y))
"""

_NUMBA = """
start = clock()
import numba
stages["import_numba"] = clock() - start
sys.path.insert(0, MODULE_DIR)
from tiny_dot import dot_python
func = numba.njit(cache=CACHE)(dot_python)
timed("first_call", lambda: func(x, y))
later("later_call_mean", func, x, y)
facts["cache_hits"] = sum(func.stats.cache_hits.values())
facts["cache_misses"] = sum(func.stats.cache_misses.values())
if not CACHE:
    # A second dispatcher of the same function compiles again, now with Numba's
    # one-time initialisation done: the compile alone.
    again = numba.njit(dot_python)
    timed("compile_again", lambda: again(x, y))
"""


def _script(body: str, length: int, later_calls: int, module_dir: str, cache: bool) -> str:
    header = (
        f"LENGTH = {int(length)}\nLATER_CALLS = {int(later_calls)}\n"
        f"MODULE_DIR = {module_dir!r}\nCACHE = {bool(cache)}\n"
    )
    footer = '\nprint(json.dumps({"stages": stages, "facts": facts}))\n'
    return header + textwrap.dedent(_PRELUDE) + textwrap.dedent(body) + footer


def _child_env(cache_dir: str) -> dict[str, str]:
    from tensorbench import threads

    env = threads.single_thread_env()
    # Nothing Numba compiles or caches may land in the project or the user's cache.
    env["NUMBA_CACHE_DIR"] = cache_dir
    env.pop("PYTHONSTARTUP", None)
    return env


def _run_child(args: list[str], env: dict, cwd: str, timeout: float) -> tuple[dict, float]:
    start = time.perf_counter()
    proc = subprocess.run(
        args, capture_output=True, text=True, env=env, cwd=cwd, timeout=timeout, check=False
    )
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"{args[1:3]} failed with exit code {proc.returncode}:\n{proc.stderr}")
    lines = proc.stdout.strip().splitlines()
    return (json.loads(lines[-1]) if lines else {}), wall


def run_first_call_repeat(length: int, later_calls: int, timeout: float = 600.0) -> dict:
    """One repeat of every scenario, each in fresh interpreters; {scenario: stages}.

    The Numba scenarios share one temporary folder (the module that holds the dot loop
    and an empty ``NUMBA_CACHE_DIR``), deleted at the end."""
    from tensorbench.experiments.dense_impls import dot_python

    out = {}
    with tempfile.TemporaryDirectory(prefix="call-overhead-") as tmp:
        module_dir = Path(tmp) / "module"
        module_dir.mkdir()
        (module_dir / "tiny_dot.py").write_text(inspect.getsource(dot_python), encoding="utf-8")
        cache_dir = str(Path(tmp) / "numba-cache")
        env = _child_env(cache_dir)
        python = sys.executable

        _, wall = _run_child([python, "-c", "pass"], env, tmp, timeout)
        out["interpreter"] = {"stages": {"interpreter_start": wall}, "facts": {}}
        bodies = {
            "rust": (_RUST, False),
            "rust_stepwise": (_RUST_STEPWISE, False),
            "rust_version_check_first": (_RUST_VERSION_CHECK_FIRST, False),
            "numba": (_NUMBA, False),
            "numba_cache_write": (_NUMBA, True),
            "numba_cache_read": (_NUMBA, True),  # must follow the write
        }
        for scenario, (body, cache) in bodies.items():
            script = _script(body, length, later_calls, str(module_dir), cache)
            report, wall = _run_child([python, "-c", script], env, tmp, timeout)
            report["stages"]["process_wall"] = wall
            out[scenario] = report
        # Without a cache hit the "read" process compiled again and measured nothing new.
        hits = out["numba_cache_read"]["facts"].get("cache_hits", 0)
        if not list(Path(cache_dir).rglob("*.nbi")) or hits < 1:
            raise RuntimeError(f"@njit(cache=True) did not write or read a cache in {cache_dir}")
    return out


def first_call_frame(reports_by_repeat: dict[int, dict]):
    """Long table: scenario, repeat, stage, seconds; plus the derived
    first_call_overhead = first_call - later_call_mean (the paper's estimate)."""
    import pandas as pd

    rows = []
    for repeat, scenarios in sorted(reports_by_repeat.items()):
        for scenario, report in scenarios.items():
            stages = dict(report["stages"])
            if "first_call" in stages and "later_call_mean" in stages:
                stages["first_call_overhead"] = stages["first_call"] - stages["later_call_mean"]
            for stage, seconds in stages.items():
                rows.append(
                    {"scenario": scenario, "repeat": repeat, "stage": stage, "seconds": seconds}
                )
    return pd.DataFrame(rows, columns=["scenario", "repeat", "stage", "seconds"])


def first_call_facts(reports_by_repeat: dict[int, dict]):
    """Long table: scenario, repeat, fact, value (module counts, Numba cache hits)."""
    import pandas as pd

    rows = [
        {"scenario": scenario, "repeat": repeat, "fact": fact, "value": value}
        for repeat, scenarios in sorted(reports_by_repeat.items())
        for scenario, report in scenarios.items()
        for fact, value in report.get("facts", {}).items()
    ]
    return pd.DataFrame(rows, columns=["scenario", "repeat", "fact", "value"])


# The order in which a process goes through the stages (the files store them sorted).
STAGE_ORDER = (
    "interpreter_start",
    "import_numpy",
    "numpy_version_check",
    "import_kernels_rs",
    "import_numba",
    "first_call_noop",
    "second_call_noop",
    "first_call_arrays_checked",
    "second_call_arrays_checked",
    "first_call_two_arrays",
    "second_call_two_arrays",
    "first_call",
    "later_call_mean",
    "first_call_overhead",
    "compile_again",
    "process_wall",
)


def first_call_summary(frame):
    """Median, min and max over repeats per (scenario, stage), in the order a process
    goes through them."""
    if frame.empty:
        return frame
    table = (
        frame.groupby(["scenario", "stage"], sort=False)["seconds"]
        .agg(repeats="count", median="median", min="min", max="max")
        .reset_index()
    )
    scenario_rank = table["scenario"].map({s: i for i, s in enumerate(FIRST_CALL_SCENARIOS)})
    stage_rank = table["stage"].map({s: i for i, s in enumerate(STAGE_ORDER)})
    order = np.lexsort((stage_rank.fillna(len(STAGE_ORDER)), scenario_rank.fillna(99)))
    return table.iloc[order].reset_index(drop=True)


# ----------------------------------------------------------------------------------
# Running and reporting
# ----------------------------------------------------------------------------------


@dataclass
class CallOverheadRun:
    profile: str
    parameters: dict
    samples: object  # per-call long table (pandas), see per_call_frame
    first_calls_in_process: object
    per_call_metadata: dict
    summary: object  # per_call_summary
    anatomy: object
    first_call: object  # long table
    first_call_facts: object
    first_call_summary: object
    first_call_metadata: dict
    data_dir: Path
    figures_dir: Path
    results_root: str | None = None


PER_CALL, FIRST_CALL = "per_call", "first_call"
SETS = {PER_CALL: f"{EXPERIMENT}/{PER_CALL}", FIRST_CALL: f"{EXPERIMENT}/{FIRST_CALL}"}
FIRST_CALL_COLUMNS = ["scenario", "repeat", "stage", "seconds"]
NOTEBOOKS = (Notebook("call_overhead"),)


def cell_sets(profile: str, probes=tuple(PROBES)) -> dict[str, list[Cell]]:
    """Two kinds of cell: ``per_call`` (one fresh process of every probe interleaved,
    ``processes`` of them) and ``first_call`` (one repeat of every first-call scenario,
    each in fresh interpreters that the worker starts, ``repeats`` of them)."""
    from tensorbench import profiles

    params = profiles.section(profile, EXPERIMENT)
    unknown = sorted(set(probes) - set(PROBES))
    if unknown:
        raise ValueError(f"unknown probes {unknown}; known: {sorted(PROBES)}")
    arguments = {
        "probes": list(probes),
        "array_length": int_at_least("array_length", params["array_length"]),
        "samples": int_at_least("samples", params["samples"]),
        "calls_per_sample": int_at_least("calls_per_sample", params["calls_per_sample"]),
        "rayon_calls_per_sample": int_at_least(
            "rayon_calls_per_sample", params["rayon_calls_per_sample"]
        ),
        "warmup_samples": int_at_least("warmup_samples", params["warmup_samples"], 0),
    }
    processes = int_at_least("processes", params["processes"])
    first = params["first_call"]
    first_options = {
        "length": int_at_least("array_length", first["array_length"]),
        "later_calls": int_at_least("later_calls", first["later_calls"]),
    }
    repeats = int_at_least("repeats", first["repeats"])
    return {
        SETS[PER_CALL]: [
            Cell(
                EXPERIMENT,
                PER_CALL,
                arguments["array_length"],
                variant=f"process-{index:03d}",
                n_trials=arguments["samples"],
                options=arguments,
            )
            for index in range(processes)
        ],
        SETS[FIRST_CALL]: [
            Cell(
                EXPERIMENT,
                FIRST_CALL,
                first_options["length"],
                variant=f"repeat-{repeat:03d}",
                n_trials=first_options["later_calls"],
                options=first_options,
            )
            for repeat in range(repeats)
        ],
    }


def _index(cell: Cell) -> int:
    return int(cell.variant.rsplit("-", 1)[1])


def measure(cell: Cell) -> dict:
    """One per-call process (this worker is the fresh process) or one first-call repeat;
    rows as records, the rest of the report in ``extra``."""
    release_kernels()
    if cell.implementation == PER_CALL:
        report = {"probes": measure_interleaved(**cell.options)}
        samples = per_call_frame({_index(cell): report})
        firsts = first_calls_in_process({_index(cell): report})
        return {
            "records": samples.to_dict("records"),
            "extra": {"first_calls_in_process": firsts.to_dict("records")},
        }
    if cell.implementation == FIRST_CALL:
        stages = run_first_call_repeat(cell.options["length"], cell.options["later_calls"])
        by_repeat = {_index(cell): stages}
        return {
            "records": first_call_frame(by_repeat).to_dict("records"),
            "extra": {"facts": first_call_facts(by_repeat).to_dict("records")},
        }
    raise ValueError(f"unknown call_overhead cell kind {cell.implementation!r}")


def cell_work(cell: Cell) -> float:
    """For run-time estimates: a cell's time is its samples (``n_trials``), not its size."""
    return 1.0


def runs_alone(cell: Cell) -> bool:
    """Neither kind streams memory: the per-call probes live in the L1 cache, the
    first-call repeats in the interpreter; both run side by side."""
    return False


def run(profile: str, results_root: str | None = None, probes=tuple(PROBES)) -> CallOverheadRun:
    """Run (or resume) both parts of the experiment for ``profile`` and summarize."""
    from tensorbench import paths, profiles
    from tensorbench.harness.runner import run_cells

    release_kernels()
    params = profiles.section(profile, EXPERIMENT)
    description = {"experiment": EXPERIMENT, "profile": profile, "parameters": params}
    base = paths.run_dir("data", profile, results_root)
    columns = {PER_CALL: PER_CALL_COLUMNS, FIRST_CALL: FIRST_CALL_COLUMNS}
    for kind, name in SETS.items():
        run_cells(
            cell_sets(profile, probes)[name],
            base / name,
            description={**description, "part": kind},
            columns=columns[kind],
        )
    loaded = load(profile, results_root)
    if loaded is None:
        raise RuntimeError(f"no call-overhead data under {base / EXPERIMENT} after running")
    return loaded


def _extras(metadata: dict, key: str) -> list[dict]:
    return [row for extra in metadata.get("cell_extra", {}).values() for row in extra.get(key, [])]


def load(profile: str, results_root: str | None = None) -> CallOverheadRun | None:
    """A finished run read back from disk without measuring anything (None when either
    part has no data yet), e.g. for the README."""
    import pandas as pd

    from tensorbench import paths, profiles, results

    base = paths.run_dir("data", profile, results_root)
    per_call_dir, first_dir = base / SETS[PER_CALL], base / SETS[FIRST_CALL]
    samples, first_frame = results.load_raw(per_call_dir), results.load_raw(first_dir)
    if samples.empty or first_frame.empty:
        return None
    per_call_meta = results.read_json(per_call_dir / "metadata.json")
    first_meta = results.read_json(first_dir / "metadata.json")
    firsts = pd.DataFrame(
        _extras(per_call_meta, "first_calls_in_process"),
        columns=["process", "probe", "first_call_seconds"],
    )
    facts = pd.DataFrame(
        _extras(first_meta, "facts"), columns=["scenario", "repeat", "fact", "value"]
    )
    return CallOverheadRun(
        profile=profile,
        parameters=profiles.section(profile, EXPERIMENT),
        samples=samples,
        first_calls_in_process=firsts,
        per_call_metadata=per_call_meta,
        summary=per_call_summary(samples, firsts),
        anatomy=anatomy(samples),
        first_call=first_frame,
        first_call_facts=facts,
        first_call_summary=first_call_summary(first_frame),
        first_call_metadata=first_meta,
        data_dir=base / EXPERIMENT,
        figures_dir=paths.run_dir("figures", profile, results_root),
        results_root=str(results_root) if results_root else None,
    )


def recorded_findings(profile: str, results_root: str | None = None) -> list[Finding]:
    """The findings of the run on disk (none when it has not run)."""
    run = load(profile, results_root)
    return described(EXPERIMENT, findings(run)) if run is not None else []


def per_call_table(run: CallOverheadRun):
    """The per-call summary in nanoseconds, for reading."""
    s = run.summary
    table = s[["label", "timed_in", "processes", "samples", "calls_per_sample"]].copy()
    for column in (
        "raw_median",
        "loop_median",
        "net_median",
        "net_ci95_low",
        "net_ci95_high",
        "net_min",
        "process_median_low",
        "process_median_high",
    ):
        table[f"{column}_ns"] = s[f"{column}_s"] * 1e9
    table["first_call_us"] = s["first_call_s"] * 1e6
    return table


def anatomy_figure(run: CallOverheadRun):
    """Left: stacked horizontal bars of where a tiny call's time goes (ns), one bar per
    kind of call. Right: entering a one-thread Rayon pool vs running inline (in Rust)."""
    import matplotlib.pyplot as plt

    from tensorbench import plotting

    plotting.apply_theme()
    parts = run.anatomy
    steps = list(dict.fromkeys(parts["step"]))
    palette = plt.get_cmap("tab20").colors  # one color per step; there are up to 12
    colors = {step: palette[i % len(palette)] for i, step in enumerate(steps)}
    fig, (left, right) = plt.subplots(
        1, 2, figsize=(11.0, 6.2), gridspec_kw={"width_ratios": [3, 1]}
    )
    bars = list(dict.fromkeys(parts["bar"]))
    for row, bar in enumerate(bars):
        offset = 0.0
        for _, part in parts[parts["bar"] == bar].iterrows():
            width = max(part["seconds"], 0.0) * 1e9  # a step that costs ~nothing may be < 0
            left.barh(row, width, left=offset, color=colors[part["step"]], edgecolor="white")
            offset += width
        left.text(offset, row, f" {offset:.0f} ns", va="center", fontsize=8)
    left.set_yticks(range(len(bars)), [LABELS[b] for b in bars])
    left.invert_yaxis()
    left.set_xlabel(
        "median time per call, ns (steps = paired differences between interleaved probes)"
    )
    left.set_title("Where the time of a tiny call from Python goes")
    handles = [plt.Rectangle((0, 0), 1, 1, color=colors[s]) for s in steps]
    left.legend(handles, steps, fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=3)
    left.grid(True, axis="x", alpha=0.3)
    left.set_xlim(0, left.get_xlim()[1] * 1.12)

    s = run.summary.set_index("probe")
    pool = [p for p in ("rayon_inline", "rayon_install") if p in s.index]
    values = [s.loc[p, "net_median_s"] * 1e6 for p in pool]
    errors = [
        [(s.loc[p, "net_median_s"] - s.loc[p, "net_ci95_low_s"]) * 1e6 for p in pool],
        [(s.loc[p, "net_ci95_high_s"] - s.loc[p, "net_median_s"]) * 1e6 for p in pool],
    ]
    errors = np.nan_to_num(np.clip(np.asarray(errors, float), 0, None))
    right.bar(
        range(len(pool)), values, yerr=errors, capsize=3, color=[plotting.color(p) for p in pool]
    )
    for i, value in enumerate(values):  # the inline bar is too small to see
        text = f"{value:.2f} µs" if value >= 0.1 else f"{value * 1e3:.1f} ns"
        right.text(i, value + errors[1][i], text, ha="center", va="bottom", fontsize=8)
    published = note_install_us()
    if published is not None:
        right.axhline(published, color="black", linestyle=":", linewidth=1)
        right.text(
            -0.4, published, f"TT note (published): {published:g} µs", fontsize=7, va="bottom"
        )
    right.set_xticks(range(len(pool)), ["inline", "install"])
    right.set_ylabel("median µs per call (in Rust)")
    right.set_title("Rayon pool entry, 1 thread")
    right.grid(True, axis="y", alpha=0.3)
    caption = plotting.caption(run.per_call_metadata, run.profile, statistic="median")
    caption = caption.replace("bars: 95% CI", "right panel: 95% CI of the median")
    fig.text(
        0.01,
        0.01,
        "\n".join(textwrap.wrap(caption, 150)),
        fontsize=7,
        va="bottom",
        ha="left",
    )
    fig.tight_layout()
    fig.subplots_adjust(bottom=0.3)  # room for the legend and the caption below
    return fig


def note_install_us() -> float | None:
    """The TT note's published `CpuContext::install(|| {})` time (µs), if on file."""
    from tensorbench import published

    rows = published.select("tt_note", table="install_overhead")
    rows = rows[rows["implementation"] == "rayon_threadpool_install"]
    return float(rows["value"].iloc[0]) if len(rows) else None


def first_call_table(run: CallOverheadRun):
    """Stage medians over fresh processes (ms), one row per (scenario, stage)."""
    table = run.first_call_summary.copy()
    for column in ("median", "min", "max"):
        table[f"{column}_ms"] = table.pop(column) * 1e3
    return table


def _fresh_overhead(run: CallOverheadRun, scenario: str) -> float:
    rows = run.first_call_summary
    rows = rows[(rows["scenario"] == scenario) & (rows["stage"] == "first_call_overhead")]
    return float(rows["median"].iloc[0]) if len(rows) else float("nan")


def paper_comparison(run: CallOverheadRun, results_root: str | None = None):
    """The paper's Tables 1-2 (published, EPYC 9345P) beside this machine's estimates:
    from this experiment's fresh processes (dot_loop at ``first_call.array_length``) and,
    where the dense notebooks have run for this profile, from their per-size cells."""
    import pandas as pd

    from tensorbench import published
    from tensorbench.experiments import dense_report

    rows = []
    for table, experiment, dense_name in (
        ("Table 1", "dot", "dot"),
        ("Table 2", "matvec_square", "matvec-square"),
    ):
        paper = published.first_call_overhead(experiment)
        dense = dense_report.load(dense_name, run.profile, results_root)
        here = {}
        if dense is not None:
            s = dense.summary
            for impl in ("rust_from_python", "numba"):
                for _, r in s[s["implementation"] == impl].iterrows():
                    here[(impl, int(r["size"]))] = r["first_call_overhead"]
        for _, r in paper.iterrows():
            size = int(r["size"])
            rows.append(
                {
                    "table": table,
                    "size": size,
                    "rust_from_python_paper_s": r.get("rust_from_python", float("nan")),
                    "rust_from_python_dense_run_s": here.get(("rust_from_python", size)),
                    "numba_paper_s": r.get("numba", float("nan")),
                    "numba_dense_run_s": here.get(("numba", size)),
                }
            )
    table = pd.DataFrame(rows)
    length = int(run.parameters["first_call"]["array_length"])
    fresh = pd.DataFrame(
        [
            {
                "table": "this experiment (fresh processes)",
                "size": length,
                "rust_from_python_paper_s": float("nan"),
                "rust_from_python_dense_run_s": _fresh_overhead(run, "rust"),
                "numba_paper_s": float("nan"),
                "numba_dense_run_s": _fresh_overhead(run, "numba"),
            }
        ]
    )
    table = pd.concat([table, fresh], ignore_index=True)
    return table.rename(
        columns={
            "rust_from_python_dense_run_s": "rust_from_python_here_s",
            "numba_dense_run_s": "numba_here_s",
        }
    ).astype({"rust_from_python_here_s": float, "numba_here_s": float})


TARGET_TWO_ARRAYS_S = 0.3e-6  # issue 4: a Rust function taking two NumPy arrays


def _stage(run: CallOverheadRun, scenario: str, stage: str) -> float:
    rows = run.first_call_summary
    rows = rows[(rows["scenario"] == scenario) & (rows["stage"] == stage)]
    return float(rows["median"].iloc[0]) if len(rows) else float("nan")


def findings(run: CallOverheadRun) -> list[str]:
    """Sentences computed from this run's data (no number typed in by hand)."""
    s = run.summary.set_index("probe") if len(run.summary) else None
    parts = run.anatomy
    lines = []

    def ns(name: str, column: str = "net_median_s") -> float:
        return float(s.loc[name, column]) * 1e9 if s is not None and name in s.index else np.nan

    def step(bar: str, name: str) -> float:
        """A step's paired median (ns) from the anatomy table."""
        rows = parts[(parts["bar"] == bar) & (parts["step"] == name)]
        return float(rows["seconds"].iloc[0]) * 1e9 if len(rows) else np.nan

    target = TARGET_TWO_ARRAYS_S * 1e9
    if s is not None and "rust_two_arrays" in s.index:
        net = ns("rust_two_arrays")
        low, high = (
            ns("rust_two_arrays", "net_ci95_low_s"),
            ns("rust_two_arrays", "net_ci95_high_s"),
        )
        spread_low = ns("rust_two_arrays", "process_median_low_s")
        spread_high = ns("rust_two_arrays", "process_median_high_s")
        verdict = "meets" if net <= target else "does NOT meet"
        lines.append(
            f"A PyO3 function taking two 1-element float64 arrays the way the kernels take "
            f"them (`overhead_two_arrays`: checks, then copies of arrays this small) costs "
            f"{net:.0f} ns per call net of the Python loop "
            f"(median of {int(s.loc['rust_two_arrays', 'samples'])} samples from "
            f"{int(s.loc['rust_two_arrays', 'processes'])} processes; 95% CI "
            f"{low:.0f}-{high:.0f} ns; per-process medians {spread_low:.0f}-{spread_high:.0f} "
            f"ns): it {verdict} the issue's target of {target:.0f} ns."
        )
        bar = "rust_dot_loop"
        if bar in set(parts["bar"]):
            named = {
                "the PyO3 call itself": step(bar, "PyO3 call, no arguments"),
                "passing two objects": step(bar, "two positional arguments"),
                "checking that both are 1-D float64 arrays": step(
                    bar, "array type/ndim/dtype checks"
                ),
                "copying both 1-element arrays": step(bar, "small-array copies"),
            }
            largest = max(named, key=lambda k: named[k])
            lines.append(
                "Where it goes (paired differences between interleaved probes): "
                + ", ".join(f"{what} {value:.0f} ns" for what, value in named.items())
                + f". The largest part is {largest}."
            )
        if "rust_two_arrays_borrowed" in s.index:
            lines.append(
                f"Borrowing the arrays read-only through rust-numpy instead of copying them "
                f"(the kernels' path for arrays of more than 256 elements, where a copy would "
                f"cost more) costs {ns('rust_two_arrays_borrowed'):.0f} ns per call: "
                f"rust-numpy's borrow bookkeeping (a mutex-protected, process-wide table "
                f"updated when each array is borrowed and released) adds "
                f"{step('rust_two_arrays_borrowed', 'read-only borrow checks'):.0f} ns to the "
                f"checks."
            )
        if "rust_two_arrays_copied" in s.index:
            copied = ns("rust_two_arrays_copied")
            verdict = "meets" if copied <= target else "does not meet"
            lines.append(
                f"Copying with rust-numpy's safe `to_owned_array` whatever the size "
                f"(`overhead_two_arrays_copied`) costs {copied:.0f} ns per call on 1-element "
                f"arrays ({step('rust_two_arrays_copied', 'copies instead of borrows'):.0f} ns "
                f"for the copies; it {verdict} the target); a copy grows with the array, the "
                f"borrow bookkeeping does not, hence the kernels copy only small arrays."
            )
    if s is not None and "rust_dot_loop" in s.index:
        lines.append(
            f"The real kernel `kernels_rs.dot_loop` on 1-element arrays: "
            f"{ns('rust_dot_loop'):.0f} ns net "
            f"(the length check and 1-element loop: "
            f"{step('rust_dot_loop', 'length check + 1-element kernel'):.0f} ns of it); the "
            f"same loop compiled by Numba {ns('numba_dot'):.0f} ns (Numba's dispatch "
            f"without arguments: {ns('numba_noop'):.0f} ns); `np.dot` {ns('numpy_dot'):.0f} "
            f"ns; a Python no-op function {ns('python_noop'):.0f} ns; the empty loop "
            f"iteration subtracted from all of these "
            f"{step('rust_dot_loop', EMPTY_LOOP):.1f} ns."
        )
    if s is not None and "rust_return_array" in s.index:
        lines.append(
            f"Returning a new 1-element array instead of a float adds "
            f"{step('rust_return_array', 'new array instead of a float'):.0f} ns; releasing "
            f"and re-taking the GIL (`py.detach`) adds "
            f"{step('rust_detach', 'GIL release + re-take'):.0f} ns."
        )
    if s is not None and "rayon_install" in s.index:
        install_us, inline_ns = ns("rayon_install") / 1e3, ns("rayon_inline")
        note = note_install_us()
        vs_note = f" (the TT note published {note:g} µs)" if note is not None else ""
        lines.append(
            f"Entering a one-thread Rayon pool with `install(|| {{}})` from outside it costs "
            f"{install_us:.2f} µs per call inside Rust{vs_note}, against {inline_ns:.1f} ns "
            f"for the same closure run inline: about "
            f"{install_us * 1e3 / max(ns('rust_dot_loop'), 1e-9):.0f} times a whole "
            f"tiny `dot_loop` call from Python. Each entry hands the closure to the pool's "
            f"worker thread and waits for it, so it costs a thread wake-up and switch both ways."
        )
    if len(run.first_call_summary):
        lines += _first_call_findings(run)
    return lines


def _sci(value: float) -> str:
    """1000.0 -> '1e3'."""
    return f"{value:.0e}".replace("e+0", "e").replace("e+", "e")


def _fact(run: CallOverheadRun, scenario: str, fact: str) -> float:
    facts = run.first_call_facts
    rows = facts[(facts["scenario"] == scenario) & (facts["fact"] == fact)]
    return float(rows["value"].median()) if len(rows) else float("nan")


def _times(ours: float, theirs: float) -> str:
    """'2.1 times larger' / '3.0 times smaller' / 'about the same' (ours vs theirs)."""
    if not (ours > 0 and theirs > 0):
        return "not comparable"
    ratio = ours / theirs
    if 0.8 <= ratio <= 1.25:
        return "about the same"
    return f"{ratio:.1f} times larger" if ratio > 1 else f"{1 / ratio:.1f} times smaller"


def _first_call_findings(run: CallOverheadRun) -> list[str]:
    lines = []
    us = 1e6
    first_rs = _fresh_overhead(run, "rust")
    length = int(run.parameters["first_call"]["array_length"])
    repeats = int(run.first_call_summary["repeats"].max())
    lines.append(
        f"Fresh interpreters (median of {repeats} processes each): starting Python "
        f"(`python -c pass`) takes {_stage(run, 'interpreter', 'interpreter_start') * 1e3:.0f}"
        f" ms, `import numpy` {_stage(run, 'rust', 'import_numpy') * 1e3:.0f} ms, "
        f"`import kernels_rs` {_stage(run, 'rust', 'import_kernels_rs') * 1e3:.2f} ms. The "
        f"first `dot_loop` call on n = {length} then costs {first_rs * us:.0f} µs more than a "
        f"later call ({_stage(run, 'rust', 'later_call_mean') * us:.1f} µs): this is the "
        f"paper's estimate (first call - mean of later calls)."
    )
    noop = _stage(run, "rust_stepwise", "first_call_noop") * us
    checked = _stage(run, "rust_stepwise", "first_call_arrays_checked") * us
    borrowed = _stage(run, "rust_stepwise", "first_call_two_arrays") * us
    dot_after = _stage(run, "rust_stepwise", "first_call") * us
    version = _stage(run, "rust_version_check_first", "numpy_version_check") * us
    checked_after = _stage(run, "rust_version_check_first", "first_call_arrays_checked") * us
    lines.append(
        f"Where it goes, step by step in one process: the first PyO3 call without "
        f"arguments takes {noop:.0f} µs; the first call that checks array types "
        f"{checked:.0f} µs, because rust-numpy then finds NumPy's C API and, to choose "
        f"between `numpy.core` and `numpy._core`, parses `numpy.__version__` with "
        f"`numpy.lib.NumpyVersion`; that check alone takes {version:.0f} µs in a fresh "
        f"process, and when it has run first the first array call takes {checked_after:.0f} "
        f"µs. The first read-only borrow (creating rust-numpy's shared borrow table) then "
        f"takes {borrowed:.0f} µs, and the first `dot_loop` call after all this "
        f"{dot_after:.0f} µs."
    )
    parts = []
    for table, experiment, where in (
        ("Table 1", "dot", "n = {}"),
        ("Table 2", "matvec_square", "{} matrix elements"),
    ):
        paper = published_overheads(experiment, "rust_from_python")
        if paper.empty:
            continue
        first, largest = paper.iloc[0], paper.iloc[-1]
        parts.append(
            f"{table} {first['value'] * us:.0f} µs at {where.format(_sci(first['size']))} "
            f"(up to {largest['value'] * us:,.0f} µs at {where.format(_sci(largest['size']))})"
        )
    paper_dot = published_overheads("dot", "rust_from_python")
    if parts:
        top = paper_dot.sort_values("value")["size"].iloc[-2:]  # the two largest estimates
        largest_sizes = "-".join(_sci(size) for size in sorted(top))
        lines.append(
            f"The paper's first-call overhead of Rust from Python (published; AMD EPYC "
            f"9345P, PyO3 0.25, rust-numpy 0.25): {'; '.join(parts)}. Ours at n = {length} "
            f"is {_times(first_rs, float(paper_dot['value'].iloc[0]))} than Table 1's smallest "
            f"entry. The paper names crossing the FFI boundary, loading the Python module and "
            f"data type conversions as possible sources without measuring them; here the "
            f"first call imports {_fact(run, 'rust', 'first_call_new_modules'):.0f} modules, "
            f"the first crossing without arguments costs {noop:.0f} µs, and the first call "
            f"with array arguments alone ({checked:.0f} µs in the step-by-step process, "
            f"rust-numpy's one-time set-up) is {checked / (first_rs * us):.0%} of our "
            f"estimate. "
            f"`import kernels_rs` and the interpreter start come before any call and are in "
            f"neither estimate. None of the one-time costs measured here depends on the array "
            f"size, so they do not explain the paper's larger values at {largest_sizes} elements, "
            f"each of which is a single first call."
        )
    lines += _large_size_noise(run)
    numba_first = _fresh_overhead(run, "numba")
    again = _stage(run, "numba", "compile_again")
    read = _fresh_overhead(run, "numba_cache_read")
    write = _fresh_overhead(run, "numba_cache_write")
    paper_numba = published_overheads("dot", "numba")
    paper_text = ""
    if not paper_numba.empty:
        paper_median = float(paper_numba["value"].median())
        paper_text = (
            f" (paper, Table 1: {paper_median * 1e3:.0f} ms; "
            f"{_times(numba_first, paper_median)} here)"
        )
    lines.append(
        f"Numba: `import numba` takes {_stage(run, 'numba', 'import_numba') * 1e3:.0f} ms; "
        f"the first call of the `@njit` dot loop costs {numba_first * 1e3:.0f} ms more than a "
        f"later call{paper_text}; that first call imports "
        f"{_fact(run, 'numba', 'first_call_new_modules'):.0f} more modules (the first "
        f"`kernels_rs` call: {_fact(run, 'rust', 'first_call_new_modules'):.0f}). "
        f"A second dispatcher of the same function, compiled in the "
        f"same process afterwards, takes {again * 1e3:.0f} ms"
        + (
            ": compiling this function is the smaller part; the rest is Numba's one-time "
            "set-up of its typing and code-generation machinery on the first compile."
            if again < numba_first / 2
            else "."
        )
    )
    saved = write - read
    lines.append(
        f"With `@njit(cache=True)`: the process that compiles and writes the cache pays "
        f"{write * 1e3:.0f} ms on its first call, the next process, which loads the compiled "
        f"code (cache hits: {_fact(run, 'numba_cache_read', 'cache_hits'):.0f}), "
        f"{read * 1e3:.0f} ms and still imports "
        f"{_fact(run, 'numba_cache_read', 'first_call_new_modules'):.0f} modules on that "
        f"call. The cache saves {saved * 1e3:.0f} ms "
        f"(compiling alone: {again * 1e3:.0f} ms)"
        + (
            "; loading the cached code still pays most of the one-time set-up"
            if read > numba_first / 2
            else ""
        )
        + f", so a cached Numba first call is {read / max(first_rs, 1e-12):,.0f} times the "
        f"first-call cost of kernels_rs."
    )
    return lines


def _large_size_noise(run: CallOverheadRun) -> list[str]:
    """Set the dot run's first-call estimate at its largest size against the spread of
    the later calls there (the estimate is one first call minus a mean)."""
    from tensorbench.experiments import dense_report

    dense = dense_report.load("dot", run.profile, run.results_root)
    if dense is None:
        return []
    rows = dense.summary[dense.summary["implementation"] == "rust_from_python"]
    if rows.empty:
        return []
    largest = rows.loc[rows["size"].idxmax()]
    spread = float(largest["std"])
    if not spread > 0:
        return []
    estimate = float(largest["first_call_overhead"])
    ratio = estimate / spread
    verdict = (
        "within the call-to-call noise at that size"
        if abs(ratio) < 3
        else "larger than the call-to-call noise at that size"
    )
    return [
        f"In this machine's dot run ({run.profile} profile), the same estimate at "
        f"n = {_sci(float(largest['size']))} is {estimate * 1e3:.2f} ms, while the later calls "
        f"there have a standard deviation of {spread * 1e3:.2f} ms ({ratio:.1f} standard "
        f"deviations): {verdict}."
    ]


def published_overheads(experiment: str, implementation: str):
    """The paper's first-call overhead rows of one table and implementation, by size."""
    from tensorbench import published

    rows = published.select("paper", experiment=experiment, case="first_call_overhead")
    rows = rows[rows["implementation"] == implementation].copy()
    rows["size"] = rows["size"].astype(float)
    return rows.sort_values("size").reset_index(drop=True)
