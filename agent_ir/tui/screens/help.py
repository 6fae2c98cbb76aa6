"""Every key, grouped by screen, with what it does in words (see keys_help)."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from agent_ir.tui.keys_help import HelpSection


class HelpScreen(ModalScreen[None]):
    """A table of keys under a title line per screen: key, name, what it does."""

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
    HelpScreen DataTable { height: 1fr; }
    HelpScreen #help-hint { height: 1; color: $text-muted; padding: 0 1; }
    """

    def __init__(self, sections: list[HelpSection]) -> None:
        super().__init__()
        self.sections = sections

    def compose(self) -> ComposeResult:
        with Vertical(id="help-box") as box:
            box.border_title = "Keys"
            yield DataTable(cursor_type="row", id="help-table")
            yield Static("ctrl+p or : every action by name · escape closes", id="help-hint")

    def on_mount(self) -> None:
        """Fill the table, a title line before each screen's keys."""
        table: DataTable[Text] = self.query_one(DataTable)
        table.add_columns("KEY", "NAME", "WHAT IT DOES")
        for number, section in enumerate(self.sections):
            if number:
                table.add_row(Text(""), Text(""), Text(""))
            table.add_row(Text(section.title, style="bold reverse"), Text(""), Text(""))
            for row in section.rows:
                table.add_row(Text(row.key, style="bold"), Text(row.name), Text(row.does))
        table.focus()

    @property
    def rows(self) -> list[tuple[str, str, str]]:
        """Every line as plain text (titles included), for tests and screen readers."""
        table: DataTable[Text] = self.query_one(DataTable)
        return [
            (str(c[0]), str(c[1]), str(c[2]))
            for c in (table.get_row_at(i) for i in range(table.row_count))
        ]

    def action_close(self) -> None:
        """Close the help."""
        self.dismiss(None)
