"""IncidentTable: the incidents of the journal that touched one agent, newest first.

Columns: the incident id, when it started (UTC and local), who ran it and why, the
playbook, the verdict and the incident that restored it, if any.

Bindings: DataTable's, plus enter to open the highlighted incident (posts
:class:`IncidentTable.OpenRequested`) and ``u`` to restore it (posts
:class:`IncidentTable.RestoreRequested`). Reactive state: ``count``.
"""

from __future__ import annotations

from datetime import UTC

from textual.binding import Binding
from textual.message import Message
from textual.reactive import reactive

from agent_ir.engine.report import IncidentReport
from agent_ir.tui.format import verdict_words
from agent_ir.tui.safe import SafeTable

COLUMNS = (
    "INCIDENT",
    "STARTED UTC",
    "LOCAL",
    "RESPONDER",
    "REASON",
    "PLAYBOOK",
    "VERDICT",
    "RESTORED BY",
)


class IncidentTable(SafeTable):
    """The Journal tab's table."""

    HELP_WHERE = "in the Journal tab"

    BINDINGS = [
        Binding("enter", "open", "Open incident"),
        Binding("u", "restore", "Restore"),
    ]

    count: reactive[int] = reactive(0)

    class OpenRequested(Message):
        """The responder asked to see one incident whole."""

        def __init__(self, incident: str) -> None:
            super().__init__()
            self.incident = incident

    class RestoreRequested(Message):
        """The responder asked to undo an incident."""

        def __init__(self, incident: str) -> None:
            super().__init__()
            self.incident = incident

    def on_mount(self) -> None:
        """Set up the columns."""
        self.cursor_type = "row"
        self.add_columns(*COLUMNS)

    def show(self, incidents: list[IncidentReport]) -> None:
        """List incidents."""
        self.clear()
        for item in incidents:
            self.add_row(*row(item), key=item.incident)
        self.count = len(incidents)

    @property
    def current(self) -> str | None:
        """The highlighted incident id."""
        if not self.count:
            return None
        row_key, _ = self.coordinate_to_cell_key(self.cursor_coordinate)
        return row_key.value

    def action_open(self) -> None:
        """Ask to open the highlighted incident."""
        if self.current is not None:
            self.post_message(self.OpenRequested(self.current))

    def action_restore(self) -> None:
        """Ask to undo the highlighted incident."""
        if self.current is not None:
            self.post_message(self.RestoreRequested(self.current))


def row(item: IncidentReport) -> tuple[str, ...]:
    """The cells of one incident."""
    started = item.started
    utc = f"{started.astimezone(UTC):%Y-%m-%d %H:%M}Z" if started else "unknown"
    local = f"{started.astimezone():%H:%M}" if started else "-"
    playbook = f"restore of {item.restore_of}" if item.restore_of else item.playbook
    verdict = verdict_words(item.verdict) if item.verdict else item.status
    reason = item.reason if len(item.reason) <= 40 else item.reason[:39] + "…"
    return (
        item.incident,
        utc,
        local,
        item.responder or "?",
        reason or "-",
        playbook,
        verdict,
        ", ".join(item.restored_by) or "-",
    )
