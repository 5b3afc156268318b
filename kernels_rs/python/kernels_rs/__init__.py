"""Rust tensor kernels for the tensorbench compendium (PyO3 + rust-numpy).

The kernels live in the compiled module ``kernels_rs._kernels_rs`` and are re-exported
here, so ``kernels_rs.dot`` etc. are the compiled functions themselves. The pyttb
drop-in is the pure-Python submodule ``kernels_rs.pyttb`` (imported on demand, so that
``import kernels_rs`` does not import pyttb).
"""

from kernels_rs import _kernels_rs
from kernels_rs._kernels_rs import *  # noqa: F403  (every public kernel)
from kernels_rs._kernels_rs import IS_RELEASE_BUILD as IS_RELEASE_BUILD
from kernels_rs._kernels_rs import __version__ as __version__
from kernels_rs._kernels_rs import build_info as build_info

__all__ = [name for name in dir(_kernels_rs) if not name.startswith("_")]
