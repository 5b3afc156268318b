"""A sparse CP-ALS with pyttb's algorithm and results, every MTTKRP in Rust.

``kernels_rs.cp_als(X, rank, ...)`` is ``pyttb.cp_als`` (pyttb 1.8.6) for a
``pyttb.sptensor`` X, line for line: the same initial guess (``init="random"`` draws
from NumPy's global generator exactly as pyttb does), updates, normalization, stopping
rule, printing, and the same results (a ``pyttb.ktensor``, the initial ktensor, and the
output dict with keys ``params``, ``iters``, ``normresidual``, ``fit``). The difference:
X is copied once into a :class:`kernels_rs.SparseLayout` (fiber layout) at the start,
every MTTKRP runs on it (``threads=`` threads, the GIL released), and so does the final
inner product (one more MTTKRP). Results equal pyttb's to rounding.

Bad input is a TypeError or ValueError that names the argument (where pyttb would
fail an ``assert``).
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

import numpy as np

from kernels_rs import _kernels_rs

if TYPE_CHECKING:
    import pyttb


def _check_args(X, rank, dimorder, optdims, init, printitn, maxiters):
    import pyttb

    if not isinstance(X, pyttb.sptensor):
        raise TypeError(
            f"X must be a pyttb.sptensor (kernels_rs.cp_als is the sparse CP-ALS), "
            f"got {type(X).__name__}"
        )
    if X.ndims < 2:
        raise ValueError(f"X must have order at least 2, got shape {X.shape}")
    if isinstance(rank, bool) or not isinstance(rank, numbers.Integral):
        raise TypeError(f"rank must be an int, got {type(rank).__name__}")
    if rank < 1:
        raise ValueError(f"rank must be positive (the number of components), got {rank}")
    for name, value in (("maxiters", maxiters), ("printitn", printitn)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if maxiters < 1:
        raise ValueError(f"maxiters must be at least 1, got {maxiters}")
    N = X.ndims
    dimorder = np.arange(N) if dimorder is None else _one_d(dimorder, "dimorder")
    if tuple(range(N)) != tuple(sorted(int(d) for d in dimorder)):
        raise ValueError(
            f"dimorder must be a list or permutation of range(tensor.ndims) "
            f"(range({N})), got {list(dimorder)}"
        )
    optdims = np.arange(N) if optdims is None else _one_d(optdims, "optdims")
    if isinstance(init, pyttb.ktensor):
        if init.ndims != N:
            raise ValueError(f"init: the initial guess does not have {N} modes")
        if init.ncomponents != rank:
            raise ValueError(f"init: the initial guess does not have {rank} components")
        for n in dimorder:
            if init.factor_matrices[n].shape != (X.shape[n], rank):
                raise ValueError(f"init: mode {n} of the initial guess is the wrong size")
    elif not (isinstance(init, str) and init.lower() in ("random", "nvecs")):
        raise ValueError(f"init must be 'random', 'nvecs' or a pyttb.ktensor, got {init!r:.80}")
    return dimorder, optdims


def _one_d(value, name):
    array = np.asarray(value)
    if array.ndim != 1 or array.dtype.kind not in "iu":
        raise ValueError(f"{name} must be a 1-D sequence of ints, got {value!r:.80}")
    return array


def cp_als(
    X: pyttb.sptensor,
    rank: int,
    *,
    stoptol: float = 1e-4,
    maxiters: int = 1000,
    dimorder: Sequence[int] | np.ndarray | None = None,
    optdims: Sequence[int] | np.ndarray | None = None,
    init: Literal["random", "nvecs"] | pyttb.ktensor = "random",
    printitn: int = 1,
    fixsigns: bool = True,
    threads: int | None = None,
) -> tuple[pyttb.ktensor, pyttb.ktensor, dict]:
    """CP decomposition of the sptensor ``X`` by alternating least squares: pyttb's
    ``cp_als`` with its arguments, stopping rule, printing and return value
    ``(M, Minit, output)``; ``threads`` as in :func:`kernels_rs.mttkrp`."""
    import pyttb as ttb

    dimorder, optdims = _check_args(X, rank, dimorder, optdims, init, printitn, maxiters)
    N = X.ndims
    normX = X.norm()
    # pyttb's arithmetic turns integer and boolean values into float64; so does this.
    vals = X.vals.astype(np.float64) if X.vals.dtype.kind in "biu" else X.vals
    layout = _kernels_rs.SparseLayout(X.subs, vals, X.shape)

    if isinstance(init, str) and init.lower() == "random":
        factor_matrices = []
        for n in range(N):
            # NumPy's global generator, as pyttb draws (the same seed, the same guess).
            factor_matrices.append(np.random.uniform(0, 1, (X.shape[n], rank)))  # noqa: NPY002
        init = ttb.ktensor(factor_matrices)
    elif isinstance(init, str) and init.lower() == "nvecs":
        factor_matrices = []
        for n in range(N):
            factor_matrices.append(X.nvecs(n, rank))
        init = ttb.ktensor(factor_matrices)

    # From here on pyttb 1.8.6's cp_als, with input_tensor.mttkrp(U, n) on the layout.
    U = init.copy().factor_matrices
    fit = 0.0

    dimorder_in = dimorder
    dimorder = [int(d) for d in dimorder if d in optdims]

    U_mttkrp = np.zeros((X.shape[dimorder[-1]], rank))

    if printitn > 0:
        print("CP_ALS:")

    UtU = np.zeros((rank, rank, N))
    for n in range(N):
        UtU[:, :, n] = U[n].T @ U[n]

    for iteration in range(maxiters):
        fitold = fit

        for n in dimorder:
            Unew = layout.mttkrp(U, n, threads=threads)

            if n == dimorder[-1]:
                U_mttkrp = Unew

            Y = np.prod(UtU, axis=2, where=[i != n for i in range(N)])
            if (Y == 0).all():
                Unew = np.zeros(Unew.shape)
            else:
                Unew = np.linalg.solve(Y.T, Unew.T).T

            if iteration == 0:
                weights = np.sqrt(sum(Unew**2, 0))  # 2-norm (the builtin sum, as pyttb)
            else:
                weights = np.maximum(np.max(np.abs(Unew), 0), 1)  # max-norm

            if not (weights == 0).all():
                Unew = Unew / weights

            U[n] = Unew
            UtU[:, :, n] = U[n].T @ U[n]

        M = ttb.ktensor(U, weights)

        iprod = np.sum(np.sum(M.factor_matrices[dimorder[-1]] * U_mttkrp, 0) * weights, 0)
        if normX == 0:
            normresidual = M.norm() ** 2 - 2 * iprod
            fit = normresidual
        else:
            normresidual = np.sqrt(np.abs(normX**2 + M.norm() ** 2 - 2 * iprod))
            fit = 1 - (normresidual / normX)

        fitchange = np.abs(fitold - fit)

        if (iteration > 0) and (fitchange < stoptol):
            flag = 0
        else:
            flag = 1

        if (printitn > 0) and ((divmod(iteration, printitn)[1] == 0) or (flag == 0)):
            print(f" Iter {iteration}: f = {fit:e} f-delta = {fitchange:7.1e}")

        if flag == 0:
            break

    M.arrange()
    if fixsigns:
        M = M.fixsigns()

    if printitn > 0:
        # innerprod(X, M) from one more MTTKRP on the layout (pyttb calls
        # X.innerprod(M)): sum_r w_r sum_i U_n[i, r] * mttkrp(X, U, n)[i, r], the
        # identity the iterations' fit uses; equal to it to rounding, and one pass
        # over the sorted nonzeros of one mode instead of R products per nonzero.
        n = dimorder[-1]
        inner = np.sum(
            np.sum(M.factor_matrices[n] * layout.mttkrp(M.factor_matrices, n, threads=threads), 0)
            * M.weights
        )
        if normX == 0:
            normresidual = M.norm() ** 2 - 2 * inner
            fit = normresidual
        else:
            normresidual = np.sqrt(np.abs(normX**2 + M.norm() ** 2 - 2 * inner))
            fit = 1 - (normresidual / normX)
        print(f" Final f = {fit:e}")

    output = {
        "params": {
            "stoptol": stoptol,
            "maxiters": maxiters,
            "dimorder": dimorder_in,
            "optdims": optdims,
            "printitn": printitn,
            "fixsigns": fixsigns,
        },
        "iters": iteration,
        "normresidual": normresidual,
        "fit": fit,
    }

    return M, init, output
