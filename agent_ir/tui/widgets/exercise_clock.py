"""ExerciseClock: the exercise's status line.

It names the exercise, shows its virtual clock (seconds since the start), when the next
inject fires, and the score once the exercise has ended.

No bindings (the exercise screen's ``n`` advances the clock). Reactive state: ``seconds``,
``next_at``, ``score``.
"""

from __future__ import annotations

from textual.reactive import reactive
from textual.widgets import Static


class ExerciseClock(Static):
    """Exercise name, clock, next inject and score, in one line."""

    DEFAULT_CSS = """
    ExerciseClock { height: 1; padding: 0 1; background: $boost; text-style: bold; }
    """

    seconds: reactive[float] = reactive(0.0)
    next_at: reactive[float | None] = reactive(None)
    score: reactive[int | None] = reactive(None)

    def __init__(self, exercise: str, *, next_at: float | None, id: str | None = None) -> None:
        super().__init__(id=id)
        self.exercise = exercise
        self.set_reactive(ExerciseClock.next_at, next_at)

    def on_mount(self) -> None:
        """Paint the first line."""
        self._paint()

    def _paint(self) -> None:
        upcoming = (
            "every inject has fired"
            if self.next_at is None
            else f"next inject at {self.next_at:g}s (n)"
        )
        parts = [f"Exercise {self.exercise}", f"clock {self.seconds:.0f}s", upcoming]
        if self.score is not None:
            parts.append(f"score {self.score}/100")
        self.update(" · ".join(parts))

    def watch_seconds(self) -> None:
        """Show the new time."""
        self._paint()

    def watch_next_at(self) -> None:
        """Show when the next inject fires."""
        self._paint()

    def watch_score(self) -> None:
        """Show the score."""
        self._paint()
