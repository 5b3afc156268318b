"""What a result was measured on: machine, OS, library versions, build, threads, git."""

from __future__ import annotations

import datetime as _dt
import importlib.metadata
import platform
import subprocess
from pathlib import Path

from tensorbench.machine import cpu_model, machine, machine_label

__all__ = ["cpu_model", "machine", "machine_label"]

PYTHON_PACKAGES = (
    "numpy",
    "numba",
    "llvmlite",
    "scipy",
    "pyttb",
    "pandas",
    "matplotlib",
    "opt_einsum",
    "papermill",
    "maturin",
    "kernels_rs",
)


def package_versions(names: tuple[str, ...] = PYTHON_PACKAGES) -> dict[str, str | None]:
    """Python's version and each installed package's (None when it is not installed)."""
    versions = {"python": platform.python_version()}
    for name in names:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def rust_build() -> dict:
    """``kernels_rs.build_info()``, or the import error if it is not built."""
    try:
        from tensorbench.build import build_info

        return build_info()
    except ImportError as exc:
        return {"error": str(exc)}


# What a run writes: a working tree that differs from its commit only here is not dirty
# (a run resumed after committing part of its results rewrites raw.csv and metadata.json).
OUTPUT_PATHS = ("data/results", "figures", "executed")


def git_state(root: Path) -> dict:
    """The commit, and whether tracked files other than the outputs differ from it."""

    def git(*args: str) -> str | None:
        try:
            return subprocess.run(
                ["git", *args],
                cwd=root,
                capture_output=True,
                text=True,
                check=True,
                timeout=10,
            ).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return None

    excluded = [f":(exclude){path}" for path in OUTPUT_PATHS]
    status = git("status", "--porcelain", "--untracked-files=no", "--", ".", *excluded)
    return {"commit": git("rev-parse", "HEAD"), "dirty": None if status is None else bool(status)}


def now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


def snapshot(root: Path) -> dict:
    """Everything a reader needs to know about where and how a run was made."""
    from tensorbench import threads

    return {
        "machine_label": machine_label(),
        "machine": machine(),
        "versions": package_versions(),
        "rust_build": rust_build(),
        "thread_settings_for_workers": {k: "1" for k in threads.THREAD_VARIABLES},
        "git": git_state(root),
    }
