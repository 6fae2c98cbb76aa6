"""Toggle: a checkbox whose label starts with its state as a word, ``ON`` or ``OFF``,
so the choice never depends on colour alone.

Bindings: Checkbox's (enter or space flips it). Reactive state: inherited ``value``.
"""

from __future__ import annotations

from textual.widgets import Checkbox


class Toggle(Checkbox):
    """A checkbox that says its state."""

    def __init__(self, label: str, value: bool = False, *, id: str | None = None) -> None:
        self.base_label = label
        super().__init__(self._text(label, value), value, id=id)

    @staticmethod
    def _text(label: str, value: bool) -> str:
        return f"{'ON ' if value else 'OFF'} {label}"

    def watch_value(self) -> None:
        """Say the new state (and let the checkbox announce the change)."""
        super().watch_value()
        self.label = self._text(self.base_label, self.value)
