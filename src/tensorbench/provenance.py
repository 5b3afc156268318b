"""The "where and how this was measured" paragraph every notebook ends with, written
from a run's metadata and its cells' provenance."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path


def _size(n: int) -> str:
    return f"{n >> 20} MiB" if n >= 1 << 20 else f"{n >> 10} KiB"


def cpu_text(signature: Mapping | None) -> str:
    """One CPU signature (``tensorbench.machine.cpu_signature``) in words."""
    if not signature:
        return "not recorded"
    caches = ", ".join(
        f"{level} {_size(size)}" for level, size in signature.get("cache_bytes", {}).items() if size
    )
    return (
        f"{signature.get('microarchitecture')} ({signature.get('vendor')} family "
        f"{signature.get('family')}, model {signature.get('model')}, stepping "
        f"{signature.get('stepping')}); per-core caches {caches or 'unknown'}; "
        f"vector ISA {', '.join(signature.get('isa', [])) or 'baseline'}"
    )


def cpu_line(signatures: Sequence[Mapping | None]) -> str:
    """The CPU the cells were measured on, or a warning that it was not recorded or that
    the cells come from several."""
    if not signatures or all(s is None for s in signatures):
        return (
            "**CPU:** not recorded with these cells (measured before the CPU signature was "
            "part of each cell's identity); the model name above is all that is known, and a "
            "VM may report one name for CPUs generations apart"
        )
    if len(signatures) == 1:
        return f"**CPU:** {cpu_text(signatures[0])}"
    return f"**CPU:** the cells come from {len(signatures)} CPUs: " + "; ".join(
        cpu_text(s) for s in signatures
    )


def describe(metadata: Mapping, data_dirs: Sequence[Path | str], notes: Sequence[str] = ()) -> str:
    """Markdown: machine, versions, kernels_rs build, threads, JOBS, commits and times,
    ``notes`` (experiment-specific lines), and where the raw data are."""
    machine = metadata.get("machine", {})
    versions = {k: v for k, v in metadata.get("versions", {}).items() if v}
    build = metadata.get("rust_build", {})
    commits = metadata.get("commits") or [metadata.get("git", {}).get("commit")]
    jobs = metadata.get("cell_jobs") or [1]
    lines = [
        f"**Machine:** {machine.get('cpu_model')}, {machine.get('logical_cpus')} logical CPUs, "
        f"{machine.get('memory_bytes', 0) / 2**30:.0f} GiB, {machine.get('os')}",
        cpu_line(metadata.get("cpu_signatures", [None])),
        "**Versions:** " + ", ".join(f"{k} {v}" for k, v in versions.items()),
        f"**kernels_rs build:** {build.get('cargo_profile')} (opt-level "
        f"{build.get('opt_level')}), {build.get('rustc')}, PyO3 {build.get('pyo3')}, "
        f"rust-numpy {build.get('rust_numpy')}",
        "**Threads:** every pool pinned to one thread in the workers ("
        + ", ".join(sorted(metadata.get("thread_settings_for_workers", {})))
        + ")",
        "**Cells at once (JOBS):** "
        + ", ".join(str(j) for j in jobs)
        + ("; side-by-side cells were pinned to a core each" if max(jobs) > 1 else ""),
        "**Measured by commit"
        + ("s" if len(commits) > 1 else "")
        + ":** "
        + ", ".join(str(c) for c in commits)
        + (
            f" (dirty working tree for {', '.join(metadata['dirty_commits'])})"
            if metadata.get("dirty_commits")
            else ""
        ),
        f"**Cells measured:** from {metadata.get('first_cell_started')} to "
        f"{metadata.get('last_cell_finished')}",
        *notes,
        "**Raw data and per-cell provenance:** " + ", ".join(f"`{d}`" for d in data_dirs),
    ]
    return "  \n".join(lines)
