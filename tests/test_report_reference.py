"""The README names the reference run: a paper-profile run on an AMD EPYC, else none."""

from __future__ import annotations

import json

from tensorbench import report


def _machine(root, label, model, profile="paper", full=True):
    folder = root / "data" / "results" / label / profile / "dot"
    folder.mkdir(parents=True)
    (folder / "metadata.json").write_text(json.dumps({"machine": {"cpu_model": model}}))
    log = {"experiments": {"dot": {"cell_seconds": 1.0}}}
    if full:
        log["last_full_run"] = {"finished": "2026-12-02T08:00:00+00:00", "seconds": 60.0}
    (folder.parent / "reproduce.json").write_text(json.dumps(log))


def test_a_full_epyc_paper_run_is_the_reference(tmp_path):
    _machine(tmp_path, "intel-xeon-2cpu", "Intel(R) Xeon(R) Processor")
    _machine(tmp_path, "amd-epyc-2cpu", "AMD EPYC 9B14 96-Core Processor")
    line = report.reference_line(tmp_path)
    assert line.startswith("**The reference run:**") and "`amd-epyc-2cpu`" in line
    assert "intel" not in line


def test_a_partial_epyc_paper_run_is_not_the_reference_yet(tmp_path):
    _machine(tmp_path, "intel-xeon-2cpu", "Intel(R) Xeon(R) Processor")
    _machine(tmp_path, "amd-epyc-2cpu", "AMD EPYC 9B14 96-Core Processor", full=False)
    line = report.reference_line(tmp_path)
    assert line.startswith("**No reference run yet:**") and "is partial" in line
    assert "`amd-epyc-2cpu`" in line and "intel" not in line


def test_without_an_epyc_there_is_no_reference_and_every_machine_is_named(tmp_path):
    _machine(tmp_path, "intel-xeon-2cpu", "Intel(R) Xeon(R) Processor")
    # An EPYC with only a quick run is not the reference run.
    _machine(tmp_path, "amd-epyc-2cpu", "AMD EPYC 7763 64-Core Processor", profile="quick")
    line = report.reference_line(tmp_path)
    assert line.startswith("**No reference run yet:**")
    assert "`amd-epyc-2cpu`, `intel-xeon-2cpu`" in line


def test_the_paper_class_is_an_amd_epyc():
    assert report.is_paper_class("AMD EPYC 9B14 96-Core Processor")
    assert not report.is_paper_class("Intel(R) Xeon(R) Processor")
    assert not report.is_paper_class("")


def _log(jobs: int, measuring: float, cell_seconds: dict[str, float]) -> dict:
    full = {
        "finished": "2026-12-02T04:50:50+00:00",
        "seconds": measuring + 60,
        "measuring_seconds": measuring,
        "jobs": jobs,
        "cell_seconds": cell_seconds,
    }
    return {"last_full_run": full, "experiments": {}}


def test_wall_times_say_when_the_full_run_resumed_cells_measured_earlier():
    resumed = report._wall_times(_log(1, 3600.0, {"dot": 3600.0, "ttv": 3600.0}))
    assert "took 61.0 min" in resumed
    assert "resumed an interrupted run: the cells' own wall times add up to 2.0 h" in resumed
    whole = report._wall_times(_log(1, 3600.0, {"dot": 1800.0, "ttv": 1790.0}))
    assert "resumed" not in whole
    # Side by side, cells overlap: their wall times add up to more than the run took.
    parallel = report._wall_times(_log(2, 3600.0, {"dot": 3600.0, "ttv": 3600.0}))
    assert "resumed" not in parallel


def test_each_block_names_the_commits_that_measured_it(tmp_path):
    folder = tmp_path / "dot"
    folder.mkdir()
    assert report.measured_by(tmp_path) == "No commit recorded with its cells."
    commits = ["b803c34aaaa", "b46bd31bbbb"]
    (folder / "metadata.json").write_text(json.dumps({"commits": commits}))
    assert report.measured_by(tmp_path) == "Measured by commits `b46bd31`, `b803c34`."
