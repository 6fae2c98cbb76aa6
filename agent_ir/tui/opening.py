"""Where the console's providers come from when they are not ready yet: a lab to start or
a configuration to read, opened in a thread behind the first paint.

The console paints its start-up screen at once and waits for :meth:`Opening.start`'s
future; the face that made the opening (the CLI) closes it after the app has ended, so
a lab started for the console is stopped whether the responder used it, quit while it
was starting, or it failed. The console never learns what a lab is: it sees settings.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future
from contextlib import AbstractContextManager, ExitStack
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:  # the start-up screen paints before the settings are imported
    from agent_ir.settings import Settings


@runtime_checkable
class Opening(Protocol):
    """Settings that take a while to come: opened once, behind the console's first paint."""

    @property
    def what(self) -> str:
        """What the responder waits for, as the progress line says it ("starting lab…")."""
        ...

    @property
    def lab(self) -> bool:
        """True when the providers will be lab emulators (the screen says LAB at once)."""
        ...

    def start(self) -> Future[Settings]:
        """Begin opening (without blocking); the future holds the settings or the error."""
        ...


class ContextOpening:
    """Opens by entering a context manager in a thread of its own and closes by leaving
    it, so whatever the context started (a lab, its lock) ends with it.

    ``enter`` builds the context manager (called in the thread); ``what`` and ``lab`` are
    :class:`Opening`'s.
    """

    def __init__(
        self,
        enter: Callable[[], AbstractContextManager[Settings]],
        *,
        what: str,
        lab: bool,
    ) -> None:
        self._enter = enter
        self.what = what
        self.lab = lab
        self._future: Future[Settings] = Future()
        self._stack = ExitStack()
        self._thread: threading.Thread | None = None

    def start(self) -> Future[Settings]:
        """Enter the context in a thread (once); the future resolves when it has."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._open, name="agent-ir-opening")
            self._thread.start()
        return self._future

    def _open(self) -> None:
        """Runs in the opening thread: the error goes to the future, where the console
        shows it (it must not die with the thread unseen)."""
        if not self._future.set_running_or_notify_cancel():
            return
        try:
            settings = self._stack.enter_context(self._enter())
        except Exception as exc:  # noqa: BLE001 - handed to the future, shown on screen
            self._future.set_exception(exc)
        else:
            self._future.set_result(settings)

    @property
    def starting(self) -> bool:
        """True while the context is still being entered."""
        return self._thread is not None and self._thread.is_alive()

    def failure(self) -> BaseException | None:
        """The error opening raised, if it did (None while it runs or if it never ran)."""
        if not self._future.done() or self._future.cancelled():
            return None
        return self._future.exception()

    def close(self) -> None:
        """Wait for an opening still under way, then leave the context (stopping what it
        started). Safe to call more than once, and when it never started."""
        if self._thread is not None:
            self._thread.join()
        self._stack.close()
