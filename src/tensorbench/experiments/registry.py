"""The one list of experiments. ``make reproduce``, the worker, the README report and
the run-time estimate all read it (as asv discovers every benchmark from one place).

Every experiment is a module of :mod:`tensorbench.experiments` with the same shape:

``EXPERIMENT``
    its name (the ``experiment`` field of its cells, its profile section).
``NOTEBOOKS``
    the notebook runs that present it (:class:`Notebook`).
``cell_sets(profile) -> dict[str, list[Cell]]``
    what a profile asks for: each cell set is one run folder
    ``data/results/<machine>/<profile>/<set name>/``.
``measure(cell)``
    how one cell is measured, in the worker: the seconds of the first and later calls, or
    ``{"seconds" | "records": ..., "extra": {...}}``.
``runs_alone(cell) -> bool``
    whether the cell must have the machine to itself when cells run side by side.
``prepare_inputs(cells)`` (optional)
    inputs to make before pending cells run (e.g. generating and caching tensors).
``load(profile, results_root, ...)``
    a finished run read back from disk, for the notebooks.
``findings(profile, results_root) -> list[Finding]``
    what it finds (:class:`tensorbench.findings.Finding`), from which the notebook prose,
    the README's headline table and the results pages are written.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType

# The run's order: the bandwidth probe first (every runtime figure draws its bound, so a
# run stopped early still has it), then the dense kernels and the layout study on them,
# then the sparse and small-call experiments.
EXPERIMENTS: tuple[str, ...] = (
    "bandwidth",
    "dot",
    "matvec",
    "layout",
    "ttv",
    "call_overhead",
    "tt_overhead",
    "mttkrp",
    "threads",
)


@dataclass(frozen=True)
class Notebook:
    """One executed copy of a source notebook, with its papermill parameters."""

    notebook: str  # file stem in notebooks/
    parameters: dict = field(default_factory=dict)
    output_name: str = ""  # stem of the executed copy; defaults to ``notebook``

    @property
    def stem(self) -> str:
        return self.output_name or self.notebook


# Run after the experiments' notebooks, once for every machine and profile on disk: its
# executed copy goes to ``executed/`` itself.
CLAIMS = Notebook("claims")


def module(name: str) -> ModuleType:
    """The experiment module ``name`` (a ValueError names the known experiments)."""
    if name not in EXPERIMENTS:
        raise ValueError(f"unknown experiment {name!r}; known: {', '.join(EXPERIMENTS)}")
    return importlib.import_module(f"tensorbench.experiments.{name}")


def modules(names=None) -> list[ModuleType]:
    return [module(n) for n in (EXPERIMENTS if names is None else names)]


def parse_only(text: str | None) -> tuple[str, ...]:
    """``"dot,ttv"`` -> ("dot", "ttv"), checked; empty means every experiment."""
    if not text:
        return EXPERIMENTS
    names = tuple(n.strip() for n in text.replace(" ", ",").split(",") if n.strip())
    for name in names:
        module(name)
    return names


def notebooks(names=None) -> list[Notebook]:
    return [nb for m in modules(names) for nb in m.NOTEBOOKS]


def alone_rule(name: str) -> Callable:
    """The experiment's ``runs_alone`` (every cell alone if it has none)."""
    return getattr(module(name), "runs_alone", lambda cell: True)
