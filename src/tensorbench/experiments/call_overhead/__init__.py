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

One job per module; this package re-exports the registry's hooks and what the notebook
reads:

* measuring (part of the cells' code identity): :mod:`.probes` (what each probe calls),
  :mod:`.per_call` (the interleaved timing), :mod:`.first_call` (the fresh interpreters;
  their scripts are the files in ``children/``), :mod:`.cells` (cell sets and the
  worker's ``measure``), :mod:`.runs` (run through the shared runner, load),
  :mod:`.summary` (statistics of the raw rows);
* presentation (reads finished data, outside the code identity): :mod:`.tables`,
  :mod:`.figures`, :mod:`.findings_text`, :mod:`.published_values`.
"""

from tensorbench.experiments.call_overhead.cells import (
    EXPERIMENT,
    FIRST_CALL,
    NOTEBOOKS,
    PER_CALL,
    SETS,
    cell_sets,
    cell_work,
    measure,
    runs_alone,
)
from tensorbench.experiments.call_overhead.figures import anatomy_alt, anatomy_figure
from tensorbench.experiments.call_overhead.findings_text import findings, recorded_findings
from tensorbench.experiments.call_overhead.first_call import (
    FIRST_CALL_COLUMNS,
    FIRST_CALL_SCENARIOS,
    first_call_facts,
    first_call_frame,
    run_first_call_repeat,
)
from tensorbench.experiments.call_overhead.per_call import (
    PER_CALL_COLUMNS,
    first_calls_in_process,
    measure_interleaved,
    per_call_frame,
)
from tensorbench.experiments.call_overhead.probes import LABELS, PROBES, probe
from tensorbench.experiments.call_overhead.runs import CallOverheadRun, load, run
from tensorbench.experiments.call_overhead.summary import (
    EMPTY_LOOP,
    STAGE_ORDER,
    STEPS,
    anatomy,
    first_call_summary,
    per_call_summary,
)
from tensorbench.experiments.call_overhead.tables import (
    first_call_table,
    paper_comparison,
    per_call_table,
)

__all__ = [
    "EMPTY_LOOP",
    "EXPERIMENT",
    "FIRST_CALL",
    "FIRST_CALL_COLUMNS",
    "FIRST_CALL_SCENARIOS",
    "LABELS",
    "NOTEBOOKS",
    "PER_CALL",
    "PER_CALL_COLUMNS",
    "PROBES",
    "SETS",
    "STAGE_ORDER",
    "STEPS",
    "CallOverheadRun",
    "anatomy",
    "anatomy_alt",
    "anatomy_figure",
    "cell_sets",
    "cell_work",
    "findings",
    "first_call_facts",
    "first_call_frame",
    "first_call_summary",
    "first_call_table",
    "first_calls_in_process",
    "load",
    "measure",
    "measure_interleaved",
    "paper_comparison",
    "per_call_frame",
    "per_call_summary",
    "per_call_table",
    "probe",
    "recorded_findings",
    "run",
    "run_first_call_repeat",
    "runs_alone",
]
