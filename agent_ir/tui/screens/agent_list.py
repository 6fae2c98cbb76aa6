"""The first screen: every agent, loading provider by provider."""

from __future__ import annotations

import asyncio

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Input, Static

from agent_ir.errors import AgentIRError, ProviderError
from agent_ir.model import ProviderName
from agent_ir.providers.base import Discovery
from agent_ir.textsafe import visible
from agent_ir.tui.clipboard import copy_text
from agent_ir.tui.format import agent_row
from agent_ir.tui.messages import OpenAgent, PickPlaybook, Revoke
from agent_ir.tui.screens.base import ConsoleScreen
from agent_ir.tui.session import ConsoleSession
from agent_ir.tui.widgets.agent_table import AgentTable
from agent_ir.tui.widgets.console_footer import ConsoleFooter
from agent_ir.tui.widgets.filter_input import FilterInput
from agent_ir.tui.widgets.provider_status import ProviderStatus


class AgentListScreen(ConsoleScreen):
    """Agents with owner, providers, risk, credentials and status; filter and sort."""

    HELP_NAME = "The agent list"

    SCREEN_TITLE = "agents"

    BINDINGS = [
        Binding("slash", "filter", "Filter"),
        Binding("r", "revoke", "Revoke"),
        Binding("p", "playbook", "Playbook"),
        Binding("ctrl+r", "reload", "Reload"),
        Binding("y", "copy", "Copy name", show=False),
        Binding("q", "app.quit", "Quit", show=False),
    ]

    DEFAULT_CSS = """
    AgentListScreen #list-count { height: 1; padding: 0 1; color: $text-muted; }
    """

    def __init__(self, session: ConsoleSession) -> None:
        super().__init__(session)
        self._generation = -1
        self._reading = ""

    def compose(self) -> ComposeResult:
        yield self.environment_bar()
        yield FilterInput(id="filter")
        yield ProviderStatus(id="providers")
        yield AgentTable(id="agents")
        yield Static("", id="list-count")
        yield ConsoleFooter()

    @property
    def table(self) -> AgentTable:
        """The agent table."""
        return self.query_one(AgentTable)

    def on_mount(self) -> None:
        """Paint at once (every provider shown as loading), then discover in a worker."""
        self.table.focus()
        self.watch(self.table, "sort_column", self._count, init=False)
        self.watch(self.table, "sort_reverse", self._count, init=False)
        # after the first paint: building the adapters imports their SDKs, which would
        # hold the interpreter while the screen waits to draw
        self.call_after_refresh(self.load)

    def on_screen_resume(self) -> None:
        """Rediscover after a run; redraw when another screen reloaded the inventory."""
        if self.session.stale:
            self.load()
        elif self.session.generation != self._generation:
            self._show_inventory()

    @work(exclusive=True, group="inventory")
    async def load(self) -> None:
        """Discover every provider; the list fills with each provider's agents as that
        provider answers, not when the slowest has."""
        status = self.query_one(ProviderStatus)
        self.table.empty_text = "reading providers…"
        providers = list(self.session.configured())
        status.start([str(p) for p in providers])
        self._reading = f"reading providers… 0 of {len(providers)} answered"
        self._count()
        try:
            self.session.progress_listener = status.report
            async for _ in self.session.fill(lambda name, result: self._answered(status, name, result)):
                answered = len(providers) - len(self.session.pending)
                self._reading = (
                    f"reading providers… {answered} of {len(providers)} answered"
                    if self.session.pending
                    else ""
                )
                await self._show_rows()
        except AgentIRError as exc:
            self.table.empty_text = exc.message
            self._reading = ""
            self._count()
            self.notify(visible(exc.message), markup=False, title="Discovery failed", severity="error")
        finally:
            self.session.progress_listener = None

    @staticmethod
    def _answered(
        status: ProviderStatus, name: ProviderName, result: Discovery | ProviderError
    ) -> None:
        if isinstance(result, ProviderError):
            status.failed(name, result.message)
        else:
            status.answered(name, f"{len(result.identities)} identities")

    async def _show_rows(self) -> None:
        inv = self.session.inventory
        if inv is None:
            return
        now = self.session.clock()
        verdicts = self.session.verdicts
        rows = await asyncio.to_thread(
            lambda: [agent_row(a, now, verdicts.get(a.name)) for a in inv.agents]
        )
        self._generation = self.session.generation
        self.table.empty_text = "no agents found"
        self.table.set_rows(rows)
        self._count()

    def _show_inventory(self) -> None:
        self.run_worker(self._show_rows(), exclusive=True, group="rows")

    def _count(self) -> None:
        table = self.table
        shown, total = table.shown, table.total
        order = "descending" if table.sort_reverse else "ascending"
        match = f"{shown} of {total} agents match" if table.filter_text else f"{total} agents"
        reading = f"{self._reading} · " if self._reading else ""
        self.query_one("#list-count", Static).update(
            f"{reading}{match} · sorted by {table.sort_column} ({order}) · s sort · o order"
        )

    @on(Input.Changed, "#filter")
    def _filter(self, event: Input.Changed) -> None:
        self.table.filter_text = event.value
        self._count()

    @on(FilterInput.Done)
    def _filter_done(self) -> None:
        self.set_focus(self.table)

    def on_agent_table_selected(self, event: AgentTable.Selected) -> None:
        """Open the chosen agent."""
        self.post_message(OpenAgent(event.name))

    def action_filter(self) -> None:
        """Type a filter."""
        # focus moves now, not later: the next key typed must land in the line
        self.set_focus(self.query_one(FilterInput))

    def action_reload(self) -> None:
        """Discover everything again."""
        self.load()

    def _current(self) -> str | None:
        name = self.table.current
        if name is None:
            self.notify("no agent is selected", severity="warning")
        return name

    def command_text(self, action: str, description: str) -> str:
        """Palette wording naming the highlighted agent."""
        name = self.table.current
        if name is None:
            return description
        return {
            "revoke": f"Revoke {name}…",
            "playbook": f"Run a playbook on {name}…",
            "copy": f"Copy the name {name}",
            "select": f"Open agent {name}",
        }.get(action, description)

    def action_copy(self) -> None:
        """Copy the highlighted agent's name."""
        name = self._current()
        if name is not None:
            copy_text(self, "agent name", name)

    def action_revoke(self) -> None:
        """Plan the kill switch for the selected agent (read-only: a preview)."""
        name = self._current()
        if name is not None:
            self.post_message(Revoke(name))

    def action_playbook(self) -> None:
        """Pick a playbook to run on the selected agent."""
        name = self._current()
        if name is not None:
            self.post_message(PickPlaybook(name))
