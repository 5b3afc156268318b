"""The harness: cell identity (a changed profile or changed code is measured again, and
the log says why), per-cell provenance, side-by-side cells (pinned, alone cells alone),
the registry's experiment shape, and the store combining only planned cells."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from tensorbench import estimate, profiles, reproduce, results
from tensorbench.experiments import dot, registry
from tensorbench.harness import identity, runner, store
from tensorbench.harness.cell import Cell
from tensorbench.harness.runner import run_cells

SRC = Path(__file__).resolve().parents[1] / "src" / "tensorbench"


def _dot_section(monkeypatch, **changes):
    """The smoke profile's dot section, small, with ``changes``."""
    section = {**profiles.section("smoke", "dot"), "sizes": [100], **changes}
    real = profiles.section
    monkeypatch.setattr(
        profiles, "section", lambda name, exp: section if exp == "dot" else real(name, exp)
    )


def _cells_dir(root: Path) -> Path:
    return root / "data" / "results" / "test-machine" / "smoke" / "dot" / "cells"


def test_a_changed_profile_is_measured_again_and_the_log_says_why(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("TENSORBENCH_MACHINE", "test-machine")
    _dot_section(monkeypatch, n_trials=2)
    reproduce.measure(("dot",), "smoke", tmp_path)
    first = {p.name: json.loads(p.read_text()) for p in _cells_dir(tmp_path).glob("*.json")}
    assert len(first) == len(dot.planned_cells("smoke")) == 8
    capsys.readouterr()

    reproduce.measure(("dot",), "smoke", tmp_path)  # unchanged: nothing is measured again
    out = capsys.readouterr().out
    assert "resuming: 8 of 8 cells already on disk" in out and "re-measuring" not in out

    _dot_section(monkeypatch, n_trials=6)  # the steps: n_trials 2 -> 6
    reproduce.measure(("dot",), "smoke", tmp_path)
    out = capsys.readouterr().out
    assert "re-measuring 8 cells whose identity changed" in out
    assert out.count("cell.n_trials") == 8
    raw = pd.read_csv(_cells_dir(tmp_path).parent / "raw.csv")
    assert raw.groupby(["implementation", "size"]).size().eq(7).all()  # 6 trials + first
    for name, old in first.items():
        new = json.loads((_cells_dir(tmp_path) / name).read_text())
        assert new["identity"]["cell"]["n_trials"] == 6 != old["identity"]["cell"]["n_trials"]
        assert new["identity_hash"] != old["identity_hash"]


def test_changed_code_is_measured_again(tmp_path, monkeypatch):
    cells = dot.cells([50], 1, 0, implementations=("numpy", "rust_from_python"))
    log: list[str] = []
    run_cells(cells, tmp_path, log=log.append)
    before = {p.name: p.read_text() for p in (tmp_path / "cells").glob("*.json")}
    changed = json.loads(json.dumps(identity.code_identity()))
    changed["kernels_rs_sha256"] = "0" * 64  # as if kernels_rs had been rebuilt
    monkeypatch.setattr(runner, "code_identity", lambda: changed)
    log.clear()
    run_cells(cells, tmp_path, log=log.append)
    assert "re-measuring 2 cells whose identity changed:" in log
    assert sum("code.kernels_rs_sha256" in line for line in log) == 2
    after = {p.name: json.loads(p.read_text()) for p in (tmp_path / "cells").glob("*.json")}
    assert set(after) == set(before)
    assert all(p["identity"]["code"]["kernels_rs_sha256"] == "0" * 64 for p in after.values())


def test_cells_without_provenance_are_stale(tmp_path):
    cells = dot.cells([50], 1, 0, implementations=("numpy",))
    run_cells(cells, tmp_path, log=lambda _: None)
    cell_store = store.CellStore(tmp_path)
    cell_store.provenance_path(cells[0]).unlink()  # as an older harness left its cells
    planned = runner.plan(cells, tmp_path)[0]
    state = cell_store.state(cells[0], planned.identity, planned.identity_hash)
    assert state.status == store.STALE and "no provenance" in state.reason


def test_the_code_identity_covers_measuring_code_and_not_presentation(tmp_path):
    copy = tmp_path / "tensorbench"
    shutil.copytree(SRC, copy, ignore=shutil.ignore_patterns("__pycache__"))
    base = identity.package_sha256(copy)
    assert base == identity.package_sha256(copy)  # stable
    (copy / "plotting.py").write_text((copy / "plotting.py").read_text() + "\n# caption\n")
    (copy / "report.py").write_text((copy / "report.py").read_text() + "\n# wording\n")
    assert identity.package_sha256(copy) == base  # presentation only
    timing = copy / "timing.py"
    timing.write_text(timing.read_text() + "\n# a timer changed\n")
    assert identity.package_sha256(copy) != base
    kernels = identity.code_identity()
    assert kernels["kernels_rs_sha256"] and len(kernels["kernels_rs_sha256"]) == 64
    assert kernels["versions"]["numpy"]


@pytest.mark.parametrize(
    ("package", "measuring"),
    [("call_overhead", "cells"), ("tt_overhead", "measurement")],
)
def test_what_the_overhead_workers_run_imports_no_presentation_module(package, measuring):
    """A presentation module is outside the code identity, so code that measures must not
    depend on one: every module of the package that the worker's ``measure`` reaches
    (imports at the top or inside functions) is a measuring module."""
    import ast

    folder = SRC / "experiments" / package
    prefix = f"tensorbench.experiments.{package}."
    todo, seen = [measuring], set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        path = folder / f"{name}.py"
        assert not identity.is_presentation(path), f"{package}.{name} is reached by measure()"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(prefix):
                todo.append(node.module.removeprefix(prefix).split(".")[0])
    assert len(seen) > 1


def test_every_cell_keeps_its_own_provenance(tmp_path):
    cells = dot.cells([50, 100], 1, 0, implementations=("numpy",))
    run_cells(cells, tmp_path, log=lambda _: None, jobs=1)
    for cell in cells:
        prov = results.read_json(tmp_path / "cells" / f"{cell.cell_id}.json")
        assert prov["identity"]["cell"] == cell.parameters()
        assert {"commit", "dirty"} <= set(prov["git"])
        assert prov["build"]["is_release"] is True
        assert prov["jobs"] == 1 and prov["pinned_cpu"] is None and prov["ran_alone"] is True
        assert prov["started"] <= prov["finished"] and prov["wall_seconds"] > 0
        assert prov["cpu_model"] and prov["machine_label"]
        assert prov["worker"]["thread_settings"]["OPENBLAS_NUM_THREADS"] == "1"
        assert prov["worker"]["thread_settings"]["KERNELS_RS_NUM_THREADS"] == "1"
    meta = results.read_json(tmp_path / "metadata.json")
    assert meta["cells_done"] == 2 and meta["commits"] and meta["mixed_commits"] is False
    assert set(meta["cell_wall_seconds"]) == {c.cell_id for c in cells}


def test_side_by_side_cells_are_pinned_and_alone_cells_run_alone(tmp_path):
    cpus = runner.usable_cpus()
    if len(cpus) < 2:
        pytest.skip("needs two usable CPUs")
    cells = dot.cells([20, 40, 60, 80], 1, 0, implementations=("python",))
    alone = Cell("dot", "numpy", 200, n_trials=1)
    also_alone = Cell("dot", "numpy", 300, n_trials=1)
    planned = [*cells[:2], alone, *cells[2:], also_alone]
    rule = {alone.cell_id, also_alone.cell_id}
    log: list[str] = []
    run_cells(planned, tmp_path, jobs=2, alone=lambda c: c.cell_id in rule, log=log.append)
    prov = {c.cell_id: results.read_json(tmp_path / "cells" / f"{c.cell_id}.json") for c in planned}
    assert all(p["jobs"] == 2 and p["pinned_cpu"] in cpus for p in prov.values())
    assert all(p["worker"]["cpus"] == [p["pinned_cpu"]] for p in prov.values())
    assert {k for k, p in prov.items() if p["ran_alone"]} == rule
    for name in rule:
        start, end = prov[name]["interval"]
        for other, p in prov.items():
            if other != name:
                o_start, o_end = p["interval"]
                assert o_end <= start or o_start >= end, f"{other} overlapped {name}"
    progress = [line for line in log if line.startswith("[")]
    assert len(progress) == len(planned)
    assert all("elapsed" in line and ("left" in line) for line in progress)


def test_jobs_must_be_a_positive_whole_number(tmp_path, monkeypatch):
    monkeypatch.setenv(runner.JOBS_VARIABLE, "two")
    with pytest.raises(ValueError, match="TENSORBENCH_JOBS must be a whole number"):
        runner.default_jobs()
    monkeypatch.setenv(runner.JOBS_VARIABLE, "3")
    assert runner.default_jobs() == 3
    with pytest.raises(ValueError, match="jobs must be at least 1"):
        run_cells(dot.cells([10], 1, 0, implementations=("numpy",)), tmp_path, jobs=0)


def test_only_planned_cells_are_combined(tmp_path):
    run_cells(dot.cells([10, 20], 1, 0, implementations=("numpy",)), tmp_path, log=print)
    raw = run_cells(dot.cells([10], 1, 0, implementations=("numpy",)), tmp_path, log=print)
    assert set(raw["size"]) == {10}
    assert set(pd.read_csv(tmp_path / "raw.csv")["size"]) == {10}
    meta = results.read_json(tmp_path / "metadata.json")
    assert meta["unplanned_cells_on_disk"] == ["numpy__20.csv"]


def test_cells_of_several_commits_are_reported():
    by_cell = {
        "a": {"git": {"commit": "c1", "dirty": False}, "finished": "1"},
        "b": {"git": {"commit": "c2", "dirty": True}, "finished": "2"},
    }
    summary = store.summarize_provenance(by_cell)
    assert summary["commits"] == ["c1", "c2"] and summary["mixed_commits"] is True
    assert summary["dirty_commits"] == ["c2"]


def test_every_registered_experiment_has_the_same_shape():
    for module in registry.modules():
        assert module.EXPERIMENT in registry.EXPERIMENTS
        assert module.NOTEBOOKS and all(isinstance(n, registry.Notebook) for n in module.NOTEBOOKS)
        for hook in ("cell_sets", "measure", "runs_alone", "load", "recorded_findings"):
            assert callable(getattr(module, hook)), f"{module.EXPERIMENT} has no {hook}"
        for name in profiles.PROFILES:
            sets = module.cell_sets(name)
            assert sets and all(sets.values())
            for cells in sets.values():
                assert len({c.cell_id for c in cells}) == len(cells)
                assert all(c.experiment == module.EXPERIMENT for c in cells)
    stems = [n.stem for n in registry.notebooks()]
    assert len(stems) == len(set(stems))
    assert registry.parse_only("dot,ttv") == ("dot", "ttv")
    assert registry.parse_only("") == registry.EXPERIMENTS
    with pytest.raises(ValueError, match="unknown experiment 'dots'"):
        registry.parse_only("dots")


def test_the_ttv_headline_is_a_cell_set_of_the_paper_profile_only():
    assert "ttv-headline" in registry.module("ttv").cell_sets("paper")
    for name in ("quick", "smoke"):
        assert "ttv-headline" not in registry.module("ttv").cell_sets(name)


def test_the_paper_estimate_counts_every_cell_of_every_experiment():
    planned = sum(len(c) for m in registry.modules() for c in m.cell_sets("paper").values())
    assert planned > 100
    assert estimate.wall_seconds([("x", "a", 10.0, True), ("x", "b", 30.0, False)], 3) == 20.0


def test_captions_say_when_cells_come_from_several_commits_or_ran_side_by_side():
    from tensorbench import plotting

    plain = plotting.caption({"commits": ["abc"], "mixed_commits": False, "cell_jobs": [1]}, "q")
    assert "commits" not in plain and "side by side" not in plain
    mixed = plotting.caption(
        {"commits": ["aaaaaaaaaa", "bbbbbbbbbb"], "mixed_commits": True, "cell_jobs": [1, 2]}, "q"
    )
    assert "Cells measured by 2 commits" in mixed and "aaaaaaaa, bbbbbbbb" in mixed
    assert "side by side (JOBS=2)" in mixed


def test_side_by_side_agreement_is_judged_on_intervals_and_catches_a_shift(tmp_path, monkeypatch):
    from tensorbench import jobs_report

    _dot_section(monkeypatch, n_trials=12, sizes=[200])
    for label in ("serial", "parallel"):
        monkeypatch.setenv("TENSORBENCH_MACHINE", label)
        reproduce.measure(("dot",), "smoke", tmp_path, jobs=1 if label == "serial" else 2)
    table = jobs_report.compare("serial", "parallel", "smoke", tmp_path)
    assert len(table) == 8 and table["interval_of"].eq("median").all()  # 12 samples: 95% CI
    # Shift every side-by-side sample of the parallel run 100-fold: none may agree.
    cells = tmp_path / "data" / "results" / "parallel" / "smoke" / "dot" / "cells"
    for path in cells.glob("*.csv"):
        rows = pd.read_csv(path)
        rows["seconds"] *= 100.0
        rows.to_csv(path, index=False)
    shifted = jobs_report.compare("serial", "parallel", "smoke", tmp_path)
    assert not shifted["agree"].any()
    found = jobs_report.summary(shifted, "serial", "parallel", "smoke")
    side = int((~shifted["ran_alone_in_parallel_run"]).sum())
    assert found["side_by_side_agree"] == 0 and len(found["side_by_side_disagree"]) == side


def test_the_dirty_flag_ignores_the_runs_outputs_and_sees_code(tmp_path):
    import subprocess

    from tensorbench import environment

    def git(*args):
        subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True)

    git("init", "-q")
    (tmp_path / "code.py").write_text("x = 1\n")
    for output in environment.OUTPUT_PATHS:
        (tmp_path / output).mkdir(parents=True)
        (tmp_path / output / "raw.csv").write_text("a\n")
    git("add", "-A")
    git("-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qm", "x")
    assert environment.git_state(tmp_path)["dirty"] is False
    for output in environment.OUTPUT_PATHS:  # a resumed run rewrites committed results
        (tmp_path / output / "raw.csv").write_text("b\n")
    assert environment.git_state(tmp_path)["dirty"] is False
    (tmp_path / "code.py").write_text("x = 2\n")
    assert environment.git_state(tmp_path)["dirty"] is True


def test_a_multi_threaded_cell_runs_alone_unpinned_with_its_thread_count(tmp_path):
    cpus = runner.usable_cpus()
    if len(cpus) < 2:
        pytest.skip("needs two usable CPUs")
    from tensorbench.experiments import threads

    cells = threads.scaling_cells({"innerprod": [5]}, 1, 0.0, 3, cores=2)
    single = dot.cells([20, 40], 1, 0, implementations=("python",))
    run_cells([*single, *cells], tmp_path, jobs=2, log=print)
    two = results.read_json(tmp_path / "cells" / f"{cells[0].cell_id}.json")
    one = results.read_json(tmp_path / "cells" / f"{single[0].cell_id}.json")
    assert cells[0].cell_id.endswith("__t2")
    assert two["ran_alone"] and two["pinned_cpu"] is None
    assert sorted(two["worker"]["cpus"]) == cpus
    assert two["worker"]["kernels_rs_threads"] == 2
    assert two["worker"]["thread_settings"]["KERNELS_RS_NUM_THREADS"] == "2"
    assert one["pinned_cpu"] in cpus
    assert one["worker"]["thread_settings"]["KERNELS_RS_NUM_THREADS"] == "1"


def test_first_cell_sets_are_measured_first_and_unknown_ones_refused():
    items = reproduce.plan(("dot", "bandwidth"), "smoke")
    sets = [item.description["cell_set"] for item in items]
    assert sets[0].startswith("dot") and "bandwidth-curve" in sets
    moved = reproduce.first_sets(items, ("bandwidth-curve",))
    moved_sets = [item.description["cell_set"] for item in moved]
    n = sets.count("bandwidth-curve")
    assert moved_sets[:n] == ["bandwidth-curve"] * n and sorted(moved_sets) == sorted(sets)
    with pytest.raises(ValueError, match="no-such-set"):
        reproduce.first_sets(items, ("no-such-set",))
