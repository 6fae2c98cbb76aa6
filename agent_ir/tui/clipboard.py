"""Copying to the responder's clipboard with Textual's OSC 52 support (it reaches the
local clipboard over SSH too), always with a toast saying what was copied."""

from __future__ import annotations

from textual.dom import DOMNode

from agent_ir.textsafe import visible


def copy_text(node: DOMNode, what: str, value: str) -> None:
    """Copy ``value`` (made printable first: a provider string must not smuggle a
    control sequence into the terminal) and name it in a toast."""
    safe = visible(value)
    node.app.copy_to_clipboard(safe)
    node.app.notify(f"copied {visible(what)}: {safe}", title="Clipboard", markup=False)
