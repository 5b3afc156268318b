# ruff: noqa: E402, F821
# One scenario of a first-call child script (see __init__.py).
# rust-numpy decides between numpy.core and numpy._core on its first array call by
# parsing numpy.__version__ with numpy.lib.NumpyVersion (numpy-0.30.0/src/npyffi/array.rs).
import numpy.lib

timed("numpy_version_check", lambda: numpy.lib.NumpyVersion(np.__version__))
start = clock()
import kernels_rs

stages["import_kernels_rs"] = clock() - start
timed("first_call_arrays_checked", lambda: kernels_rs.overhead_two_arrays_unborrowed(x, y))
