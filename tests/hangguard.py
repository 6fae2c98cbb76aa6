"""A hang guard for tests of hostile input: the call runs in a worker thread and the test
fails if it has not returned after a generous bound. It is not a timing assertion (any
loaded machine finishes far inside the bound); it only keeps a regression from hanging
the whole suite."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

import pytest

T = TypeVar("T")

HANG_GUARD_S = 120.0


def bounded(call: Callable[[], T], *, guard_s: float = HANG_GUARD_S) -> T:
    """Run ``call`` and return its result; fail the test if it hangs past ``guard_s``."""
    box: dict[str, object] = {}

    def work() -> None:
        try:
            box["result"] = call()
        except BaseException as exc:  # handed back to the test's own thread
            box["error"] = exc

    worker = threading.Thread(target=work, daemon=True)
    worker.start()
    worker.join(guard_s)
    if worker.is_alive():
        pytest.fail(f"did not return within the {guard_s:.0f} s hang guard")
    if "error" in box:
        raise box["error"]  # type: ignore[misc]
    return box["result"]  # type: ignore[return-value]
