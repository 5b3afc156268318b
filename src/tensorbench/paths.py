"""Where things live: the project root, and per-machine, per-profile output folders.

Results of different machines and profiles never overwrite each other: every output
path contains the machine label and the profile name.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from tensorbench import environment

ROOT_VARIABLE = "TENSORBENCH_ROOT"
MACHINE_VARIABLE = "TENSORBENCH_MACHINE"


def project_root() -> Path:
    """The compendium's root folder (``TENSORBENCH_ROOT`` overrides it)."""
    if ROOT_VARIABLE in os.environ:
        return Path(os.environ[ROOT_VARIABLE]).resolve()
    # src/tensorbench/paths.py -> the repository root two levels above the package.
    return Path(__file__).resolve().parents[2]


def slugify(text: str) -> str:
    """Lower-case, alphanumerics and single dashes."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "unknown"


def machine_label() -> str:
    """A short, stable label of this machine: CPU model and logical CPU count.

    ``TENSORBENCH_MACHINE`` overrides it (e.g. to keep two identical hosts apart).
    """
    if os.environ.get(MACHINE_VARIABLE):
        return slugify(os.environ[MACHINE_VARIABLE])
    cpu = environment.cpu_model()
    cpu = re.sub(r"\((r|tm)\)|\bprocessor\b|\bcpu\b|@.*$", " ", cpu, flags=re.IGNORECASE)
    return f"{slugify(cpu)}-{os.cpu_count()}cpu"


def results_root(root: str | Path | None = None) -> Path:
    """The folder that holds ``data/``, ``figures/`` and ``executed/`` for a run."""
    return Path(root).resolve() if root else project_root()


def run_dir(kind: str, profile: str, root: str | Path | None = None) -> Path:
    """``<root>/<kind>/<machine>/<profile>`` for kind in data, figures, executed."""
    return results_root(root) / kind / machine_label() / profile


def profiles_dir() -> Path:
    return project_root() / "profiles"


def published_figures_csv() -> Path:
    return project_root() / "data" / "published" / "published-figures.csv"


if __name__ == "__main__":  # used by the Makefile
    import sys

    if sys.argv[1:] == ["machine"]:
        print(machine_label())
    else:
        sys.exit("usage: python -m tensorbench.paths machine")
