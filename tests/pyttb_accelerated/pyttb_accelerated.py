"""pytest plugin: run pyttb's own tests with kernels_rs.pyttb enabled.

Acceleration is switched on once collection is over (so the doctest finder still sees
pyttb's own functions and collects their examples), and stays on for every test. At the
end the plugin writes a JSON report to the path in ``KERNELS_RS_PYTTB_REPORT``: whether
the methods were the replacements during every test, and the kernel and fallback counts.
"""

from __future__ import annotations

import json
import os

import kernels_rs.pyttb as accel
import pytest

_tests_run = 0
_tests_not_accelerated: list[str] = []


def pytest_collection_finish(session: pytest.Session) -> None:
    accel.reset_counts()
    accel.enable()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_call(item: pytest.Item) -> None:
    global _tests_run
    _tests_run += 1
    if not accel.is_enabled():
        _tests_not_accelerated.append(item.nodeid)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    path = os.environ.get("KERNELS_RS_PYTTB_REPORT")
    if not path:
        return
    report = {
        "tests_run": _tests_run,
        "tests_not_accelerated": _tests_not_accelerated,
        "replaced_at_end": accel.is_enabled(),
        "replaced": accel.replaced(),
        "call_counts": accel.call_counts(),
        "fallback_counts": accel.fallback_counts(),
    }
    with open(path, "w") as out:
        json.dump(report, out, indent=1)
