"""The screen the console paints first while its providers are opened behind it: a lab
starting, or a configuration being read. It says what it waits for, shows what the
opening reports on stderr (the lab's banner, a wait for another command's lab lock), and,
when the opening fails, the error in words; ``q`` quits at any time."""

from __future__ import annotations

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Static

from agent_ir.tui.safe import plain, shown
from agent_ir.tui.widgets.console_footer import ConsoleFooter
from agent_ir.tui.widgets.environment_bar import EnvironmentBar


class StartupScreen(Screen[None]):
    """Progress while the console opens; the error if it cannot."""

    HELP_NAME = "Starting up"

    BINDINGS = [
        Binding("q", "app.quit", "Quit"),
        Binding("escape", "app.quit", "Quit", show=False),
    ]

    DEFAULT_CSS = """
    StartupScreen #startup-progress { padding: 1 1 0 1; text-style: bold; }
    StartupScreen #startup-detail { padding: 0 1; color: $text-muted; }
    StartupScreen #startup-error { padding: 1 1; color: $error; }
    """

    def __init__(self, what: str, *, lab: bool) -> None:
        super().__init__()
        self.what = what
        self.lab = lab
        self.error = ""

    def compose(self) -> ComposeResult:
        yield EnvironmentBar("…", lab=self.lab, read_only=False, title="starting")
        yield Static(self.what, id="startup-progress")
        yield Static("", id="startup-detail")
        yield Static("", id="startup-error")
        yield ConsoleFooter()

    def on_mount(self) -> None:
        """Show what the opening prints on stderr (it runs while this screen is up)."""
        self.app.begin_capture_print(self, stdout=False, stderr=True)

    def on_unmount(self) -> None:
        """Stop taking the prints."""
        self.app.end_capture_print(self)

    def on_print(self, event: events.Print) -> None:
        """The latest line the opening printed, as the detail under the progress line."""
        lines = [line.strip() for line in event.text.splitlines() if line.strip()]
        if lines and not self.error:
            self.query_one("#startup-detail", Static).update(shown(lines[-1]))

    def failed(self, message: str) -> None:
        """The opening failed: say so, and that q leaves (with the error's exit code)."""
        self.error = message
        what = "the lab did not start" if self.lab else "the console could not open"
        self.query_one("#startup-progress", Static).update(f"{what}; q quits")
        self.query_one("#startup-error", Static).update(plain(message))
