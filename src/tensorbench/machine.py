"""This machine: its CPU, memory and OS, and the short label every result is filed under."""

from __future__ import annotations

import contextlib
import os
import platform
import re
import subprocess
import sys

from tensorbench import microarchitecture

MACHINE_VARIABLE = "TENSORBENCH_MACHINE"


# Vector and matrix extensions that change how fast a kernel can run.
ISA_FLAGS = ("avx", "avx2", "fma", "avx512f", "avx512bw", "avx512vl", "avx512_vnni", "amx_tile")


def _cpuinfo() -> dict[str, str]:
    """The first processor's fields of /proc/cpuinfo (empty where there is none)."""
    fields: dict[str, str] = {}
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if not line.strip():
                    break
                key, _, value = line.partition(":")
                fields.setdefault(key.strip().lower(), value.strip())
    except OSError:
        pass
    return fields


def cpu_model() -> str:
    """The CPU model name as the OS reports it."""
    model = _cpuinfo().get("model name")
    if model:
        return model
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


def _number(text: str | None) -> int | None:
    try:
        return int(text) if text is not None else None
    except ValueError:
        return None


def cpu_signature() -> dict:
    """What tells this CPU apart from another that reports the same model name: vendor,
    family, model and stepping (CPUID, which a VM passes through), the microarchitecture
    they name, the cache sizes, the vector extensions and the logical CPU count. Two
    machines with the same signature are the same kind of machine for a measurement."""
    info = _cpuinfo()
    family, model = _number(info.get("cpu family")), _number(info.get("model"))
    stepping = _number(info.get("stepping"))
    vendor = info.get("vendor_id", "")
    flags = set(info.get("flags", "").split())
    return {
        "vendor": vendor,
        "family": family,
        "model": model,
        "stepping": stepping,
        "microarchitecture": microarchitecture.name(vendor, family, model, stepping),
        "cache_bytes": {f"L{level}": cache_bytes(level, 0) for level in (1, 2, 3)},
        "isa": [flag for flag in ISA_FLAGS if flag in flags],
        "logical_cpus": os.cpu_count(),
    }


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
        "cpu_signature": cpu_signature(),
    }


def slugify(text: str) -> str:
    """Lower-case, alphanumerics and single dashes."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "unknown"


def machine_label() -> str:
    """A short, stable label of this machine: CPU model, microarchitecture and logical CPU
    count (``amd-epyc-zen3-2cpu``). The microarchitecture is part of it because a VM may
    report one bare model name for CPUs generations apart.

    ``TENSORBENCH_MACHINE`` overrides it (e.g. to keep two identical hosts apart).
    """
    if os.environ.get(MACHINE_VARIABLE):
        return slugify(os.environ[MACHINE_VARIABLE])
    cpu = cpu_model()
    cpu = re.sub(r"\((r|tm)\)|\bprocessor\b|\bcpu\b|@.*$", " ", cpu, flags=re.IGNORECASE)
    uarch = cpu_signature()["microarchitecture"]
    parts = [slugify(cpu)] + ([uarch] if uarch != "unknown" else []) + [f"{os.cpu_count()}cpu"]
    return "-".join(parts)


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
