"""The console in exercise mode: the same application, opening on the exercise screen.

The exercise keys work on every screen: ``n`` advances the clock to the next inject, ``a``
shows or hides residual access, ``e`` ends the exercise and scores it.
"""

from __future__ import annotations

from textual.binding import Binding
from textual.screen import Screen

from agent_ir.tui.app import AgentIRApp
from agent_ir.tui.exercise_session import ExerciseSession
from agent_ir.tui.screens.exercise import ExerciseScreen


class ExerciseApp(AgentIRApp):
    """agent-ir's console over one running exercise."""

    TITLE = "agent-ir tabletop"

    BINDINGS = [
        Binding("n", "next_inject", "Inject"),
        Binding("a", "residual", "Residual"),
        Binding("e", "end_exercise", "End"),
    ]

    def __init__(self, session: ExerciseSession, *, poll_s: float | None = None) -> None:
        super().__init__(session)
        self.exercise = session
        self.exercise_screen = ExerciseScreen(session, poll_s=poll_s)

    def first_screen(self) -> Screen[None]:
        """The exercise screen."""
        return self.exercise_screen

    def action_next_inject(self) -> None:
        """Advance the clock to the next inject (from any screen)."""
        self.exercise_screen.action_next_inject()

    def action_residual(self) -> None:
        """Show or hide residual access (from any screen; shown on the exercise screen)."""
        self.exercise_screen.action_residual()

    def action_end_exercise(self) -> None:
        """End the exercise (from any screen)."""
        self.exercise_screen.action_end()
