"""What the dot experiment finds (paper Section 3.1, Figure 2): the paper's claims and the
issue's targets, checked against a finished run's data. Presentation only, so that a
change of wording or of a target does not change the code identity of measured cells.

:func:`tensorbench.report.findings` and the dot notebook take the findings from here.
"""

from __future__ import annotations

import math

from tensorbench.experiments.dense_impls import BANDWIDTH
from tensorbench.findings import Finding

EXPERIMENT = "dot"

# The tuned kernel against single-threaded np.dot at the largest size (issue 11).
TUNED_TARGET = 0.95


def recorded_findings(profile: str, results_root: str | None = None) -> list[Finding]:
    """The findings of the run on disk (none when it has not run)."""
    from tensorbench.experiments import dot

    run = dot.load(profile, results_root)
    return findings(run) if run is not None else []


def findings(run) -> list[Finding]:
    """The paper's claims and the issue's targets, checked against this run's data."""
    from tensorbench.experiments.dense_report import claim_finding
    from tensorbench.stats import value_at

    s = run.summary[run.summary["implementation"] != BANDWIDTH]
    lines = []
    both = sorted(
        set(s.loc[s.implementation == "python", "size"])
        & set(s.loc[s.implementation == "rust_from_python", "size"])
    )
    if both:
        n = max(both)
        ratio = value_at(s, "python", size=n) / value_at(s, "rust_from_python", size=n)
        lines.append(
            claim_finding(
                EXPERIMENT,
                ratio,
                100,
                f"Rust from Python over the Python loop at the largest common size "
                f"n = {n:.0e} (mean time ratio)",
                f"dot: Rust from Python over the Python loop at n = {n:.0e}",
            )
        )
    if 10**7 in both and max(both) != 10**7:
        ratio = value_at(s, "python", size=10**7) / value_at(s, "rust_from_python", size=10**7)
        lines.append(
            claim_finding(
                EXPERIMENT,
                ratio,
                100,
                "Rust from Python over Python at n = 1e7",
                "dot: Rust from Python over the Python loop at n = 1e7",
            )
        )
    n_max = int(s["size"].max()) if len(s) else 0
    numpy_t = value_at(s, "numpy", size=n_max)
    for impl, label in (
        ("rust_from_python_tuned", "kernels_rs.dot (tuned, from Python)"),
        ("rust_tuned", "tuned Rust timed inside Rust"),
    ):
        share = numpy_t / value_at(s, impl, size=n_max)
        if not math.isnan(share):
            verdict = "meets" if share >= TUNED_TARGET else "does NOT meet"
            lines.append(
                Finding(
                    EXPERIMENT,
                    f"{label} at n = {n_max:.0e} runs at {100 * share:.1f}% of the speed of "
                    f"single-threaded np.dot ({verdict} the {100 * TUNED_TARGET:.0f}% target; "
                    f"mean times of two separate cells of this run, not interleaved).",
                )
            )
    small = int(s["size"].min()) if len(s) else 0
    for statistic in ("median", "mean"):
        diff = value_at(s, "rust_from_python", statistic, size=small) - value_at(
            s, "rust", statistic, size=small
        )
        if not math.isnan(diff):
            verdict = "under" if diff < 1e-6 else "NOT under"
            lines.append(
                Finding(
                    EXPERIMENT,
                    f"Per-call cost of calling from Python at n = {small:.0e} "
                    f"({statistic} Rust from Python - {statistic} Rust inside Rust): "
                    f"{diff * 1e6:.2f} µs ({verdict} 1 µs).",
                )
            )
    return lines
