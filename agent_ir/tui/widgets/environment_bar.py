"""EnvironmentBar: the top line of every screen.

It names the environment in words, never by colour alone: ``LAB`` (in its own colour)
when the providers are lab emulators, otherwise the configuration's ``name``; and
``READ-ONLY`` when every write path is closed. The right side shows the screen's title.

No bindings. Reactive state: ``title``.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.reactive import reactive
from textual.widgets import Label

from agent_ir.tui.safe import plain


class EnvironmentBar(Horizontal):
    """Environment, read-only mode and the screen's title, in one line."""

    DEFAULT_CSS = """
    EnvironmentBar { height: 1; dock: top; background: $panel; }
    EnvironmentBar Label { padding: 0 1; }
    EnvironmentBar #env-app { text-style: bold; }
    EnvironmentBar .env-lab { background: $warning; color: black; text-style: bold; }
    EnvironmentBar .env-named { background: $primary; color: $text; text-style: bold; }
    EnvironmentBar #env-read-only { background: $error; color: white; text-style: bold; }
    EnvironmentBar #env-title { width: 1fr; content-align: right middle; color: $text-muted; }
    """

    title: reactive[str] = reactive("")

    def __init__(self, environment: str, *, lab: bool, read_only: bool, title: str = "") -> None:
        super().__init__()
        self.environment = environment
        self.lab = lab
        self.read_only = read_only
        self.set_reactive(EnvironmentBar.title, title)

    def compose(self) -> ComposeResult:
        yield Label("agent-ir", id="env-app")
        if self.lab:
            yield Label("LAB", id="env-name", classes="env-lab")
        else:
            yield Label(plain(f"ENV {self.environment}"), id="env-name", classes="env-named")
        if self.read_only:
            yield Label("READ-ONLY", id="env-read-only")
        yield Label(plain(self.title), id="env-title")

    def watch_title(self, title: str) -> None:
        """Show a new screen title."""
        if self.is_mounted:
            self.query_one("#env-title", Label).update(plain(title))
