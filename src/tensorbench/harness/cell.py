"""One measurement of an experiment: an implementation at one size, with its parameters."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Cell:
    """One (implementation, size) measurement of an experiment.

    Everything that changes what a cell measures is a field, so that a cell's
    :meth:`parameters` (with the code identity, see :mod:`tensorbench.harness.identity`)
    say exactly what was measured.
    """

    experiment: str
    implementation: str
    n1: int
    n2: int = 0
    regime: str = ""
    variant: str = ""  # e.g. a real tensor's name and mode; part of the cell's identity
    n_trials: int = 30
    seed: int = 0
    options: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)
    threads: int = 1  # threads the kernel may use; 1 unless an experiment is about threads

    @property
    def size(self) -> int:
        """The number of input elements the kernel reads (vector length or n1 * n2)."""
        return self.n1 * self.n2 if self.n2 else self.n1

    @property
    def cell_id(self) -> str:
        """The cell's file name in its run folder: readable, unique within a cell set."""
        dims = f"{self.n1}x{self.n2}" if self.n2 else f"{self.n1}"
        variant = f"__{self.variant}" if self.variant else ""
        threads = f"__t{self.threads}" if self.threads != 1 else ""
        return f"{self.implementation}__{dims}{variant}{threads}"

    def label(self) -> str:
        regime = f"/{self.regime}" if self.regime else ""
        dims = f"{self.n1} x {self.n2}" if self.n2 else f"n={self.n1}"
        variant = f" [{self.variant}]" if self.variant else ""
        threads = f" {self.threads} threads" if self.threads != 1 else ""
        return f"{self.experiment}{regime} {self.implementation} {dims}{variant}{threads}"

    def parameters(self) -> dict[str, Any]:
        """Every field, as JSON-compatible data (the worker's argument, part of the identity)."""
        return asdict(self)
