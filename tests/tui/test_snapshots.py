"""How every screen looks at 80x24, against the lab with a fixed clock and fixed ids.

Regenerate the baselines with ``pytest tests/tui/test_snapshots.py --snapshot-update``.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from agent_ir.tui.widgets import incident_table
from tests.tui.conftest import AppFactory
from tests.tui.helpers import confirm, open_agent, revoke, settle

SIZE = (80, 24)
AGENT = "invoice-agent"
Drive = Callable[[Pilot[None]], Awaitable[None]]


def _still_cursor(pilot: Pilot[None]) -> None:
    for field in pilot.app.screen.query(Input):
        field.cursor_blink = False


def _tab(key: str) -> Drive:
    async def drive(pilot: Pilot[None]) -> None:
        await open_agent(pilot, AGENT)
        await pilot.press(key)
        await settle(pilot)

    return drive


def test_agent_list(console: AppFactory, snap_compare: Any) -> None:
    assert snap_compare(console(), terminal_size=SIZE, run_before=settle)


def test_agent_list_read_only(console: AppFactory, snap_compare: Any) -> None:
    assert snap_compare(console(read_only=True), terminal_size=SIZE, run_before=settle)


def test_detail_overview(console: AppFactory, snap_compare: Any) -> None:
    assert snap_compare(console(), terminal_size=SIZE, run_before=_tab("1"))


def test_detail_access(console: AppFactory, snap_compare: Any) -> None:
    assert snap_compare(console(), terminal_size=SIZE, run_before=_tab("2"))


def test_detail_credentials(console: AppFactory, snap_compare: Any) -> None:
    assert snap_compare(console(), terminal_size=SIZE, run_before=_tab("3"))


def test_detail_delegation(console: AppFactory, snap_compare: Any) -> None:
    assert snap_compare(console(), terminal_size=SIZE, run_before=_tab("4"))


def test_plan(console: AppFactory, snap_compare: Any) -> None:
    async def drive(pilot: Pilot[None]) -> None:
        await open_agent(pilot, AGENT)
        await pilot.press("r")
        await settle(pilot)

    assert snap_compare(console(), terminal_size=SIZE, run_before=drive)


def test_confirmation(console: AppFactory, snap_compare: Any) -> None:
    async def drive(pilot: Pilot[None]) -> None:
        await open_agent(pilot, AGENT)
        await pilot.press("r")
        await settle(pilot)
        await confirm(pilot, AGENT, "key leaked")
        _still_cursor(pilot)

    assert snap_compare(console(), terminal_size=SIZE, run_before=drive)


@pytest.fixture
def fixed_timing(monkeypatch: pytest.MonkeyPatch) -> None:
    """The run summary says how long after the start the cuts landed: pinned here."""
    from agent_ir.engine.executor import Executor

    pinned = {"first_cut_s": 0.4, "all_cut_s": 0.9, "verified_s": 1.3}
    monkeypatch.setattr(Executor, "timing", lambda _self, _started: dict(pinned))


@pytest.mark.usefixtures("fixed_timing")
def test_run_summary(console: AppFactory, snap_compare: Any) -> None:
    async def drive(pilot: Pilot[None]) -> None:
        await open_agent(pilot, AGENT)
        await revoke(pilot, AGENT, "key leaked")

    assert snap_compare(console(), terminal_size=SIZE, run_before=drive)


@pytest.fixture
def fixed_start(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The Journal tab shows when each incident started (UTC and local): the lab's clock is
    the moment the test session began, so the shown time is pinned, in UTC."""
    shown = incident_table.row
    pinned = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    monkeypatch.setattr(
        incident_table, "row", lambda item: shown(dataclasses.replace(item, started=pinned))
    )
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.mark.usefixtures("fixed_start")
def test_journal_after_a_run(console: AppFactory, snap_compare: Any) -> None:
    async def drive(pilot: Pilot[None]) -> None:
        await open_agent(pilot, AGENT)
        await revoke(pilot, AGENT, "key leaked")
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("5")
        await settle(pilot)

    assert snap_compare(console(), terminal_size=SIZE, run_before=drive)


def test_restore_plan(console: AppFactory, snap_compare: Any) -> None:
    async def drive(pilot: Pilot[None]) -> None:
        await open_agent(pilot, AGENT)
        await revoke(pilot, AGENT, "key leaked")
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("5", "u")
        await settle(pilot)
        await pilot.press("u")
        await settle(pilot)

    assert snap_compare(console(), terminal_size=SIZE, run_before=drive)


def test_playbook_picker(console: AppFactory, snap_compare: Any) -> None:
    async def drive(pilot: Pilot[None]) -> None:
        await open_agent(pilot, AGENT)
        await pilot.press("p")
        await settle(pilot)

    assert snap_compare(console(), terminal_size=SIZE, run_before=drive)


def test_keys(console: AppFactory, snap_compare: Any) -> None:
    async def drive(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await pilot.press("question_mark")
        await settle(pilot)

    assert snap_compare(console(), terminal_size=SIZE, run_before=drive)
