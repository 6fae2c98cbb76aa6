"""One sanitiser for every string that reaches a terminal.

Provider data (an Okta app attribute, an IAM tag, a role description) is written by
whoever controls the provider object, so it may hold escape sequences that retitle the
window, clear the screen or forge output lines. Before text reaches a terminal, control
characters, escapes and bidirectional overrides are made visible (ESC becomes ``\\x1b``);
JSON output needs nothing, since JSON escapes control characters itself.
"""

from __future__ import annotations

import re

# C0 controls, DEL, C1 controls, and the Unicode bidi embeddings/overrides/isolates that
# can reorder what a reader sees (U+200E/F marks, U+202A-E, U+2066-9), plus the BOM.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
_UNSAFE_IN_TEXT = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: str) -> str:
    """One provider value on one line: every control character made visible, newlines too."""
    return _UNSAFE.sub(_escape, text)


def terminal_text(text: str) -> str:
    """A block of output text: newlines and tabs kept, every other control made visible."""
    return _UNSAFE_IN_TEXT.sub(_escape, text)


def has_raw_controls(text: str) -> bool:
    """Whether ``text`` would still drive a terminal (any control besides newline and tab)."""
    return _UNSAFE_IN_TEXT.search(text) is not None
