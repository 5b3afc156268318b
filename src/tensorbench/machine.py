"""This machine: its CPU, memory and OS, and the short label every result is filed under."""

from __future__ import annotations

import contextlib
import os
import platform
import re
import subprocess
import sys

MACHINE_VARIABLE = "TENSORBENCH_MACHINE"


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


def slugify(text: str) -> str:
    """Lower-case, alphanumerics and single dashes."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "unknown"


def machine_label() -> str:
    """A short, stable label of this machine: CPU model and logical CPU count.

    ``TENSORBENCH_MACHINE`` overrides it (e.g. to keep two identical hosts apart).
    """
    if os.environ.get(MACHINE_VARIABLE):
        return slugify(os.environ[MACHINE_VARIABLE])
    cpu = cpu_model()
    cpu = re.sub(r"\((r|tm)\)|\bprocessor\b|\bcpu\b|@.*$", " ", cpu, flags=re.IGNORECASE)
    return f"{slugify(cpu)}-{os.cpu_count()}cpu"


def cache_bytes(level: int, default: int) -> int:
    """The size of the level-``level`` data (or unified) cache of CPU 0, from sysfs;
    ``default`` where the OS does not say."""
    root = "/sys/devices/system/cpu/cpu0/cache"
    try:
        entries = sorted(os.listdir(root))
    except OSError:
        return default
    for entry in entries:
        folder = os.path.join(root, entry)
        try:
            with open(os.path.join(folder, "level"), encoding="utf-8") as fh:
                if int(fh.read()) != level:
                    continue
            with open(os.path.join(folder, "type"), encoding="utf-8") as fh:
                if fh.read().strip() == "Instruction":
                    continue
            with open(os.path.join(folder, "size"), encoding="utf-8") as fh:
                text = fh.read().strip().upper()
        except (OSError, ValueError):
            continue
        units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
        if text and text[-1] in units:
            return int(text[:-1]) * units[text[-1]]
        if text.isdigit():
            return int(text)
    return default


@contextlib.contextmanager
def reading(label: str):
    """Within the block, every path names machine ``label`` (read another machine's data
    through ``TENSORBENCH_MACHINE``, which every path honours)."""
    previous = os.environ.get(MACHINE_VARIABLE)
    os.environ[MACHINE_VARIABLE] = label
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(MACHINE_VARIABLE, None)
        else:
            os.environ[MACHINE_VARIABLE] = previous
