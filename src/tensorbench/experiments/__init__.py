"""One module per experiment. Each defines ``IMPLEMENTATIONS``, ``cells(...)`` (the
measurements a profile asks for) and ``measure(cell)`` (run in a worker process)."""
