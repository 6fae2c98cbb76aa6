"""What every full screen of the console shares: the session, the environment bar and
the palette's wording of its commands."""

from __future__ import annotations

from textual.screen import Screen

from agent_ir.tui.session import ConsoleSession
from agent_ir.tui.widgets.environment_bar import EnvironmentBar


class ConsoleScreen(Screen[None]):
    """A full screen over one console session."""

    SCREEN_TITLE = ""

    def __init__(self, session: ConsoleSession) -> None:
        super().__init__()
        self.session = session

    def environment_bar(self, title: str | None = None) -> EnvironmentBar:
        """The top line: environment, read-only mode and this screen's title."""
        settings = self.session.settings
        return EnvironmentBar(
            settings.name,
            lab=settings.lab,
            read_only=settings.read_only,
            title=self.SCREEN_TITLE if title is None else title,
        )

    def command_text(self, action: str, description: str) -> str:
        """How the command palette words a binding of this screen: naming what it acts on
        ("Revoke invoice-agent…") where the screen knows; else its short name."""
        return description
