"""Tables: CSV for machines (full precision, internal column names) and Markdown/HTML
for readers (names a reader knows, one unit per column, digits the CI supports).

A column is a time when its name ends in a unit (``_s``, ``_ms``, ``_us``, ``_ns``) or the
caller says so (``time_columns``). Its reader's version is in the one unit (s, ms, µs or
ns) that keeps every value of the column at 1 or more, named in the header. A value with
a 95% CI (columns ``<x>ci95_low<y>``/``<x>ci95_high<y>`` beside ``<x>mean<y>`` or
``<x>median<y>``, or given as ``ci``) is written down to the decimal of the CI
half-width's leading digit, and its CI becomes one "low – high" column in the same unit;
other numbers get 3 significant digits, in one notation per column.
"""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from tensorbench import results

# Seconds per unit, for suffixes of internal names and ``time_columns``.
UNIT_SECONDS = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9}
# The units a reader's column can be in, largest first.
READER_UNITS = (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6), ("ns", 1e-9))
MISSING = "–"
# Columns of ``stats.summarize`` (and raw rows) that hold seconds without saying so.
SUMMARY_SECONDS = (
    "seconds",
    "mean",
    "median",
    "std",
    "min",
    "max",
    "q25",
    "q75",
    "ci95",
    "ci95_low",
    "ci95_high",
    "first_call",
    "first_call_overhead",
)

# Internal names (without a unit suffix) -> what a reader calls them.
READER_NAMES: dict[str, str] = {
    # implementations (the figures' labels, shortened)
    "python": "Python",
    "numba": "Numba",
    "rust": "Rust",
    "rust_from_python": "Rust from Python",
    "numpy": "NumPy",
    "rust_tuned": "Rust, tuned",
    "rust_from_python_tuned": "Rust from Python, tuned",
    "rust_all_cores": "Rust from Python, every core",
    "native": "kernels_rs.cp_als",
    "pyttb": "pyttb",
    "numpy_einsum": "NumPy einsum",
    "numpy_matmul": "NumPy matmul",
    "opt_einsum": "opt_einsum",
    "scipy_zgemm": "SciPy zgemm",
    "scipy_zgemm_conj_copy": "SciPy zgemm + conj copy",
    "rust_from_python_out": "Rust from Python, out=",
    "rust_from_python_chain": "Rust from Python, whole chain",
    "read_bandwidth": "read bandwidth",
    # here vs the paper
    "rust_from_python_here": "Rust from Python, here",
    "rust_from_python_paper": "Rust from Python, paper",
    "numba_here": "Numba, here",
    "numba_paper": "Numba, paper",
    # sizes and identities
    "size": "n",
    "n": "n",
    "chi": "bond dimension χ",
    "nnz": "nonzeros",
    "case": "case",
    "table": "table",
    "implementation": "implementation",
    "variant": "variant",
    "regime": "regime",
    "trial": "trial",
    "label": "call",
    "probe": "probe",
    "step": "step",
    "bar": "kind of call",
    "scenario": "scenario",
    "stage": "stage",
    "timed_in": "timed in",
    "processes": "processes",
    "samples": "samples",
    "calls_per_sample": "calls per sample",
    "input_bytes": "input (bytes)",
    # statistics
    "mean": "mean",
    "median": "median",
    "min": "min",
    "max": "max",
    "std": "std. dev.",
    "n_trials": "trials",
    "n_calls": "later calls",
    "ci95": "95% CI half-width",
    "seconds": "time",
    "q25": "25th percentile",
    "q75": "75th percentile",
    "first_call": "first call",
    "first_call_overhead": "first-call overhead",
    "raw_median": "median per call, raw",
    "loop_median": "median of the empty loop",
    "net_median": "median per call, net of the loop",
    "net_min": "min per call, net",
    "process_median_low": "lowest process median",
    "process_median_high": "highest process median",
    "relative_error": "relative error",
    "ratio": "ratio",
    "python_median": "median, Python",
    "rust_median": "median, Rust",
}

_UNIT_SUFFIX = re.compile(r"^(?P<base>.*)_(?P<unit>s|ms|us|ns)$")
# "numpy_einsum (us)" or "published: ... mean (us, other machine)"
_UNIT_IN_PARENS = re.compile(
    r"^(?P<base>.*?)\s*\((?P<unit>s|ms|us|µs|ns)(?:,\s*(?P<rest>[^)]*))?\)$"
)
_SPEEDUP_SUFFIX = re.compile(r"^(?P<base>.*)_x$")


def format_value(value) -> str:
    """Numbers in 3 significant digits (scientific when very small or large)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if isinstance(value, float) and math.isnan(value):
        return MISSING
    if isinstance(value, int):
        return f"{value:,}" if abs(value) >= 10_000 else str(value)
    if value != 0 and (abs(value) < 1e-2 or abs(value) >= 1e5):
        return f"{value:.3g}".replace("e-0", "e-").replace("e+0", "e+").replace("e+", "e")
    return f"{value:.3g}"


def to_markdown(frame: pd.DataFrame) -> str:
    """A GitHub-flavoured Markdown table of ``frame`` as it is (index dropped); for the
    reader's version see :func:`reader_markdown`."""
    header = "| " + " | ".join(str(c) for c in frame.columns) + " |"
    rule = "|" + "|".join("---" for _ in frame.columns) + "|"
    body = [
        "| " + " | ".join(format_value(v) for v in row) + " |"
        for row in frame.itertuples(index=False, name=None)
    ]
    return "\n".join([header, rule, *body])


# --- the reader's version ----------------------------------------------------------


def reader_name(column: str, names: Mapping[str, str] | None = None) -> str:
    """What a reader calls ``column`` (without its unit): ``names``, then
    :data:`READER_NAMES`, then the identifier with spaces."""
    names = names or {}
    if column in names:
        return names[column]
    if column in UNIT_SECONDS:  # a bare unit: the column is "the time"
        return "time"
    parens = _UNIT_IN_PARENS.match(column)
    if parens:
        rest = f" ({parens['rest']})" if parens["rest"] else ""
        return reader_name(parens["base"], names) + rest
    match = _UNIT_SUFFIX.match(column)
    base = match["base"] if match else column
    if base in names:
        return names[base]
    if base in READER_NAMES:
        return READER_NAMES[base]
    speedup = _SPEEDUP_SUFFIX.match(column)
    if speedup:
        base = speedup["base"]
        if "_vs_" in base:  # "python_vs_pyttb_x": a ratio of two implementations
            left, right = base.split("_vs_", 1)
            return f"{reader_name(left, names)} vs {reader_name(right, names)} (×)"
        if base.startswith("speedup"):
            return f"{base.replace('_', ' ')} (×)"
        return f"{reader_name(base, names)}, speedup (×)"
    return base.replace("_", " ")


def _time_unit(column: str, time_columns: Mapping[str, str | None]) -> float | None:
    """Seconds per unit of a time column's values, or None if it is not a time."""
    if column in time_columns:
        unit = time_columns[column]
        if unit is None:
            return None
        if unit not in UNIT_SECONDS:
            raise ValueError(
                f"time_columns[{column!r}] must be one of {sorted(UNIT_SECONDS)}, got {unit!r}"
            )
        return UNIT_SECONDS[unit]
    if column in UNIT_SECONDS:
        return UNIT_SECONDS[column]
    match = _UNIT_SUFFIX.match(column) or _UNIT_IN_PARENS.match(column)
    if match:
        return UNIT_SECONDS[match["unit"]]
    return 1.0 if column in SUMMARY_SECONDS else None


def _ci_columns(column: str, columns) -> tuple[str, str] | None:
    """``(low, high)`` of ``<x>mean<y>``/``<x>median<y>`` (or of a bare unit column such
    as ``ns``: ``ci95_low_ns``) if both are in ``columns``."""
    if column in UNIT_SECONDS and f"ci95_low_{column}" in columns:
        if f"ci95_high_{column}" in columns:
            return f"ci95_low_{column}", f"ci95_high_{column}"
    for statistic in ("median", "mean"):
        if statistic in column:
            low = column.replace(statistic, "ci95_low", 1)
            high = column.replace(statistic, "ci95_high", 1)
            if low in columns and high in columns:
                return low, high
    return None


def choose_unit(seconds: pd.Series) -> tuple[str, float]:
    """The largest unit in which every nonzero value is at least 1 (ns if none), one
    unit up if that would put the largest value at a million or more."""
    magnitudes = pd.to_numeric(seconds, errors="coerce").abs()
    magnitudes = magnitudes[(magnitudes > 0) & magnitudes.map(math.isfinite)]
    if magnitudes.empty:
        return "s", 1.0
    smallest, largest = magnitudes.min(), magnitudes.max()
    index = next(
        (i for i, (_, scale) in enumerate(READER_UNITS) if smallest / scale >= 1 - 1e-9),
        len(READER_UNITS) - 1,
    )
    if index > 0 and largest / READER_UNITS[index][1] >= 1e6:
        index -= 1
    return READER_UNITS[index]


def _leading_decimal(magnitude: float) -> int:
    """The decimal position of the leading digit: 3.2 -> 0, 0.032 -> 2, 320 -> -2."""
    return -math.floor(math.log10(magnitude))


def decimals_for(value: float, half_width: float | None) -> int:
    """Decimals to write ``value`` with: down to the leading digit of the CI half-width
    (but at least one significant digit of the value), or 3 significant digits."""
    if value == 0 or not math.isfinite(value):
        return 0
    own = _leading_decimal(abs(value))
    if half_width is not None and math.isfinite(half_width) and half_width > 0:
        return max(_leading_decimal(half_width), own)
    return own + 2


def fixed(value: float, decimals: int) -> str:
    """``value`` rounded to ``decimals`` (negative: tens, hundreds...), with thousands
    separators."""
    if not math.isfinite(value):
        return MISSING
    if decimals > 0:
        return f"{value:,.{decimals}f}"
    return f"{round(value, decimals):,.0f}"


def _number(value) -> float | None:
    if value is None or isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _plain_column(values: pd.Series) -> list[str]:
    """Non-time numbers: integers with thousands separators, floats in 3 significant
    digits, fixed or scientific for the whole column."""
    floats = [float(v) for v in values if isinstance(v, float) and math.isfinite(v) and v != 0]
    scientific = any(abs(v) < 1e-2 or abs(v) >= 1e5 for v in floats)
    out = []
    for v in values:
        if isinstance(v, float) and not isinstance(v, bool):
            if math.isnan(v):
                out.append(MISSING)
            elif scientific and v != 0:
                out.append(f"{v:.2e}".replace("e-0", "e-").replace("e+0", "e"))
            elif v == 0:
                out.append("0")
            else:
                out.append(fixed(v, decimals_for(v, None)))
        elif isinstance(v, numbers.Integral) and not isinstance(v, bool | np.bool_):
            out.append(f"{int(v):,}")
        else:
            out.append(str(v))
    return out


def _reader_columns(
    frame: pd.DataFrame,
    names: Mapping[str, str] | None,
    time_columns: Mapping[str, str | None] | None,
    ci: Mapping[str, tuple[str, str]] | None,
) -> tuple[dict[str, list[str]], set[str]]:
    """The reader's columns (name -> cells) and which of them hold numbers."""
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"frame must be a pandas DataFrame, got {type(frame).__name__}")
    time_columns = dict(time_columns or {})
    unknown = [c for c in (*time_columns, *(ci or {})) if c not in frame.columns]
    if unknown:
        raise ValueError(f"columns {unknown} (time_columns/ci) are not in the frame")
    pairs: dict[str, tuple[str, str]] = {}
    claimed: set[str] = set()
    for column in frame.columns:
        found = (ci or {}).get(column) or _ci_columns(str(column), frame.columns)
        if found and not claimed & set(found):  # a CI belongs to one value column
            missing = [c for c in found if c not in frame.columns]
            if missing:
                raise ValueError(f"ci columns {missing} of {column!r} are not in the frame")
            pairs[column] = tuple(found)
            claimed |= set(found)
    out: dict[str, list[str]] = {}
    numeric: set[str] = set()

    def add(name: str, cells: list[str], is_number: bool) -> None:
        if name in out:
            raise ValueError(f"two columns have the reader's name {name!r}: pass names=")
        out[name] = cells
        if is_number:
            numeric.add(name)

    for column in frame.columns:
        if column in claimed:
            continue
        name = reader_name(str(column), names)
        per_unit = _time_unit(str(column), time_columns)
        if per_unit is None:
            values = frame[column]
            if column == "implementation":  # identifiers -> the names in the figures
                values = values.map(lambda v: READER_NAMES.get(v, v))
            is_number = pd.api.types.is_numeric_dtype(values) and values.dtype != bool
            add(name, _plain_column(values), is_number)
            continue
        seconds = pd.to_numeric(frame[column], errors="coerce") * per_unit
        unit, scale = choose_unit(seconds)
        pair = pairs.get(column)
        lows = highs = None
        if pair is not None:
            lows = pd.to_numeric(frame[pair[0]], errors="coerce") * per_unit / scale
            highs = pd.to_numeric(frame[pair[1]], errors="coerce") * per_unit / scale
        values, intervals = [], []
        for row, value in enumerate(seconds / scale):
            half = None if lows is None else (highs.iloc[row] - lows.iloc[row]) / 2
            digits = decimals_for(value, half) if math.isfinite(value) else 0
            values.append(fixed(value, digits))
            if lows is not None:
                low, high = lows.iloc[row], highs.iloc[row]
                both = math.isfinite(low) and math.isfinite(high)
                intervals.append(f"{fixed(low, digits)} – {fixed(high, digits)}" if both else "")
        add(f"{name} ({unit})", values, True)
        if pair is not None:
            add(f"95% CI of the {name} ({unit})", intervals, True)
    return out, numeric


def for_readers(
    frame: pd.DataFrame,
    *,
    names: Mapping[str, str] | None = None,
    time_columns: Mapping[str, str | None] | None = None,
    ci: Mapping[str, tuple[str, str]] | None = None,
) -> pd.DataFrame:
    """The reader's version of ``frame``: every cell a string, columns renamed.

    ``names`` overrides :data:`READER_NAMES` per column; ``time_columns`` gives the unit
    (``"s"``, ``"ms"``, ``"us"``, ``"ns"``) of time columns whose name has no unit suffix
    (the columns of :data:`SUMMARY_SECONDS` are seconds; ``None`` says "not a time");
    ``ci`` maps a value column to its ``(ci95_low, ci95_high)`` columns where they are not
    named after it. A value's CI columns become one "95% CI of the ..." column after it.
    Raises ValueError when two columns would get the same reader's name."""
    columns, _ = _reader_columns(frame, names, time_columns, ci)
    return pd.DataFrame(columns, index=range(len(frame)), dtype=object)


def reader_markdown(frame: pd.DataFrame, **options) -> str:
    """The reader's version of ``frame`` (:func:`for_readers` options) as a Markdown
    table, numbers right-aligned."""
    columns, numeric = _reader_columns(
        frame, options.get("names"), options.get("time_columns"), options.get("ci")
    )
    unknown = set(options) - {"names", "time_columns", "ci"}
    if unknown:
        raise TypeError(f"unknown options {sorted(unknown)}")
    header = "| " + " | ".join(_cell(c) for c in columns) + " |"
    rule = "|" + "|".join("--:" if c in numeric else "---" for c in columns) + "|"
    rows = zip(*columns.values(), strict=True) if columns else []
    body = ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return "\n".join([header, rule, *body])


def reader_html(frame: pd.DataFrame, **options) -> str:
    """The reader's version of ``frame`` as an HTML table (cells escaped)."""
    table = for_readers(frame, **options)
    return table.to_html(index=False, escape=True, border=0, classes="reader-table")


def _cell(value) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def show(frame: pd.DataFrame, caption: str = "", **options) -> None:
    """Display the reader's version of ``frame`` in a notebook (Markdown, so the HTML
    render writes it as a table), with an optional caption line above."""
    from IPython.display import Markdown, display

    text = reader_markdown(frame, **options)
    display(Markdown(f"{caption}\n\n{text}" if caption else text))


def write(
    frame: pd.DataFrame, out_dir: Path, stem: str, title: str = "", **options
) -> dict[str, Path]:
    """Write ``stem.csv`` (full precision, internal names) and ``stem.md`` (the reader's
    version, :func:`reader_markdown` with ``options``, under ``title``)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    csv_path, md_path = out_dir / f"{stem}.csv", out_dir / f"{stem}.md"
    results.atomic_write_csv(csv_path, frame)
    text = (f"{title}\n\n" if title else "") + reader_markdown(frame, **options) + "\n"
    results.atomic_write_text(md_path, text)
    return {"csv": csv_path, "md": md_path}
