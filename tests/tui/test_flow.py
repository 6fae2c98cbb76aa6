"""The responder's whole path through the console, against the lab: find the agent, read
its delegation chain, revoke it with typed confirmation, watch it verify, restore it."""

from __future__ import annotations

from typing import Any

from textual.widgets import Tree

from agent_ir.lab.runner import Lab
from agent_ir.tui.screens.agent_detail import AgentDetailScreen
from agent_ir.tui.screens.agent_list import AgentListScreen
from agent_ir.tui.screens.confirm import ConfirmScreen
from agent_ir.tui.screens.plan import PlanScreen
from agent_ir.tui.screens.run import RunScreen
from agent_ir.tui.widgets.agent_table import AgentTable
from agent_ir.tui.widgets.incident_table import IncidentTable
from agent_ir.tui.widgets.run_steps import RunSteps
from agent_ir.tui.widgets.run_summary import RunSummary
from tests.engine.helpers import iam_state
from tests.tui.conftest import AppFactory
from tests.tui.helpers import settle, shown, type_text

USER = "invoice-agent"


def _keys(state: dict[str, Any]) -> dict[str, str]:
    return state["main"]["users"][USER]["keys"]


def _tree_text(tree: Tree[str]) -> str:
    lines: list[str] = []

    def walk(node: Any) -> None:
        for child in node.children:
            lines.append(str(child.label))
            walk(child)

    walk(tree.root)
    return "\n".join(lines)


async def test_find_revoke_verify_and_restore(
    console: AppFactory, fresh_lab: Lab, aws_client: Any
) -> None:
    before = iam_state(aws_client, fresh_lab)
    assert "Active" in _keys(before).values()
    app = console()
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, AgentListScreen)
        await pilot.press("slash")
        await type_text(pilot, "invoice")
        await pilot.press("enter")
        table = app.screen.query_one(AgentTable)
        assert table.visible_names == ["invoice-agent"]
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, AgentDetailScreen)

        await pilot.press("4")
        chain = _tree_text(app.screen.query_one(Tree))
        assert "human alice@corp.test" in chain
        assert "agent invoice-agent" in chain
        assert "finance-data-reader (222222222222)" in chain
        assert "assume-role:" in chain

        await pilot.press("r")
        await settle(pilot)
        assert isinstance(app.screen, PlanScreen)
        plan_text = shown(app, "#plan-text")
        assert "blast radius 3 identities (limit 50)" in shown(app, "#plan-header")
        assert "disable-credentials" in plan_text and "now   status=Active" in plan_text

        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await type_text(pilot, "invoice")
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        assert "does not match" in shown(app, "#confirm-problem")
        await type_text(pilot, "-agent")
        await pilot.press("enter")
        await pilot.pause()
        assert app.focused is not None and app.focused.id == "confirm-reason"
        await type_text(pilot, "tabletop: key leaked")
        await pilot.press("enter")
        await settle(pilot)

        assert isinstance(app.screen, RunScreen)
        summary = app.screen.query_one(RunSummary)
        incident = summary.incident
        assert incident.startswith("IR-")
        assert "COMPLETE" in str(summary.content) and "4 verified" in str(summary.content)
        assert app.screen.query_one(RunSteps).finished == 4
        contained = iam_state(aws_client, fresh_lab)
        assert set(_keys(contained).values()) == {"Inactive"}
        assert contained != before

        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, AgentDetailScreen)
        await pilot.press("5")
        incidents = app.screen.query_one(IncidentTable)
        assert incidents.current == incident
        incidents.focus()
        await pilot.press("u")
        await settle(pilot)
        assert isinstance(app.screen, PlanScreen)
        assert shown(app, "#plan-header").startswith(f"undo of {incident} · agent {USER}")
        await pilot.press("enter")
        await pilot.pause()
        await type_text(pilot, USER)
        await pilot.press("enter", "enter")  # on to the reason (filled in), then run
        await settle(pilot)

        assert isinstance(app.screen, RunScreen)
        restored = app.screen.query_one(RunSummary)
        assert f"restore of {incident}" in str(restored.content)
        assert "COMPLETE" in str(restored.content)
        restored_state = iam_state(aws_client, fresh_lab)
        # the restore keeps AWSRevokeOlderSessions on the roles (held sessions stay ended)
        for account in restored_state.values():
            for role in account["roles"].values():
                role["inline"].pop("AWSRevokeOlderSessions", None)
        assert restored_state == before

        await pilot.press("escape")
        await settle(pilot)
        assert app.screen.query_one(IncidentTable).count == 2


async def test_a_failing_provider_is_shown_inline(console: AppFactory, fresh_lab: Lab) -> None:
    aws = fresh_lab.settings.providers.aws
    assert aws is not None
    dead = aws.model_copy(
        update={"endpoint_url": "https://127.0.0.1:9", "max_attempts": 1, "timeout_s": 2}
    )
    settings = fresh_lab.settings.model_copy(
        update={"providers": fresh_lab.settings.providers.model_copy(update={"aws": dead})}
    )
    from agent_ir.factory import make_app

    app = make_app(settings, clock=lambda: fresh_lab.now)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        status = shown(app, "#providers")
        assert status.startswith("aws    FAILED")
        assert len(status) > len("aws    FAILED  ")
        # the inventory still names the agent; what AWS holds is missing, and said so
        assert app.screen.query_one(AgentTable).visible_names == ["invoice-agent"]
        await pilot.press("enter")
        await settle(pilot)
        assert "aws did not answer" in shown(app, "#detail-status")
