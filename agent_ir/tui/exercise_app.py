"""The console in exercise mode: the same application, opening on the exercise screen."""

from __future__ import annotations

from textual.screen import Screen

from agent_ir.tui.app import AgentIRApp
from agent_ir.tui.exercise_session import ExerciseSession
from agent_ir.tui.screens.exercise import ExerciseScreen


class ExerciseApp(AgentIRApp):
    """agent-ir's console over one running exercise."""

    TITLE = "agent-ir tabletop"

    def __init__(self, session: ExerciseSession) -> None:
        super().__init__(session)
        self.exercise = session

    def first_screen(self) -> Screen[None]:
        """The exercise screen."""
        return ExerciseScreen(self.exercise)
