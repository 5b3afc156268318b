"""Do cells measured side by side (JOBS > 1) agree with the same cells measured serially?

Compares two recorded runs of one profile, filed under two machine labels (the serial
run under the machine's own label, the side-by-side one under e.g. ``<label>-jobs2``,
set with ``TENSORBENCH_MACHINE``). For every sample set present in both, the medians and
their 95% confidence intervals: distribution-free (binomial order statistics) where there
are enough samples for one, otherwise the t-interval of the mean, and says which. Two runs
*agree* on a sample set when the intervals overlap.

Sample sets: the later calls of every timed cell; the net per-call seconds of each
call-overhead probe, pooled over its processes; each first-call stage, pooled over repeats.

``python -m tensorbench.jobs_report --serial LABEL --parallel LABEL --profile quick``
writes ``data/results/<parallel>/<profile>/jobs_agreement.csv`` and ``.json`` (the summary
the README shows).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from tensorbench import paths, results, stats
from tensorbench.experiments import registry
from tensorbench.harness.store import CellStore


def _interval(values: np.ndarray) -> tuple[float, float, str]:
    low, high = stats.median_ci(values)
    if np.isfinite(low) and np.isfinite(high):
        return low, high, "median"
    if len(values) < 2:
        return float("nan"), float("nan"), "none"
    half = stats._ci_halfwidth(values)
    mean = float(np.mean(values))
    return mean - half, mean + half, "mean"


def samples(machine: str, profile: str, root: Path | None = None) -> dict[tuple, dict]:
    """{(cell set, sample set): {"values": array, "ran_alone": bool}} of one recorded run."""
    base = paths.run_dir("data", profile, root, machine)
    out: dict[tuple, dict] = {}
    for module in registry.modules():
        for set_name, cells in module.cell_sets(profile).items():
            store = CellStore(base / set_name)
            for cell in cells:
                path = store.rows_path(cell)
                if not path.exists():
                    continue
                rows = pd.read_csv(path)
                alone = bool(store.provenance(cell).get("ran_alone", True))
                groups: dict[str, np.ndarray] = {}
                if "seconds" in rows and "is_first_call" in rows:
                    later = rows[~rows["is_first_call"].astype(bool)]
                    groups[cell.cell_id] = later["seconds"].to_numpy(float)
                elif "probe" in rows:
                    for probe, group in rows.groupby("probe"):
                        groups[f"probe {probe}"] = group["net_seconds"].to_numpy(float)
                elif "stage" in rows:
                    for (scenario, stage), group in rows.groupby(["scenario", "stage"]):
                        groups[f"{scenario} {stage}"] = group["seconds"].to_numpy(float)
                for key, values in groups.items():
                    entry = out.setdefault((set_name, key), {"values": [], "ran_alone": alone})
                    entry["values"].append(values)
                    entry["ran_alone"] = entry["ran_alone"] and alone
    return {
        k: {"values": np.concatenate(v["values"]), "ran_alone": v["ran_alone"]}
        for k, v in out.items()
    }


def compare(serial: str, parallel: str, profile: str, root: Path | None = None) -> pd.DataFrame:
    """One row per sample set measured in both runs."""
    a, b = samples(serial, profile, root), samples(parallel, profile, root)
    rows = []
    for key in sorted(set(a) & set(b)):
        x, y = a[key]["values"], b[key]["values"]
        lo_x, hi_x, basis_x = _interval(x)
        lo_y, hi_y, basis_y = _interval(y)
        overlap = bool(lo_x <= hi_y and lo_y <= hi_x) if basis_x != "none" != basis_y else None
        rows.append(
            {
                "cell_set": key[0],
                "samples_of": key[1],
                "n_serial": len(x),
                "n_parallel": len(y),
                "median_serial_s": float(np.median(x)),
                "median_parallel_s": float(np.median(y)),
                "parallel_over_serial": float(np.median(y) / np.median(x))
                if np.median(x)
                else float("nan"),
                "ci95_low_serial_s": lo_x,
                "ci95_high_serial_s": hi_x,
                "ci95_low_parallel_s": lo_y,
                "ci95_high_parallel_s": hi_y,
                "interval_of": basis_x if basis_x == basis_y else f"{basis_x}/{basis_y}",
                "ran_alone_in_parallel_run": b[key]["ran_alone"],
                "agree": overlap,
            }
        )
    return pd.DataFrame(rows)


def summary(table: pd.DataFrame, serial: str, parallel: str, profile: str) -> dict:
    side = table[~table["ran_alone_in_parallel_run"]] if len(table) else table
    alone = table[table["ran_alone_in_parallel_run"]] if len(table) else table
    judged = side[side["agree"].notna()] if len(side) else side
    disagree = judged[~judged["agree"].astype(bool)] if len(judged) else judged
    return {
        "serial": serial,
        "parallel": parallel,
        "profile": profile,
        "sample_sets": len(table),
        "side_by_side_sample_sets": len(side),
        "side_by_side_judged": len(judged),
        "side_by_side_agree": int(len(judged) - len(disagree)),
        "side_by_side_disagree": [
            {
                "cell_set": r.cell_set,
                "samples_of": r.samples_of,
                "parallel_over_serial": round(float(r.parallel_over_serial), 3),
            }
            for r in disagree.itertuples(index=False)
        ],
        "median_ratio_side_by_side": float(side["parallel_over_serial"].median())
        if len(side)
        else float("nan"),
        # The control: cells that had the machine to themselves in the JOBS > 1 run. A
        # shift they share is a difference between the two runs, not the neighbour's doing.
        "alone_sample_sets": len(alone),
        "alone_agree": int(alone["agree"].fillna(False).astype(bool).sum()) if len(alone) else 0,
        "median_ratio_alone": float(alone["parallel_over_serial"].median())
        if len(alone)
        else float("nan"),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--serial", required=True)
    parser.add_argument("--parallel", required=True)
    parser.add_argument("--profile", default="quick")
    parser.add_argument("--results-root", type=Path, default=None)
    args = parser.parse_args(argv)
    table = compare(args.serial, args.parallel, args.profile, args.results_root)
    out_dir = paths.run_dir("data", args.profile, args.results_root, args.parallel)
    results.atomic_write_csv(out_dir / "jobs_agreement.csv", table)
    found = summary(table, args.serial, args.parallel, args.profile)
    results.atomic_write_text(out_dir / "jobs_agreement.json", json.dumps(found, indent=2) + "\n")
    print(json.dumps(found, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
