"""The console application: routes the cross-screen messages, nothing more."""

from __future__ import annotations

from textual.app import App
from textual.binding import Binding
from textual.screen import Screen

from agent_ir.data import stylesheet
from agent_ir.playbook.loader import shipped_playbooks
from agent_ir.tui.commands import ConsoleCommands
from agent_ir.tui.messages import OpenAgent, PickPlaybook, Restore, Revoke
from agent_ir.tui.screens.agent_detail import AgentDetailScreen
from agent_ir.tui.screens.agent_list import AgentListScreen
from agent_ir.tui.screens.help import HelpScreen
from agent_ir.tui.screens.plan import PlanScreen
from agent_ir.tui.screens.playbook_picker import PlaybookPickerScreen
from agent_ir.tui.session import ConsoleSession, PlanRequest, RestoreRequest

KILL_SWITCH = "contain-agent"


class AgentIRApp(App[None]):
    """agent-ir's console over one :class:`ConsoleSession`."""

    CSS_PATH = stylesheet()
    TITLE = "agent-ir"
    COMMANDS = App.COMMANDS | {ConsoleCommands}
    BINDINGS = [
        Binding("question_mark", "keys", "Keys"),
        Binding("ctrl+q", "quit", "Quit"),
    ]

    def __init__(self, session: ConsoleSession) -> None:
        super().__init__()
        self.session = session

    def on_mount(self) -> None:
        """Open on the first screen."""
        self.push_screen(self.first_screen())

    def first_screen(self) -> Screen[None]:
        """The screen the console opens on: the agent list."""
        return AgentListScreen(self.session)

    async def on_unmount(self) -> None:
        """Close the adapters."""
        await self.session.aclose()

    def action_keys(self) -> None:
        """Show every key that works here."""
        rows = []
        for key, active in self.screen.active_bindings.items():
            binding = active.binding
            if binding.description:
                where = "everywhere" if active.node is self else type(active.node).__name__
                rows.append((binding.key_display or key, binding.description, where))
        rows.append(("ctrl+p", "Command palette: every action by name", "everywhere"))
        self.push_screen(HelpScreen(rows))

    def on_open_agent(self, message: OpenAgent) -> None:
        """Show an agent."""
        self.push_screen(AgentDetailScreen(self.session, message.agent))

    def on_revoke(self, message: Revoke) -> None:
        """Plan the kill switch."""
        if not self.session.read_only:
            path = shipped_playbooks()[KILL_SWITCH]
            self.push_screen(PlanScreen(self.session, PlanRequest(message.agent, path)))

    def on_pick_playbook(self, message: PickPlaybook) -> None:
        """Choose a playbook, then plan it."""

        def chosen(request: PlanRequest | None) -> None:
            if request is not None:
                self.push_screen(PlanScreen(self.session, request))

        self.push_screen(PlaybookPickerScreen(self.session, message.agent), chosen)

    def on_restore(self, message: Restore) -> None:
        """Plan the undo of an incident."""
        request = RestoreRequest(message.incident, message.agent)
        self.push_screen(PlanScreen(self.session, request))
