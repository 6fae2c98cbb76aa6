"""The incident as a first-class object in the console: the Journal tab says when (UTC
and local), who, why, the verdict and who restored it; enter opens the incident whole."""

from __future__ import annotations

from textual.widgets import Static

from agent_ir.tui.screens.agent_detail import AgentDetailScreen
from agent_ir.tui.screens.incident import IncidentScreen
from agent_ir.tui.screens.plan import PlanScreen
from agent_ir.tui.screens.run import RunScreen
from agent_ir.tui.widgets.incident_table import IncidentTable
from agent_ir.tui.widgets.run_summary import RunSummary
from tests.tui.conftest import AppFactory
from tests.tui.helpers import confirm, open_agent, revoke, settle

AGENT = "invoice-agent"


async def test_journal_columns_incident_screen_and_restore_chain(console: AppFactory) -> None:
    app = console()
    async with app.run_test(size=(100, 30)) as pilot:
        await open_agent(pilot, AGENT)
        await revoke(pilot, AGENT, "exfiltrating finance data")
        incident = app.screen.query_one(RunSummary).incident
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("5")
        await settle(pilot)
        table = app.screen.query_one(IncidentTable)
        assert app.focused is table and table.current == incident
        cells = [str(c) for c in table.get_row(incident)]
        assert cells[0] == incident
        assert cells[1].endswith("Z") and len(cells[1]) == len("2026-12-05 11:14Z")
        assert cells[3:8] == [
            "responder@corp.test",
            "exfiltrating finance data",
            "contain-agent",
            "contained",
            "-",
        ]

        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, IncidentScreen)
        text = str(app.screen.query_one("#incident-text", Static).content)
        assert text.startswith(f"{incident}  contain-agent on agent {AGENT}  (complete)")
        assert "  reason    exfiltrating finance data" in text
        assert "  verdict   contained" in text
        assert "Timings" in text and "revoke-sessions.aws.1" in text
        assert "Restore chain\n  not restored" in text
        assert "Restore hazards" in text and "restoring does not bring those sessions back" in text

        await pilot.press("u")
        await settle(pilot)
        assert isinstance(app.screen, PlanScreen)
        await confirm(pilot, AGENT)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, RunScreen)
        undo = app.screen.query_one(RunSummary).incident
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, IncidentScreen)
        await pilot.press("q")
        await settle(pilot)
        assert isinstance(app.screen, AgentDetailScreen)
        table = app.screen.query_one(IncidentTable)
        assert table.count == 2
        assert str(table.get_row(incident)[7]) == undo
        assert str(table.get_row(undo)[5]) == f"restore of {incident}"
