"""A run of the experiment: run (or resume) both parts through the shared runner, or
read a finished one back from disk and summarize it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tensorbench.build import release_kernels
from tensorbench.experiments.call_overhead.cells import (
    EXPERIMENT,
    FIRST_CALL,
    PER_CALL,
    SETS,
    cell_sets,
)
from tensorbench.experiments.call_overhead.first_call import FIRST_CALL_COLUMNS
from tensorbench.experiments.call_overhead.per_call import PER_CALL_COLUMNS
from tensorbench.experiments.call_overhead.probes import PROBES
from tensorbench.experiments.call_overhead.summary import (
    anatomy,
    first_call_summary,
    per_call_summary,
)


@dataclass
class CallOverheadRun:
    profile: str
    parameters: dict
    samples: object  # per-call long table (pandas), see per_call_frame
    first_calls_in_process: object
    per_call_metadata: dict
    summary: object  # per_call_summary
    anatomy: object
    first_call: object  # long table
    first_call_facts: object
    first_call_summary: object
    first_call_metadata: dict
    data_dir: Path
    figures_dir: Path
    results_root: str | None = None

    def first_call_stage(self, scenario: str, stage: str) -> float:
        """The median over fresh processes of one first-call stage (NaN if not measured)."""
        rows = self.first_call_summary
        rows = rows[(rows["scenario"] == scenario) & (rows["stage"] == stage)]
        return float(rows["median"].iloc[0]) if len(rows) else float("nan")


def run(profile: str, results_root: str | None = None, probes=tuple(PROBES)) -> CallOverheadRun:
    """Run (or resume) both parts of the experiment for ``profile`` and summarize."""
    from tensorbench import paths, profiles
    from tensorbench.harness.runner import run_cells

    release_kernels()
    params = profiles.section(profile, EXPERIMENT)
    description = {"experiment": EXPERIMENT, "profile": profile, "parameters": params}
    base = paths.run_dir("data", profile, results_root)
    columns = {PER_CALL: PER_CALL_COLUMNS, FIRST_CALL: FIRST_CALL_COLUMNS}
    for kind, name in SETS.items():
        run_cells(
            cell_sets(profile, probes)[name],
            base / name,
            description={**description, "part": kind},
            columns=columns[kind],
        )
    loaded = load(profile, results_root)
    if loaded is None:
        raise RuntimeError(f"no call-overhead data under {base / EXPERIMENT} after running")
    return loaded


def _extras(metadata: dict, key: str) -> list[dict]:
    return [row for extra in metadata.get("cell_extra", {}).values() for row in extra.get(key, [])]


def load(profile: str, results_root: str | None = None) -> CallOverheadRun | None:
    """A finished run read back from disk without measuring anything (None when either
    part has no data yet), e.g. for the README."""
    import pandas as pd

    from tensorbench import paths, profiles, results

    base = paths.run_dir("data", profile, results_root)
    per_call_dir, first_dir = base / SETS[PER_CALL], base / SETS[FIRST_CALL]
    samples, first_frame = results.load_raw(per_call_dir), results.load_raw(first_dir)
    if samples.empty or first_frame.empty:
        return None
    per_call_meta = results.read_json(per_call_dir / "metadata.json")
    first_meta = results.read_json(first_dir / "metadata.json")
    firsts = pd.DataFrame(
        _extras(per_call_meta, "first_calls_in_process"),
        columns=["process", "probe", "first_call_seconds"],
    )
    facts = pd.DataFrame(
        _extras(first_meta, "facts"), columns=["scenario", "repeat", "fact", "value"]
    )
    return CallOverheadRun(
        profile=profile,
        parameters=profiles.section(profile, EXPERIMENT),
        samples=samples,
        first_calls_in_process=firsts,
        per_call_metadata=per_call_meta,
        summary=per_call_summary(samples, firsts),
        anatomy=anatomy(samples),
        first_call=first_frame,
        first_call_facts=facts,
        first_call_summary=first_call_summary(first_frame),
        first_call_metadata=first_meta,
        data_dir=base / EXPERIMENT,
        figures_dir=paths.run_dir("figures", profile, results_root),
        results_root=str(results_root) if results_root else None,
    )
