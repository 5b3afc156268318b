# ruff: noqa: E402, F821
# One scenario of a first-call child script (see __init__.py).
start = clock()
import kernels_rs

stages["import_kernels_rs"] = clock() - start
timed("first_call", lambda: kernels_rs.dot_loop(x, y))
later("later_call_mean", kernels_rs.dot_loop, x, y)
