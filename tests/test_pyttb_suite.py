"""pyttb's own tests and doctests, run with kernels_rs.pyttb enabled (issue 15).

`make setup` unpacks the tests of pyttb's source distribution for the pinned version into
cache/pyttb-sdist/. They run here in a subprocess with our two plugins
(tests/pyttb_accelerated/): pyttb_support gives them what the sdist leaves out, and
pyttb_accelerated switches the drop-in on after collection and reports what ran.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pyttb

ROOT = Path(__file__).resolve().parents[1]
SDIST = ROOT / "cache" / "pyttb-sdist" / f"pyttb-{pyttb.__version__}"
PLUGINS = Path(__file__).resolve().parent / "pyttb_accelerated"
UNIT_TESTS = ["test_sptensor.py", "test_ktensor.py", "test_cp_als.py", "test_cp_apr.py"]
DOCTEST_MODULES = ["pyttb.sptensor", "pyttb.ktensor", "pyttb.cp_als"]


def test_pyttb_own_tests_and_doctests_pass_with_acceleration(tmp_path):
    tests = SDIST / "tests"
    assert (tests / ".unpacked").exists(), f"{tests} is missing: run `make setup`"
    report_path = tmp_path / "report.json"
    junit_path = tmp_path / "junit.xml"
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PLUGINS), env.get("PYTHONPATH")]))
    env["KERNELS_RS_PYTTB_REPORT"] = str(report_path)
    # Two threads, so that calls big enough for the pool take the threaded schedule.
    env["KERNELS_RS_NUM_THREADS"] = "2"
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-rs",
        "-p",
        "pyttb_support",
        "-p",
        "pyttb_accelerated",
        "-p",
        "no:cacheprovider",
        # Not the sdist's pytest configuration (its addopts collect the sdist's sources).
        "-c",
        os.devnull,
        "--rootdir",
        str(SDIST),
        f"--junitxml={junit_path}",
        *[f"tests/{name}" for name in UNIT_TESTS],
        "--doctest-modules",
        "--pyargs",
        *DOCTEST_MODULES,
    ]
    run = subprocess.run(command, cwd=SDIST, env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout[-5000:] + run.stderr[-3000:]

    cases = list(ET.parse(junit_path).getroot().iter("testcase"))
    unit = [c for c in cases if c.get("classname", "").startswith("tests.")]
    # A doctest's junit name is the object's dotted name, e.g. pyttb.sptensor.sptensor.ttv.
    doctests = [c for c in cases if c.get("name", "").startswith("pyttb.")]
    assert len(unit) + len(doctests) == len(cases)
    for case in cases:
        assert case.find("failure") is None and case.find("error") is None, case.attrib
    skipped = [c for c in unit if c.find("skipped") is not None]
    for case in skipped:
        # Only tests that need fixtures the sdist does not ship may be skipped.
        message = case.find("skipped").get("message", "")
        assert "from pyttb's repository conftest" in message, message
    assert len(unit) - len(skipped) > 50
    assert all(c.find("skipped") is None for c in doctests)
    modules = {m for c in doctests for m in DOCTEST_MODULES if c.get("name").startswith(m + ".")}
    assert modules == set(DOCTEST_MODULES)

    report = json.loads(report_path.read_text())
    assert report["replaced"] == {"ttv": True, "mttkrp": True, "innerprod": True}
    assert report["tests_not_accelerated"] == []
    assert report["tests_run"] == len(cases) - len(skipped)
    for kernel, calls in report["call_counts"].items():
        assert calls > 0, f"kernels_rs.{kernel} was never called"
    print(
        f"pyttb {pyttb.__version__}: {len(unit) - len(skipped)} unit tests passed "
        f"({len(skipped)} skipped), {len(doctests)} doctests passed, "
        f"kernel calls {report['call_counts']}"
    )
