"""Type stubs of the kernels_rs extension (Rust, PyO3 + rust-numpy).

Every function validates its arguments: TypeError for a non-array or a wrong dtype,
ValueError for a wrong shape, length or value. No input raises a Rust panic.
"""

import numpy as np
import numpy.typing as npt

IS_RELEASE_BUILD: bool
__version__: str

def build_info() -> dict[str, str | bool]:
    """Build profile, optimisation level, target features, rustc and crate versions."""

# --- dense (kernels_rs/src/dense.rs) -------------------------------------------------

def dot_loop(x: npt.NDArray[np.float64], y: npt.NDArray[np.float64]) -> float:
    """The paper's plain-loop dot product of two 1-D float64 arrays of equal length."""

def dot(x: npt.NDArray[np.float64], y: npt.NDArray[np.float64]) -> float:
    """Tuned (several accumulators, vectorizable) dot product; same contract as dot_loop."""

def matvec_loop(a: npt.NDArray[np.float64], x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """The paper's nested-loop ``a @ x``: a is 2-D (n1, n2), x is 1-D (n2,), float64."""

def matvec(a: npt.NDArray[np.float64], x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Tuned ``a @ x``: C and Fortran order without copies, any other strides too."""

# --- timed inside Rust (kernels_rs/src/bench.rs) ---------------------------------------

def bench_dot(form: str, n: int, n_trials: int, seed: int) -> list[float]:
    """Seconds of n_trials + 1 dot products ('loop' or 'tuned') on fresh data made in Rust."""

def bench_matvec(form: str, n1: int, n2: int, n_trials: int, seed: int) -> list[float]:
    """Seconds of n_trials + 1 C-order matvecs ('loop' or 'tuned') on fresh data made in Rust."""

# --- sparse (kernels_rs/src/sparse.rs) -------------------------------------------------

# --- tensor train (kernels_rs/src/tt.rs) -----------------------------------------------
