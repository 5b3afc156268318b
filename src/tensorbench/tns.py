"""FROSTT ``.tns`` sparse tensors: read into and write from ``pyttb.sptensor``.

The format (http://frostt.io/tensors/file-formats.html) has one nonzero per line:
``i_1 i_2 ... i_d value`` with 1-based indices, whitespace-separated; lines starting
with ``#`` are comments. pyttb subscripts are 0-based, so the reader subtracts 1 and
the writer adds it back.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyttb as ttb

COMMENT = "#"


def _column_count(path: Path) -> int:
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            fields = line.split(COMMENT, 1)[0].split()
            if fields:
                return len(fields)
    return 0


def read_tns(
    path: str | Path,
    shape: tuple[int, ...] | None = None,
    *,
    sum_duplicates: bool = False,
) -> ttb.sptensor:
    """The sparse tensor stored in the ``.tns`` file ``path``.

    ``shape`` defaults to the ``# shape:`` comment :func:`write_tns` writes, else to the
    largest index of each mode. Nonzeros keep the file's order
    (pyttb's constructor does not merge repeated subscripts); ``sum_duplicates=True``
    merges them by summing, sorts the subscripts and drops zeros (pyttb's
    ``sptensor.from_aggregator``). Malformed files raise ValueError naming the problem.
    """
    path = Path(path)
    if shape is None:
        shape = shape_from_header(path)
    columns = _column_count(path)
    if columns == 0:
        if shape is None:
            raise ValueError(f"{path} has no nonzeros; pass shape= to read an empty tensor")
        return ttb.sptensor(shape=tuple(int(n) for n in shape))
    if columns < 2:
        raise ValueError(f"{path}: a line needs at least one index and a value, got 1 field")
    order = columns - 1
    try:
        frame = pd.read_csv(
            path,
            sep=r"\s+",
            comment=COMMENT,
            header=None,
            names=range(columns),
            dtype={**dict.fromkeys(range(order), np.int64), order: np.float64},
            engine="c",
        )
    except (ValueError, pd.errors.ParserError) as exc:
        raise ValueError(f"{path} is not a valid .tns file of order {order}: {exc}") from exc
    if frame.isna().to_numpy().any():
        line = int(np.flatnonzero(frame.isna().to_numpy().any(axis=1))[0])
        raise ValueError(f"{path}: nonzero {line} has fewer than {columns} fields")
    # C order: every kernel reads a nonzero's subscripts together.
    subs = np.ascontiguousarray(frame.iloc[:, :order].to_numpy(np.int64)) - 1
    vals = frame.iloc[:, order].to_numpy(np.float64).reshape(-1, 1)
    if (subs < 0).any():
        row, col = np.argwhere(subs < 0)[0]
        raise ValueError(
            f"{path}: nonzero {row} has index {subs[row, col] + 1} in mode {col}; "
            ".tns indices start at 1"
        )
    largest = tuple(int(m) + 1 for m in subs.max(axis=0))
    if shape is None:
        shape = largest
    else:
        shape = tuple(int(n) for n in shape)
        if len(shape) != order:
            raise ValueError(f"shape {shape} has {len(shape)} modes, the file has {order}")
        if any(m > n for m, n in zip(largest, shape, strict=True)):
            raise ValueError(f"{path}: indices up to {largest} do not fit in shape {shape}")
    if sum_duplicates:
        return ttb.sptensor.from_aggregator(subs, vals, shape)
    return ttb.sptensor(subs, vals, shape, copy=False)


def write_tns(path: str | Path, tensor: ttb.sptensor, comment: str | None = None) -> Path:
    """Write ``tensor`` as a ``.tns`` file (values with 17 significant digits, so they
    read back exactly); ``comment`` lines go first, each prefixed with ``#``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    subs = np.asarray(tensor.subs, dtype=np.int64).reshape(tensor.nnz, tensor.ndims)
    vals = np.asarray(tensor.vals, dtype=np.float64).reshape(tensor.nnz)
    header = []
    if comment:
        header += [f"{COMMENT} {line}".rstrip() for line in comment.splitlines()]
    # The shape is implicit in .tns; record it so a tensor whose last slices are empty
    # can be read back with the same shape (read_tns(path, shape=...)).
    header.append(f"{COMMENT} shape: {' '.join(str(n) for n in tensor.shape)}")
    frame = pd.DataFrame(subs + 1)
    frame[tensor.ndims] = [repr(float(v)) for v in vals]
    with path.open("w", encoding="utf-8", newline="\n") as fh:
        fh.write("\n".join(header) + "\n")
        frame.to_csv(fh, sep=" ", header=False, index=False)
    return path


def shape_from_header(path: str | Path) -> tuple[int, ...] | None:
    """The shape recorded by :func:`write_tns` in a ``# shape:`` comment, if any."""
    with Path(path).open(encoding="utf-8") as fh:
        for line in fh:
            if not line.startswith(COMMENT):
                return None
            text = line[len(COMMENT) :].strip()
            if text.startswith("shape:"):
                return tuple(int(n) for n in text[len("shape:") :].split())
    return None
