"""One figure per experiment with every machine's results side by side (the paper profile
where a machine has it, else the quick one), and the published numbers marked where the
paper or the TT note has them. Colours are the implementations' (one style everywhere);
each machine has its own line style and marker fill, named in the legend."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from tensorbench import machine, paths, plotting, published
from tensorbench.experiments.dense_impls import BANDWIDTH, LABELS

LINESTYLES = ("-", "--", "-.", ":")
PROFILE_PREFERENCE = ("paper", "quick")


def machines_with(
    root: str | Path | None, folder: str, profiles=PROFILE_PREFERENCE
) -> list[tuple[str, str]]:
    """(machine, profile) of every machine with ``folder`` recorded, in the first of
    ``profiles`` it has."""
    base = paths.kind_root("data", root)
    found = []
    if not base.is_dir():
        return found
    for machine_dir in sorted(p for p in base.iterdir() if p.is_dir()):
        for profile in profiles:
            if (machine_dir / profile / folder / "raw.csv").is_file():
                found.append((machine_dir.name, profile))
                break
    return found


def _summaries(
    root, folder: str, load: Callable[[str], object], profiles=PROFILE_PREFERENCE
) -> list[tuple[str, str, pd.DataFrame]]:
    out = []
    for label, profile in machines_with(root, folder, profiles):
        with machine.reading(label):
            run = load(profile)
        if run is not None:
            summary = run.summary[run.summary["implementation"] != BANDWIDTH]
            out.append((label, profile, summary))
    return out


def _machine_style(index: int) -> dict:
    return {"linestyle": LINESTYLES[index % len(LINESTYLES)], "mfc": "none" if index % 2 else None}


def _lines(ax, summaries, impls, x: str, statistic: str = "mean", labels=LABELS, where=None):
    for index, (label, profile, summary) in enumerate(summaries):
        for impl in impls:
            rows = summary[summary["implementation"] == impl]
            if where is not None:
                rows = rows[where(rows)]
            rows = rows.groupby(x, as_index=False)[statistic].mean().sort_values(x)
            if rows.empty:
                continue
            style = {**plotting.style(impl), **_machine_style(index)}
            style = {k: v for k, v in style.items() if v is not None}
            ax.plot(
                rows[x],
                rows[statistic],
                label=f"{labels.get(impl, impl)} — {label} ({profile})",
                **style,
            )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.grid(True, which="major", alpha=0.3)


def _finish(fig, ax, title: str, xlabel: str, ylabel: str, note: str):
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=7, **plotting.LEGEND_OUTSIDE)
    plotting._caption_below(fig, note)
    fig.tight_layout()
    return fig


NOTE = (
    "Each machine's own run (its label and profile in the legend); the paper profile where "
    "the machine has one, else the quick profile. Measured one thread unless labelled."
)


def dot_figure(root=None, profiles=PROFILE_PREFERENCE):
    from tensorbench.experiments import dot

    summaries = _summaries(root, "dot", lambda p: dot.load(p, root), profiles)
    if not summaries:
        return None
    plotting.apply_theme()
    fig, ax = plt.subplots(figsize=(9.5, 4.8))
    _lines(ax, summaries, ("python", "numba", "rust", "rust_from_python", "numpy"), "size")
    return _finish(fig, ax, "Dot product on every machine", "n", "mean runtime (s)", NOTE)


def matvec_figure(root=None, profiles=PROFILE_PREFERENCE):
    from tensorbench.experiments import matvec

    plotting.apply_theme()
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.6), sharey=True)
    drawn = False
    for ax, regime in zip(axes, matvec.REGIMES, strict=True):
        summaries = _summaries(
            root, f"matvec-{regime}", lambda p, r=regime: matvec.load(p, r, root), profiles
        )
        if summaries:
            drawn = True
            _lines(ax, summaries, ("python", "numba", "rust", "rust_from_python", "numpy"), "size")
        ax.set_title(f"matvec, {regime}")
        ax.set_xlabel("matrix elements")
    if not drawn:
        plt.close(fig)
        return None
    axes[0].set_ylabel("mean runtime (s)")
    axes[-1].legend(fontsize=7, **plotting.LEGEND_OUTSIDE)
    plotting._caption_below(fig, NOTE)
    fig.tight_layout()
    return fig


def first_call_figure(root=None, profiles=PROFILE_PREFERENCE):
    """Tables 1-2: the first-call overhead estimate on every machine, with the paper's."""
    from tensorbench.experiments import dot, matvec

    plotting.apply_theme()
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.6), sharey=True)
    sets = (
        ("Table 1: dot", "dot", "dot", lambda p: dot.load(p, root)),
        (
            "Table 2: square matvec",
            "matvec-square",
            "matvec_square",
            lambda p: matvec.load(p, "square", root),
        ),
    )
    drawn = False
    for ax, (title, folder, key, load) in zip(axes, sets, strict=True):
        summaries = _summaries(root, folder, load, profiles)
        if summaries:
            drawn = True
            _lines(ax, summaries, ("rust_from_python", "numba"), "size", "first_call_overhead")
        paper = published.first_call_overhead(key)
        for impl in ("rust_from_python", "numba"):
            if impl in paper:
                ax.plot(
                    paper["size"],
                    paper[impl],
                    color="black",
                    lw=1,
                    ls=":",
                    marker=plotting.style(impl).get("marker"),
                    label=f"published (paper, AMD EPYC): {LABELS[impl]}",
                )
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_title(title)
        ax.set_xlabel("size")
    if not drawn:
        plt.close(fig)
        return None
    axes[0].set_ylabel("first call - mean of later calls (s)")
    axes[-1].legend(fontsize=7, **plotting.LEGEND_OUTSIDE)
    plotting._caption_below(fig, NOTE + " Estimates at large sizes drown in call-to-call noise.")
    fig.tight_layout()
    return fig


def ttv_figure(root=None, profiles=PROFILE_PREFERENCE):
    from tensorbench.experiments import ttv

    summaries = _summaries(root, "ttv", lambda p: ttv.load("main", p, root), profiles)
    if not summaries:
        return None
    plotting.apply_theme()
    fig, ax = plt.subplots(figsize=(9.5, 4.8))
    _lines(ax, summaries, ("pyttb", "python", "numba", "rust", "rust_from_python"), "size")
    return _finish(
        fig,
        ax,
        "Sparse TTV on every machine",
        "n (n x n x n, density 0.01)",
        "mean runtime (s)",
        NOTE,
    )


def mttkrp_figure(root=None, profiles=PROFILE_PREFERENCE):
    from tensorbench.experiments import mttkrp, mttkrp_report

    summaries = _summaries(root, "mttkrp", lambda p: mttkrp.load("main", p, root), profiles)
    if not summaries:
        return None
    plotting.apply_theme()
    fig, ax = plt.subplots(figsize=(9.5, 4.8))
    _lines(
        ax,
        summaries,
        mttkrp_report.ORDER,
        "size",
        labels=mttkrp_report.LABELS,
        where=lambda rows: rows["variant"].str.startswith("R16-"),
    )
    return _finish(
        fig,
        ax,
        "Sparse MTTKRP, R = 16 (mean over modes), on every machine",
        "n (n x n x n, density 0.01)",
        "mean runtime (s)",
        NOTE,
    )


def tt_figure(root=None, profiles=PROFILE_PREFERENCE):
    from tensorbench.experiments import tt_overhead
    from tensorbench.experiments.tt_overhead.implementations import LABELS as TT_LABELS
    from tensorbench.experiments.tt_overhead.published_values import (
        PUBLISHED_SITE_UPDATE,
        published_rows,
    )

    summaries = _summaries(root, "tt_overhead", lambda p: tt_overhead.load(p, root), profiles)
    if not summaries:
        return None
    summaries = [(m, p, s[s["case"] == "site_update"]) for m, p, s in summaries]
    plotting.apply_theme()
    fig, ax = plt.subplots(figsize=(9.5, 4.8))
    _lines(
        ax,
        summaries,
        ("rust_from_python", "rust", "numpy_einsum", "scipy_zgemm"),
        "chi",
        "median",
        labels=TT_LABELS,
    )
    rows = published_rows("site_update")
    for impl, label in PUBLISHED_SITE_UPDATE.items():
        these = rows[rows["implementation"] == impl].sort_values("chi")
        ax.plot(
            these["chi"],
            these["value"] * 1e-6,
            ls=":",
            lw=1,
            label=f"published, other machine: {label}",
            **plotting.style(impl),
        )
    ax.set_xscale("log", base=2)
    return _finish(
        fig,
        ax,
        "TT site_update on every machine, with the note's numbers",
        "chi",
        "median time per call (s)",
        NOTE,
    )


FIGURES: dict[str, Callable] = {
    "dot": dot_figure,
    "matvec": matvec_figure,
    "first_call": first_call_figure,
    "ttv": ttv_figure,
    "mttkrp": mttkrp_figure,
    "tt_overhead": tt_figure,
}


def figures_dir(root=None) -> Path:
    return paths.kind_root("figures", root) / "comparison"


FOLDERS = {
    "dot": "dot",
    "matvec": "matvec-square",
    "first_call": "dot",
    "ttv": "ttv",
    "mttkrp": "mttkrp",
    "tt_overhead": "tt_overhead",
}


def alt(name: str, root=None, profiles=PROFILE_PREFERENCE) -> str:
    """The figure's alternative text: what it plots and for which machines."""
    runs = machines_with(root, FOLDERS[name], profiles)
    where = "; ".join(f"{m} ({p} profile)" for m, p in runs) or "no machine"
    return (
        f"Comparison figure '{name}': the same runtimes measured on {where}, one line style "
        "per machine."
    )
