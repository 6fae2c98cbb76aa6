"""``q`` goes back from every tab of an agent and from an incident, also after a restore
run (revoke → run → restore → escape → q), where a terminal run once saw it do nothing."""

from __future__ import annotations

import pytest

from agent_ir.tui.screens.agent_detail import TABS, AgentDetailScreen
from agent_ir.tui.screens.agent_list import AgentListScreen
from agent_ir.tui.screens.incident import IncidentScreen
from agent_ir.tui.screens.run import RunScreen
from tests.tui.conftest import AppFactory
from tests.tui.helpers import confirm, open_agent, revoke, settle

AGENT = "invoice-agent"


async def test_q_after_a_restore_goes_back_from_the_journal_tab(console: AppFactory) -> None:
    app = console()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_agent(pilot, AGENT)
        await revoke(pilot, AGENT, "exfiltrating finance data")
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("5", "u")
        await settle(pilot)
        await confirm(pilot, AGENT, "false positive")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, RunScreen)
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, AgentDetailScreen)
        await pilot.press("q")  # pressed at once, while the inventory reloads
        await pilot.pause()
        assert isinstance(app.screen, AgentListScreen)
        await settle(pilot)


@pytest.mark.parametrize("tab", range(1, len(TABS) + 1))
async def test_q_goes_back_from_every_tab(console: AppFactory, tab: int) -> None:
    app = console()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_agent(pilot, AGENT)
        await pilot.press(str(tab))
        await settle(pilot)
        await pilot.press("q")
        await pilot.pause()
        assert isinstance(app.screen, AgentListScreen), TABS[tab - 1]


async def test_q_goes_back_from_an_incident(console: AppFactory) -> None:
    app = console()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_agent(pilot, AGENT)
        await revoke(pilot, AGENT, "exfiltrating finance data")
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("5", "enter")
        await settle(pilot)
        assert isinstance(app.screen, IncidentScreen)
        await pilot.press("q")
        await pilot.pause()
        assert isinstance(app.screen, AgentDetailScreen)
        await settle(pilot)
