"""What a result was measured on: machine, OS, library versions, build, threads, git."""

from __future__ import annotations

import datetime as _dt
import importlib.metadata
import os
import platform
import subprocess
import sys
from pathlib import Path

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


def cpu_model() -> str:
    """The CPU model name as the OS reports it."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    if sys.platform == "darwin":  # pragma: no cover - not our CI
        try:
            return subprocess.run(
                ["sysctl", "-n", "machdep.cpu.brand_string"],
                capture_output=True,
                text=True,
                check=True,
            ).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            pass
    return platform.processor() or platform.machine() or "unknown CPU"


def machine() -> dict:
    import psutil

    return {
        "cpu_model": cpu_model(),
        "logical_cpus": os.cpu_count(),
        "physical_cores": psutil.cpu_count(logical=False),
        "memory_bytes": psutil.virtual_memory().total,
        "os": platform.platform(),
        "architecture": platform.machine(),
        "hostname": platform.node(),
    }


def package_versions() -> dict[str, str | None]:
    versions = {"python": platform.python_version()}
    for name in PYTHON_PACKAGES:
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


def git_state(root: Path) -> dict:
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

    status = git("status", "--porcelain", "--untracked-files=no")
    return {"commit": git("rev-parse", "HEAD"), "dirty": None if status is None else bool(status)}


def now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


def snapshot(root: Path) -> dict:
    """Everything a reader needs to know about where and how a run was made."""
    from tensorbench import paths, threads

    return {
        "machine_label": paths.machine_label(),
        "machine": machine(),
        "versions": package_versions(),
        "rust_build": rust_build(),
        "thread_settings_for_workers": {k: "1" for k in threads.THREAD_VARIABLES},
        "git": git_state(root),
    }
