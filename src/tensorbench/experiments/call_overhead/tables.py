"""Tables of a finished run, for reading: the per-call summary (ns), the first-call
stages (ms), and the paper's Tables 1-2 beside this machine's estimates."""

from __future__ import annotations

from tensorbench.experiments.call_overhead.runs import CallOverheadRun


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


def first_call_table(run: CallOverheadRun):
    """Stage medians over fresh processes (ms), one row per (scenario, stage)."""
    table = run.first_call_summary.copy()
    for column in ("median", "min", "max"):
        table[f"{column}_ms"] = table.pop(column) * 1e3
    return table


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
                "rust_from_python_dense_run_s": run.first_call_stage("rust", "first_call_overhead"),
                "numba_paper_s": float("nan"),
                "numba_dense_run_s": run.first_call_stage("numba", "first_call_overhead"),
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
