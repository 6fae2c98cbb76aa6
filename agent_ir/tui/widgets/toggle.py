"""Toggle: a checkbox that says its state as a word, ``on`` or ``off``, and nothing else:
the checkbox's own mark is dropped, so it never reads ``X OFF``, and the choice never
depends on colour alone.

Bindings: Checkbox's (enter or space flips it). Reactive state: inherited ``value``.
"""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Checkbox

from agent_ir.tui.safe import plain


class Toggle(Checkbox):
    """A checkbox that says its state."""

    BUTTON_LEFT = ""
    BUTTON_INNER = ""
    BUTTON_RIGHT = ""

    DEFAULT_CSS = """
    Toggle > .toggle--label { padding: 0; }
    """

    def __init__(self, label: str, value: bool = False, *, id: str | None = None) -> None:
        self.base_label = label
        super().__init__(self._text(label, value), value, id=id)

    @staticmethod
    def _text(label: str, value: bool) -> Content:
        # a playbook's own words: shown as written, never parsed as markup
        return plain(f"{'on ' if value else 'off'}  {label}")

    def watch_value(self) -> None:
        """Say the new state (and let the checkbox announce the change)."""
        super().watch_value()
        self.label = self._text(self.base_label, self.value)
