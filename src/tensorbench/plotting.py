"""Figures of the compendium: one palette, one style per implementation, one theme.

Every figure carries a caption with the machine it was measured on, the profile and
the number of trials; it is saved as PNG and PDF next to the run's tables, and shown in
a notebook with :func:`show`, which gives the image its alternative text.

Colour says who runs the loop (Python, Numba, Rust called from Python, Rust timed inside
Rust, NumPy, pyttb, ...); marker, line style and open markers tell the variants of one
family apart (the tuned Rust loop is the Rust colour, dashed, open). The colours are
seaborn's "colorblind" palette, so every figure reads the same to colour-blind readers.
"""

from __future__ import annotations

import base64
import io
import numbers
import textwrap
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

# seaborn's "colorblind" palette (Wong's colour-blind-safe set), by role. The yellow
# (index 8) is left out: it is hard to see on white.
PALETTE: tuple[str, ...] = tuple(sns.color_palette("colorblind").as_hex())
BLUE, ORANGE, GREEN, VERMILLION, PINK, BROWN, _, GREY, _, SKY = PALETTE
PUBLISHED_COLOR = "#000000"

# One fixed style per implementation, for every figure of every notebook. Covers every
# implementation name the experiments use (dense, ttv, tt_overhead, call_overhead), the
# published series drawn beside them, and mttkrp's and threads' (the drop-in on every core,
# the native CP-ALS).
STYLES: dict[str, dict] = {
    # Dense (dot, matvec) and TTV
    "python": {"color": BLUE, "marker": "o"},
    "numba": {"color": ORANGE, "marker": "s"},
    "rust": {"color": GREEN, "marker": "^"},
    "rust_from_python": {"color": VERMILLION, "marker": "v"},
    "numpy": {"color": GREY, "marker": "D", "linestyle": ":"},
    "rust_tuned": {"color": GREEN, "marker": "^", "linestyle": "--", "mfc": "none"},
    "rust_from_python_tuned": {
        "color": VERMILLION,
        "marker": "v",
        "linestyle": "--",
        "mfc": "none",
    },
    "rust_all_cores": {"color": SKY, "marker": "X"},
    "native": {"color": GREEN, "marker": "*", "markersize": 9},
    "pyttb": {"color": PINK, "marker": "P"},
    "read_bandwidth": {"color": "#000000", "marker": "", "linestyle": "-."},
    # Tensor train (tt_overhead)
    "numpy_einsum": {"color": GREY, "marker": "o"},
    "numpy_matmul": {"color": GREY, "marker": "s", "linestyle": "--", "mfc": "none"},
    "opt_einsum": {"color": SKY, "marker": "h"},
    "scipy_zgemm": {"color": BROWN, "marker": "d"},
    "scipy_zgemm_conj_copy": {"color": BROWN, "marker": "d", "linestyle": "--", "mfc": "none"},
    "rust_from_python_out": {
        "color": VERMILLION,
        "marker": "v",
        "linestyle": "--",
        "mfc": "none",
    },
    "rust_from_python_chain": {
        "color": VERMILLION,
        "marker": "*",
        "linestyle": "-.",
        "markersize": 9,
    },
    # call_overhead probes drawn as bars (Rayon pool entry vs inline, timed in Rust)
    "rayon_inline": {"color": GREEN},
    "rayon_install": {"color": VERMILLION},
    # Published values measured on another machine: thin, black, dotted (set by the caller)
    "itensors": {"color": PUBLISHED_COLOR, "marker": "x"},
    "direct_openblas_2x_zgemm": {"color": PUBLISHED_COLOR, "marker": "+"},
    "tenferro_normal": {"color": PUBLISHED_COLOR, "marker": "1"},
    "tenferro_openblas_cached_inline": {"color": PUBLISHED_COLOR, "marker": "2"},
    "tenferro_fresh_backend": {"color": PUBLISHED_COLOR, "marker": "1"},
    "tenferro_single_session": {"color": PUBLISHED_COLOR, "marker": "2"},
}

# Where a legend goes: outside the axes, to the right, so it never hides data.
LEGEND_OUTSIDE = {"loc": "upper left", "bbox_to_anchor": (1.01, 1.0), "borderaxespad": 0.0}


def style(implementation: str) -> dict:
    """The line/marker style of ``implementation`` (a copy, safe to change).

    Raises ``KeyError`` naming the implementation when it has no style yet: add it to
    :data:`STYLES` rather than letting a figure pick a colour of its own."""
    if implementation not in STYLES:
        raise KeyError(
            f"implementation {implementation!r} has no style in tensorbench.plotting.STYLES"
        )
    return dict(STYLES[implementation])


def color(implementation: str) -> str:
    """The colour of ``implementation`` (see :func:`style`)."""
    return style(implementation)["color"]


def apply_theme() -> None:
    """The one seaborn theme of every figure (idempotent; figure functions call it)."""
    sns.set_theme(
        context="notebook",
        style="whitegrid",
        palette=list(PALETTE),
        rc={
            "axes.titlesize": 11,
            "axes.labelsize": 10,
            "legend.fontsize": 8,
            "legend.frameon": False,
            "grid.alpha": 0.5,
            "figure.dpi": 100,
        },
    )


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


def _caption_below(fig, caption_text: str, width: int = 110) -> None:
    fig.text(
        0.01, -0.02, "\n".join(textwrap.wrap(caption_text, width)), fontsize=7, va="top", ha="left"
    )


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
    """Log-log runtime vs ``x``; ``bound`` (columns x, seconds) draws a physical limit.
    The legend sits outside the axes, to the right."""
    apply_theme()
    fig, ax = plt.subplots(figsize=(8.6, 4.8))
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
            **style(impl),
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
    handles, names = ax.get_legend_handles_labels()
    # Implementations in the order given, the physical bound last.
    pairs = sorted(zip(handles, names, strict=True), key=lambda hn: hn[1] == bound_label)
    ax.legend(
        [h for h, _ in pairs],
        ["\n".join(textwrap.wrap(n, 28)) for _, n in pairs],
        **LEGEND_OUTSIDE,
    )
    _caption_below(fig, caption_text, 130)
    fig.tight_layout()
    return fig


def _seconds_text(seconds: float) -> str:
    from tensorbench.tables import choose_unit

    unit, scale = choose_unit(pd.Series([seconds]))
    return f"{seconds / scale:.3g} {unit}"


def runtime_alt(
    summary: pd.DataFrame,
    *,
    x: str,
    xlabel: str,
    implementations: Sequence[str],
    labels: Mapping[str, str],
    statistic: str = "mean",
) -> str:
    """Alternative text for :func:`runtime_figure`, from the data: what it plots and, at
    the largest ``x`` measured for the most implementations (two at least), the fastest
    and the slowest and how far apart they are."""
    missing = [c for c in ("implementation", x, statistic) if c not in summary.columns]
    if missing:
        raise ValueError(f"summary is missing columns {missing}")
    rows = summary[summary["implementation"].isin(implementations)].dropna(subset=[statistic])
    present = [i for i in implementations if i in set(rows["implementation"])]
    if not present:
        raise ValueError(f"summary has no {statistic} for implementations {list(implementations)}")
    names = ", ".join(labels.get(i, i) for i in present)
    text = f"Log-log plot of {statistic} runtime per call against {xlabel} for {names}."
    counts = rows.groupby(x)["implementation"].nunique()
    if counts.max() < 2:
        return text
    at = counts[counts == counts.max()].index.max()  # the largest x most of them reach
    here = rows[rows[x] == at].groupby("implementation")[statistic].min()
    fast, slow = here.idxmin(), here.idxmax()
    where = f"{at:,}" if isinstance(at, numbers.Real) else str(at)
    return (
        f"{text} At {xlabel} = {where}, {labels.get(fast, fast)} is fastest "
        f"({_seconds_text(here[fast])}) and {labels.get(slow, slow)} slowest "
        f"({_seconds_text(here[slow])}), {here[slow] / here[fast]:,.0f}x apart."
    )


SPREAD_COLUMNS = ("implementation", "trial", "seconds", "is_first_call")


def _spread_sizes(raw: pd.DataFrame, x: str, sizes, max_sizes: int) -> list:
    available = sorted(raw[x].dropna().unique())
    if sizes is not None:
        missing = [s for s in sizes if s not in set(available)]
        if missing:
            raise ValueError(f"sizes {missing} have no rows in column {x!r} (have {available})")
        return list(sizes)
    # Prefer the sizes every implementation reached (a profile caps the slow ones).
    counts = raw.groupby(x)["implementation"].nunique()
    complete = sorted(counts[counts == counts.max()].index)
    if len(complete) >= min(max_sizes, len(available)):
        available = complete
    if len(available) <= max_sizes:
        return available
    # The smallest, the largest and evenly spaced ones between (by position).
    step = (len(available) - 1) / (max_sizes - 1)
    return [available[round(i * step)] for i in range(max_sizes)]


def spread_figure(
    raw: pd.DataFrame,
    *,
    implementations: Sequence[str],
    labels: Mapping[str, str],
    title: str,
    caption_text: str,
    x: str = "size",
    xlabel: str = "n",
    sizes: Sequence | None = None,
    max_sizes: int = 3,
):
    """Run-to-run spread: every trial's time per implementation at a few sizes.

    ``raw`` has the raw rows of a run (columns as in ``results.RAW_COLUMNS``: one row per
    trial, ``is_first_call`` marks trial 0). One panel per size (``sizes``, or up to
    ``max_sizes`` spread over the measured ones): a box of the later calls (median and
    quartiles), one dot per later call, and the first call as a black-edged cross."""
    if not isinstance(raw, pd.DataFrame):
        raise TypeError(f"raw must be a pandas DataFrame, got {type(raw).__name__}")
    missing = [c for c in (*SPREAD_COLUMNS, x) if c not in raw.columns]
    if missing:
        raise ValueError(f"raw is missing columns {missing} (see results.RAW_COLUMNS)")
    if int(max_sizes) < 1:
        raise ValueError(f"max_sizes must be at least 1, got {max_sizes}")
    unknown = [i for i in implementations if i not in STYLES]
    if unknown:
        raise ValueError(f"implementations {unknown} have no style in plotting.STYLES")
    rows = raw[raw["implementation"].isin(implementations)]
    if rows.empty:
        raise ValueError(f"raw has no rows for implementations {list(implementations)}")
    chosen = _spread_sizes(rows, x, sizes, int(max_sizes))
    apply_theme()
    fig, axes = plt.subplots(1, len(chosen), figsize=(3.3 * len(chosen) + 2.4, 4.4), squeeze=False)
    palette = {labels.get(i, i): color(i) for i in implementations}
    for ax, size in zip(axes[0], chosen, strict=True):
        here = rows[rows[x] == size].copy()
        order = [labels.get(i, i) for i in implementations if i in set(here["implementation"])]
        here["who"] = here["implementation"].map(lambda i: labels.get(i, i))
        later = here[~here["is_first_call"].astype(bool)]
        first = here[here["is_first_call"].astype(bool)]
        common = {"x": "who", "y": "seconds", "order": order, "ax": ax, "log_scale": True}
        if not later.empty:
            with warnings.catch_warnings():  # seaborn 0.13.2 passes matplotlib 3.11 `vert`
                warnings.filterwarnings("ignore", "vert: bool", category=DeprecationWarning)
                warnings.filterwarnings("ignore", "vert: bool", category=PendingDeprecationWarning)
                sns.boxplot(
                    data=later,
                    hue="who",
                    palette=palette,
                    showfliers=False,
                    width=0.6,
                    boxprops={"alpha": 0.35},
                    legend=False,
                    **common,
                )
            sns.stripplot(
                data=later,
                hue="who",
                palette=palette,
                size=3.5,
                jitter=0.2,
                alpha=0.8,
                legend=False,
                **common,
            )
        if not first.empty:
            sns.stripplot(
                data=first,
                color="white",
                marker="X",
                size=8,
                linewidth=1.2,
                edgecolor="black",
                jitter=False,
                legend=False,
                **common,
            )
        number = isinstance(size, numbers.Real) and not isinstance(size, bool)
        ax.set_title(f"{xlabel} = {size:,}" if number else f"{xlabel} = {size}")
        ax.set_xlabel("")
        ax.set_ylabel("time per call (s)" if ax is axes[0][0] else "")
        ax.tick_params(axis="x", labelrotation=35)
        for tick in ax.get_xticklabels():
            tick.set_horizontalalignment("right")
    keys = [
        plt.Line2D([], [], marker="o", linestyle="", color="0.3", markersize=4),
        plt.Rectangle((0, 0), 1, 1, facecolor="0.3", alpha=0.35, edgecolor="0.3"),
        plt.Line2D(
            [], [], marker="X", linestyle="", markerfacecolor="white", color="black", markersize=8
        ),
    ]
    names = ["a later call (one dot per trial)", "later calls: median, quartiles", "first call"]
    axes[0][-1].legend(keys, names, **LEGEND_OUTSIDE)
    fig.suptitle(title)
    _caption_below(fig, caption_text, 40 * len(chosen) + 30)
    fig.tight_layout()
    return fig


def png_bytes(fig, dpi: int = 100) -> bytes:
    """``fig`` as PNG bytes, cropped to its drawn content (caption included)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    return buffer.getvalue()


def show(fig, alt: str, *, dpi: int = 100) -> None:
    """Show ``fig`` in a notebook with ``alt`` as its alternative text, instead of
    ``plt.show()``.

    ``alt`` says what the figure shows and its headline number (written from the data by
    the caller). It goes into the executed notebook as the PNG output's metadata
    (``{"image/png": {"alt": ...}}``, the key nbconvert's templates read) and as the
    output's text/plain, and the HTML render (:mod:`tensorbench.render`) writes it as the
    ``<img alt=...>`` attribute. The figure is closed, so the inline backend does not show
    it a second time without alt text."""
    from IPython.display import display

    if not hasattr(fig, "savefig"):
        raise TypeError(f"fig must be a matplotlib Figure, got {type(fig).__name__}")
    if not isinstance(alt, str):
        raise TypeError(f"alt must be a str, got {type(alt).__name__}")
    alt = " ".join(alt.split())
    if not alt:
        raise ValueError("alt must say what the figure shows; got an empty text")
    data = {"image/png": base64.b64encode(png_bytes(fig, dpi)).decode("ascii"), "text/plain": alt}
    display(data, raw=True, metadata={"image/png": {"alt": alt}})
    plt.close(fig)


def save(fig, out_dir: Path, stem: str) -> list[Path]:
    """Save ``fig`` as ``stem.png`` and ``stem.pdf`` in ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for suffix in ("png", "pdf"):
        path = out_dir / f"{stem}.{suffix}"
        fig.savefig(path, dpi=150, bbox_inches="tight")
        written.append(path)
    return written
