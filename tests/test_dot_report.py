"""The dot findings: the paper's claim and the tuned kernel's 0.95x target against np.dot,
written from a run's summary (synthetic here, so every verdict is known in advance)."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd
import pytest

from tensorbench import report
from tensorbench.experiments import dot, dot_report
from tensorbench.findings import HELD, NOT_HELD


def _run(means: dict[tuple[str, int], float]):
    rows = [
        {"implementation": impl, "size": size, "mean": mean, "median": mean}
        for (impl, size), mean in means.items()
    ]
    return SimpleNamespace(summary=pd.DataFrame(rows))


def _means(tuned_over_numpy: float) -> dict[tuple[str, int], float]:
    """np.dot at 1e8 takes 10 ms; the tuned kernels take ``tuned_over_numpy`` times that."""
    return {
        ("python", 10**6): 0.1,
        ("rust_from_python", 10**6): 0.0005,
        ("rust", 10**6): 0.0005,
        ("numpy", 10**8): 0.010,
        ("rust_from_python", 10**8): 0.012,
        ("rust_from_python_tuned", 10**8): 0.010 * tuned_over_numpy,
        ("rust_tuned", 10**8): 0.010 * tuned_over_numpy,
    }


def _tuned_lines(findings) -> list[str]:
    return [f.text for f in findings if "of the speed of single-threaded np.dot" in f.text]


@pytest.mark.parametrize(
    ("tuned_over_numpy", "verdict"),
    [(1.0, "meets"), (1 / 0.96, "meets"), (1 / 0.94, "does NOT meet"), (1.25, "does NOT meet")],
)
def test_the_tuned_dot_is_checked_against_the_095_target(tuned_over_numpy, verdict):
    lines = _tuned_lines(dot_report.findings(_run(_means(tuned_over_numpy))))
    assert len(lines) == 2  # from Python, and timed inside Rust
    for line in lines:
        assert f"({verdict} the 95% target" in line
        assert "80%" not in line
        assert f"{100 / tuned_over_numpy:.1f}% of the speed" in line


def test_the_python_loop_claim_is_checked_at_the_largest_common_size():
    (claim,) = [f for f in dot_report.findings(_run(_means(1.0))) if f.claim]
    assert "n = 1e+06" in claim.claim
    assert claim.value == "200.0x" and claim.verdict == HELD
    slow = _means(1.0) | {("rust_from_python", 10**6): 0.01}  # only 10x
    (claim,) = [f for f in dot_report.findings(_run(slow)) if f.claim]
    assert claim.verdict == NOT_HELD


def test_no_tuned_line_without_the_tuned_cells():
    means = {k: v for k, v in _means(1.0).items() if "tuned" not in k[0]}
    assert _tuned_lines(dot_report.findings(_run(means))) == []


def test_the_report_takes_dot_findings_from_the_presentation_module():
    assert report._findings_module(dot) is dot_report
    from tensorbench.experiments import ttv

    # ttv_report holds figures and sentences but no recorded_findings: ttv keeps its own.
    assert report._findings_module(ttv) is ttv
