"""Per-call overhead of Tensor Train inner-product contractions, called from Python.

The workload of the TT inner-product overhead note (``data/published``): complex128,
physical dimension ``d = 2``, one thread. Arrays are NumPy C-order arrays whose axes are
in the order the note lists them (``README`` of the reference material):

====================  ======================================  ===========================
contraction           definition (plain ``np.einsum``)        output
====================  ======================================  ===========================
``first_site``        ``einsum("sa,sb->ab", bra.conj(), ket)``  env ``[chi_bra, chi_ket]``
``env_bra``           ``einsum("ab,asc->bsc", env, bra.conj())`` tmp ``[chi_ket, d, chi_bra']``
``tmp_ket``           ``einsum("bsc,bse->ce", tmp, ket)``        env ``[chi_bra', chi_ket']``
``site_update``       ``tmp_ket(env_bra(env, bra), ket)``      env ``[chi_bra', chi_ket']``
``chain``             ``env = [[1]]``; ``site_update`` per site   ``<bra|ket>`` (complex)
====================  ======================================  ===========================

with ``first_site`` operands ``[d, chi]``, ``env [chi_bra, chi_ket]`` and site tensors
``[chi_left, d, chi_right]``. The chain has ``L = 32`` sites, bonds ``1, chi, ..., chi, 1``
(64 contractions). Operands come from a seeded generator keyed by (seed, case, chi), so
every implementation sees the same numbers; site tensors are scaled by
``1 / sqrt(d chi_left)`` so the chain's environments stay near 1 (no overflow, no
subnormals).

Implementations (:data:`LABELS`): NumPy ``einsum`` (``optimize=False``); NumPy
``matmul`` on reshaped views (the ``tensordot`` formulation without its Python-level
argument handling); ``opt_einsum`` expressions precompiled for the shapes; direct BLAS
``zgemm`` through SciPy on Fortran-ordered views (no input copies), with the bra
conjugated once before timing and, separately, with a conjugated copy in every call (the
note's lower bound); ``kernels_rs`` from Python, one call per contraction (the chain as a
Python loop of 64 calls), once making a new array per result and once writing into an
``out`` array allocated up front; ``kernels_rs.tt_inner``, the whole chain in one call; and the
same Rust kernels timed inside Rust (``kernels_rs.bench_tt``), the floor. Bra operands
are conjugated by every implementation (inside the timed call unless stated).

Timing. One call can take well under a microsecond, which a single ``perf_counter_ns``
bracket cannot resolve, so each sample times a batch of ``k`` back-to-back calls and
divides by ``k`` (a ``timeit`` loop: function and arguments in local variables, garbage
collector off); ``k`` is the smallest power of two whose batch lasts at least
``min_sample_seconds`` and is recorded per cell. Sample 0 is the first call, timed alone,
so first-call cost stays visible. The Rust floor uses the same scheme with
``std::time::Instant``. Every cell runs in a fresh worker process with all thread pools
at one thread. The statistic is the median over samples, as the note reports for
ITensors.jl. Before the samples are used, the cell's result is checked against the plain
``np.einsum`` reference (max-norm relative error at most :data:`TOLERANCE`).

One job per module; this package re-exports the registry's hooks and what the notebook
and the tests read:

* measuring (part of the cells' code identity): :mod:`.workload` (cases and operands),
  :mod:`.reference` (np.einsum and the tolerance), :mod:`.implementations` (every
  implementation as ``(func, args)``), :mod:`.paired` (alternating with the Rust
  floor), :mod:`.measurement` (cells and the worker's ``measure``), :mod:`.runs` (run
  through the shared runner, load); the batch timer is
  :func:`tensorbench.timing.time_batched`;
* presentation (reads finished data, outside the code identity): :mod:`.tables`,
  :mod:`.figures`, :mod:`.findings_text`, :mod:`.published_values`.
"""

from tensorbench.experiments.tt_overhead.figures import figure, figure_alt
from tensorbench.experiments.tt_overhead.findings_text import findings, recorded_findings
from tensorbench.experiments.tt_overhead.implementations import (
    CHAIN_ONLY,
    IMPLEMENTATIONS,
    LABELS,
    RUST_IMPLEMENTATIONS,
    prepare,
    result_shape,
)
from tensorbench.experiments.tt_overhead.measurement import (
    EXPERIMENT,
    NOTEBOOKS,
    cell_sets,
    cell_work,
    cells,
    measure,
    runs_alone,
)
from tensorbench.experiments.tt_overhead.paired import PAIRED, paired_with_floor
from tensorbench.experiments.tt_overhead.published_values import (
    COMPARED_CASES,
    PUBLISHED_CHAIN,
    PUBLISHED_SITE_UPDATE,
)
from tensorbench.experiments.tt_overhead.reference import TOLERANCE, reference, relative_error
from tensorbench.experiments.tt_overhead.runs import TtRun, load, run
from tensorbench.experiments.tt_overhead.tables import (
    accuracy_table,
    case_table,
    cell_extras,
    comparison_table,
    paired_table,
)
from tensorbench.experiments.tt_overhead.workload import (
    CASES,
    EINSUM,
    PAIRWISE_CASES,
    chain_bonds,
    operands,
)

__all__ = [
    "CASES",
    "CHAIN_ONLY",
    "COMPARED_CASES",
    "EINSUM",
    "EXPERIMENT",
    "IMPLEMENTATIONS",
    "LABELS",
    "NOTEBOOKS",
    "PAIRED",
    "PAIRWISE_CASES",
    "PUBLISHED_CHAIN",
    "PUBLISHED_SITE_UPDATE",
    "RUST_IMPLEMENTATIONS",
    "TOLERANCE",
    "TtRun",
    "accuracy_table",
    "case_table",
    "cell_extras",
    "cell_sets",
    "cell_work",
    "cells",
    "chain_bonds",
    "comparison_table",
    "figure",
    "figure_alt",
    "findings",
    "load",
    "measure",
    "operands",
    "paired_table",
    "paired_with_floor",
    "prepare",
    "recorded_findings",
    "reference",
    "relative_error",
    "result_shape",
    "run",
    "runs_alone",
]
