"""Every key, grouped by screen, with what it does in words (see keys_help)."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from agent_ir.tui.keys_help import HelpSection
from agent_ir.tui.safe import clean


class HelpScreen(ModalScreen[None]):
    """A titled table of keys per screen: key, name, what it does (wrapped, never cut)."""

    HELP_NAME = "These keys"

    BINDINGS = [
        Binding("escape", "close", "Close"),
        Binding("question_mark", "close", "Close", show=False),
        Binding("q", "close", "Close", show=False),
    ]

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen #help-box { width: 110; max-width: 100%; height: 90%; border: thick $primary;
        background: $surface; }
    HelpScreen #help-body { height: 1fr; padding: 0 1; }
    HelpScreen #help-hint { height: 1; color: $text-muted; padding: 0 1; }
    """

    def __init__(self, sections: list[HelpSection]) -> None:
        super().__init__()
        self.sections = sections

    def compose(self) -> ComposeResult:
        with Vertical(id="help-box") as box:
            box.border_title = "Keys"
            with VerticalScroll(id="help-body"):
                yield Static(Group(*(_table(s) for s in self.sections)), id="help-text")
            yield Static("ctrl+p or : every action by name · escape closes", id="help-hint")

    def on_mount(self) -> None:
        """The keys scroll with the arrows and page keys."""
        self.query_one("#help-body").focus()

    @property
    def rows(self) -> list[tuple[str, str, str]]:
        """Every line as plain text, a section's title as ``(title, "", "")``."""
        out: list[tuple[str, str, str]] = []
        for section in self.sections:
            out.append((section.title, "", ""))
            out += [(r.key, r.name, r.does) for r in section.rows]
        return out

    def action_close(self) -> None:
        """Close the help."""
        self.dismiss(None)


def _table(section: HelpSection) -> Table:
    table = Table(
        title=clean(Text(section.title, style="bold reverse")),
        title_justify="left",
        show_header=False,
        box=None,
        expand=True,
        padding=(0, 1, 0, 0),
    )
    table.add_column("key", style="bold", no_wrap=True, min_width=8)
    table.add_column("name", no_wrap=True)
    table.add_column("does", ratio=1)
    for row in section.rows:
        table.add_row(clean(Text(row.key)), clean(Text(row.name)), clean(Text(row.does)))
    return table
