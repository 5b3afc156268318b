"""First call: one repeat of every scenario, each in fresh interpreters, as rows.

Fresh interpreters (``sys.executable -c ...``, every thread pool pinned to one thread)
time the interpreter start, ``import numpy``, ``import kernels_rs``, the first and later
calls of ``kernels_rs.dot_loop``; step by step which first call pays what; ``import
numba``, the compiling first call of ``@njit``, and ``@njit(cache=True)`` in a process
that writes the cache and in a second one that reads it (a temporary
``NUMBA_CACHE_DIR``, deleted afterwards). The scripts are assembled from the files in
``children/``.
"""

from __future__ import annotations

import inspect
import json
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

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

FIRST_CALL_COLUMNS = ["scenario", "repeat", "stage", "seconds"]


def _child_source(name: str) -> str:
    """The text of ``children/<name>.py`` (read through the file system, not
    importlib.resources: that would load a dozen more modules into the worker that times
    the per-call probes)."""
    return (Path(__file__).parent / "children" / f"{name}.py").read_text(encoding="utf-8")


_PRELUDE = _child_source("prelude")
_RUST = _child_source("rust")
_RUST_STEPWISE = _child_source("rust_stepwise")
_RUST_VERSION_CHECK_FIRST = _child_source("rust_version_check_first")
_NUMBA = _child_source("numba_dot")


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
    return pd.DataFrame(rows, columns=FIRST_CALL_COLUMNS)


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
