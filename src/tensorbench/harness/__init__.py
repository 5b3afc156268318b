"""The measurement harness: cells and their identity, the result store, the runner
(serial or ``JOBS`` cells at once) and the worker process that measures one cell.

Every experiment goes through it the same way: an experiment module (listed in
:mod:`tensorbench.experiments.registry`) plans cells, the runner measures each pending
cell in a fresh worker, and the store keeps each finished cell with its own provenance.
"""
