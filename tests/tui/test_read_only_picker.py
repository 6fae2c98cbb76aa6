"""Read-only: ``r``, ``p`` and ``u`` open their plans as a preview that says why it will
not run and stops before the confirmation. The picker checks required parameters in the
form's words before planning, asks before Esc drops what was typed, and its toggles read
``on``/``off``."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Checkbox, Input, OptionList
from textual.widgets._footer import FooterKey

from agent_ir.tui.screens.agent_detail import AgentDetailScreen
from agent_ir.tui.screens.agent_list import AgentListScreen
from agent_ir.tui.screens.confirm import ConfirmScreen
from agent_ir.tui.screens.plan import PlanScreen
from agent_ir.tui.screens.playbook_picker import PlaybookPickerScreen, for_screen
from agent_ir.tui.widgets.toggle import Toggle
from tests.tui.conftest import AppFactory
from tests.tui.helpers import open_agent, settle, shown, type_text

AGENT = "invoice-agent"


def _toasts(app: object) -> list[str]:
    return [str(n.message) for n in app._notifications]  # type: ignore[attr-defined]


async def test_read_only_shows_plans_as_previews_that_do_not_run(
    console: AppFactory, tmp_path: Path
) -> None:
    app = console(read_only=True)
    app.NOTIFICATION_TIMEOUT = 3600
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("r")
        await settle(pilot)
        assert isinstance(app.screen, PlanScreen)
        assert shown(app, "#plan-preview").startswith("read-only: preview")
        # the whole plan, read live, as it would run
        assert app.screen.ready is not None and app.screen.ready.plan.steps
        await pilot.press("enter")
        await pilot.pause()
        # stopped before the confirmation, saying why
        assert isinstance(app.screen, PlanScreen)
        assert any("started with --read-only" in t for t in _toasts(app))
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, AgentListScreen)
        await pilot.press("p")
        await settle(pilot)
        assert isinstance(app.screen, PlaybookPickerScreen)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, PlanScreen)
        assert shown(app, "#plan-preview").startswith("read-only: preview")
        await pilot.press("c")
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmScreen)
        footer = {str(k.description) for k in app.screen.query(FooterKey)}
        assert "Preview only" in footer and "Confirm…" not in footer
        await pilot.press("escape")
        await open_agent(pilot, AGENT)
        assert isinstance(app.screen, AgentDetailScreen)
        await pilot.press("r")
        await settle(pilot)
        assert isinstance(app.screen, PlanScreen) and app.screen.ready is not None
    journal = tmp_path / "journal"
    assert not journal.exists() or not any(journal.iterdir())


async def _pick(pilot: object, name: str) -> PlaybookPickerScreen:
    app = pilot.app  # type: ignore[attr-defined]
    await pilot.press("p")  # type: ignore[attr-defined]
    await settle(pilot)  # type: ignore[arg-type]
    screen = app.screen
    assert isinstance(screen, PlaybookPickerScreen)
    options = screen.query_one(OptionList)
    labels = [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]
    options.highlighted = labels.index(f"{name}  (shipped)")
    await settle(pilot)  # type: ignore[arg-type]
    return screen


async def test_picker_checks_required_parameters_before_planning(console: AppFactory) -> None:
    app = console()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = await _pick(pilot, "cut-delegation")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is screen
        assert shown(app, "#picker-problem") == "from and to are required"
        assert app.focused is screen.query_one("#param-from", Input)
        await type_text(pilot, "invoice-agent")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert shown(app, "#picker-problem") == "to is required"
        assert app.focused is screen.query_one("#param-to", Input)


async def test_escape_asks_before_dropping_typed_parameters(console: AppFactory) -> None:
    app = console()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = await _pick(pilot, "cut-delegation")
        screen.query_one("#param-from", Input).focus()
        await type_text(pilot, "alice")
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is screen
        assert "escape again drops what you typed" in shown(app, "#picker-problem")
        assert screen.query_one("#param-from", Input).value == "alice"
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, AgentListScreen)
        # nothing typed: one escape leaves
        await _pick(pilot, "cut-delegation")
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, AgentListScreen)


async def test_toggles_read_on_and_off(console: AppFactory) -> None:
    app = console()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = await _pick(pilot, "contain-agent")
        toggle = screen.query_one("#param-lock_trust", Toggle)
        assert isinstance(toggle, Checkbox)
        assert str(toggle.label).startswith("off  lock_trust")
        toggle.focus()
        await pilot.press("space")
        await pilot.pause()
        assert toggle.value and str(toggle.label).startswith("on   lock_trust")
        drawn = str(toggle.render())
        assert "X" not in drawn.split("lock_trust")[0] and "OFF" not in drawn


def test_cli_parameter_errors_in_the_forms_words() -> None:
    message, fields = for_screen(
        "playbook p: --param n='abc': not a whole number; "
        "missing required parameter: --param to=...",
        "p",
    )
    assert message == "n 'abc': not a whole number; to is required"
    assert "--param" not in message and set(fields) == {"n", "to"}


async def test_cut_delegation_starts_from_the_highlighted_link(console: AppFactory) -> None:
    """x in the Delegation tab plans cut-delegation for the highlighted link: its two
    ends come from the tree, nothing is typed."""
    from agent_ir.tui.widgets.delegation_tree import DelegationTree

    app = console()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_agent(pilot, AGENT)
        await pilot.press("4")
        await pilot.pause()
        tree = app.screen.query_one(DelegationTree)
        # the first link is alice's ownership: not a delegation, so x says so
        for _ in range(20):
            if tree.current_edge is not None:
                break
            await pilot.press("down")
            await pilot.pause()
        assert tree.current_edge is not None and tree.cuttable_edge is None
        await pilot.press("x")
        await pilot.pause()
        assert isinstance(app.screen, AgentDetailScreen)
        for _ in range(20):
            if tree.cuttable_edge is not None:
                break
            await pilot.press("down")
            await pilot.pause()
        edge = tree.cuttable_edge
        assert edge is not None
        assert "x cuts this link" in shown(app, "#delegation-reason")
        await pilot.press("x")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, PlanScreen)
        assert screen.request.playbook.stem == "cut-delegation"
        assert screen.request.params == {"from": edge.source, "to": edge.target}
        assert screen.ready is not None and screen.ready.plan.steps
