"""A run of the study: run (or resume) its cells through the shared runner, or read a
finished one back from disk and summarize it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tensorbench.experiments.tt_overhead.measurement import EXPERIMENT, cell_sets


@dataclass
class TtRun:
    """One finished (or resumed) run of the study, read back from disk."""

    profile: str
    raw: object  # pandas.DataFrame of raw per-call seconds (trial 0 = first call)
    summary: object  # pandas.DataFrame from tensorbench.stats.summarize, plus chi/case
    metadata: dict
    data_dir: Path
    figures_dir: Path

    def caption(self) -> str:
        from tensorbench import plotting

        n = int(self.summary["n_calls"].max()) if len(self.summary) else 0
        text = plotting.caption(self.metadata, self.profile, statistic="median")
        text = text.replace(
            "median, bars: 95% CI.",
            f"median of {n} samples (each the mean of a batch of calls) after the first "
            "call, bars: interquartile range.",
        )
        return text

    @property
    def parameters(self) -> dict:
        """The profile section the run was measured with."""
        return self.metadata.get("description", {}).get("parameters", {})


def _summarize(raw):
    from tensorbench import stats

    summary = stats.summarize(raw)
    later = raw[~raw["is_first_call"].astype(bool)]
    quartiles = (
        later.groupby(["variant", "implementation", "n1"])["seconds"]
        .quantile([0.25, 0.75])
        .unstack()
        .rename(columns={0.25: "q25", 0.75: "q75"})
        .reset_index()
    )
    summary = summary.merge(quartiles, on=["variant", "implementation", "n1"], how="left")
    return summary.assign(case=summary["variant"], chi=summary["n1"])


def _load_dir(data_dir: Path, profile: str, results_root) -> TtRun | None:
    from tensorbench import paths, results

    raw = results.load_raw(data_dir)
    if raw.empty:
        return None
    raw["variant"] = raw["variant"].fillna("")
    return TtRun(
        profile=profile,
        raw=raw,
        summary=_summarize(raw),
        metadata=results.read_json(data_dir / "metadata.json"),
        data_dir=data_dir,
        figures_dir=paths.run_dir("figures", profile, results_root),
    )


def run(profile: str, results_root: str | None = None) -> TtRun:
    """Run (or resume) the study at ``profile``; results in
    data/results/<machine>/<profile>/tt_overhead."""
    from tensorbench import paths, profiles
    from tensorbench.harness.runner import run_cells

    params = profiles.section(profile, EXPERIMENT)
    planned = cell_sets(profile)[EXPERIMENT]
    data_dir = paths.run_dir("data", profile, results_root) / EXPERIMENT
    run_cells(
        planned,
        data_dir,
        description={"experiment": EXPERIMENT, "profile": profile, "parameters": params},
    )
    loaded = _load_dir(data_dir, profile, results_root)
    if loaded is None:
        raise RuntimeError(f"no data in {data_dir} after running {len(planned)} cells")
    return loaded


def load(profile: str, results_root: str | None = None) -> TtRun | None:
    """A finished run read back from disk without measuring (None if there is none)."""
    from tensorbench import paths

    return _load_dir(
        paths.run_dir("data", profile, results_root) / EXPERIMENT, profile, results_root
    )
