"""Where things live: the project root, and per-machine, per-profile output folders.

Results of different machines and profiles never overwrite each other: every output
path contains the machine label and the profile name.
"""

from __future__ import annotations

import os
from pathlib import Path

from tensorbench.machine import MACHINE_VARIABLE, machine_label, slugify

__all__ = ["MACHINE_VARIABLE", "machine_label", "slugify"]

ROOT_VARIABLE = "TENSORBENCH_ROOT"


def project_root() -> Path:
    """The compendium's root folder (``TENSORBENCH_ROOT`` overrides it)."""
    if ROOT_VARIABLE in os.environ:
        return Path(os.environ[ROOT_VARIABLE]).resolve()
    # src/tensorbench/paths.py -> the repository root two levels above the package.
    return Path(__file__).resolve().parents[2]


def results_root(root: str | Path | None = None) -> Path:
    """The folder that holds ``data/``, ``figures/`` and ``executed/`` for a run."""
    return Path(root).resolve() if root else project_root()


KINDS = ("data", "figures", "executed")


def kind_root(kind: str, root: str | Path | None = None) -> Path:
    """Where results of ``kind`` live: ``data/results`` (raw results, apart from the inputs
    in ``data/inputs``), ``figures``, ``executed``."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    base = results_root(root)
    return base / "data" / "results" if kind == "data" else base / kind


def run_dir(
    kind: str, profile: str, root: str | Path | None = None, machine: str | None = None
) -> Path:
    """``<kind root>/<machine>/<profile>`` for kind in data, figures, executed."""
    return kind_root(kind, root) / (machine or machine_label()) / profile


def inputs_dir() -> Path:
    """Read-only inputs shipped with the compendium: published values, FROSTT tensors."""
    return project_root() / "data" / "inputs"


def profiles_dir() -> Path:
    return project_root() / "profiles"


def published_figures_csv() -> Path:
    return inputs_dir() / "published" / "published-figures.csv"


if __name__ == "__main__":  # used by the Makefile
    import sys

    if sys.argv[1:] == ["machine"]:
        print(machine_label())
    else:
        sys.exit("usage: python -m tensorbench.paths machine")
