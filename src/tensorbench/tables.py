"""Tables as Markdown (for notebooks and the README) and CSV (for machines)."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from tensorbench import results


def format_value(value) -> str:
    """Numbers in 3 significant digits (scientific when very small or large)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if isinstance(value, float) and math.isnan(value):
        return "–"
    if isinstance(value, int):
        return f"{value:,}" if abs(value) >= 10_000 else str(value)
    if value != 0 and (abs(value) < 1e-2 or abs(value) >= 1e5):
        return f"{value:.3g}".replace("e-0", "e-").replace("e+0", "e+").replace("e+", "e")
    return f"{value:.3g}"


def to_markdown(frame: pd.DataFrame) -> str:
    """A GitHub-flavoured Markdown table of ``frame`` (index dropped)."""
    header = "| " + " | ".join(str(c) for c in frame.columns) + " |"
    rule = "|" + "|".join("---" for _ in frame.columns) + "|"
    body = [
        "| " + " | ".join(format_value(v) for v in row) + " |"
        for row in frame.itertuples(index=False, name=None)
    ]
    return "\n".join([header, rule, *body])


def write(frame: pd.DataFrame, out_dir: Path, stem: str, title: str = "") -> dict[str, Path]:
    """Write ``stem.csv`` (full precision) and ``stem.md`` (rounded, with a title)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    csv_path, md_path = out_dir / f"{stem}.csv", out_dir / f"{stem}.md"
    results.atomic_write_csv(csv_path, frame)
    text = (f"{title}\n\n" if title else "") + to_markdown(frame) + "\n"
    results.atomic_write_text(md_path, text)
    return {"csv": csv_path, "md": md_path}
