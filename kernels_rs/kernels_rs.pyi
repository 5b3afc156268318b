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

# --- overhead probes (kernels_rs/src/python/overhead.rs, kernels_rs/src/overhead.rs) ----
# Each probe adds one step of a kernel call to the previous one; the difference between
# two probes' per-call times is the cost of that step (notebooks/call_overhead.ipynb).

def overhead_noop() -> None:
    """Does nothing: the cost of dispatching a PyO3 function without arguments."""

def overhead_two_objects(x: object, y: object) -> None:
    """Accepts any two objects and ignores them: adds positional-argument passing."""

def overhead_two_arrays(x: npt.NDArray[np.float64], y: npt.NDArray[np.float64]) -> float:
    """Extracts and borrows two 1-D float64 arrays as the kernels do; returns len(x) + len(y)."""

def overhead_return_array(
    x: npt.NDArray[np.float64], y: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """As overhead_two_arrays, but returns a new float64 array (a copy of x)."""

def overhead_detach() -> None:
    """Releases the GIL and takes it back, doing nothing in between."""

def overhead_pool_entry(entry: str, calls_per_sample: int, samples: int) -> dict[str, object]:
    """Times a one-thread Rayon pool's install(|| {}) ('install') or the closure run inline
    ('inline') inside Rust; keys: entry, calls_per_sample, build_seconds,
    first_call_seconds, per_call_seconds (one per sample of calls_per_sample calls)."""
