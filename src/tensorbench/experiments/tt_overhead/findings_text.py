"""What a finished run finds: the issue's targets and the note's context checked against
the data, as sentences (the notebook's prose, the README's findings, the results pages)."""

from __future__ import annotations

import math

from tensorbench.experiments.tt_overhead.implementations import LABELS
from tensorbench.experiments.tt_overhead.measurement import EXPERIMENT
from tensorbench.experiments.tt_overhead.published_values import published_rows
from tensorbench.experiments.tt_overhead.runs import TtRun, load
from tensorbench.experiments.tt_overhead.tables import paired_table
from tensorbench.findings import Finding, described


def _value(run: TtRun, impl: str, case: str, chi: int, statistic: str = "median") -> float:
    from tensorbench.stats import value_at

    return value_at(run.summary, impl, statistic, variant=case, n1=chi)


def _us(seconds: float) -> str:
    return f"{seconds * 1e6:.3g} µs" if not math.isnan(seconds) else "not measured"


# The targets, used by the verdicts and quoted in their text.
SITE_UPDATE_CHI1_MAX_S = 1.5e-6  # chi = 1 site_update from Python, one Rust call
FLOOR_RATIO_MAX = 5.0  # the same call over the Rust-inside-Rust time
CHAIN_CHI4_MAX_S = 40e-6  # L = 32 chain at chi = 4, one call from Python
BLAS_RATIO_MAX = 1.3  # chi = 32, Rust from Python over direct BLAS zgemm
ARITHMETIC_DOMINATES_RATIO = 1.2  # "at most 20%" over the floor


def _target_us(seconds: float) -> str:
    return f"{seconds * 1e6:g} µs"


def findings(run: TtRun) -> list[str]:
    """The issue's three targets and the note's context, checked against this run."""
    lines = []
    published_su = published_rows("site_update").set_index(["implementation", "chi"])["value"]
    published_chain = published_rows("chain_L32").set_index(["implementation", "chi"])["value"]

    py1, rust1 = (_value(run, i, "site_update", 1) for i in ("rust_from_python", "rust"))
    if not math.isnan(py1):
        verdict = "meets" if py1 <= SITE_UPDATE_CHI1_MAX_S else "does NOT meet"
        lines.append(
            f"site_update at chi = 1 from Python, one Rust call (`kernels_rs.tt_site_update`): "
            f"median {_us(py1)} ({verdict} the {_target_us(SITE_UPDATE_CHI1_MAX_S)} target; "
            "published on another machine: "
            f"ITensors.jl {published_su[('itensors', 1)]:g} µs, tenferro-rs "
            f"{published_su[('tenferro_normal', 1)]:g} µs before its fix)."
        )
    paired = paired_table(run)

    def paired_site_update(impl: str):
        if not len(paired):
            return None
        rows = paired[(paired["case"] == "site_update") & (paired["implementation"] == impl)]
        return rows.set_index("chi")

    paired_su = paired_site_update("rust_from_python")
    if paired_su is not None and 1 in paired_su.index:
        p_py, p_rust = paired_su.loc[1, "python_median_s"], paired_su.loc[1, "rust_median_s"]
        ratio = p_py / p_rust
        verdict = "within" if ratio <= FLOOR_RATIO_MAX else "NOT within"
        lines.append(
            f"Timed alternately in one process ({int(paired_su.loc[1, 'rounds'])} rounds, so "
            f"both see the same background load), the chi = 1 site_update takes {_us(p_py)} "
            f"from Python and {_us(p_rust)} inside Rust (medians): the call from Python costs "
            f"{ratio:.1f}x the Rust floor ({verdict} the {FLOOR_RATIO_MAX:g}x target; the ratio "
            "within single "
            f"rounds has median {paired_su.loc[1, 'round_ratio_median']:.1f}x and quartiles "
            f"{paired_su.loc[1, 'round_ratio_q25']:.1f}x to "
            f"{paired_su.loc[1, 'round_ratio_q75']:.1f}x). The difference, "
            f"{_us(p_py - p_rust)}, is the price of crossing the boundary (the PyO3 call, "
            "checking and reading three arrays, making the NumPy result); the floor itself is "
            "a few complex products."
        )
    elif not (math.isnan(py1) or math.isnan(rust1)):
        ratio = py1 / rust1
        verdict = "within" if ratio <= FLOOR_RATIO_MAX else "NOT within"
        lines.append(
            f"The same call timed inside Rust takes {_us(rust1)} (median), so the call from "
            f"Python costs {ratio:.1f}x the Rust floor ({verdict} the {FLOOR_RATIO_MAX:g}x target)."
        )
    paired_out = paired_site_update("rust_from_python_out")
    if paired_out is not None and 1 in paired_out.index:
        o_py, o_rust = paired_out.loc[1, "python_median_s"], paired_out.loc[1, "rust_median_s"]
        lines.append(
            f"With the result array allocated once and passed as `out` "
            f"(`tt_site_update(env, bra, ket, out)`, as with `np.dot`), the same call takes "
            f"{_us(o_py)} against {_us(o_rust)} inside Rust, timed alternately: "
            f"{o_py / o_rust:.1f}x the floor (within single rounds: median "
            f"{paired_out.loc[1, 'round_ratio_median']:.1f}x, quartiles "
            f"{paired_out.loc[1, 'round_ratio_q25']:.1f}x to "
            f"{paired_out.loc[1, 'round_ratio_q75']:.1f}x). Making a new NumPy array for "
            "each result is most of what separates the two."
        )
    if paired_su is not None and len(paired_su):
        ratios = dict(zip(paired_su.index, paired_su["ratio"], strict=True))
        within = [chi for chi, r in ratios.items() if r <= ARITHMETIC_DOMINATES_RATIO]
        listed = ", ".join(f"{r:.2g}x at chi = {chi}" for chi, r in ratios.items())
        excess = f"{(ARITHMETIC_DOMINATES_RATIO - 1) * 100:.0f}%"
        lines.append(
            "Rust from Python over Rust inside Rust, site_update, timed alternately: "
            + listed
            + (
                f"; at most {excess} (arithmetic dominates) at chi = "
                + ", ".join(str(c) for c in within)
                + "."
                if within
                else f"; more than {excess} at every measured chi."
            )
        )
    chis = sorted(run.summary.loc[run.summary["case"] == "site_update", "chi"].unique())
    cell_ratios = {
        chi: _value(run, "rust_from_python", "site_update", chi)
        / _value(run, "rust", "site_update", chi)
        for chi in chis
    }
    below = [chi for chi, r in cell_ratios.items() if r < 0.95]
    if below:
        lines.append(
            "In the separate cells (seconds apart, each in its own process) the call from "
            "Python measured faster than the in-Rust floor at chi = "
            + ", ".join(str(chi) for chi in below)
            + ", which it cannot be: the machine's background load changed between the two "
            "cells. Comparisons between cells carry that noise; the alternating pairs above "
            "do not."
        )
    others = []
    for impl in ("numpy_einsum", "numpy_matmul", "opt_einsum", "scipy_zgemm"):
        value = _value(run, impl, "site_update", 1)
        if not (math.isnan(value) or math.isnan(py1)):
            others.append(f"{LABELS[impl]} {_us(value)} ({value / py1:.0f}x)")
    if others:
        lines.append(
            "At chi = 1 a site_update from Python costs, per call: "
            + "; ".join(others)
            + " — all of it per-call overhead, since the arithmetic is a few complex products."
        )
    chain4 = _value(run, "rust_from_python_chain", "chain", 4)
    length = int(run.parameters.get("chain_length", 32))
    if not math.isnan(chain4):
        verdict = "meets" if chain4 <= CHAIN_CHI4_MAX_S else "does NOT meet"
        lines.append(
            f"L = {length} chain at chi = 4 in one call from Python (`kernels_rs.tt_inner`): "
            f"median "
            f"{_us(chain4)} ({verdict} the {_target_us(CHAIN_CHI4_MAX_S)} target; published: "
            "tenferro-rs "
            f"{published_chain[('tenferro_single_session', 4)]:g} µs in a single session, "
            f"{published_chain[('tenferro_fresh_backend', 4)]:g} µs with a fresh backend)."
        )
        loop4 = _value(run, "rust_from_python", "chain", 4)
        rust4 = _value(run, "rust", "chain", 4)
        if not math.isnan(loop4):
            lines.append(
                f"The same chain as a Python loop of {2 * length} Rust calls takes "
                f"{_us(loop4)}: {_us((loop4 - chain4) / (2 * length - 1))} more per call than "
                f"one call for the whole chain"
                + (f"; inside Rust the chain takes {_us(rust4)}." if not math.isnan(rust4) else ".")
            )
    for baseline, label in (
        ("scipy_zgemm", "direct BLAS zgemm from SciPy, bra conjugated once"),
        ("scipy_zgemm_conj_copy", "the same with a conjugated copy per call"),
    ):
        rust32 = _value(run, "rust_from_python", "site_update", 32)
        blas32 = _value(run, baseline, "site_update", 32)
        if not (math.isnan(rust32) or math.isnan(blas32)):
            ratio = rust32 / blas32
            verdict = "within" if ratio <= BLAS_RATIO_MAX else "NOT within"
            lines.append(
                f"site_update at chi = 32: Rust from Python {_us(rust32)} vs {label} "
                f"{_us(blas32)}: ratio {ratio:.2f} ({verdict} {BLAS_RATIO_MAX:g}x)."
            )
    return lines


def recorded_findings(profile: str, results_root: str | None = None) -> list[Finding]:
    run = load(profile, results_root)
    return described(EXPERIMENT, findings(run)) if run is not None else []
