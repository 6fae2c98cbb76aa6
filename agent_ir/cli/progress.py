"""Progress on stderr for long reads: one rewritten line on a terminal, quiet otherwise."""

from __future__ import annotations

import sys
import time

from agent_ir.cli.terminal import raw
from agent_ir.textsafe import visible


class StderrProgress:
    """A progress callback that rewrites one status line on an interactive stderr."""

    def __init__(self) -> None:
        self.enabled = sys.stderr.isatty()
        self._last = 0.0
        self._shown = False

    def __call__(self, what: str, done: int, total: int | None) -> None:
        """Show ``what`` with its count, at most ten times a second."""
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self._last < 0.1 and total is not None and done < total:
            return
        self._last = now
        count = f" {done}/{total}" if total is not None else ""
        stream = raw(sys.stderr)
        stream.write(f"\r\x1b[2K{visible(what)}{count}")
        stream.flush()
        self._shown = True

    def clear(self) -> None:
        """Erase the status line."""
        if self._shown:
            stream = raw(sys.stderr)
            stream.write("\r\x1b[2K")
            stream.flush()
            self._shown = False
