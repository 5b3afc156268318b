"""What a finished run finds, as sentences computed from its data (no number typed in by
hand): the notebook's prose, the README's findings and the results pages."""

from __future__ import annotations

import numpy as np

from tensorbench.experiments.call_overhead.cells import EXPERIMENT
from tensorbench.experiments.call_overhead.published_values import (
    note_install_us,
    published_overheads,
)
from tensorbench.experiments.call_overhead.runs import CallOverheadRun, load
from tensorbench.experiments.call_overhead.summary import EMPTY_LOOP
from tensorbench.findings import Finding, described

TARGET_TWO_ARRAYS_S = 0.3e-6  # issue 4: a Rust function taking two NumPy arrays


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
    stage = run.first_call_stage  # a stage's median over fresh processes
    first_rs = _first_call_overhead(run, "rust")
    length = int(run.parameters["first_call"]["array_length"])
    repeats = int(run.first_call_summary["repeats"].max())
    lines.append(
        f"Fresh interpreters (median of {repeats} processes each): starting Python "
        f"(`python -c pass`) takes {stage('interpreter', 'interpreter_start') * 1e3:.0f}"
        f" ms, `import numpy` {stage('rust', 'import_numpy') * 1e3:.0f} ms, "
        f"`import kernels_rs` {stage('rust', 'import_kernels_rs') * 1e3:.2f} ms. The "
        f"first `dot_loop` call on n = {length} then costs {first_rs * us:.0f} µs more than a "
        f"later call ({stage('rust', 'later_call_mean') * us:.1f} µs): this is the "
        f"paper's estimate (first call - mean of later calls)."
    )
    noop = stage("rust_stepwise", "first_call_noop") * us
    checked = stage("rust_stepwise", "first_call_arrays_checked") * us
    borrowed = stage("rust_stepwise", "first_call_two_arrays") * us
    dot_after = stage("rust_stepwise", "first_call") * us
    version = stage("rust_version_check_first", "numpy_version_check") * us
    checked_after = stage("rust_version_check_first", "first_call_arrays_checked") * us
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
    numba_first = _first_call_overhead(run, "numba")
    again = stage("numba", "compile_again")
    read = _first_call_overhead(run, "numba_cache_read")
    write = _first_call_overhead(run, "numba_cache_write")
    paper_numba = published_overheads("dot", "numba")
    paper_text = ""
    if not paper_numba.empty:
        paper_median = float(paper_numba["value"].median())
        paper_text = (
            f" (paper, Table 1: {paper_median * 1e3:.0f} ms; "
            f"{_times(numba_first, paper_median)} here)"
        )
    lines.append(
        f"Numba: `import numba` takes {stage('numba', 'import_numba') * 1e3:.0f} ms; "
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


def _first_call_overhead(run: CallOverheadRun, scenario: str) -> float:
    """The paper's estimate (first call - mean of later calls) in fresh processes."""
    return run.first_call_stage(scenario, "first_call_overhead")


def recorded_findings(profile: str, results_root: str | None = None) -> list[Finding]:
    """The findings of the run on disk (none when it has not run)."""
    run = load(profile, results_root)
    return described(EXPERIMENT, findings(run)) if run is not None else []
