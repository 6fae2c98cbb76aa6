"""The responder's whole story at 80x24, by keyboard alone, every field typed key by key:
open the story agent, read the plan header, revoke, see the verdict and the residual
paths (where any are left), open the incident from the Journal tab, copy its id, restore from the incident."""

from __future__ import annotations

from agent_ir.lab.runner import Lab
from agent_ir.tui.screens.agent_detail import AgentDetailScreen
from agent_ir.tui.screens.confirm import ConfirmScreen
from agent_ir.tui.screens.incident import IncidentScreen
from agent_ir.tui.screens.plan import PlanScreen
from agent_ir.tui.screens.run import RunScreen
from agent_ir.tui.widgets.incident_table import IncidentTable
from agent_ir.tui.widgets.run_summary import RunSummary
from tests.tui.conftest import AppFactory
from tests.tui.helpers import settle, shown, type_text

AGENT = "invoice-agent"


async def test_the_story_by_keyboard_alone_at_80x24(console: AppFactory, fresh_lab: Lab) -> None:
    app = console()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("slash")
        await type_text(pilot, AGENT)
        await pilot.press("enter", "enter")
        await settle(pilot)
        assert isinstance(app.screen, AgentDetailScreen)

        await pilot.press("r")
        await settle(pilot)
        assert isinstance(app.screen, PlanScreen)
        assert "blast radius" in shown(app, "#plan-header")

        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await type_text(pilot, AGENT)
        await pilot.press("enter")
        await pilot.pause()
        await type_text(pilot, "exfiltrating finance data")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, RunScreen)
        summary = app.screen.query_one(RunSummary)
        said = str(summary.content)
        # the verdict in words (this AWS-only lab leaves no residual path, so the summary
        # lists none after it)
        assert "CONTAINED: no path by which the agent can act remains" in said
        incident = summary.incident

        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("5")
        await settle(pilot)
        assert app.screen.query_one(IncidentTable).current == incident
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, IncidentScreen)
        await pilot.press("y")
        await pilot.pause()
        assert app.clipboard == incident

        await pilot.press("u")
        await settle(pilot)
        assert isinstance(app.screen, PlanScreen)
        assert shown(app, "#plan-header").startswith(f"undo of {incident}")
        await pilot.press("enter")
        await pilot.pause()
        await type_text(pilot, AGENT)
        await pilot.press("enter", "enter")  # on to the reason (filled in), then run
        await settle(pilot)
        assert isinstance(app.screen, RunScreen)
        restored = str(app.screen.query_one(RunSummary).content)
        assert f"restore of {incident}" in restored and "COMPLETE" in restored
