"""Statistics of the raw rows of a finished run: the per-call summary per probe, the
anatomy of a call (paired steps between probes) and the first-call stages.

pandas and the statistics are imported inside the functions: the worker that measures
the probes imports this package and should not load them.
"""

from __future__ import annotations

import numpy as np

from tensorbench.experiments.call_overhead.first_call import FIRST_CALL_SCENARIOS
from tensorbench.experiments.call_overhead.probes import LABELS, PROBES

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


def per_call_summary(samples, firsts=None):
    """One row per probe (in :data:`PROBES` order), pooled over processes: medians of
    raw, loop and net seconds per call, a 95% CI of the net median, the fastest sample
    less the median loop, the spread of the per-process net medians, the median first
    call in a process."""
    import pandas as pd

    from tensorbench.stats import median_ci

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

    from tensorbench.stats import median_ci

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
