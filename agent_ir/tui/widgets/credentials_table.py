"""CredentialsTable: every credential of the agent's identities.

Columns say in words whether a credential is ``static`` or ``short-lived``, its status,
its age and when it was last used (``never`` when it was not).

The ID column holds the full id (the table scrolls sideways where it does not fit);
``current`` is the highlighted row's identity and credential, for copying and links.

Bindings: DataTable's (arrows, page keys). Reactive state: ``static_active`` (how many
active static credentials are shown).
"""

from __future__ import annotations

from datetime import datetime

from textual.reactive import reactive

from agent_ir.engine.inventory import AgentView
from agent_ir.model import Credential, Identity
from agent_ir.tui.format import age_text
from agent_ir.tui.safe import SafeTable


class CredentialsTable(SafeTable):
    """The Credentials tab."""

    static_active: reactive[int] = reactive(0)

    def __init__(self) -> None:
        super().__init__()
        self.entries: list[tuple[Identity, Credential]] = []

    def on_mount(self) -> None:
        """Set up the columns."""
        self.cursor_type = "row"
        self.zebra_stripes = True
        self.add_columns("IDENTITY", "KIND", "TYPE", "STATUS", "AGE", "LAST USED", "ID")

    def show(self, view: AgentView, now: datetime) -> None:
        """List the credentials of every identity of the agent."""
        self.clear()
        self.entries = []
        count = 0
        for ident in view.agent.identities:
            for cred in ident.credentials:
                kind = "static" if cred.static else "short-lived"
                if cred.static and cred.status == "active":
                    count += 1
                self.entries.append((ident, cred))
                self.add_row(
                    f"{ident.provider} {ident.name}",
                    cred.kind,
                    kind,
                    cred.status,
                    age_text(cred.created, now, never="unknown").replace(" ago", ""),
                    age_text(cred.last_used, now),
                    cred.id,
                )
        if not any(i.credentials for i in view.agent.identities):
            self.add_row("no credentials found", "", "", "", "", "", "")
        self.static_active = count

    @property
    def current(self) -> tuple[Identity, Credential] | None:
        """The highlighted credential and its identity (None when there is none)."""
        row = self.cursor_row
        return self.entries[row] if 0 <= row < len(self.entries) else None
