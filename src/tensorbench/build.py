"""Checks on how ``kernels_rs`` was built: timings come from release builds only."""

from __future__ import annotations

import os
import warnings
from types import ModuleType

ALLOW_DEBUG_VARIABLE = "TENSORBENCH_ALLOW_DEBUG_BUILD"


class DebugBuildError(RuntimeError):
    """Raised when asked to time a debug build of the extension."""


def load_kernels() -> ModuleType:
    """Import ``kernels_rs``, with a hint on how to build it if it is missing."""
    try:
        import kernels_rs
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "kernels_rs is not installed in this environment; run `make setup`"
        ) from exc
    return kernels_rs


def build_info() -> dict:
    """``kernels_rs.build_info()``: profile, rustc, PyO3 and crate versions."""
    return dict(load_kernels().build_info())


def require_release_build(kernels: ModuleType | None = None) -> None:
    """Refuse to time a debug build, unless explicitly allowed (then warn loudly)."""
    kernels = kernels if kernels is not None else load_kernels()
    if kernels.IS_RELEASE_BUILD:
        return
    if os.environ.get(ALLOW_DEBUG_VARIABLE) == "1":
        warnings.warn(
            "TIMING A DEBUG BUILD of kernels_rs: these numbers are not representative",
            RuntimeWarning,
            stacklevel=2,
        )
        return
    raise DebugBuildError(
        "kernels_rs is a debug build; timings need a release build (`make setup` builds one). "
        f"Set {ALLOW_DEBUG_VARIABLE}=1 to time it anyway."
    )


def release_kernels() -> ModuleType:
    """``kernels_rs``, checked to be a release build (:func:`require_release_build`)."""
    kernels = load_kernels()
    require_release_build(kernels)
    return kernels
