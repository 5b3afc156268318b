"""The machine label and the CPU signature: CPUs that a VM reports under one bare model
name are told apart by their microarchitecture, and a cell measured on another CPU is
never counted as measured here."""

from __future__ import annotations

import json

import pytest

from tensorbench import machine, microarchitecture, provenance
from tensorbench.experiments import dot
from tensorbench.harness import identity, runner, store
from tensorbench.harness.runner import run_cells

# /proc/cpuinfo of the first processor, as two KVM guests on different hosts show it.
ZEN3 = {
    "vendor_id": "AuthenticAMD",
    "cpu family": "25",
    "model": "1",
    "stepping": "1",
    "model name": "AMD EPYC",
    "flags": "fpu sse2 avx avx2 fma",
}
ZEN5 = {
    **ZEN3,
    "cpu family": "26",
    "model": "2",
    "stepping": "0",
    "flags": "fpu sse2 avx avx2 fma avx512f avx512bw avx512vl",
}


@pytest.mark.parametrize(
    ("vendor", "family", "model", "stepping", "expected"),
    [
        ("AuthenticAMD", 23, 0x31, 0, "zen2"),
        ("AuthenticAMD", 25, 0x01, 1, "zen3"),
        ("AuthenticAMD", 25, 0x11, 1, "zen4"),
        ("AuthenticAMD", 26, 0x02, 0, "zen5"),
        ("GenuineIntel", 6, 85, 4, "skylake"),
        ("GenuineIntel", 6, 85, 7, "cascadelake"),
        ("GenuineIntel", 6, 143, 8, "sapphirerapids"),
        ("GenuineIntel", 6, 173, 1, "graniterapids"),
        ("AuthenticAMD", 25, 0xC0, 0, "f25m192"),  # outside the table: named by numbers
        ("GenuineIntel", 19, 1, 0, "f19m1"),
        ("", None, None, None, "unknown"),
    ],
)
def test_microarchitecture_names(vendor, family, model, stepping, expected):
    assert microarchitecture.name(vendor, family, model, stepping) == expected


def _as_cpu(monkeypatch, fields):
    monkeypatch.delenv(machine.MACHINE_VARIABLE, raising=False)
    monkeypatch.setattr(machine, "_cpuinfo", lambda: dict(fields))


def test_one_bare_model_name_on_two_generations_gives_two_labels(monkeypatch):
    _as_cpu(monkeypatch, ZEN3)
    zen3, zen3_signature = machine.machine_label(), machine.cpu_signature()
    _as_cpu(monkeypatch, ZEN5)
    zen5, zen5_signature = machine.machine_label(), machine.cpu_signature()
    assert zen3.startswith("amd-epyc-zen3-") and zen5.startswith("amd-epyc-zen5-")
    assert zen3_signature["isa"] == ["avx", "avx2", "fma"]
    assert "avx512f" in zen5_signature["isa"] and zen3_signature != zen5_signature


def test_the_override_still_names_the_machine(monkeypatch):
    _as_cpu(monkeypatch, ZEN3)
    monkeypatch.setenv(machine.MACHINE_VARIABLE, "Lab Box")
    assert machine.machine_label() == "lab-box"


def test_without_cpuinfo_the_label_has_no_microarchitecture(monkeypatch):
    _as_cpu(monkeypatch, {})
    label = machine.machine_label()
    assert machine.cpu_signature()["microarchitecture"] == "unknown"
    assert "unknown" not in label and label.endswith("cpu")


def test_a_cell_measured_on_another_cpu_is_measured_again(tmp_path, monkeypatch):
    cells = dot.cells([50], 1, 0, implementations=("numpy",))
    run_cells(cells, tmp_path, log=lambda _: None)
    here = json.loads(json.dumps(identity.cpu_identity()))
    other = {**here, "family": (here["family"] or 0) + 1, "microarchitecture": "other"}
    monkeypatch.setattr(identity, "cpu_identity", lambda: other)
    planned = runner.plan(cells, tmp_path)[0]
    state = store.CellStore(tmp_path).state(cells[0], planned.identity, planned.identity_hash)
    assert state.status == store.STALE and "cpu.family" in state.reason
    log: list[str] = []
    run_cells(cells, tmp_path, log=log.append)
    saved = json.loads(store.CellStore(tmp_path).provenance_path(cells[0]).read_text())
    assert saved["identity"]["cpu"] == other
    meta = json.loads((tmp_path / "metadata.json").read_text())
    assert meta["cpu_signatures"] == [other] and meta["mixed_cpus"] is False


def test_cells_of_several_cpus_or_none_recorded_are_reported():
    zen3 = {"microarchitecture": "zen3", "family": 25}
    by_cell = {
        "a": {"identity": {"cpu": zen3}, "finished": "1"},
        "b": {"identity": {"code": {}}, "finished": "2"},  # measured before signatures
    }
    summary = store.summarize_provenance(by_cell)
    assert summary["mixed_cpus"] is True and None in summary["cpu_signatures"]
    assert "2 CPUs" in provenance.cpu_line(summary["cpu_signatures"])
    assert "not recorded" in provenance.cpu_line([None])
    assert provenance.cpu_line([zen3]).startswith("**CPU:** zen3")
