"""The figure of a finished run: median time per call against chi, every implementation,
beside the note's published values."""

from __future__ import annotations

from tensorbench.experiments.tt_overhead.implementations import IMPLEMENTATIONS, LABELS
from tensorbench.experiments.tt_overhead.published_values import (
    PUBLISHED_CHAIN,
    PUBLISHED_SITE_UPDATE,
    check_compared,
    published_rows,
)
from tensorbench.experiments.tt_overhead.runs import TtRun


def figure(run: TtRun, case: str = "site_update"):
    """Median time per call against chi for ``case``, every implementation (bars: the
    interquartile range of the samples), with the note's published values as thin
    dotted lines labelled as measured on another machine."""
    import textwrap

    import matplotlib.pyplot as plt

    from tensorbench import plotting  # one style per implementation, in every figure

    check_compared(case)
    s = run.summary[run.summary["case"] == case]
    plotting.apply_theme()
    fig, ax = plt.subplots(figsize=(10.5, 5.2))
    for impl in IMPLEMENTATIONS:
        rows = s[s["implementation"] == impl].sort_values("chi")
        if rows.empty:
            continue
        median = rows["median"] * 1e6
        low = (median - rows["q25"] * 1e6).clip(lower=0)
        high = (rows["q75"] * 1e6 - median).clip(lower=0)
        ax.errorbar(
            rows["chi"],
            median,
            yerr=[low, high],
            capsize=3,
            label=LABELS[impl],
            **plotting.style(impl),
        )
    names = PUBLISHED_SITE_UPDATE if case == "site_update" else PUBLISHED_CHAIN
    published = published_rows("site_update" if case == "site_update" else "chain_L32")
    for impl, label in names.items():
        rows = published[published["implementation"] == impl].sort_values("chi")
        if not rows.empty:
            ax.plot(
                rows["chi"],
                rows["value"],
                linestyle=":",
                linewidth=1,
                label=f"published, other machine: {label}",
                **plotting.style(impl),
            )
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    chis = sorted(set(s["chi"]) | set(published["chi"]))
    if chis:
        ax.set_xticks(chis, [str(c) for c in chis])
        ax.minorticks_off()
    ax.set_xlabel("bond dimension chi (d = 2, complex128)")
    if case == "site_update":
        what = "one site_update (env_bra then tmp_ket)"
    else:
        what = f"the L = {run.parameters.get('chain_length', 32)} chain <bra|ket>"
    ax.set_ylabel("median time per call (µs)")
    ax.set_title(f"Tensor Train inner product: {what}", fontsize=10)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
    fig.text(0.01, -0.02, "\n".join(textwrap.wrap(run.caption(), 160)), fontsize=7, va="top")
    fig.tight_layout()
    return fig


def figure_alt(run: TtRun, case: str = "site_update") -> str:
    """The figure's text alternative: what is plotted and its ends, from the data."""
    check_compared(case)
    s = run.summary[run.summary["case"] == case]
    if s.empty:
        return f"Median time per {case} call against chi: no cells."
    chi = int(s["chi"].min())
    at = s[s["chi"] == chi].set_index("implementation")["median"]
    fast, slow = at.idxmin(), at.idxmax()
    return (
        f"Median time per {case} call against the bond dimension chi, every implementation, "
        f"beside the note's published values. At chi = {chi}, {LABELS[fast]} is fastest "
        f"({at[fast] * 1e6:.3g} µs) and {LABELS[slow]} slowest ({at[slow] * 1e6:.3g} µs)."
    )
