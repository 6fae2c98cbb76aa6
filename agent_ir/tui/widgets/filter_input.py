"""FilterInput: the agent list's filter line.

Typing narrows the list as you go (the screen listens to ``Input.Changed``).

Bindings: enter keeps the filter and hands focus back (posts :class:`FilterInput.Done`);
escape clears it and hands focus back.

Reactive state: inherited ``value``.
"""

from __future__ import annotations

from textual.binding import Binding
from textual.message import Message
from textual.widgets import Input


class FilterInput(Input):
    """A one-line filter for the agent list."""

    BINDINGS = [
        Binding("enter", "done", "Keep filter", show=False),
        Binding("escape", "clear_filter", "Clear filter", show=False),
    ]

    DEFAULT_CSS = """
    FilterInput { height: 1; border: none; padding: 0 1; background: $boost; }
    FilterInput:focus { border: none; background: $accent 20%; }
    """

    class Done(Message):
        """The responder finished typing the filter."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(placeholder="/ to filter by name, owner, provider, risk or status", id=id)

    def action_done(self) -> None:
        """Keep the filter and leave the line."""
        self._leave()

    def action_clear_filter(self) -> None:
        """Clear the filter and leave the line."""
        self.value = ""
        self._leave()

    def _leave(self) -> None:
        """Hand focus on at once (to what follows the line), then say so: a key typed
        straight after Enter is routed by where focus is when it arrives, so waiting for
        the screen to move it would give that key to this line (an Enter to open the
        agent would be lost)."""
        self.screen.focus_next()
        self.post_message(self.Done())
