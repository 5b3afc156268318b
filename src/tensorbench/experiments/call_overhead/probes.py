"""The probes of the per-call part: what each one calls, its label, and how to build it.

Each probe adds one step of a real kernel call to another (:data:`STEPS` in
:mod:`.summary` names the steps). Probes whose name starts with ``rayon_`` are timed
inside Rust; the others from Python (:func:`probe` builds them).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from tensorbench.timing import int_at_least

# Probe name -> what one call does. Timed from Python unless the name starts with "rayon".
PROBES: dict[str, str] = {
    "python_noop": "a Python function that does nothing (`def f(): pass`)",
    "rust_noop": "`kernels_rs.overhead_noop()`: a PyO3 function without arguments",
    "rust_two_objects": "`overhead_two_objects(x, y)`: two positional arguments, unused",
    "rust_two_arrays_unborrowed": (
        "`overhead_two_arrays_unborrowed(x, y)`: checks both are 1-D float64 arrays, "
        "returns a float"
    ),
    "rust_two_arrays": (
        "`overhead_two_arrays(x, y)`: the kernels' `validate::array_arg` on both "
        "(checks, then a copy of arrays of at most 256 elements, a rust-numpy read-only "
        "borrow of larger ones), returns a float"
    ),
    "rust_two_arrays_borrowed": (
        "`overhead_two_arrays_borrowed(x, y)`: the same checks, then rust-numpy read-only "
        "borrows whatever the size (the kernels' path for arrays of more than 256 elements)"
    ),
    "rust_two_arrays_copied": (
        "`overhead_two_arrays_copied(x, y)`: the same checks, then copies both arrays "
        "(rust-numpy's safe `to_owned_array`) instead of borrowing them"
    ),
    "rust_return_array": "`overhead_return_array(x, y)`: as two_arrays, returns a new array",
    "rust_detach": "`overhead_detach()`: releases the GIL and takes it back",
    "rust_dot_loop": "`kernels_rs.dot_loop(x, y)`: the real kernel on 1-element arrays",
    "numba_noop": "an `@njit` function without arguments",
    "numba_dot": "the `@njit` dot loop of the dot experiment on 1-element arrays",
    "numpy_dot": "`np.dot(x, y)` on 1-element arrays",
    "rayon_install": "`pool.install(|| {})` on a one-thread Rayon pool, timed inside Rust",
    "rayon_inline": "the same empty closure called inline, timed inside Rust",
}


LABELS: dict[str, str] = {
    "python_noop": "Python no-op function",
    "rust_noop": "kernels_rs no-op",
    "rust_two_objects": "kernels_rs, two objects",
    "rust_two_arrays_unborrowed": "kernels_rs, two arrays checked",
    "rust_two_arrays": "kernels_rs, two arrays (kernels' path)",
    "rust_two_arrays_borrowed": "kernels_rs, two arrays borrowed",
    "rust_two_arrays_copied": "kernels_rs, two arrays copied",
    "rust_return_array": "kernels_rs, returns an array",
    "rust_detach": "kernels_rs, GIL released",
    "rust_dot_loop": "kernels_rs.dot_loop (n = 1)",
    "numba_noop": "Numba no-op",
    "numba_dot": "Numba dot loop (n = 1)",
    "numpy_dot": "np.dot (n = 1)",
    "rayon_install": "Rayon install (in Rust)",
    "rayon_inline": "inline closure (in Rust)",
}


def probe(name: str, array_length: int = 1) -> tuple[Callable, tuple]:
    """The callable and arguments of a Python-side probe (Numba ones not yet compiled)."""
    if name not in PROBES or name.startswith("rayon_"):
        raise ValueError(f"unknown Python-side probe {name!r}")
    array_length = int_at_least("array_length", array_length)
    x = np.full(array_length, 0.5)
    y = np.full(array_length, 2.0)
    if name == "python_noop":

        def noop():
            pass

        return noop, ()
    if name.startswith("rust_"):
        from tensorbench.build import release_kernels

        kernels = release_kernels()
        if name == "rust_dot_loop":
            return kernels.dot_loop, (x, y)
        func = getattr(kernels, "overhead_" + name.removeprefix("rust_"))
        return func, () if name in ("rust_noop", "rust_detach") else (x, y)
    if name.startswith("numba_"):
        import numba

        from tensorbench.experiments.dense_impls import dot_python

        if name == "numba_dot":
            return numba.njit(dot_python), (x, y)

        def noop():
            pass

        return numba.njit(noop), ()
    return np.dot, (x, y)  # numpy_dot
