"""tensorbench: the Python side of the compendium.

Shared infrastructure (timing, results, environment, figures) lives in top-level
modules; each experiment has its own module in :mod:`tensorbench.experiments`.
"""

__version__ = "0.1.0"
