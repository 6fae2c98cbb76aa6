"""InjectLog: the injects that have fired, and what the exercise did, oldest first.

Each line starts with the exercise time and the kind of event in words (``ALERT``,
``CHANGE``, ``SCORE``), so nothing depends on colour.

No bindings. Reactive state: none (``lines`` keeps what is shown).
"""

from __future__ import annotations

from textual.widgets import Static

from agent_ir.tabletop.run import Event


class InjectLog(Static):
    """What has happened in the exercise so far."""

    DEFAULT_CSS = """
    InjectLog { height: 6; padding: 0 1; border-top: solid $panel; overflow-y: auto; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(
            "No inject has fired yet. Press n to advance the clock.", id=id, markup=False
        )
        self.lines: list[str] = []

    def add(self, event: Event) -> None:
        """Log one timeline event."""
        self.note(event.t, event.kind, event.text)

    def note(self, t: float, kind: str, text: str) -> None:
        """Log one line."""
        self.lines.append(f"{t:>6.0f}s  {kind.upper():<7} {text}")
        self.update("\n".join(self.lines[-50:]))
