"""The CLI's one choke point to the terminal: every text write goes through the sanitiser.

The commands print provider strings in many places; rather than trust each of them, the
command's stdout and stderr are wrapped for its duration so nothing it writes can drive the
terminal. The progress line's own cursor controls go to ``raw()`` on purpose.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TextIO

from agent_ir.textsafe import terminal_text


class SafeStream:
    """A text stream that writes through ``terminal_text``; everything else is delegated."""

    def __init__(self, inner: TextIO) -> None:
        self.unguarded = inner

    def write(self, text: str) -> int:
        """Write ``text`` with every control character except newline and tab made visible."""
        self.unguarded.write(terminal_text(text))
        return len(text)

    def writelines(self, lines: Any) -> None:
        """Write each line through ``write``."""
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.unguarded, name)


def raw(stream: TextIO) -> TextIO:
    """The stream beneath a guard, for text whose control characters are our own."""
    inner: TextIO = getattr(stream, "unguarded", stream)
    return inner


@contextmanager
def guarded_streams() -> Iterator[None]:
    """Wrap ``sys.stdout`` and ``sys.stderr`` in ``SafeStream`` until the block ends."""
    saved = sys.stdout, sys.stderr
    sys.stdout = SafeStream(saved[0])
    sys.stderr = SafeStream(saved[1])
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved
