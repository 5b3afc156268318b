"""What makes two measurements of a cell the same measurement.

A cell's identity is its parameters (:meth:`Cell.parameters`: experiment, implementation,
sizes, regime, variant, n_trials, seed, options, threads) plus the identity of the code
that measures it:

* ``kernels_rs``: SHA-256 of the installed extension's files (any change to the Rust
  code, its dependencies or its build flags changes the compiled library);
* ``tensorbench``: SHA-256 of the package's measuring code, i.e. every ``.py`` file of
  ``src/tensorbench`` except the presentation-only ones (:data:`PRESENTATION`: figures,
  tables, reports, findings, renders), so that a better caption does not invalidate hours
  of measurements while any change to a kernel wrapper, a timer or the worker does;
* the versions of Python and of every library a kernel runs in;

and the CPU that measures it (:func:`tensorbench.machine.cpu_signature`): a VM can report
one model name for CPUs generations apart, and a cell measured on one of them is not a
measurement of the other. The machine label names the microarchitecture, so most such
machines file their results apart; the signature in the identity makes sure that two that
still share a label (two SKUs of one generation behind one bare name) never mix cells:
a cell measured on the other is re-measured, like a cell of other code.

The git commit and dirty flag are recorded beside each cell (its provenance), not in
its identity: committing results, or editing the README, changes the commit but not
what a cell measures. A run whose cells come from several commits says so.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
from functools import cache
from pathlib import Path
from typing import Any

# Libraries whose version can change a timing (the kernels run in them or call them).
MEASURED_LIBRARIES = ("numpy", "numba", "llvmlite", "scipy", "pyttb", "opt_einsum", "pandas")

# File stems (or parts of them) of presentation-only modules: they read finished data.
PRESENTATION = (
    "report",
    "plotting",
    "tables",
    "render",
    "site",
    "findings",
    "figures",
    "estimate",
    "published",
    "provenance",
    "reproduce",
    "claims",
    "comparison",
)


def _sha256_files(files: list[Path], root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(files, key=lambda p: p.relative_to(root).as_posix()):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()


def is_presentation(path: Path) -> bool:
    """True for a module that only presents finished data (excluded from the identity)."""
    return any(word in path.stem for word in PRESENTATION)


def measuring_sources(package_dir: Path) -> list[Path]:
    """The package's ``.py`` files that take part in measuring a cell."""
    return [
        p
        for p in package_dir.rglob("*.py")
        if "__pycache__" not in p.parts and not is_presentation(p)
    ]


def package_sha256(package_dir: Path | None = None) -> str:
    package_dir = package_dir or Path(__file__).resolve().parents[1]
    return _sha256_files(measuring_sources(package_dir), package_dir)


def kernels_sha256() -> str | None:
    """SHA-256 of the installed ``kernels_rs`` (its package folder, or the extension file);
    None when it is not installed."""
    spec = importlib.util.find_spec("kernels_rs")
    if spec is None or spec.origin is None:
        return None
    origin = Path(spec.origin)
    if origin.name == "__init__.py" or spec.submodule_search_locations:
        folder = origin.parent
        files = [
            p
            for p in folder.rglob("*")
            if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
        ]
        return _sha256_files(files, folder)
    return _sha256_files([origin], origin.parent)


def library_versions() -> dict[str, str | None]:
    from tensorbench.environment import package_versions

    return package_versions(MEASURED_LIBRARIES)


@cache
def code_identity() -> dict[str, Any]:
    """The identity of the code that measures cells in this environment (cached: the
    code does not change while a run is going)."""
    from tensorbench import __version__

    return {
        "kernels_rs_sha256": kernels_sha256(),
        "tensorbench_version": __version__,
        "tensorbench_sha256": package_sha256(),
        "versions": library_versions(),
    }


@cache
def cpu_identity() -> dict[str, Any]:
    """The CPU that measures cells here (cached: it does not change during a run)."""
    from tensorbench.machine import cpu_signature

    return cpu_signature()


def cell_identity(
    cell, code: dict[str, Any] | None = None, cpu: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Everything that changes what ``cell`` measures."""
    return {
        "cell": cell.parameters(),
        "code": code if code is not None else code_identity(),
        "cpu": cpu if cpu is not None else cpu_identity(),
    }


def identity_hash(identity: dict[str, Any]) -> str:
    """A short stable digest of an identity (canonical JSON)."""
    text = json.dumps(identity, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def differences(old: dict[str, Any], new: dict[str, Any], prefix: str = "") -> list[str]:
    """The dotted keys whose values differ between two identities (for the run's log)."""
    keys = sorted(set(old) | set(new))
    changed = []
    for key in keys:
        a, b = old.get(key), new.get(key)
        name = f"{prefix}{key}"
        if isinstance(a, dict) and isinstance(b, dict):
            changed += differences(a, b, f"{name}.")
        elif a != b:
            changed.append(name)
    return changed
