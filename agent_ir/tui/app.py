"""The console application: routes the cross-screen messages, nothing more."""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING

from textual import events, work
from textual.app import App
from textual.binding import Binding
from textual.command import Provider
from textual.screen import Screen

from agent_ir.data import stylesheet
from agent_ir.errors import AgentIRError
from agent_ir.tui.screens.startup import StartupScreen

if TYPE_CHECKING:
    # The start-up screen paints before these are imported (the session brings the
    # engine, the settings pydantic): they come behind it, see AgentIRApp._open.
    from agent_ir.settings import Settings
    from agent_ir.tui.messages import (
        CutLink,
        OpenAgent,
        OpenIncident,
        PickPlaybook,
        Restore,
        Revoke,
    )
    from agent_ir.tui.opening import Opening
    from agent_ir.tui.session import ConsoleSession

KILL_SWITCH = "contain-agent"
CUT_LINK = "cut-delegation"
VIM_KEYS = (
    ("j", "down", "Down", "move down, as the down arrow does"),
    ("k", "up", "Up", "move up, as the up arrow does"),
    ("g", "ctrl+home,home", "To the top", "go to the first line, as home does"),
    ("G", "ctrl+end,end", "To the bottom", "go to the last line, as end does"),
)
"""Vim's moves, as the keys they stand for (the first one bound where focus is: a table
goes to its first row on ctrl+home, a list on home). A letter typed in an input never
gets here; the input keeps it."""

OPENED_MODULES = (
    "agent_ir.tui.session",
    "agent_ir.tui.screens.agent_list",
    "agent_ir.tui.screens.agent_detail",
    "agent_ir.tui.screens.plan",
    "agent_ir.tui.screens.confirm",
    "agent_ir.tui.screens.incident",
    "agent_ir.tui.screens.playbook_picker",
    "agent_ir.tui.screens.help",
    "agent_ir.tui.keys_help",
    "agent_ir.tui.commands",
    "agent_ir.playbook.loader",
)
"""What the console needs once it has opened and not before its first paint: imported in
a thread while the providers open (see :meth:`AgentIRApp._open`), so neither the first
paint nor the event loop waits for them."""


def import_opened() -> None:
    """Import :data:`OPENED_MODULES` (in a worker thread: the event loop stays free)."""
    for name in OPENED_MODULES:
        importlib.import_module(name)


def console_commands() -> type[Provider]:
    """agent-ir's palette commands, imported when the palette first opens."""
    from agent_ir.tui.commands import ConsoleCommands

    return ConsoleCommands


class AgentIRApp(App[None]):
    """agent-ir's console over one :class:`ConsoleSession`."""

    CSS_PATH = stylesheet()
    TITLE = "agent-ir"
    COMMANDS = App.COMMANDS | {console_commands}
    BINDINGS = [
        Binding("question_mark", "keys", "Keys"),
        Binding("ctrl+q", "quit", "Quit"),
        # naming the palette's action here replaces Textual's own ctrl+p binding: keep it
        Binding(
            "ctrl+p",
            "command_palette",
            "palette",
            show=False,
            priority=True,
            tooltip="Open the command palette",
        ),
        Binding(
            "colon",
            "command_palette",
            "Commands",
            show=False,
            tooltip="every action by name, each naming what it acts on",
        ),
        *(
            Binding(key, f"vim('{to}')", what, show=False, tooltip=tip)
            for key, to, what, tip in VIM_KEYS
        ),
    ]

    def __init__(
        self,
        session: ConsoleSession | None = None,
        *,
        opening: Opening | None = None,
        make_session: Callable[[Settings], ConsoleSession] | None = None,
    ) -> None:
        """Over ``session``; or, when the providers are not ready yet, over the session
        ``make_session`` builds from the settings ``opening`` yields, opened behind the
        start-up screen."""
        super().__init__()
        if session is None and (opening is None or make_session is None):
            raise ValueError("the console needs a session, or an opening and make_session")
        self._session = session
        self._opening = (
            (opening, make_session) if opening is not None and make_session is not None else None
        )
        self.startup_error: str = ""
        """Why the console could not open (empty when it did, or is still opening)."""

    @property
    def session(self) -> ConsoleSession:
        """The console's session (only screens shown after opening ask for it)."""
        if self._session is None:
            raise AgentIRError("the console has not opened yet")
        return self._session

    @property
    def current_session(self) -> ConsoleSession | None:
        """The session, or None while the console is still opening."""
        return self._session

    def on_mount(self) -> None:
        """Open on the first screen, or paint the start-up screen and open behind it."""
        if self._session is not None or self._opening is None:
            self.push_screen(self.first_screen())
            return
        opening, make_session = self._opening
        self.push_screen(StartupScreen(opening.what, lab=opening.lab))
        # after the first paint: opening a lab holds the interpreter for a while
        self.call_after_refresh(self._open, opening, make_session)

    @work(exclusive=True, group="opening")
    async def _open(
        self, opening: Opening, make_session: Callable[[Settings], ConsoleSession]
    ) -> None:
        """Wait for the opening in its thread, then show the first screen over it; an
        opening that fails stays on the start-up screen with its error."""
        preloading = asyncio.create_task(asyncio.to_thread(import_opened))
        try:
            settings = await asyncio.wrap_future(opening.start())
            await preloading
        except AgentIRError as exc:
            self._opening_failed(exc.message)
            return
        except Exception as exc:  # noqa: BLE001 - shown on screen, never a traceback
            self._opening_failed(f"{type(exc).__name__}: {exc}")
            return
        self._session = make_session(settings)
        self.switch_screen(self.first_screen())

    def _opening_failed(self, message: str) -> None:
        self.startup_error = message
        screen = self.screen
        if isinstance(screen, StartupScreen):
            screen.failed(message)

    def first_screen(self) -> Screen[None]:
        """The screen the console opens on: the agent list."""
        from agent_ir.tui.screens.agent_list import AgentListScreen

        return AgentListScreen(self.session)

    async def on_unmount(self) -> None:
        """Close the adapters (if the console got as far as opening them)."""
        if self._session is not None:
            await self._session.aclose()

    async def on_event(self, event: events.Event) -> None:
        """A key for the confirmation goes to it at once (see ConfirmScreen.take_key)."""
        # a confirmation needs the session: before it (the start-up screen) there is none,
        # and its module is left unimported until the console has opened
        if isinstance(event, events.Key) and not event.is_forwarded and self._session is not None:
            from agent_ir.tui.screens.confirm import ConfirmScreen

            screen = self.screen_stack[-1] if self.screen_stack else None
            if isinstance(screen, ConfirmScreen) and screen.take_key(event):
                return
        await super().on_event(event)

    def action_keys(self) -> None:
        """Show every key, grouped by screen, this screen's first."""
        from agent_ir.tui.keys_help import help_sections
        from agent_ir.tui.screens.help import HelpScreen

        self.push_screen(HelpScreen(help_sections(self)))

    async def action_vim(self, keys: str) -> None:
        """Do what the first of ``keys`` (comma-separated) bound where focus is would do,
        taking the binding nearest the focused widget, as a real key press would."""
        bound = self.screen.active_bindings
        for key in keys.split(","):
            active = bound.get(key)
            if active is not None and active.enabled and active.node is not self:
                await self.run_action(active.binding.action, active.node)
                return

    def on_open_agent(self, message: OpenAgent) -> None:
        """Show an agent."""
        from agent_ir.tui.screens.agent_detail import AgentDetailScreen

        self.push_screen(AgentDetailScreen(self.session, message.agent))

    def on_open_incident(self, message: OpenIncident) -> None:
        """Show one incident whole."""
        from agent_ir.tui.screens.incident import IncidentScreen

        self.push_screen(IncidentScreen(self.session, message.incident, message.agent))

    def on_revoke(self, message: Revoke) -> None:
        """Plan the kill switch (read-only: the plan screen is a preview)."""
        from agent_ir.playbook.loader import shipped_playbooks
        from agent_ir.tui.screens.plan import PlanScreen
        from agent_ir.tui.session import PlanRequest

        path = shipped_playbooks()[KILL_SWITCH]
        self.push_screen(PlanScreen(self.session, PlanRequest(message.agent, path)))

    def on_cut_link(self, message: CutLink) -> None:
        """Plan cutting one delegation link, its ends taken from the tree, not typed."""
        from agent_ir.playbook.loader import shipped_playbooks
        from agent_ir.tui.screens.plan import PlanScreen
        from agent_ir.tui.session import PlanRequest

        params = {"from": message.source, "to": message.target}
        request = PlanRequest(message.agent, shipped_playbooks()[CUT_LINK], params)
        self.push_screen(PlanScreen(self.session, request))

    def on_pick_playbook(self, message: PickPlaybook) -> None:
        """Choose a playbook, then plan it."""
        from agent_ir.tui.screens.plan import PlanScreen
        from agent_ir.tui.screens.playbook_picker import PlaybookPickerScreen
        from agent_ir.tui.session import PlanRequest

        def chosen(request: PlanRequest | None) -> None:
            if request is not None:
                self.push_screen(PlanScreen(self.session, request))

        self.push_screen(PlaybookPickerScreen(self.session, message.agent), chosen)

    def on_restore(self, message: Restore) -> None:
        """Plan the undo of an incident."""
        from agent_ir.tui.screens.plan import PlanScreen
        from agent_ir.tui.session import RestoreRequest

        request = RestoreRequest(message.incident, message.agent)
        self.push_screen(PlanScreen(self.session, request))
