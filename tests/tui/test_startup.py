"""The console paints before its lab is up: a progress line while the lab starts behind it
(in a thread, through the same opening the ``console`` command uses), then the list fills.
Quitting while the lab starts stops it once it is up, leaving no thread behind; a lab
that fails to start shows its error and the command ends with the error's exit code.

The lab's start waits on an event the test sets, so "before the lab answered" is certain
without timing anything."""

from __future__ import annotations

import asyncio
import sys
import threading
from collections.abc import Awaitable, Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import pytest
from textual.pilot import Pilot

from agent_ir.cli.console import run_console
from agent_ir.errors import LabError
from agent_ir.exit_codes import ExitCode, for_error
from agent_ir.factory import make_app
from agent_ir.lab.runner import Lab
from agent_ir.settings import Settings
from agent_ir.tui.app import AgentIRApp
from agent_ir.tui.opening import ContextOpening
from agent_ir.tui.screens.agent_list import AgentListScreen
from agent_ir.tui.screens.startup import StartupScreen
from agent_ir.tui.widgets.agent_table import AgentTable
from agent_ir.tui.widgets.provider_status import OK, ProviderStatus
from tests.tabletop.section_lab import section_world
from tests.tui.helpers import shown

HANG_GUARD = 2000  # pauses: only stops a hung test, never decides a result
GATE_GUARD_S = 120.0  # the lab's start gives up waiting for the test only if it hangs
WAITING = "agent-ir: another command is using the lab; waiting for it"


class GatedLab:
    """An opening's context: says it waits, waits for the test's gate, then starts a lab
    of the default world's Okta section (or raises ``fail``) and stops it on leaving."""

    def __init__(self, root: Path, fail: Exception | None = None) -> None:
        self.root = root
        self.fail = fail
        self.gate = threading.Event()
        self.started = False
        self.stopped = False

    @contextmanager
    def enter(self) -> Iterator[Settings]:
        """The context manager the opening enters in its thread."""
        print(WAITING, file=sys.stderr)
        if not self.gate.wait(GATE_GUARD_S):
            raise AssertionError("the test never let the lab start")
        if self.fail is not None:
            raise self.fail
        with Lab(section_world("okta"), self.root / "lab") as lab:
            self.started = True
            try:
                yield lab.settings.model_copy(update={"journal_dir": self.root / "journal"})
            finally:
                self.stopped = True

    def opening(self) -> ContextOpening:
        """The opening the console gets, as ``agent-ir console`` builds it."""
        enter: Callable[[], AbstractContextManager[Settings]] = self.enter
        return ContextOpening(enter, what="starting lab…", lab=True)


async def _until(pilot: Pilot[None], ready: Callable[[], bool]) -> None:
    for _ in range(HANG_GUARD):
        if ready():
            return
        await pilot.pause(0.01)
    raise AssertionError("the console never got there")


Drive = Callable[[AgentIRApp, Pilot[None]], Awaitable[None]]


def _run_headless(drive: Drive) -> Callable[[AgentIRApp], None]:
    """What ``run_console`` runs the app with in a test: headless, driven by ``drive``."""

    def run(app: AgentIRApp) -> None:
        async def main() -> None:
            async with app.run_test(size=(80, 24)) as pilot:
                await drive(app, pilot)

        asyncio.run(main())

    return run


@pytest.fixture
def threads_before() -> Iterator[set[threading.Thread]]:
    """The threads alive before the test: none started by the console may outlive it."""
    before = set(threading.enumerate())
    yield before
    left = [t.name for t in set(threading.enumerate()) - before if t.is_alive()]
    assert not left, f"threads left running: {left}"


def test_progress_paints_before_the_lab_then_rows_fill(
    tmp_path: Path, threads_before: set[threading.Thread]
) -> None:
    lab = GatedLab(tmp_path)
    opening = lab.opening()
    seen: dict[str, str] = {}

    async def drive(app: AgentIRApp, pilot: Pilot[None]) -> None:
        try:
            await pilot.pause()
            # painted, and the lab has not answered: the start-up screen says so
            assert isinstance(app.screen, StartupScreen)
            assert shown(app, "#startup-progress") == "starting lab…"
            assert "LAB" in str(app.screen.query_one("#env-name").render())
            await _until(pilot, lambda: WAITING in shown(app, "#startup-detail"))
            assert not lab.started
            lab.gate.set()
            await _until(pilot, lambda: isinstance(app.screen, AgentListScreen))
            screen = app.screen
            # the screen is pushed before it has composed its widgets
            await _until(pilot, lambda: bool(screen.query(AgentTable)))
            table = screen.query_one(AgentTable)
            status = screen.query_one(ProviderStatus)
            await _until(pilot, lambda: table.total > 0)
            await _until(pilot, lambda: status.lines.get("okta", ("", ""))[0] == OK)
            seen["count"] = shown(app, "#list-count")
            await pilot.press("q")
        finally:
            lab.gate.set()

    app = make_app(opening, playbook_dirs=())
    assert run_console(opening, app, _run_headless(drive)) == ExitCode.OK
    assert lab.started and lab.stopped
    assert "agents" in seen["count"] and "reading providers" not in seen["count"]


def test_quit_while_the_lab_starts_stops_it_cleanly(
    tmp_path: Path, threads_before: set[threading.Thread]
) -> None:
    lab = GatedLab(tmp_path)
    opening = lab.opening()

    async def drive(app: AgentIRApp, pilot: Pilot[None]) -> None:
        await pilot.pause()
        assert isinstance(app.screen, StartupScreen)
        await pilot.press("q")
        await _until(pilot, lambda: not app.is_running)

    app = make_app(opening, playbook_dirs=())

    def run(app: AgentIRApp) -> None:
        _run_headless(drive)(app)
        # the lab finishes starting only after the console has gone
        assert opening.starting and not lab.started
        lab.gate.set()

    assert run_console(opening, app, run) == ExitCode.OK
    assert lab.started and lab.stopped
    assert not opening.starting


@pytest.mark.parametrize(
    ("fail", "said"),
    [
        (LabError("port 8443 is in use"), "port 8443 is in use"),
        (OSError("address already in use"), "OSError: address already in use"),
    ],
)
def test_a_lab_that_fails_to_start_shows_why_and_exits_non_zero(
    tmp_path: Path,
    threads_before: set[threading.Thread],
    fail: Exception,
    said: str,
) -> None:
    lab = GatedLab(tmp_path, fail=fail)
    opening = lab.opening()
    screens: list[str] = []

    async def drive(app: AgentIRApp, pilot: Pilot[None]) -> None:
        await pilot.pause()
        lab.gate.set()
        await _until(pilot, lambda: bool(shown(app, "#startup-error")))
        assert isinstance(app.screen, StartupScreen)
        screens.append(shown(app, "#startup-progress"))
        screens.append(shown(app, "#startup-error"))
        await pilot.press("q")

    app = make_app(opening, playbook_dirs=())
    with pytest.raises(LabError) as raised:
        run_console(opening, app, _run_headless(drive))
    assert screens == ["the lab did not start; q quits", said]
    assert said in raised.value.message
    assert for_error(raised.value) != ExitCode.OK
    assert not lab.started
