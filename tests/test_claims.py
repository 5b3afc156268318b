"""The claims report card's rules, on made-up runs: each verdict can come out either way."""

from __future__ import annotations

import pandas as pd
import pytest

from tensorbench import claims
from tensorbench.findings import HELD, NOT_COMPARABLE, NOT_HELD


class _Run:
    def __init__(self, rows):
        self.summary = pd.DataFrame(rows)


def _row(impl, size, mean, half=0.0, first_call_overhead=float("nan")):
    return {
        "implementation": impl,
        "size": size,
        "mean": mean,
        "ci95_low": mean - half,
        "ci95_high": mean + half,
        "first_call_overhead": first_call_overhead,
    }


class _Data:
    """Stands for claims.Data: the runs a rule reads."""

    def __init__(self, dot=None, matvec=None, ttv=None):
        self._dot, self._matvec, self._ttv = dot, matvec or {}, ttv

    def dot(self):
        return self._dot

    def matvec(self, regime):
        return self._matvec.get(regime)

    def ttv(self):
        return self._ttv


def _claim(key):
    return next(c for c in claims.CLAIMS if c.key == key)


def test_the_speedup_claim_uses_the_largest_common_size_and_its_threshold():
    dot = _Run(
        [
            _row("python", 10, 1.0),
            _row("rust_from_python", 10, 0.001),
            _row("python", 100, 10.0, 0.5),
            _row("rust_from_python", 100, 0.2, 0.01),
            _row("rust_from_python", 1000, 0.3),
        ]
    )
    outcome = _claim("dot-100x").check(_Data(dot=dot))
    assert outcome.verdict == NOT_HELD and outcome.value == "50.0x"  # at size 100, not 10
    assert "at size 100" in outcome.detail and outcome.ci.startswith("45.2x")
    assert _claim("dot-100x").check(_Data()).verdict == NOT_COMPARABLE
    dot.summary.loc[3, "mean"] = 0.05
    assert _claim("dot-100x").check(_Data(dot=dot)).verdict == HELD


def test_slower_at_the_largest_matvec_needs_disjoint_intervals_in_every_regime():
    def regime(rust_mean):
        return _Run([_row("rust", 4, rust_mean, 0.05), _row("rust_from_python", 4, 1.0, 0.05)])

    check = _claim("rust-slower-largest-matvec").check
    slower = {r: regime(1.5) for r in claims.REGIMES}
    assert check(_Data(matvec=slower)).verdict == HELD
    overlapping = {**slower, "cols": regime(1.05)}
    assert check(_Data(matvec=overlapping)).verdict == NOT_HELD


def test_numba_comparable_is_a_factor_two_band_on_every_run():
    check = _claim("numba-comparable").check
    dot = _Run([_row("numba", 5, 1.5), _row("rust_from_python", 5, 1.0)])
    assert check(_Data(dot=dot)).verdict == HELD
    dot = _Run([_row("numba", 5, 2.5), _row("rust_from_python", 5, 1.0)])
    assert check(_Data(dot=dot)).verdict == NOT_HELD


def test_first_call_claims_compare_with_the_papers_table_up_to_the_noise_limit():
    check = _claim("table1-numba-first-call").check
    paper = 0.317  # Table 1, n = 1e3 and 1e4 (data/inputs/published)
    close = _Run(
        [
            _row("numba", 1000, 1.0, first_call_overhead=paper * 1.5),
            _row("numba", 10000, 1.0, first_call_overhead=paper),
            _row("numba", 10**8, 1.0, first_call_overhead=-5.0),  # above the limit: ignored
        ]
    )
    assert check(_Data(dot=close)).verdict == HELD
    far = _Run([_row("numba", 1000, 1.0, first_call_overhead=paper * 3)])
    assert check(_Data(dot=far)).verdict == NOT_HELD


def test_the_ttv_claim_needs_an_order_of_magnitude_and_growth_with_n():
    check = _claim("ttv-order-of-magnitude").check

    def run(ratios):
        rows = []
        for n, ratio in zip((100, 200, 400), ratios, strict=True):
            rows += [_row("pyttb", n, ratio), _row("rust_from_python", n, 1.0)]
        return _Run(rows)

    assert check(_Data(ttv=run([5, 10, 20]))).verdict == HELD
    assert check(_Data(ttv=run([20, 10, 5]))).verdict == NOT_HELD  # shrinking
    assert check(_Data(ttv=run([1.5, 2, 3]))).verdict == NOT_HELD  # below 10^0.5


def test_every_claim_has_a_published_value_from_the_inputs_and_a_rule():
    keys = [c.key for c in claims.CLAIMS]
    assert len(keys) == len(set(keys)) >= 15
    for claim in claims.CLAIMS:
        assert claim.published and "nan" not in claim.published, claim.key
        assert claim.rule and claim.statement and claim.source


def test_a_machine_without_results_gives_an_empty_card(tmp_path):
    card = claims.report_card(tmp_path)
    assert card.empty and claims.summary(card).empty
    assert claims.details_markdown(card) == "No results recorded yet."


@pytest.mark.parametrize("verdicts", [[HELD, HELD, NOT_HELD], [NOT_COMPARABLE]])
def test_the_summary_counts_every_verdict(verdicts):
    card = pd.DataFrame(
        {
            "claim": [f"c{i}" for i in range(len(verdicts))],
            "machine": "m",
            "profile": "quick",
            "verdict": verdicts,
        }
    )
    row = claims.summary(card).iloc[0]
    assert row["claims"] == len(verdicts)
    assert row[HELD] == verdicts.count(HELD) and row[NOT_HELD] == verdicts.count(NOT_HELD)


def test_a_run_without_any_data_a_rule_needs_is_left_off_the_card(tmp_path):
    (tmp_path / "data" / "results" / "some-machine" / "paper" / "bandwidth-curve").mkdir(
        parents=True
    )
    assert claims.profile_dirs(tmp_path) == [("some-machine", "paper")]
    assert claims.report_card(tmp_path).empty
