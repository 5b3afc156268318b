# ruff: noqa: E402, F821
# One scenario of a first-call child script (see __init__.py).
start = clock()
import kernels_rs

stages["import_kernels_rs"] = clock() - start
timed("first_call_noop", kernels_rs.overhead_noop)
timed("second_call_noop", kernels_rs.overhead_noop)
timed("first_call_arrays_checked", lambda: kernels_rs.overhead_two_arrays_unborrowed(x, y))
timed("second_call_arrays_checked", lambda: kernels_rs.overhead_two_arrays_unborrowed(x, y))
timed("first_call_two_arrays", lambda: kernels_rs.overhead_two_arrays(x, y))
timed("second_call_two_arrays", lambda: kernels_rs.overhead_two_arrays(x, y))
timed("first_call", lambda: kernels_rs.dot_loop(x, y))
later("later_call_mean", kernels_rs.dot_loop, x, y)
