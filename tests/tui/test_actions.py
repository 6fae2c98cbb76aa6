"""Playbook picker, blast-radius refusal, command palette and the keys list."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Checkbox, OptionList

from agent_ir.tui.screens.agent_list import AgentListScreen
from agent_ir.tui.screens.help import HelpScreen
from agent_ir.tui.screens.plan import PlanScreen
from agent_ir.tui.screens.playbook_picker import PlaybookPickerScreen
from tests.tui.conftest import AppFactory
from tests.tui.helpers import settle, shown, type_text

NARROW = """
name: narrow
description: Refuses anything wider than one identity.
max_targets: 1
steps:
  - {id: cut, action: revoke-sessions, scope: reachable}
"""


async def test_picker_offers_shipped_and_user_playbooks_with_parameters(
    console: AppFactory, tmp_path: Path
) -> None:
    folder = tmp_path / "playbooks"
    folder.mkdir()
    (folder / "narrow.yaml").write_text(NARROW)
    (folder / "broken.yaml").write_text("name: broken\nsteps: []\n")
    app = console()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("p")
        await settle(pilot)
        assert isinstance(app.screen, PlaybookPickerScreen)
        options = app.screen.query_one(OptionList)
        labels = [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]
        assert "contain-agent  (shipped)" in labels
        assert "narrow  (user)" in labels
        assert "broken  (user)  [INVALID]" in labels
        options.highlighted = labels.index("contain-agent  (shipped)")
        await settle(pilot)
        lock = app.screen.query_one("#param-lock_trust", Checkbox)
        assert lock.value is False
        lock.value = True
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, PlanScreen)
        plan = shown(app, "#plan-text")
        assert "lock-trust" in plan and "[NEEDS APPROVAL]" in plan


async def test_a_plan_beyond_max_targets_is_refused_in_words(
    console: AppFactory, tmp_path: Path
) -> None:
    folder = tmp_path / "playbooks"
    folder.mkdir()
    (folder / "narrow.yaml").write_text(NARROW)
    app = console()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("p")
        await settle(pilot)
        options = app.screen.query_one(OptionList)
        labels = [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]
        options.highlighted = labels.index("narrow  (user)")
        await settle(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "REFUSED: the plan touches 2 identities" in shown(app, "#plan-text")
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, PlanScreen)
        assert any("max_targets" in n.message for n in app._notifications)


async def test_command_palette_runs_actions_and_opens_agents(console: AppFactory) -> None:
    app = console()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await type_text(pilot, "invoice")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert type(app.screen).__name__ == "AgentDetailScreen"
        await pilot.press("ctrl+p")
        await type_text(pilot, "revoke")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, PlanScreen)


async def test_question_mark_lists_every_binding(console: AppFactory) -> None:
    app = console()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, AgentListScreen)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        actions = {name for _, name, _ in app.screen.rows}
        assert {"Filter", "Revoke", "Playbook", "Sort", "Order", "Open", "Quit"} <= actions
