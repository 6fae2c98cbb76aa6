"""How much of its store each lab request touched: a count of entities, never a time.

At 10,000 agents a benchmark should measure agent-ir, not the emulator, so the Entra, Okta
and GCP emulators answer lookups and pages from indexes. Saying so needs a measure that
does not depend on how loaded the machine is: every store read counts the entities
(objects, rows, bindings, tokens) it examined with :func:`touch`. The server opens a
:func:`counting` scope around each request, and the request log keeps the count
(``work`` in ``GET /_lab/requests``), so a test can assert that a lookup touched O(1)
entities and a page O(page), whatever the size of the world.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass


@dataclass(slots=True)
class Tally:
    """Entities touched inside one :func:`counting` scope."""

    touched: int = 0


_current = threading.local()


def touch(n: int = 1) -> None:
    """Count ``n`` entities examined by the request running on this thread (if any)."""
    tally: Tally | None = getattr(_current, "tally", None)
    if tally is not None:
        tally.touched += n


@contextmanager
def counting() -> Iterator[Tally]:
    """Count what the code run inside touches on this thread (scopes nest; the inner one
    counts its own work and hands it on to the outer one)."""
    outer: Tally | None = getattr(_current, "tally", None)
    tally = Tally()
    _current.tally = tally
    try:
        yield tally
    finally:
        _current.tally = outer
        if outer is not None:
            outer.touched += tally.touched
