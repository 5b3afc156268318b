"""Single-core memory bandwidth against working-set size (issue 11): the physical limit
every runtime figure draws, measured as an upper bound.

Cell set ``bandwidth-curve``: one cell per STREAM kernel (read, copy, triad:
``kernels_rs.stream_bandwidth``) and working-set size (16 KiB to 1 GiB in the paper
profile), each timing every variant the profile lists (streams x unroll); a cell's rate is
its fastest variant's fastest timing. Small working sets repeat passes inside a timing so
that each timing lasts at least ``min_seconds``. Bytes are counted as STREAM counts them
(write-allocate not counted). Cell set ``bandwidth-numpy``: one cell that measures
``kernels_rs.read_bandwidth()`` beside ``np.sum`` and ``np.dot`` in one process
(:func:`tensorbench.bandwidth.numpy_read_rates`). Every cell runs alone.

The curve's levels and plateaus, and the bound of a kernel cell, are in
:mod:`tensorbench.experiments.bandwidth_levels`; the roofline figure in
:mod:`tensorbench.experiments.roofline`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from tensorbench.experiments import bandwidth_levels
from tensorbench.experiments.registry import Notebook
from tensorbench.findings import Finding, verdict
from tensorbench.harness.cell import Cell

EXPERIMENT = "bandwidth"
NOTEBOOKS = (Notebook("roofline"),)
CURVE_SET = "bandwidth-curve"
NUMPY_SET = "bandwidth-numpy"
KERNELS = ("read", "copy", "triad")
NUMPY_COMPARISON = "numpy_comparison"
CURVE_COLUMNS = [
    "experiment",
    "implementation",
    "n1",
    "kernel",
    "streams",
    "unroll",
    "isa",
    "working_set_bytes",
    "bytes_per_pass",
    "write_allocate_bytes",
    "passes_per_timing",
    "timing",
    "seconds",
    "is_first_call",
]
NUMPY_COLUMNS = ["experiment", "implementation", "n1", "reader", "bytes_per_second"]


def sizes_between(low: int, high: int, per_doubling: int) -> list[int]:
    """Working-set sizes from ``low`` to ``high`` bytes, ``per_doubling`` points per
    factor of two, rounded to whole 64-byte cache lines (triad rounds its three arrays
    down to whole elements; the records keep the size measured)."""
    if not 0 < low <= high or per_doubling < 1:
        raise ValueError(f"need 0 < low <= high and per_doubling >= 1, got {low}, {high}")
    steps = round(math.log2(high / low) * per_doubling)
    unit = 64
    sizes = {
        max(unit, round(low * 2 ** (i / per_doubling) / unit) * unit) for i in range(steps + 1)
    }
    return sorted(sizes)


def params(profile: str) -> dict:
    from tensorbench import profiles

    return profiles.section(profile, EXPERIMENT)


def curve_cells(p: dict) -> list[Cell]:
    sizes = sizes_between(int(p["min_bytes"]), int(p["max_bytes"]), int(p["per_doubling"]))
    options = {
        "streams": [int(s) for s in p["streams"]],
        "unroll": [int(u) for u in p["unroll"]],
        "min_seconds": float(p["min_seconds"]),
    }
    return [
        Cell(EXPERIMENT, kernel, n, n_trials=int(p["repeats"]), seed=0, options=options)
        for kernel in p["kernels"]
        for n in sizes
    ]


def numpy_cells(p: dict) -> list[Cell]:
    n = int(p["numpy_bytes"])
    return [Cell(EXPERIMENT, NUMPY_COMPARISON, n, n_trials=int(p["repeats"]), seed=0)]


def cell_sets(profile: str) -> dict[str, list[Cell]]:
    p = params(profile)
    return {CURVE_SET: curve_cells(p), NUMPY_SET: numpy_cells(p)}


def runs_alone(cell: Cell) -> bool:
    """Every cell: a bandwidth probe shares nothing well."""
    return True


def cell_work(cell: Cell) -> float:
    """What a cell's time grows with, for run-time estimates: its bytes, at least the
    minimum time's worth (small working sets repeat passes)."""
    variants = len(cell.options.get("streams", [1])) * len(cell.options.get("unroll", [1]))
    return float(max(cell.n1, 1)) * variants


def measure(cell: Cell) -> dict:
    """The cell's records (one row per variant and timing, ``seconds`` per pass) and the
    cache sizes of the machine that measured them."""
    if cell.implementation == NUMPY_COMPARISON:
        from tensorbench.bandwidth import numpy_read_rates

        rates = numpy_read_rates(cell.n1, cell.n_trials, cell.seed)
        records = [
            {
                "experiment": EXPERIMENT,
                "implementation": cell.implementation,
                "n1": cell.n1,
                "reader": reader,
                "bytes_per_second": rates[reader],
            }
            for reader in ("numpy_sum", "numpy_dot", "read_bandwidth")
        ]
        return {"records": records, "extra": {"numpy_comparison": rates}}
    from tensorbench.build import release_kernels

    kernels = release_kernels()
    records = []
    for streams in cell.options["streams"]:
        for unroll in cell.options["unroll"]:
            r = kernels.stream_bandwidth(
                cell.implementation,
                cell.n1,
                cell.n_trials,
                streams=streams,
                unroll=unroll,
                min_seconds=cell.options["min_seconds"],
            )
            for i, seconds in enumerate(r["seconds"]):
                records.append(
                    {
                        "experiment": EXPERIMENT,
                        "implementation": cell.implementation,
                        "n1": cell.n1,
                        **{k: r[k] for k in CURVE_COLUMNS[3:11]},
                        "timing": i,
                        "seconds": seconds / r["passes_per_timing"],
                        "is_first_call": False,
                    }
                )
    return {"records": records, "extra": {"cache_bytes": bandwidth_levels.machine_cache_bytes()}}


# --- reading a run back -----------------------------------------------------------------


@dataclass
class BandwidthRun:
    """A finished run: the curve's raw timings, the NumPy comparison, the caches."""

    profile: str
    raw: pd.DataFrame
    numpy: pd.DataFrame
    metadata: dict
    caches: dict
    data_dir: Path
    figures_dir: Path | None

    @property
    def curve(self) -> pd.DataFrame:
        return best_curve(self.raw)

    def caption(self) -> str:
        from tensorbench import plotting

        text = plotting.caption(self.metadata, self.profile, statistic="fastest timing")
        return text.replace(", bars: 95% CI", " over every variant of each kernel")


def best_curve(raw: pd.DataFrame) -> pd.DataFrame:
    """Per kernel and working-set size: the fastest timing of any variant, as bytes per
    second (STREAM's count), with the variant that reached it."""
    if raw.empty:
        return pd.DataFrame(
            columns=["kernel", "working_set_bytes", "bytes_per_second", "streams", "unroll"]
        )
    rates = raw.assign(bytes_per_second=raw["bytes_per_pass"] / raw["seconds"])
    best = rates.loc[rates.groupby(["kernel", "working_set_bytes"])["bytes_per_second"].idxmax()]
    columns = ["kernel", "working_set_bytes", "bytes_per_second", "streams", "unroll", "isa"]
    return best[columns].sort_values(["kernel", "working_set_bytes"]).reset_index(drop=True)


def run_set(profile: str, set_name: str, results_root=None):
    """Run (or resume) one cell set; returns its raw frame."""
    from tensorbench import paths
    from tensorbench.harness.runner import run_cells

    columns = CURVE_COLUMNS if set_name == CURVE_SET else NUMPY_COLUMNS
    data_dir = paths.run_dir("data", profile, results_root) / set_name
    description = {
        "experiment": EXPERIMENT,
        "cell_set": set_name,
        "profile": profile,
        "parameters": params(profile),
    }
    return run_cells(
        cell_sets(profile)[set_name], data_dir, description=description, columns=columns
    )


def run(profile: str, results_root: str | None = None) -> BandwidthRun:
    """Run (or resume) both cell sets of ``profile`` and read them back."""
    for set_name in (CURVE_SET, NUMPY_SET):
        run_set(profile, set_name, results_root)
    found = load(profile, results_root)
    if found is None:  # pragma: no cover - run_cells raised already
        raise RuntimeError("the bandwidth run left no data")
    return found


def load(profile: str, results_root: str | None = None) -> BandwidthRun | None:
    """A finished run read back from disk (None if the curve has no data)."""
    from tensorbench import paths

    base = paths.run_dir("data", profile, results_root)
    return load_dir(base, profile, paths.run_dir("figures", profile, results_root))


def load_dir(base: Path, profile: str, figures_dir: Path | None = None) -> BandwidthRun | None:
    """The run whose cell sets are folders of ``base`` (a machine's profile folder under
    data/results), or None if the curve has no data."""
    from tensorbench import results

    raw = results.load_raw(base / CURVE_SET)
    if raw.empty or "bytes_per_pass" not in raw:
        return None
    numpy_raw = results.load_raw(base / NUMPY_SET)
    if "reader" not in numpy_raw:
        numpy_raw = pd.DataFrame(columns=NUMPY_COLUMNS)
    metadata = results.read_json(base / CURVE_SET / "metadata.json")
    extras = metadata.get("cell_extra", {}).values()
    caches = next((e["cache_bytes"] for e in extras if "cache_bytes" in e), None)
    return BandwidthRun(
        profile=profile,
        raw=raw,
        numpy=numpy_raw,
        metadata=metadata,
        caches=caches or bandwidth_levels.machine_cache_bytes(),
        data_dir=base / CURVE_SET,
        figures_dir=figures_dir,
    )


def plateau_table(run: BandwidthRun) -> pd.DataFrame:
    """Every kernel's plateau per level (GB/s), from the run's curve and caches."""
    all_levels = bandwidth_levels.levels(run.caches)
    curve = run.curve
    frames = [
        bandwidth_levels.plateaus(curve, all_levels, kernel)
        for kernel in KERNELS
        if kernel in set(curve["kernel"])
    ]
    if not frames:
        return pd.DataFrame(columns=["kernel", "level", "points", "GB/s"])
    table = pd.concat(frames, ignore_index=True)
    return table.assign(**{"GB/s": table["bytes_per_second"] / 1e9})


# --- findings ---------------------------------------------------------------------------


def size_text(n_bytes: float) -> str:
    """'48 KiB', '2 MiB', '1 GiB': the largest binary unit that keeps the number >= 1."""
    for unit, size in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n_bytes >= size:
            return f"{n_bytes / size:g} {unit}"
    return f"{n_bytes:g} B"


def recorded_findings(profile: str, results_root: str | None = None) -> list[Finding]:
    run = load(profile, results_root)
    return findings(run) if run is not None else []


def numpy_finding(run: BandwidthRun) -> Finding | None:
    """read_bandwidth() against NumPy's sum and dot, measured in one process."""
    if run.numpy.empty:
        return None
    rates = dict(zip(run.numpy["reader"], run.numpy["bytes_per_second"], strict=True))
    best = max(rates["numpy_sum"], rates["numpy_dot"])
    ratio = rates["read_bandwidth"] / best
    from tensorbench.bandwidth import TARGET

    held = ratio >= TARGET
    n_bytes = int(run.numpy["n1"].iloc[0])
    return Finding(
        EXPERIMENT,
        f"kernels_rs.read_bandwidth() on {size_text(n_bytes)} read at "
        f"{rates['read_bandwidth'] / 1e9:.1f} GB/s; in the same process np.sum read at "
        f"{rates['numpy_sum'] / 1e9:.1f} GB/s and np.dot of two arrays at "
        f"{rates['numpy_dot'] / 1e9:.1f} GB/s: {ratio:.2f}x the faster "
        f"({'meets' if held else 'does NOT meet'} the {TARGET:g}x target).",
        claim=f"read_bandwidth() >= {TARGET:g}x the best of np.sum and np.dot",
        value=f"{ratio:.2f}x",
        published=f">= {TARGET:g}x",
        verdict=verdict(held),
    )


def findings(run: BandwidthRun) -> list[Finding]:
    out = []
    numpy = numpy_finding(run)
    if numpy is not None:
        out.append(numpy)
    table = plateau_table(run)
    for kernel, rows in table.groupby("kernel", sort=False):
        parts = [
            f"{r.level} {r.bytes_per_second / 1e9:.1f} GB/s"
            if r.points
            else f"{r.level} not measured"
            for r in rows.itertuples(index=False)
        ]
        out.append(
            Finding(
                EXPERIMENT,
                f"Plateaus of the {kernel} curve (best rate per level): " + ", ".join(parts) + ".",
            )
        )
    caches = ", ".join(f"{name} {size_text(size)}" for name, size in sorted(run.caches.items()))
    out.append(
        Finding(
            EXPERIMENT,
            f"Levels from the measuring machine's caches ({caches}); each level's "
            f"plateau from {bandwidth_levels.DRAM_FACTOR}x the level before (DRAM: from "
            f"{bandwidth_levels.LAST_CACHE_FACTOR}x the last cache, or the largest size "
            "measured if the curve stops short of it), since just beyond a cache part of the "
            "data still hits in it.",
        )
    )
    return out
