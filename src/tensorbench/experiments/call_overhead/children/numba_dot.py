# ruff: noqa: E402, F821
# One scenario of a first-call child script (see __init__.py).
start = clock()
import numba

stages["import_numba"] = clock() - start
sys.path.insert(0, MODULE_DIR)
from tiny_dot import dot_python

func = numba.njit(cache=CACHE)(dot_python)
timed("first_call", lambda: func(x, y))
later("later_call_mean", func, x, y)
facts["cache_hits"] = sum(func.stats.cache_hits.values())
facts["cache_misses"] = sum(func.stats.cache_misses.values())
if not CACHE:
    # A second dispatcher of the same function compiles again, now with Numba's
    # one-time initialisation done: the compile alone.
    again = numba.njit(dot_python)
    timed("compile_again", lambda: again(x, y))
