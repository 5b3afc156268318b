"""Shared test helpers: a session-wide temporary results root and a notebook runner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tensorbench import paths
from tensorbench.experiments import registry
from tensorbench.reproduce import execute


@pytest.fixture(scope="session")
def smoke_root(tmp_path_factory) -> Path:
    """One temporary results root (data/, figures/, executed/) for every smoke run."""
    return tmp_path_factory.mktemp("results")


def run_notebook(stem: str, root: Path) -> dict:
    """Execute the notebook run ``stem`` of the registry at the smoke profile into
    ``root``; return the executed notebook as JSON (papermill raises if a cell fails)."""
    matches = [run for run in registry.notebooks() if run.stem == stem]
    assert matches, f"{stem} is not a notebook of tensorbench.experiments.registry"
    target = execute(matches[0], "smoke", root)
    assert target.with_suffix(".html").exists()
    return json.loads(target.read_text(encoding="utf-8"))


def figures_dir(root: Path) -> Path:
    return paths.run_dir("figures", "smoke", root)


def data_dir(root: Path) -> Path:
    return paths.run_dir("data", "smoke", root)
