"""Run profiles: parameter files in ``profiles/<name>.yaml``.

``paper`` has the paper's exact sizes and 30 trials; ``quick`` takes a few minutes in
all on a 2-core machine; ``smoke`` takes seconds and is what the tests run. Each
experiment reads its own top-level key.
"""

from __future__ import annotations

from functools import cache

import yaml

from tensorbench import paths

PROFILES = ("paper", "quick", "smoke")


@cache
def load(name: str) -> dict:
    """The parsed profile ``name`` (a ValueError names the known profiles)."""
    path = paths.profiles_dir() / f"{name}.yaml"
    if not path.exists():
        known = sorted(p.stem for p in paths.profiles_dir().glob("*.yaml"))
        raise ValueError(f"unknown profile {name!r}; known profiles: {known}")
    with path.open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def section(name: str, experiment: str) -> dict:
    """The parameters of ``experiment`` in profile ``name``."""
    profile = load(name)
    if experiment not in profile:
        raise ValueError(f"profile {name!r} has no section {experiment!r}")
    return profile[experiment]
