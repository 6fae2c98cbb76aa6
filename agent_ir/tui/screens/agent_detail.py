"""One agent, tabbed: Overview, Access, Credentials, Delegation, Journal, Activity."""

from __future__ import annotations

import asyncio

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.timer import Timer
from textual.widgets import Static, TabbedContent, TabPane

from agent_ir.errors import AgentIRError
from agent_ir.textsafe import visible
from agent_ir.tui.activity import ActivityPane
from agent_ir.tui.clipboard import copy_text
from agent_ir.tui.messages import CutLink, OpenIncident, PickPlaybook, Restore, Revoke
from agent_ir.tui.safe import plain
from agent_ir.tui.screens.base import ConsoleScreen
from agent_ir.tui.screens.links import LinksScreen
from agent_ir.tui.session import ConsoleSession
from agent_ir.tui.widgets.agent_overview import AgentOverview
from agent_ir.tui.widgets.console_footer import ConsoleFooter
from agent_ir.tui.widgets.credentials_table import CredentialsTable
from agent_ir.tui.widgets.delegation_tree import DelegationTree
from agent_ir.tui.widgets.grants_table import GrantsTable
from agent_ir.tui.widgets.incident_table import IncidentTable

TABS = ("overview", "access", "credentials", "delegation", "journal", "activity")
FOLLOW_S = 0.25
"""How often an agent opened before every provider answered looks for their answers."""


class AgentDetailScreen(ConsoleScreen):
    """Everything about one agent; revoke, run a playbook or restore from here."""

    HELP_NAME = "An agent (tabs 1 to 6)"

    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("q", "back", "Back", show=False),
        Binding("r", "revoke", "Revoke"),
        Binding("p", "playbook", "Playbook"),
        Binding("u", "restore", "Restore"),
        Binding("y", "copy", "Copy id"),
        Binding("o", "links", "Console"),
        Binding("x", "cut_link", "Cut link", show=False),
        Binding("ctrl+r", "reload", "Reload", show=False),
        *(
            Binding(str(n), f"tab('{tab}')", tab.title(), show=False, tooltip=f"show the {tab} tab")
            for n, tab in enumerate(TABS, start=1)
        ),
    ]

    DEFAULT_CSS = """
    AgentDetailScreen #detail-status { height: auto; padding: 0 1; color: $text-muted; }
    AgentDetailScreen #journal-hint { height: 1; padding: 0 1; color: $text-muted; }
    """

    def __init__(self, session: ConsoleSession, agent: str) -> None:
        super().__init__(session)
        self.agent = agent
        self._generation = -1
        self._follow_timer: Timer | None = None

    def compose(self) -> ComposeResult:
        yield self.environment_bar(f"agent {self.agent}")
        yield Static("", id="detail-status")
        with TabbedContent(id="tabs"):
            with TabPane("1 Overview", id="overview"):
                yield AgentOverview()
            with TabPane("2 Access", id="access"):
                yield GrantsTable()
            with TabPane("3 Credentials", id="credentials"):
                yield CredentialsTable()
            with TabPane("4 Delegation", id="delegation"):
                yield DelegationTree()
            with TabPane("5 Journal", id="journal"):
                yield Static(
                    "enter opens the highlighted incident · u restores it", id="journal-hint"
                )
                yield IncidentTable()
            with TabPane("6 Activity", id="activity"):
                yield ActivityPane(self.session, self.agent)
        yield ConsoleFooter()

    def on_mount(self) -> None:
        """Fill every tab from the current inventory; the first tab's content has focus,
        so the arrows work at once."""
        self._fill()
        self.load_journal()
        self._focus_content()
        if self.session.pending:
            self._follow_timer = self.set_interval(FOLLOW_S, self._follow)

    def _follow(self) -> None:
        """While providers are still answering, show what each adds as it arrives."""
        if self.session.generation != self._generation:
            self._fill()
        if not self.session.pending and self._follow_timer is not None:
            self._follow_timer.stop()

    @on(TabbedContent.TabActivated)
    def _tab_opened(self) -> None:
        self._focus_content()

    def _focus_content(self) -> None:
        """Focus what the open tab shows (its table, tree or text), not the tab bar."""
        pane = self.query_one(TabbedContent).active_pane
        if pane is None:
            return
        for widget in pane.query("*"):
            if widget.focusable:
                widget.focus()
                return

    def on_screen_resume(self) -> None:
        """After a run, discover again and redraw; the journal has grown too."""
        if self.session.stale:
            self.reload()
        elif self.session.generation != self._generation:
            self._fill()
        self.load_journal()

    def _fill(self) -> None:
        try:
            view = self.session.view(self.agent)
        except AgentIRError as exc:
            self._status(exc.message)
            return
        inv = self.session.inventory
        if inv is None:
            return
        self._generation = self.session.generation
        now = self.session.clock()
        failed = ", ".join(sorted(inv.errors))
        pending = ", ".join(sorted(self.session.pending))
        notes = [f"{failed} did not answer: what they hold is missing"] if failed else []
        notes += [f"still reading {pending}: what they hold is not shown yet"] if pending else []
        self._status("\n".join(notes))
        self.query_one(AgentOverview).show(view, now)
        self.query_one(GrantsTable).show(view, inv.graph)
        self.query_one(CredentialsTable).show(view, now)
        self.query_one(DelegationTree).show(view.tree)

    @work(exclusive=True, group="detail-reload")
    async def reload(self) -> None:
        """Discover everything again, then redraw."""
        self._status("reloading the inventory…")
        try:
            await self.session.reload()
        except AgentIRError as exc:
            self._status(exc.message)
            return
        self._fill()

    def _status(self, text: str) -> None:
        status = self.query_one("#detail-status", Static)
        status.update(plain(text))
        status.display = bool(text)

    @work(exclusive=True, group="journal")
    async def load_journal(self) -> None:
        """Read this agent's incidents from the journal."""
        try:
            found = await asyncio.to_thread(self.session.incident_reports, self.agent)
        except AgentIRError as exc:
            self.query_one("#journal-hint", Static).update(plain(exc.message))
            return
        self.query_one(IncidentTable).show(found)

    def action_back(self) -> None:
        """Back to the agent list."""
        self.dismiss()

    def action_tab(self, tab: str) -> None:
        """Show one tab."""
        self.query_one(TabbedContent).active = tab

    def action_reload(self) -> None:
        """Discover everything again."""
        self.reload()

    def action_revoke(self) -> None:
        """Plan the kill switch for this agent (read-only: a preview)."""
        self.post_message(Revoke(self.agent))

    def action_playbook(self) -> None:
        """Pick a playbook to run on this agent."""
        self.post_message(PickPlaybook(self.agent))

    def action_restore(self) -> None:
        """Undo the incident highlighted in the Journal tab."""
        table = self.query_one(IncidentTable)
        if self.query_one(TabbedContent).active != "journal" or table.current is None:
            self.action_tab("journal")
            table.focus()
            if table.current is None:
                self.notify("no incident has touched this agent yet", severity="warning")
            else:
                self.notify("highlight the incident to undo, then press u again")
            return
        self._restore(table.current)

    def command_text(self, action: str, description: str) -> str:
        """Palette wording naming this agent, or the highlighted incident."""
        agent = self.agent
        incident = self.query_one(IncidentTable).current
        texts = {
            "revoke": f"Revoke {agent}…",
            "playbook": f"Run a playbook on {agent}…",
            "links": f"Console pages of {agent}",
            "cut_link": f"Cut a delegation link of {agent}…",
            "restore": f"Restore incident {incident}…"
            if incident
            else f"Restore an incident of {agent}…",
            "open": f"Open incident {incident}" if incident else description,
        }
        return texts.get(action, description)

    def action_cut_link(self) -> None:
        """Plan cutting the delegation link highlighted in the Delegation tab."""
        if self.query_one(TabbedContent).active != "delegation":
            self.action_tab("delegation")
            self.notify("highlight the link to cut, then press x again")
            return
        edge = self.query_one(DelegationTree).cuttable_edge
        if edge is None:
            self.notify(
                "highlight a delegation link (consent, assume-role, impersonate, federation "
                "or token-exchange); ownership is not cut here",
                severity="warning",
            )
            return
        self.post_message(CutLink(self.agent, edge.source, edge.target))

    def action_copy(self) -> None:
        """Copy the highlighted credential's or incident's id. On the other tabs, choose the
        identity whose id to copy."""
        tab = self.query_one(TabbedContent).active
        if tab == "credentials":
            entry = self.query_one(CredentialsTable).current
            if entry is not None:
                ident, cred = entry
                copy_text(self, f"{ident.provider} {cred.kind} id", cred.id)
                return
        if tab == "journal":
            incident = self.query_one(IncidentTable).current
            if incident is not None:
                copy_text(self, "incident id", incident)
                return
        self.action_links()

    def action_links(self) -> None:
        """Show the agent's identities with their provider console pages. The identity of
        the highlighted credential comes first when the Credentials tab is open."""
        try:
            identities = list(self.session.view(self.agent).agent.identities)
        except AgentIRError as exc:
            self.notify(visible(exc.message), markup=False, severity="error")
            return
        current = 0
        entry = self.query_one(CredentialsTable).current
        if self.query_one(TabbedContent).active == "credentials" and entry is not None:
            current = next((n for n, i in enumerate(identities) if i.id == entry[0].id), 0)
        self.app.push_screen(LinksScreen(self.agent, identities, current))

    @on(IncidentTable.OpenRequested)
    def _open_requested(self, event: IncidentTable.OpenRequested) -> None:
        event.stop()
        self.post_message(OpenIncident(event.incident, self.agent))

    @on(IncidentTable.RestoreRequested)
    def _restore_requested(self, event: IncidentTable.RestoreRequested) -> None:
        event.stop()
        self._restore(event.incident)

    def _restore(self, incident: str) -> None:
        self.post_message(Restore(incident, self.agent))
