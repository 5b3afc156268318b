"""The anatomy figure of a finished run."""

from __future__ import annotations

import textwrap

import numpy as np

from tensorbench.experiments.call_overhead.probes import LABELS
from tensorbench.experiments.call_overhead.published_values import note_install_us
from tensorbench.experiments.call_overhead.runs import CallOverheadRun


def anatomy_figure(run: CallOverheadRun):
    """Left: stacked horizontal bars of where a tiny call's time goes (ns), one bar per
    kind of call. Right: entering a one-thread Rayon pool vs running inline (in Rust)."""
    import matplotlib.pyplot as plt

    from tensorbench import plotting

    plotting.apply_theme()
    parts = run.anatomy
    steps = list(dict.fromkeys(parts["step"]))
    palette = plt.get_cmap("tab20").colors  # one color per step; there are up to 12
    colors = {step: palette[i % len(palette)] for i, step in enumerate(steps)}
    fig, (left, right) = plt.subplots(
        1, 2, figsize=(11.0, 6.2), gridspec_kw={"width_ratios": [3, 1]}
    )
    bars = list(dict.fromkeys(parts["bar"]))
    for row, bar in enumerate(bars):
        offset = 0.0
        for _, part in parts[parts["bar"] == bar].iterrows():
            width = max(part["seconds"], 0.0) * 1e9  # a step that costs ~nothing may be < 0
            left.barh(row, width, left=offset, color=colors[part["step"]], edgecolor="white")
            offset += width
        left.text(offset, row, f" {offset:.0f} ns", va="center", fontsize=8)
    left.set_yticks(range(len(bars)), [LABELS[b] for b in bars])
    left.invert_yaxis()
    left.set_xlabel(
        "median time per call, ns (steps = paired differences between interleaved probes)"
    )
    left.set_title("Where the time of a tiny call from Python goes")
    handles = [plt.Rectangle((0, 0), 1, 1, color=colors[s]) for s in steps]
    left.legend(handles, steps, fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=3)
    left.grid(True, axis="x", alpha=0.3)
    left.set_xlim(0, left.get_xlim()[1] * 1.12)

    s = run.summary.set_index("probe")
    pool = [p for p in ("rayon_inline", "rayon_install") if p in s.index]
    values = [s.loc[p, "net_median_s"] * 1e6 for p in pool]
    errors = [
        [(s.loc[p, "net_median_s"] - s.loc[p, "net_ci95_low_s"]) * 1e6 for p in pool],
        [(s.loc[p, "net_ci95_high_s"] - s.loc[p, "net_median_s"]) * 1e6 for p in pool],
    ]
    errors = np.nan_to_num(np.clip(np.asarray(errors, float), 0, None))
    right.bar(
        range(len(pool)), values, yerr=errors, capsize=3, color=[plotting.color(p) for p in pool]
    )
    for i, value in enumerate(values):  # the inline bar is too small to see
        text = f"{value:.2f} µs" if value >= 0.1 else f"{value * 1e3:.1f} ns"
        right.text(i, value + errors[1][i], text, ha="center", va="bottom", fontsize=8)
    published = note_install_us()
    if published is not None:
        right.axhline(published, color="black", linestyle=":", linewidth=1)
        right.text(
            -0.4, published, f"TT note (published): {published:g} µs", fontsize=7, va="bottom"
        )
    right.set_xticks(range(len(pool)), ["inline", "install"])
    right.set_ylabel("median µs per call (in Rust)")
    right.set_title("Rayon pool entry, 1 thread")
    right.grid(True, axis="y", alpha=0.3)
    caption = plotting.caption(run.per_call_metadata, run.profile, statistic="median")
    caption = caption.replace("bars: 95% CI", "right panel: 95% CI of the median")
    fig.text(
        0.01,
        0.01,
        "\n".join(textwrap.wrap(caption, 150)),
        fontsize=7,
        va="bottom",
        ha="left",
    )
    fig.tight_layout()
    fig.subplots_adjust(bottom=0.3)  # room for the legend and the caption below
    return fig


def anatomy_alt(run: CallOverheadRun) -> str:
    """The figure's text alternative: the largest step of the kernels' tiny call."""
    parts = run.anatomy
    dot = parts[parts["bar"] == "rust_dot_loop"]
    if dot.empty:
        return "Where the time of a tiny call goes, step by step: no dot_loop bar measured."
    total = dot["seconds"].clip(lower=0).sum()
    top = dot.loc[dot["seconds"].idxmax()]
    return (
        "Stacked bars of where the time of a tiny call from Python goes, one bar per kind of "
        "call, and a Rayon pool entry beside a closure run inline. For kernels_rs.dot_loop on "
        f"1-element arrays the steps add up to {total * 1e9:.0f} ns net of the Python loop; "
        f"the largest is '{top['step']}' ({top['seconds'] * 1e9:.0f} ns)."
    )
