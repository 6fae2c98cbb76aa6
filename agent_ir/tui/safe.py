"""Provider strings made safe for the console: controls visible, markup never parsed.

Textual parses a plain ``str`` given to a table cell, a ``Static`` or a tree label as
markup, so an Okta label such as ``[reverse]`` would restyle the screen, and Rich passes
ESC through. Every widget that shows provider data hands it over as ``Text`` built here,
through the same sanitiser as the CLI (:mod:`agent_ir.textsafe`).
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.content import Content
from textual.widgets import DataTable

from agent_ir.textsafe import terminal_text, visible


def shown(value: object) -> Text:
    """One value on one line, as plain text: controls visible, no markup."""
    return value if isinstance(value, Text) and not _unsafe(value) else Text(visible(str(value)))


def plain(text: str) -> Content:
    """A block of text (newlines kept), every other control made visible, never markup."""
    return Content(terminal_text(text))


def clean(text: Text) -> Text:
    """Rich text with every control but newline and tab made visible; styles are kept."""
    if not _unsafe(text):
        return text
    cuts = sorted({0, len(text)} | {s.start for s in text.spans} | {s.end for s in text.spans})
    out = Text(style=text.style, justify=text.justify, no_wrap=text.no_wrap)
    for piece in text.divide(cuts[1:-1]):
        part = Text(terminal_text(piece.plain), style=piece.style)
        for span in piece.spans:
            part.stylize(span.style)
        out.append_text(part)
    return out


def _unsafe(text: Text) -> bool:
    return terminal_text(text.plain) != text.plain


class SafeTable(DataTable[Any]):
    """A ``DataTable`` whose string cells are shown as plain, sanitised text."""

    def add_row(self, *cells: Any, **options: Any) -> Any:
        """Add a row; every ``str`` or ``Text`` cell passes :func:`shown`."""
        safe = [shown(c) if isinstance(c, str | Text) else c for c in cells]
        return super().add_row(*safe, **options)

    def update_cell(self, row_key: Any, column_key: Any, value: Any, **options: Any) -> None:
        """Change one cell, sanitised like :meth:`add_row`."""
        safe = shown(value) if isinstance(value, str | Text) else value
        super().update_cell(row_key, column_key, safe, **options)
