# ruff: noqa: E402, F401, F821
# The start of every first-call child script (see __init__.py): the timing helpers and
# the arrays x, y. The script's last line prints {"stages": {stage: seconds}, "facts":
# {name: count}} with json; a fact "<stage>_new_modules" counts the modules a timed step
# imported.
import json
import sys
import time

clock = time.perf_counter
stages, facts = {}, {}


def timed(stage, action):
    modules = len(sys.modules)
    start = clock()
    result = action()
    stages[stage] = clock() - start
    facts[stage + "_new_modules"] = len(sys.modules) - modules
    return result


def later(stage, func, *args):
    times = []
    for _ in range(LATER_CALLS):
        start = clock()
        func(*args)
        times.append(clock() - start)
    stages[stage] = sum(times) / len(times)


start = clock()
import numpy as np

stages["import_numpy"] = clock() - start
x = np.random.default_rng(0).uniform(0.0, 1.0, LENGTH)
y = np.random.default_rng(1).uniform(0.0, 1.0, LENGTH)
