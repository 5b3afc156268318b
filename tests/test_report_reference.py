"""The README names the reference run: a paper-profile run on an AMD EPYC, else none."""

from __future__ import annotations

import json

from tensorbench import report


def _machine(root, label, model, profile="paper"):
    folder = root / "data" / "results" / label / profile / "dot"
    folder.mkdir(parents=True)
    (folder / "metadata.json").write_text(json.dumps({"machine": {"cpu_model": model}}))


def test_an_epyc_paper_run_is_the_reference(tmp_path):
    _machine(tmp_path, "intel-xeon-2cpu", "Intel(R) Xeon(R) Processor")
    _machine(tmp_path, "amd-epyc-2cpu", "AMD EPYC 9B14 96-Core Processor")
    line = report.reference_line(tmp_path)
    assert line.startswith("**The reference run:**") and "`amd-epyc-2cpu`" in line
    assert "intel" not in line


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
