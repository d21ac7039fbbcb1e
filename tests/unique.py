"""Unique names for the builders in ``tests/conftest.py``.

The counter has a module of its own because pytest imports conftest.py as
``conftest`` while test modules import it again as ``tests.conftest``: a
counter there would be two counters, and a fixture and a builder used in
the same test could make the same slug.
"""

import itertools

_counter = itertools.count(1)


def unique(prefix: str) -> str:
    """``prefix`` with a number no other call in this test run gets."""
    return f"{prefix}-{next(_counter)}"
