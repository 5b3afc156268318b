"""The claims report card: every quantitative claim of the paper and of the TT note, each
with the rule that checks it, evaluated on every machine and profile that has data.

A claim's rule reads the recorded runs (never a typed-in number of ours) and returns an
:class:`Outcome`: our value with its 95% CI where one exists, and a verdict (held, did not
hold, or not comparable when the data the rule needs were not measured). The published
values come from ``data/inputs/published/published-figures.csv`` through
:mod:`tensorbench.published` or are quoted from the text, with the section they are in.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from tensorbench import machine, paths, published
from tensorbench.experiments.dense_impls import LABELS
from tensorbench.findings import HELD, NOT_COMPARABLE, NOT_HELD

REGIMES = ("rows", "cols", "square")
FACTOR_FIRST_CALL_RUST = 3.0  # "about the same": within a factor of 3 (half a decade)
FACTOR_FIRST_CALL_NUMBA = 2.0
COMPARABLE = (0.5, 2.0)  # "comparable": within a factor of 2 either way
ORDER_OF_MAGNITUDE = 10**0.5  # "about an order of magnitude" or more: at least 10^0.5
NOISE_SIZE_LIMIT = 1e6  # first-call estimates above this size drown in call-to-call noise


@dataclass(frozen=True)
class Outcome:
    verdict: str
    value: str = ""  # ours, formatted
    ci: str = ""  # its 95% CI, formatted, where the rule has one
    detail: str = ""  # what the rule looked at


@dataclass(frozen=True)
class Claim:
    key: str
    source: str  # where the claim is made
    statement: str
    published: str  # the published value, formatted
    rule: str  # how it is checked, in words (the code is ``check``)
    check: Callable[[Data], Outcome]


NO_DATA = Outcome(NOT_COMPARABLE, detail="not measured in this profile")


class Data:
    """The runs of one machine and profile, loaded on first use."""

    def __init__(self, machine_label: str, profile: str, root: str | Path | None = None):
        self.machine, self.profile, self.root = machine_label, profile, root
        self._cache: dict = {}

    def _load(self, key, loader):
        if key not in self._cache:
            with machine.reading(self.machine):
                self._cache[key] = loader()
        return self._cache[key]

    def dot(self):
        from tensorbench.experiments import dot

        return self._load("dot", lambda: dot.load(self.profile, self.root))

    def matvec(self, regime: str):
        from tensorbench.experiments import matvec

        return self._load(regime, lambda: matvec.load(self.profile, regime, self.root))

    def ttv(self):
        from tensorbench.experiments import ttv

        return self._load("ttv", lambda: ttv.load("main", self.profile, self.root))

    def tt(self):
        from tensorbench.experiments import tt_overhead

        return self._load("tt", lambda: tt_overhead.load(self.profile, self.root))

    def call_overhead(self):
        from tensorbench.experiments import call_overhead

        return self._load("co", lambda: call_overhead.load(self.profile, self.root))


# --- small helpers ------------------------------------------------------------------------


def _row(summary: pd.DataFrame, impl: str, **where) -> pd.Series | None:
    mask = summary["implementation"] == impl
    for key, value in where.items():
        mask &= summary[key] == value
    rows = summary[mask]
    return rows.iloc[0] if len(rows) else None


def ratio_with_ci(num: pd.Series, den: pd.Series) -> tuple[float, float, float]:
    """mean(num) / mean(den) and a conservative 95% interval from the two means' CIs."""
    ratio = num["mean"] / den["mean"]
    low = num["ci95_low"] / den["ci95_high"] if den["ci95_high"] > 0 else math.nan
    high = num["ci95_high"] / den["ci95_low"] if den["ci95_low"] > 0 else math.inf
    return float(ratio), float(low), float(high)


def _x(value: float) -> str:
    return f"{value:,.1f}x" if value < 1000 else f"{value:,.0f}x"


def _ci_x(low: float, high: float) -> str:
    return f"{_x(low)} to {_x(high) if math.isfinite(high) else 'inf'}"


def _largest_common(summary: pd.DataFrame, impls, size: str = "size") -> float | None:
    sizes = None
    for impl in impls:
        these = set(summary.loc[summary["implementation"] == impl, size])
        sizes = these if sizes is None else sizes & these
    return max(sizes) if sizes else None


def _speedup(run, size: str, baseline: str, impl: str, threshold: float) -> Outcome:
    """``baseline`` over ``impl`` (means) at the largest size both were measured at."""
    if run is None:
        return NO_DATA
    s = run.summary
    n = _largest_common(s, (baseline, impl), size)
    if n is None:
        return NO_DATA
    ratio, low, high = ratio_with_ci(_row(s, baseline, **{size: n}), _row(s, impl, **{size: n}))
    return Outcome(
        HELD if ratio > threshold else NOT_HELD,
        _x(ratio),
        _ci_x(low, high),
        f"at size {n:,.0f}",
    )


# --- the paper ----------------------------------------------------------------------------


def _dot_speedup(data: Data) -> Outcome:
    return _speedup(data.dot(), "size", "python", "rust_from_python", paper_speedup("dot"))


def _matvec_speedup(regime: str) -> Callable[[Data], Outcome]:
    def check(data: Data) -> Outcome:
        threshold = paper_speedup("matvec")
        return _speedup(data.matvec(regime), "size", "python", "rust_from_python", threshold)

    return check


def _largest_rows(data: Data, impls) -> list[tuple[str, pd.Series, pd.Series]]:
    """(run name, row of impls[0], row of impls[1]) at the largest common size of dot and
    of every matvec regime with data."""
    out = []
    runs = [("dot", data.dot())] + [(f"matvec {r}", data.matvec(r)) for r in REGIMES]
    for name, run in runs:
        if run is None:
            continue
        n = _largest_common(run.summary, impls)
        if n is not None:
            out.append(
                (name, _row(run.summary, impls[0], size=n), _row(run.summary, impls[1], size=n))
            )
    return out


def _numba_comparable(data: Data) -> Outcome:
    rows = _largest_rows(data, ("numba", "rust_from_python"))
    if not rows:
        return NO_DATA
    ratios = {name: ratio_with_ci(a, b)[0] for name, a, b in rows}
    low, high = COMPARABLE
    held = all(low <= r <= high for r in ratios.values())
    worst = max(ratios.items(), key=lambda kv: abs(math.log(kv[1])))
    return Outcome(
        HELD if held else NOT_HELD,
        f"{worst[1]:.2f}x ({worst[0]}, the farthest from 1)",
        "",
        "Numba / Rust from Python at the largest size: "
        + ", ".join(f"{k} {v:.2f}x" for k, v in ratios.items()),
    )


def _slower_at_largest_matvec(impl: str) -> Callable[[Data], Outcome]:
    def check(data: Data) -> Outcome:
        found = []
        for regime in REGIMES:
            run = data.matvec(regime)
            if run is None:
                continue
            n = _largest_common(run.summary, (impl, "rust_from_python"))
            if n is None:
                continue
            a, b = _row(run.summary, impl, size=n), _row(run.summary, "rust_from_python", size=n)
            ratio, low, _ = ratio_with_ci(a, b)
            found.append((regime, ratio, low))
        if not found:
            return NO_DATA
        held = all(low > 1 for _, _, low in found)
        return Outcome(
            HELD if held else NOT_HELD,
            ", ".join(f"{r} {ratio:.2f}x" for r, ratio, _ in found),
            ", ".join(f"{r} >= {low:.2f}x" for r, _, low in found),
            f"{LABELS[impl]} / Rust from Python at each regime's largest size",
        )

    return check


def _first_call(experiment_key: str, run_of, impl: str, factor: float):
    """Our first-call overhead estimate (first call - mean of later calls) against the
    paper's table at every size both have, up to NOISE_SIZE_LIMIT."""

    def check(data: Data) -> Outcome:
        run = run_of(data)
        if run is None:
            return NO_DATA
        paper = published.first_call_overhead(experiment_key).set_index("size")
        if impl not in paper:
            return NO_DATA
        ours = run.summary[run.summary["implementation"] == impl].set_index("size")
        sizes = [n for n in paper.index if n in ours.index and n <= NOISE_SIZE_LIMIT]
        if not sizes:
            return NO_DATA
        ratios = {n: ours.loc[n, "first_call_overhead"] / paper.loc[n, impl] for n in sizes}
        held = all(1 / factor <= r <= factor for r in ratios.values())
        worst_n = max(ratios, key=lambda n: abs(math.log(max(ratios[n], 1e-300))))
        return Outcome(
            HELD if held else NOT_HELD,
            f"{ours.loc[worst_n, 'first_call_overhead']:.3g} s at size {worst_n:,.0f} "
            f"({ratios[worst_n]:.2f}x the paper's)",
            "",
            "ours / paper's: " + ", ".join(f"{n:,.0f}: {r:.2f}x" for n, r in ratios.items()),
        )

    return check


def _ttv_order_of_magnitude(data: Data) -> Outcome:
    run = data.ttv()
    if run is None:
        return NO_DATA
    s = run.summary
    sizes = sorted(
        set(s.loc[s["implementation"] == "pyttb", "size"])
        & set(s.loc[s["implementation"] == "rust_from_python", "size"])
    )
    if len(sizes) < 2:
        return NO_DATA
    ratios = [
        ratio_with_ci(_row(s, "pyttb", size=n), _row(s, "rust_from_python", size=n)) for n in sizes
    ]
    growing = pd.Series([r[0] for r in ratios]).corr(pd.Series(sizes), method="spearman") > 0
    ratio, low, high = ratios[-1]
    held = ratio >= ORDER_OF_MAGNITUDE and growing
    return Outcome(
        HELD if held else NOT_HELD,
        f"{_x(ratio)} at n = {sizes[-1]:,.0f} ({'growing' if growing else 'not growing'} with n)",
        _ci_x(low, high),
        "pyttb / Rust from Python per n: "
        + ", ".join(f"{n:,.0f}: {_x(r[0])}" for n, r in zip(sizes, ratios, strict=True)),
    )


# --- the TT note --------------------------------------------------------------------------


def _tt_median(run, impl: str, case: str, chi: int) -> float:
    from tensorbench.stats import value_at

    return float(value_at(run.summary, impl, "median", variant=case, n1=chi))


def _overhead_dominates_small_chi(data: Data) -> Outcome:
    from tensorbench.experiments.tt_overhead.tables import paired_table

    run = data.tt()
    if run is None:
        return NO_DATA
    paired = paired_table(run)
    if not len(paired):
        return NO_DATA
    rows = paired[
        (paired["case"] == "site_update") & (paired["implementation"] == "rust_from_python")
    ]
    rows = rows.set_index("chi")
    if 1 not in rows.index or len(rows) < 2:
        return NO_DATA
    small, large = float(rows.loc[1, "ratio"]), float(rows.loc[rows.index.max(), "ratio"])
    held = small >= 2.0 and large < small
    return Outcome(
        HELD if held else NOT_HELD,
        f"{small:.1f}x the in-Rust time at chi = 1, {large:.1f}x at chi = {rows.index.max()}",
        "",
        "a site_update from Python over the same contraction timed inside Rust (paired)",
    )


def _blas_floor_small_chi(data: Data) -> Outcome:
    run = data.tt()
    if run is None:
        return NO_DATA
    values = {chi: _tt_median(run, "rust", "site_update", chi) for chi in (1, 2, 4)}
    values = {k: v for k, v in values.items() if not math.isnan(v)}
    if not values:
        return NO_DATA
    worst = max(values.values())
    return Outcome(
        HELD if worst < 0.4e-6 else NOT_HELD,
        f"{worst * 1e6:.3g} µs (largest at chi <= 4)",
        "",
        "site_update timed inside Rust (its two contractions), medians: "
        + ", ".join(f"chi {k}: {v * 1e6:.3g} µs" for k, v in values.items()),
    )


def _one_session_saves(data: Data) -> Outcome:
    run = data.tt()
    if run is None:
        return NO_DATA
    one = _tt_median(run, "rust_from_python_chain", "chain", 4)
    loop = _tt_median(run, "rust_from_python", "chain", 4)
    if math.isnan(one) or math.isnan(loop):
        return NO_DATA
    length = int(run.metadata.get("description", {}).get("parameters", {}).get("chain_length", 32))
    per = (loop - one) / (2 * length)
    return Outcome(
        HELD if loop > one else NOT_HELD,
        f"{per * 1e6:.3g} µs saved per contraction ({loop * 1e6:.3g} µs as 64 calls, "
        f"{one * 1e6:.3g} µs as one)",
        "",
        "the L = 32 chain at chi = 4 as one call against a Python loop of calls (medians)",
    )


def _install_cost(data: Data) -> Outcome:
    run = data.call_overhead()
    if run is None or run.summary is None or not len(run.summary):
        return NO_DATA
    s = run.summary.set_index("probe")
    if "rayon_install" not in s.index:
        return NO_DATA
    ours = float(s.loc["rayon_install", "net_median_s"])
    paper_us = note_install_us()
    if math.isnan(paper_us):
        return NO_DATA
    ratio = ours * 1e6 / paper_us
    return Outcome(
        HELD if 1 / 3 <= ratio <= 3 else NOT_HELD,
        f"{ours * 1e6:.2f} µs ({ratio:.2f}x the note's)",
        f"{s.loc['rayon_install', 'net_ci95_low_s'] * 1e6:.2f}-"
        f"{s.loc['rayon_install', 'net_ci95_high_s'] * 1e6:.2f} µs",
        "rayon::ThreadPool::install(|| {}) from outside a 1-thread pool, timed inside Rust",
    )


def _note_value(case: str, impl: str, size: str) -> float:
    rows = published.select("tt_note", case=case)
    rows = rows[(rows["implementation"] == impl) & (rows["size"] == size)]
    return float(rows["value"].iloc[0]) if len(rows) else math.nan


def paper_speedup(experiment: str) -> float:
    """The paper's speedup claim (``published-figures.csv``, case speedup_claim)."""
    rows = published.select("paper", experiment=experiment, case="speedup_claim")
    return float(rows["value"].iloc[0]) if len(rows) else math.nan


def note_install_us() -> float:
    from tensorbench.experiments.call_overhead.published_values import note_install_us as value

    found = value()
    return math.nan if found is None else found


def note_saving_per_contraction_us(chi: int = 4, length: int = 32) -> float:
    """The note's chain in a fresh backend minus in one session, per contraction."""
    fresh = _note_value("chain_L32", "tenferro_fresh_backend", f"chi={chi}")
    single = _note_value("chain_L32", "tenferro_single_session", f"chi={chi}")
    return (fresh - single) / (2 * length)


def _published_first_call(experiment_key: str, impl: str) -> str:
    table = published.first_call_overhead(experiment_key)
    if impl not in table:
        return ""
    values = table[impl].dropna()
    return f"{values.min():.3g}-{values.max():.3g} s"


CLAIMS: tuple[Claim, ...] = (
    Claim(
        "dot-100x",
        "paper, Section 4.1",
        (
            "Rust from Python is more than 2 orders of magnitude faster than Python for dot at "
            "large sizes"
        ),
        f"> {paper_speedup('dot'):g}x",
        (
            "mean(Python) / mean(Rust from Python) at the largest n both were measured at; held "
            f"if > {paper_speedup('dot'):g}"
        ),
        _dot_speedup,
    ),
    *(
        Claim(
            f"matvec-{regime}-100x",
            "paper, Section 4.2",
            (
                "Rust from Python is more than 2 orders of magnitude faster than Python for "
                f"matvec ({regime}) at the largest sizes"
            ),
            f"> {paper_speedup('matvec'):g}x",
            (
                "mean(Python) / mean(Rust from Python) at the largest size both were measured "
                f"at; held if > {paper_speedup('matvec'):g}"
            ),
            _matvec_speedup(regime),
        )
        for regime in REGIMES
    ),
    Claim(
        "numba-comparable",
        "paper, Sections 4.1-4.2",
        "Numba is comparable to Rust from Python",
        "comparable",
        (
            "mean(Numba) / mean(Rust from Python) at the largest size of dot and of each matvec "
            f"regime; held if every ratio is within {COMPARABLE[0]:g}x-{COMPARABLE[1]:g}x"
        ),
        _numba_comparable,
    ),
    Claim(
        "rust-slower-largest-matvec",
        "paper, Section 4.2",
        "Rust timed in Rust is slower than Rust from Python at the largest matvec sizes",
        "slower",
        (
            "at each regime's largest size, held if the lower end of the CI of mean(Rust) / "
            "mean(Rust from Python) is above 1 in every regime"
        ),
        _slower_at_largest_matvec("rust"),
    ),
    Claim(
        "numba-slower-largest-matvec",
        "paper, Section 4.2",
        "Numba is slower than Rust from Python at the largest matvec sizes",
        "slower",
        (
            "at each regime's largest size, held if the lower end of the CI of mean(Numba) / "
            "mean(Rust from Python) is above 1 in every regime"
        ),
        _slower_at_largest_matvec("numba"),
    ),
    Claim(
        "table1-rust-first-call",
        "paper, Table 1",
        (
            "The first call of Rust from Python (dot) costs a fraction of a millisecond more "
            "than a later call"
        ),
        _published_first_call("dot", "rust_from_python"),
        (
            "first call - mean of later calls at each size of Table 1 up to "
            f"{NOISE_SIZE_LIMIT:g}; held if within a factor {FACTOR_FIRST_CALL_RUST:g} of the "
            "paper's at every one"
        ),
        _first_call("dot", lambda d: d.dot(), "rust_from_python", FACTOR_FIRST_CALL_RUST),
    ),
    Claim(
        "table1-numba-first-call",
        "paper, Table 1",
        (
            "The first call of Numba (dot) costs about a third of a second more than a later "
            "call (compilation)"
        ),
        _published_first_call("dot", "numba"),
        (
            "first call - mean of later calls at each size of Table 1 up to "
            f"{NOISE_SIZE_LIMIT:g}; held if within a factor {FACTOR_FIRST_CALL_NUMBA:g} of the "
            "paper's at every one"
        ),
        _first_call("dot", lambda d: d.dot(), "numba", FACTOR_FIRST_CALL_NUMBA),
    ),
    Claim(
        "table2-rust-first-call",
        "paper, Table 2",
        (
            "The first call of Rust from Python (square matvec) costs a fraction of a "
            "millisecond more than a later call, up to 1e6 elements"
        ),
        _published_first_call("matvec_square", "rust_from_python"),
        (
            f"first call - mean of later calls at each size of Table 2 up to {NOISE_SIZE_LIMIT:g} "
            f"elements; held if within a factor {FACTOR_FIRST_CALL_RUST:g} of the paper's at "
            "every one"
        ),
        _first_call(
            "matvec_square",
            lambda d: d.matvec("square"),
            "rust_from_python",
            FACTOR_FIRST_CALL_RUST,
        ),
    ),
    Claim(
        "table2-numba-first-call",
        "paper, Table 2",
        (
            "The first call of Numba (square matvec) costs about a third of a second more than a "
            "later call"
        ),
        _published_first_call("matvec_square", "numba"),
        (
            f"first call - mean of later calls at each size of Table 2 up to {NOISE_SIZE_LIMIT:g} "
            f"elements; held if within a factor {FACTOR_FIRST_CALL_NUMBA:g} of the paper's at "
            "every one"
        ),
        _first_call(
            "matvec_square", lambda d: d.matvec("square"), "numba", FACTOR_FIRST_CALL_NUMBA
        ),
    ),
    Claim(
        "ttv-order-of-magnitude",
        "paper, Section 4.3",
        (
            "Rust from Python is about an order of magnitude faster than pyttb for TTV, the gap "
            "growing with n"
        ),
        f"about {paper_speedup('ttv'):g}x, growing",
        (
            f"mean(pyttb) / mean(Rust from Python) per n; held if >= {ORDER_OF_MAGNITUDE:.2f}x "
            "(10^0.5) at the largest n and its rank correlation with n is positive"
        ),
        _ttv_order_of_magnitude,
    ),
    Claim(
        "note-overhead-dominates",
        "TT note, site_update tables",
        "At small chi a site_update is dominated by per-call overhead, not arithmetic",
        (
            f"tenferro {_note_value('site_update', 'tenferro_normal', 'chi=1'):g} µs against "
            f"{_note_value('site_update', 'direct_openblas_2x_zgemm', 'chi=1'):g} µs of direct "
            "BLAS at chi = 1"
        ),
        (
            "a site_update from Python over the same contraction timed inside Rust, paired: held "
            "if >= 2x at chi = 1 and smaller at the largest chi"
        ),
        _overhead_dominates_small_chi,
    ),
    Claim(
        "note-blas-floor",
        "TT note, direct OpenBLAS table",
        "At chi <= 4 the two contractions of a site_update take less than 0.4 µs",
        "< 0.4 µs (direct OpenBLAS: "
        + ", ".join(
            f"{_note_value('site_update', 'direct_openblas_2x_zgemm', f'chi={c}'):g}"
            for c in (1, 2, 4)
        )
        + " µs at chi = 1, 2, 4)",
        (
            "median of site_update timed inside Rust at chi = 1, 2, 4; held if every one is "
            "below 0.4 µs"
        ),
        _blas_floor_small_chi,
    ),
    Claim(
        "note-one-session",
        "TT note, dot_general_overhead",
        (
            "Running the L = 32 chain's 64 contractions in one session saves a per-contraction "
            "entry cost"
        ),
        (
            f"{note_saving_per_contraction_us():.1f} µs per contraction at chi = 4 (fresh backend "
            "- one session, / 64)"
        ),
        (
            "medians of the chain at chi = 4 as a Python loop of calls and as one call; held if "
            "one call is faster"
        ),
        _one_session_saves,
    ),
    Claim(
        "note-install-cost",
        "TT note, install overhead",
        "Entering a Rayon pool with ThreadPool::install costs microseconds per call",
        f"{note_install_us():g} µs",
        (
            "median net cost of install(|| {}) on a 1-thread pool, timed inside Rust; held if "
            "within a factor 3 of the note's"
        ),
        _install_cost,
    ),
)


RECORDED_PROFILES = ("paper", "quick")  # smoke runs are for tests, not for the record


def profile_dirs(
    root: str | Path | None = None, profiles=RECORDED_PROFILES
) -> list[tuple[str, str]]:
    """(machine, profile) of every recorded run of ``profiles`` under ``root``."""
    base = paths.kind_root("data", root)
    if not base.is_dir():
        return []
    found = []
    for machine_dir in sorted(p for p in base.iterdir() if p.is_dir()):
        for profile in profiles:
            if (machine_dir / profile).is_dir():
                found.append((machine_dir.name, profile))
    return found


def evaluate(machine_label: str, profile: str, root: str | Path | None = None) -> pd.DataFrame:
    """Every claim's outcome on one machine and profile."""
    data = Data(machine_label, profile, root)
    rows = []
    for claim in CLAIMS:
        try:
            outcome = claim.check(data)
        except (KeyError, IndexError, ValueError, ZeroDivisionError) as err:
            outcome = Outcome(NOT_COMPARABLE, detail=f"could not be evaluated: {err!r}")
        rows.append(
            {
                "claim": claim.key,
                "source": claim.source,
                "statement": claim.statement,
                "published": claim.published,
                "machine": machine_label,
                "profile": profile,
                "ours": outcome.value,
                "ci95": outcome.ci,
                "verdict": outcome.verdict,
                "detail": outcome.detail,
                "rule": claim.rule,
            }
        )
    return pd.DataFrame(rows)


def report_card(root: str | Path | None = None, profiles=RECORDED_PROFILES) -> pd.DataFrame:
    """Every claim on every machine and profile with data (one row each)."""
    frames = [evaluate(m, p, root) for m, p in profile_dirs(root, profiles)]
    # A run that has none of the data any rule needs yet (a paper run that has only just
    # started) has nothing to report.
    frames = [f for f in frames if (f["verdict"] != NOT_COMPARABLE).any()]
    if not frames:
        return pd.DataFrame(columns=["claim", "machine", "profile", "verdict"])
    return pd.concat(frames, ignore_index=True)


def summary(card: pd.DataFrame) -> pd.DataFrame:
    """Per machine and profile: claims held, not held, not comparable."""
    if card.empty:
        return pd.DataFrame(
            columns=["machine", "profile", "claims", HELD, NOT_HELD, NOT_COMPARABLE]
        )
    counts = card.pivot_table(
        index=["machine", "profile"],
        columns="verdict",
        values="claim",
        aggfunc="count",
        fill_value=0,
    )
    for verdict in (HELD, NOT_HELD, NOT_COMPARABLE):
        if verdict not in counts:
            counts[verdict] = 0
    counts = counts[[HELD, NOT_HELD, NOT_COMPARABLE]].reset_index()
    counts.insert(2, "claims", counts[[HELD, NOT_HELD, NOT_COMPARABLE]].sum(axis=1))
    return counts


def wide(card: pd.DataFrame) -> pd.DataFrame:
    """One row per claim, one verdict column per machine/profile (the README's table)."""
    if card.empty:
        return card
    card = card.assign(where=card["machine"] + " / " + card["profile"])
    table = card.pivot_table(index="claim", columns="where", values="verdict", aggfunc="first")
    order = [c.key for c in CLAIMS]
    table = table.reindex([k for k in order if k in table.index])
    first = card.drop_duplicates("claim").set_index("claim")
    table.insert(0, "published", first["published"].reindex(table.index))
    table.insert(0, "statement", first["statement"].reindex(table.index))
    return table.reset_index()


def details_markdown(card: pd.DataFrame) -> str:
    """Per claim: its statement, source, published value and rule, then one line per
    machine and profile with ours, the CI and the verdict."""
    if card.empty:
        return "No results recorded yet."
    parts = []
    for claim in CLAIMS:
        rows = card[card["claim"] == claim.key]
        if rows.empty:
            continue
        parts.append(
            f"### {claim.statement}\n\n*{claim.source}* — published: {claim.published or '-'}. "
            f"Rule: {claim.rule}.\n"
        )
        for r in rows.itertuples(index=False):
            ci = f" (95% CI {r.ci95})" if r.ci95 else ""
            detail = f"; {r.detail}" if r.detail else ""
            parts.append(
                f"- `{r.machine}` / {r.profile}: **{r.verdict}** — {r.ours or '-'}{ci}{detail}"
            )
        parts.append("")
    return "\n".join(parts)
