"""IncidentTable: the incidents of the journal that touched one agent, newest first.

Bindings: DataTable's, plus ``u`` to restore the highlighted incident (posts
:class:`IncidentTable.RestoreRequested`). Reactive state: ``count``.
"""

from __future__ import annotations

from datetime import datetime

from textual.binding import Binding
from textual.message import Message
from textual.reactive import reactive

from agent_ir.engine.journal import IncidentSummary
from agent_ir.tui.format import age_text
from agent_ir.tui.safe import SafeTable


class IncidentTable(SafeTable):
    """The Journal tab's table."""

    BINDINGS = [Binding("u", "restore", "Restore")]

    count: reactive[int] = reactive(0)

    class RestoreRequested(Message):
        """The responder asked to undo an incident."""

        def __init__(self, incident: str) -> None:
            super().__init__()
            self.incident = incident

    def on_mount(self) -> None:
        """Set up the columns."""
        self.cursor_type = "row"
        self.add_columns("INCIDENT", "STARTED", "PLAYBOOK", "STATUS", "RESTORE OF")

    def show(self, incidents: list[IncidentSummary], now: datetime) -> None:
        """List incidents."""
        self.clear()
        for item in incidents:
            self.add_row(
                item.id,
                age_text(item.started, now, never="unknown"),
                item.playbook or "?",
                item.status,
                item.restore_of or "-",
                key=item.id,
            )
        self.count = len(incidents)

    @property
    def current(self) -> str | None:
        """The highlighted incident id."""
        if not self.count:
            return None
        row_key, _ = self.coordinate_to_cell_key(self.cursor_coordinate)
        return row_key.value

    def action_restore(self) -> None:
        """Ask to undo the highlighted incident."""
        if self.current is not None:
            self.post_message(self.RestoreRequested(self.current))
