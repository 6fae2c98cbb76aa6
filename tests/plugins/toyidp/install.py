"""Put the toy provider's distribution metadata on ``sys.path``, for as long as needed."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

DIST = Path(__file__).resolve().parent / "dist"
"""The directory holding ``toyidp-0.dist-info`` (a site-packages of one distribution)."""
ROOT = Path(__file__).resolve().parents[3]
"""The repository root, from which ``tests.plugins.toyidp`` is importable."""


@contextmanager
def registered() -> Iterator[None]:
    """The toy provider installed (its entry points visible) inside the block only."""
    added = [str(p) for p in (DIST, ROOT) if str(p) not in sys.path]
    sys.path[:0] = added
    try:
        yield
    finally:
        for entry in added:
            sys.path.remove(entry)


def subprocess_path() -> str:
    """A ``PYTHONPATH`` under which a child process sees the toy provider installed."""
    return f"{DIST}:{ROOT}"
