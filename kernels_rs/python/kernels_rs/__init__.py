"""Rust tensor kernels for the tensorbench compendium (PyO3 + rust-numpy).

The kernels live in the compiled module ``kernels_rs._kernels_rs`` and are re-exported
here, so ``kernels_rs.dot`` etc. are the compiled functions themselves. The pyttb
drop-in is the pure-Python submodule ``kernels_rs.pyttb`` (imported on demand, so that
``import kernels_rs`` does not import pyttb); ``kernels_rs.cp_als`` (``sparse_cp_als.py``)
is pyttb's CP-ALS for a sparse tensor with every MTTKRP on a ``SparseLayout`` (it imports
pyttb when called).
"""

from kernels_rs import _kernels_rs
from kernels_rs._kernels_rs import *  # noqa: F403  (every public kernel)
from kernels_rs._kernels_rs import IS_RELEASE_BUILD as IS_RELEASE_BUILD
from kernels_rs._kernels_rs import __version__ as __version__
from kernels_rs._kernels_rs import build_info as build_info
from kernels_rs.sparse_cp_als import cp_als as cp_als

__all__ = [name for name in dir(_kernels_rs) if not name.startswith("_")] + ["cp_als"]
