"""The first-call child scripts, as the text of these files (none is imported).

``first_call._script`` joins a header that defines ``LENGTH``, ``LATER_CALLS``,
``MODULE_DIR`` and ``CACHE``, then ``prelude.py``, then one scenario (``rust.py``,
``rust_stepwise.py``, ``rust_version_check_first.py``, ``numba_dot.py``), then a line
that prints the report; a fresh interpreter runs it with ``python -c``. The names a
scenario uses without defining them come from the header and the prelude.
"""
