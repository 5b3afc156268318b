"""Generate notebooks/call_overhead.ipynb (the anatomy of a call, paper Tables 1-2).

Run: ``python tools/make_call_overhead_notebook.py`` from the project root.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from notebook_builder import code, md, params, write

write(
    "notebooks/call_overhead.ipynb",
    [
        md(r"""
# The anatomy of a call (paper Tables 1-2, taken further)

Where does the time of a *tiny* call from Python go? The paper estimated one number per size,
the "first-call overhead" (first call - mean of later calls). Here the cost is taken apart:

**Per call.** Probes in `kernels_rs` (`kernels_rs/src/python/overhead.rs`) each add one step of a
real kernel call to another probe: a no-op PyO3 function; one taking two objects; one checking two
float64 arrays; one extracting and borrowing them through the kernels' own `validate::readonly`
path; one copying them instead of borrowing; one returning a new array; one releasing and
re-taking the GIL. Beside them: the real
`kernels_rs.dot_loop`, the same loop compiled by Numba, `np.dot`, a Python no-op, all on
1-element arrays, and a one-thread Rayon pool's `install(|| {})` against the same closure inline,
timed inside Rust (beside the TT note's published figure, from `data/published/`).

A call this short cannot be timed alone (a `perf_counter_ns` reading costs a comparable time). Each
sample therefore times `calls_per_sample` back-to-back calls in a `timeit` loop (function and
arguments in local variables, garbage collector off) and divides by that count; an empty loop of the
same length is timed right after each sample and subtracted (*net*). All probes are interleaved,
round by round, in each of a few fresh processes (every thread pool pinned to one thread): on a
shared machine the speed of a core drifts over minutes, and interleaving gives every probe the
same conditions, so the differences between probes are paired sample by sample. Reported: the
median over all samples, a distribution-free 95% CI of the median, the fastest sample, the range
of the per-process medians, and the probe's first call in its process.

**First call.** Fresh interpreters, each scenario repeated: interpreter start, `import numpy`,
`import kernels_rs`, the first and later calls; step by step which first call pays what; `import
numba`, the compiling first call, and `@njit(cache=True)` in a process that writes the cache and
one that reads it (temporary `NUMBA_CACHE_DIR`, deleted afterwards).

Change `profile` below to `"paper"` (many samples) or `"quick"` (fewer; the README gives the wall
time of each recorded run).
Finished measurements are read back from `data/`; an interrupted run continues where it stopped.
"""),
        params(r"""
profile = "quick"  # paper | quick | smoke
results_root = ""  # empty means this project; tests point this at a temporary folder
"""),
        code(r"""
from IPython.display import Markdown, display

from tensorbench import plotting, tables
from tensorbench.experiments import call_overhead

run = call_overhead.run(profile, results_root or None)
caption = plotting.caption(run.per_call_metadata, run.profile, statistic="median")
print(f"{len(run.samples)} per-call samples, {len(run.first_call)} first-call rows")
print(f"in {run.data_dir}")
"""),
        md(r"""
## Per call: every probe

Nanoseconds per call. *raw*: the timed loop divided by the calls per sample; *loop*: the empty
loop timed the same way right after; *net* = raw - loop (median over all samples, its 95% CI, the
fastest sample less the median loop, and the lowest and highest per-process median). The in-Rust
probes have no Python loop to subtract. *first call*: the probe's first call in its process (µs;
probes make their first call in the listed order, so only the first Rust probe that takes arrays
pays rust-numpy's one-time set-up; for Numba it includes the compile).
"""),
        code(r"""
per_call = call_overhead.per_call_table(run)
tables.write(per_call, run.figures_dir, "call_overhead_per_call",
             title=f"Per-call cost of each probe (ns)\n\n{caption}")
tables.show(per_call)
"""),
        md(r"""
## Where the time of a tiny call goes

Each segment is the median of the paired, sample-by-sample difference between two interleaved
probes (see `STEPS` in `tensorbench/experiments/call_overhead/summary.py`), on top of the
empty loop iteration every call from a Python loop pays; the table gives each step's 95% CI.
Medians are not exactly additive: a segment that costs next to nothing can come out slightly
negative in the table and is drawn as zero.
"""),
        code(r"""
fig = call_overhead.anatomy_figure(run)
saved = plotting.save(fig, run.figures_dir, "fig_call_overhead")
plotting.show(fig, call_overhead.anatomy_alt(run))
print("saved:", *saved, sep="\n  ")
"""),
        code(r"""
steps = run.anatomy.assign(
    ns=run.anatomy["seconds"] * 1e9,
    ci95_low_ns=run.anatomy["ci95_low"] * 1e9,
    ci95_high_ns=run.anatomy["ci95_high"] * 1e9,
)[["label", "step", "ns", "ci95_low_ns", "ci95_high_ns", "pairs"]]
tables.write(steps, run.figures_dir, "call_overhead_anatomy",
             title=f"Where the time of a tiny call goes (ns)\n\n{caption}")
tables.show(steps)
"""),
        md(r"""
## First call, in fresh processes

Milliseconds, median (min, max) over fresh processes per scenario. `first_call_overhead` is the
paper's estimate: first call - mean of the later calls. `process_wall` is the whole child process
as the parent saw it.
"""),
        code(r"""
first = call_overhead.first_call_table(run)
tables.write(first, run.figures_dir, "call_overhead_first_call",
             title=f"First call in fresh processes (ms)\n\n{caption}")
tables.show(first)
"""),
        md(r"""
## Beside the paper's Tables 1-2

The paper's published first-call overhead estimates (AMD EPYC 9345P; another machine) beside this
machine's: from the dot and square-matvec notebooks' cells for the same profile where they have
been run (same method as the paper: one fresh process per size), and from this notebook's fresh
processes (last row).
"""),
        code(r"""
versus = call_overhead.paper_comparison(run, results_root or None)
tables.write(versus, run.figures_dir, "call_overhead_vs_paper",
             title=f"First-call overhead (s): paper (published) and here\n\n{caption}")
tables.show(versus)
"""),
        md(r"""
## What the data say
"""),
        code(r"""
from tensorbench.findings import as_markdown

display(Markdown(as_markdown(call_overhead.findings(run))))
"""),
        md(r"""
## Where and how this was measured
"""),
        code(r"""
from tensorbench import provenance

params = run.parameters
first = params["first_call"]
notes = [
    f"**Per call:** {params['processes']} fresh processes x {params['samples']} interleaved "
    f"rounds; each sample {params['calls_per_sample']} calls "
    f"({params['rayon_calls_per_sample']} for the Rayon pool entry), after "
    f"{params['warmup_samples']} warm-up samples, arrays of {params['array_length']} element(s)",
    f"**First call:** {first['repeats']} fresh processes per scenario, "
    f"n = {first['array_length']}, {first['later_calls']} later calls; the child processes "
    "are pinned to one thread too",
]
display(Markdown(provenance.describe(
    run.per_call_metadata,
    [run.data_dir / "per_call", run.data_dir / "first_call"],
    notes,
)))
"""),
    ],
)
