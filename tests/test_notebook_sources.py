"""One source of truth per notebook: every notebook in notebooks/ is exactly what its
generator in tools/ writes, and every notebook the registry runs exists."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tensorbench.experiments import registry

ROOT = Path(__file__).resolve().parents[1]
GENERATORS = sorted((ROOT / "tools").glob("make_*notebook*.py"))


def test_every_notebook_equals_its_generators_output(tmp_path):
    (tmp_path / "notebooks").mkdir()
    for generator in GENERATORS:
        subprocess.run([sys.executable, str(generator)], cwd=tmp_path, check=True)
    generated = {p.name: p.read_text(encoding="utf-8") for p in (tmp_path / "notebooks").glob("*")}
    committed = {
        p.name: p.read_text(encoding="utf-8") for p in (ROOT / "notebooks").glob("*.ipynb")
    }
    assert set(generated) == set(committed), "a notebook without a generator, or the reverse"
    for name, text in committed.items():
        assert text == generated[name], (
            f"notebooks/{name} differs from its generator's output: edit the generator in "
            "tools/ and run it, not the notebook"
        )


def test_every_registered_notebook_exists_and_has_a_parameters_cell():
    import nbformat

    for run in registry.notebooks():
        path = ROOT / "notebooks" / f"{run.notebook}.ipynb"
        nb = nbformat.read(path, as_version=4)
        tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
        assert len(tagged) == 1, f"{path.name} needs exactly one parameters cell"
        for name in ("profile", "results_root", *run.parameters):
            assert f"{name} =" in tagged[0].source, f"{path.name} has no parameter {name}"
