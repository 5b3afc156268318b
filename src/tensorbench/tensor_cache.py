"""An on-disk cache of tensors made by ``pyttb.sptenrand``.

``sptenrand`` at n = 1200 (17 million nonzeros) takes minutes: it draws the subscripts
ten times over and row-sorts them each time. The cache keeps every generated tensor
under ``<project>/cache/sptenrand/<key>/`` (gitignored) as ``subs.npy`` and ``vals.npy``
plus ``meta.json`` with their SHA-256 and sizes, keyed by shape, density, seed and the
pyttb and NumPy versions (the generator's output depends on both). :func:`ensure`, which a
run calls once per tensor before its cells, checks the SHA-256 and generates again a
tensor whose files do not match; :func:`sptenrand`, which every cell's worker calls to
load it, checks only that the files exist with their recorded sizes (hashing 550 MB again
in every cell would take longer than some of the measurements).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyttb as ttb

from tensorbench import paths

CACHE_VARIABLE = "TENSORBENCH_CACHE"
HEARTBEAT_SECONDS = 15.0
Log = Callable[[str], None]


def _print(msg: str) -> None:
    print(msg, flush=True)


def cache_root() -> Path:
    """``<project>/cache`` (``TENSORBENCH_CACHE`` overrides it)."""
    if os.environ.get(CACHE_VARIABLE):
        return Path(os.environ[CACHE_VARIABLE]).resolve()
    return paths.project_root() / "cache"


def key(shape: tuple[int, ...], density: float, seed: int) -> str:
    dims = "x".join(str(int(n)) for n in shape)
    versions = f"pyttb{ttb.__version__}_numpy{np.__version__}"
    return f"sptenrand_{dims}_density{density:g}_seed{int(seed)}_{versions}"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 24):
            digest.update(chunk)
    return digest.hexdigest()


def generate(shape: tuple[int, ...], density: float, seed: int) -> ttb.sptensor:
    """``pyttb.sptenrand(shape, density)`` after ``np.random.seed(seed)`` (pyttb draws from
    NumPy's global generator); the global generator's state is restored afterwards."""
    # pyttb has no generator argument: the legacy global generator is the only way in.
    state = np.random.get_state()  # noqa: NPY002
    try:
        np.random.seed(int(seed))  # noqa: NPY002
        return ttb.sptenrand(tuple(int(n) for n in shape), density=float(density))
    finally:
        np.random.set_state(state)  # noqa: NPY002


def _files(folder: Path) -> dict[str, Path]:
    return {name: folder / f"{name}.npy" for name in ("subs", "vals")}


def is_valid(folder: Path, *, checksums: bool = True) -> bool:
    """True when ``folder`` holds a complete entry whose files match their SHA-256
    (``checksums``), or, without ``checksums``, have their recorded sizes (an entry written
    before sizes were recorded is then checked by SHA-256 after all)."""
    meta_path = folder / "meta.json"
    if not meta_path.exists():
        return False
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    files = _files(folder)
    if not all(p.exists() for p in files.values()):
        return False
    sizes = meta.get("bytes")
    if checksums or sizes is None:
        return all(_sha256(p) == meta["sha256"][name] for name, p in files.items())
    return all(p.stat().st_size == sizes[name] for name, p in files.items())


def _load(folder: Path) -> ttb.sptensor:
    meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    files = _files(folder)
    subs = np.load(files["subs"])
    vals = np.load(files["vals"])
    return ttb.sptensor(subs, vals, tuple(meta["shape"]), copy=False)


def _store(folder: Path, tensor: ttb.sptensor, meta: dict) -> None:
    """Write into a temporary sibling folder, then rename it into place (atomic: a
    concurrent or interrupted writer never leaves a half-written entry)."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}."))
    tmp.chmod(0o755)  # mkdtemp makes it private; the cache is an ordinary project folder
    try:
        checksums, sizes = {}, {}
        for name, array in (("subs", tensor.subs), ("vals", tensor.vals)):
            path = tmp / f"{name}.npy"
            np.save(path, np.ascontiguousarray(array))
            checksums[name] = _sha256(path)
            sizes[name] = path.stat().st_size
        meta = {**meta, "sha256": checksums, "bytes": sizes}
        (tmp / "meta.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
        if folder.exists():  # a stale or corrupt entry
            shutil.rmtree(folder)
        os.replace(tmp, folder)
    except OSError:
        # Lost a race with another writer (its entry is just as good) or the disk is
        # full: the caller still has the tensor, only the cache is skipped.
        shutil.rmtree(tmp, ignore_errors=True)


def folder_of(shape: tuple[int, ...], density: float, seed: int) -> Path:
    return cache_root() / "sptenrand" / key(shape, density, seed)


def _generate_and_store(shape, density, seed) -> ttb.sptensor:
    folder = folder_of(shape, density, seed)
    start = time.monotonic()
    tensor = generate(shape, density, seed)
    seconds = time.monotonic() - start
    meta = {
        "generator": "pyttb.sptenrand",
        "shape": [int(n) for n in shape],
        "density": float(density),
        "seed": int(seed),
        "nnz": int(tensor.nnz),
        "pyttb": ttb.__version__,
        "numpy": np.__version__,
        "generation_seconds": round(seconds, 2),
    }
    _store(folder, tensor, meta)
    return tensor


def sptenrand(
    shape: tuple[int, ...], density: float, seed: int, *, log: Log = _print
) -> ttb.sptensor:
    """The seeded ``pyttb.sptenrand`` tensor: from the cache when its files are complete
    (their recorded sizes; :func:`ensure` has checked their SHA-256 at the start of the
    run), else generated (with progress, see :func:`ensure`), cached and loaded."""
    folder = folder_of(shape, density, seed)
    if not is_valid(folder, checksums=False):
        ensure(shape, density, seed, log=log)
    return _load(folder)


def ensure(shape: tuple[int, ...], density: float, seed: int, *, log: Log = _print) -> dict:
    """Make sure the tensor is cached and intact, without loading a good entry; return its
    metadata. A missing tensor is generated in a child process, so that this process can
    print progress while NumPy holds the child's interpreter lock for seconds at a time."""
    folder = folder_of(shape, density, seed)
    if not is_valid(folder):
        if (folder / "meta.json").exists():
            log(f"cache entry {folder.name} does not match its checksums; generating it again")
        label = f"sptenrand({tuple(int(n) for n in shape)}, density={density:g}, seed={seed})"
        expected_nnz = float(np.prod(np.asarray(shape, dtype=float)) * density)
        log(f"generating {label}: about {expected_nnz:,.0f} nonzeros, cached once generated")
        args = json.dumps({"shape": [int(n) for n in shape], "density": density, "seed": seed})
        start = time.monotonic()
        with subprocess.Popen(
            [sys.executable, "-m", "tensorbench.tensor_cache", args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        ) as child:
            while True:
                try:
                    _, stderr = child.communicate(timeout=HEARTBEAT_SECONDS)
                    break
                except subprocess.TimeoutExpired:
                    log(f"  ... generating {label}: {time.monotonic() - start:.0f} s elapsed")
        if child.returncode != 0 or not is_valid(folder):
            raise RuntimeError(f"generating {label} failed:\n{stderr}")
        log(f"generated and cached {label} in {time.monotonic() - start:.1f} s")
    return json.loads((folder / "meta.json").read_text(encoding="utf-8"))


def main(argv: list[str]) -> int:
    """``python -m tensorbench.tensor_cache '{"shape": [...], "density": d, "seed": s}'``"""
    spec = json.loads(argv[0])
    _generate_and_store(tuple(spec["shape"]), spec["density"], spec["seed"])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
