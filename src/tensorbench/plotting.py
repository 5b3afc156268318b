"""Figures of runtime against size, one line per implementation, 95% CI bars.

Every figure carries a caption with the machine it was measured on, the profile and
the number of trials; it is saved as PNG and PDF next to the run's tables.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

# One fixed style per implementation so every figure of the compendium reads the same.
STYLES: dict[str, dict] = {
    "python": {"color": "#1f77b4", "marker": "o"},
    "numba": {"color": "#ff7f0e", "marker": "s"},
    "rust": {"color": "#2ca02c", "marker": "^"},
    "rust_from_python": {"color": "#d62728", "marker": "v"},
    "numpy": {"color": "#7f7f7f", "marker": "D", "linestyle": ":"},
    "rust_tuned": {"color": "#2ca02c", "marker": "^", "linestyle": "--", "mfc": "none"},
    "rust_from_python_tuned": {"color": "#d62728", "marker": "v", "linestyle": "--", "mfc": "none"},
    "pyttb": {"color": "#9467bd", "marker": "P"},
}


def caption(
    metadata: Mapping, profile: str, n_trials: int | None = None, statistic: str = "mean"
) -> str:
    """'Measured on <CPU> (<n> logical CPUs), ... profile ..., mean of N calls, 95% CI.'"""
    machine = metadata.get("machine", {})
    build = metadata.get("rust_build", {})
    trials = f"{statistic} of {n_trials} calls after the first" if n_trials else statistic
    return (
        f"Measured on {machine.get('cpu_model', '?')} ({machine.get('logical_cpus', '?')} "
        f"logical CPUs), one thread, profile '{profile}'; {trials}, bars: 95% CI. "
        f"kernels_rs {build.get('cargo_profile', '?')} build, {build.get('rustc', '?')}; "
        f"run finished {metadata.get('finished', '?')}." + provenance_note(metadata)
    )


def provenance_note(metadata: Mapping) -> str:
    """What a caption must add when the cells were not all measured the same way: by
    several commits (of the same measuring code) or side by side (JOBS > 1)."""
    note = ""
    commits = metadata.get("commits") or []
    if metadata.get("mixed_commits"):
        note += (
            f" Cells measured by {len(commits)} commits with the same measuring code "
            f"({', '.join(c[:8] for c in commits)})."
        )
    jobs = [j for j in metadata.get("cell_jobs") or [] if j > 1]
    if jobs:
        note += f" Cells measured side by side (JOBS={max(jobs)}), each on its own core."
    return note


def runtime_figure(
    summary: pd.DataFrame,
    *,
    x: str,
    xlabel: str,
    title: str,
    caption_text: str,
    implementations: Sequence[str],
    labels: Mapping[str, str],
    statistic: str = "mean",
    bound: pd.DataFrame | None = None,
    bound_label: str = "memory-traffic bound",
):
    """Log-log runtime vs ``x``; ``bound`` (columns x, seconds) draws a physical limit."""
    fig, ax = plt.subplots(figsize=(7.0, 4.8))
    for impl in implementations:
        rows = summary[summary["implementation"] == impl].sort_values(x)
        if rows.empty:
            continue
        low = (rows[statistic] - rows["ci95_low"]).clip(lower=0).fillna(0)
        high = (rows["ci95_high"] - rows[statistic]).clip(lower=0).fillna(0)
        ax.errorbar(
            rows[x],
            rows[statistic],
            yerr=[low, high],
            capsize=3,
            label=labels.get(impl, impl),
            **STYLES.get(impl, {}),
        )
    if bound is not None and not bound.empty:
        ax.plot(
            bound[x],
            bound["seconds"],
            color="black",
            linewidth=1,
            linestyle="-.",
            label=bound_label,
        )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(f"{statistic} runtime per call (s)")
    ax.set_title(title)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=8)
    fig.text(
        0.01, -0.02, "\n".join(textwrap.wrap(caption_text, 110)), fontsize=7, va="top", ha="left"
    )
    fig.tight_layout()
    return fig


def save(fig, out_dir: Path, stem: str) -> list[Path]:
    """Save ``fig`` as ``stem.png`` and ``stem.pdf`` in ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for suffix in ("png", "pdf"):
        path = out_dir / f"{stem}.{suffix}"
        fig.savefig(path, dpi=150, bbox_inches="tight")
        written.append(path)
    return written
