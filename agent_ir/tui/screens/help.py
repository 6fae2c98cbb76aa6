"""Every key that works where ``?`` was pressed, with what it does."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static


class HelpScreen(ModalScreen[None]):
    """A table of bindings: key, action, and where it applies."""

    BINDINGS = [
        Binding("escape", "close", "Close"),
        Binding("question_mark", "close", "Close", show=False),
        Binding("q", "close", "Close", show=False),
    ]

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen #help-box { width: 76; max-width: 100%; height: 90%; border: thick $primary;
        background: $surface; }
    HelpScreen DataTable { height: 1fr; }
    HelpScreen #help-hint { height: 1; color: $text-muted; padding: 0 1; }
    """

    def __init__(self, bindings: list[tuple[str, str, str]]) -> None:
        super().__init__()
        self.bindings = bindings

    def compose(self) -> ComposeResult:
        with Vertical(id="help-box") as box:
            box.border_title = "Keys"
            yield DataTable(cursor_type="row", id="help-table")
            yield Static("ctrl+p: every action by name · escape closes", id="help-hint")

    def on_mount(self) -> None:
        """Fill the table."""
        table: DataTable[str] = self.query_one(DataTable)
        table.add_columns("KEY", "ACTION", "WHERE")
        for row in self.bindings:
            table.add_row(*row)
        table.focus()

    def action_close(self) -> None:
        """Close the help."""
        self.dismiss(None)
