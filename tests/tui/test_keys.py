"""Keys that work where the eyes are: content has focus when a screen or tab opens, vim's
j k g G move, q goes back, ``:`` opens the palette, no invisible widget takes focus, and
the confirmation's Enter moves on (a fast Tab is not lost)."""

from __future__ import annotations

import pytest
from textual import events
from textual.command import CommandPalette
from textual.widgets import Button, Input, OptionList, Tree

from agent_ir.tui.screens.agent_detail import AgentDetailScreen
from agent_ir.tui.screens.agent_list import AgentListScreen
from agent_ir.tui.screens.confirm import ConfirmScreen
from agent_ir.tui.screens.plan import PlanScreen
from agent_ir.tui.screens.run import RunScreen
from agent_ir.tui.widgets.agent_overview import AgentOverview
from agent_ir.tui.widgets.credentials_table import CredentialsTable
from agent_ir.tui.widgets.plan_view import PlanView
from agent_ir.tui.widgets.toggle import Toggle
from tests.tui.conftest import AppFactory
from tests.tui.helpers import open_agent, settle, shown

AGENT = "invoice-agent"


async def test_content_has_focus_when_a_screen_or_tab_opens(console: AppFactory) -> None:
    app = console()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_agent(pilot, AGENT)
        assert isinstance(app.screen, AgentDetailScreen)
        assert isinstance(app.focused, AgentOverview)
        await pilot.press("3")
        await pilot.pause()
        table = app.screen.query_one(CredentialsTable)
        assert app.focused is table
        await pilot.press("down")
        assert table.cursor_row == 1
        await pilot.press("4")
        await pilot.pause()
        assert isinstance(app.focused, Tree)


async def test_vim_keys_move_whatever_has_focus(console: AppFactory) -> None:
    app = console()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        # in the filter line the letters are text
        await pilot.press("slash", "j", "k", "g", "q")
        assert app.screen.query_one("#filter", Input).value == "jkgq"
        await pilot.press("escape")
        await open_agent(pilot, AGENT)
        await pilot.press("3")
        await pilot.pause()
        creds = app.screen.query_one(CredentialsTable)
        assert creds.row_count == 2
        await pilot.press("j")
        await pilot.pause()
        assert creds.cursor_row == 1
        await pilot.press("k")
        await pilot.pause()
        assert creds.cursor_row == 0
        await pilot.press("G")
        await pilot.pause()
        assert creds.cursor_row == 1
        await pilot.press("g")
        await pilot.pause()
        assert creds.cursor_row == 0
        await pilot.press("r")
        await settle(pilot)
        view = app.screen.query_one(PlanView)
        assert app.focused is view and view.max_scroll_y > 0
        await pilot.press("G")
        await pilot.pause()
        assert view.scroll_y == view.max_scroll_y


async def test_q_goes_back_and_colon_opens_the_palette(console: AppFactory) -> None:
    app = console()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_agent(pilot, AGENT)
        await pilot.press("r")
        await settle(pilot)
        assert isinstance(app.screen, PlanScreen)
        await pilot.press("q")
        await pilot.pause()
        assert isinstance(app.screen, AgentDetailScreen)
        await pilot.press("q")
        await pilot.pause()
        assert isinstance(app.screen, AgentListScreen)
        await pilot.press("colon")
        await pilot.pause()
        assert isinstance(app.screen, CommandPalette)
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, AgentListScreen)
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 0


async def test_no_invisible_container_takes_focus(console: AppFactory) -> None:
    app = console()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert [type(w).__name__ for w in app.screen.focus_chain] == ["FilterInput", "AgentTable"]
        await open_agent(pilot, AGENT)
        await pilot.press("r")
        await settle(pilot)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        chain = app.screen.focus_chain
        assert chain[0].id == "confirm-agent" and app.focused is chain[0]
        assert {type(w) for w in chain} == {Input, Button}
        await pilot.press("escape", "escape")
        await pilot.pause()
        await pilot.press("p")
        await settle(pilot)
        kinds = {type(w) for w in app.screen.focus_chain}
        # the list, the parameters' own fields (contain-agent's reach is typed), the buttons
        assert kinds == {OptionList, Toggle, Input, Button}


async def test_enter_after_the_name_moves_to_the_reason(console: AppFactory) -> None:
    app = console()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_agent(pilot, AGENT)
        await pilot.press("r")
        await settle(pilot)
        await pilot.press("enter", "x", "enter")
        await pilot.pause()
        assert "does not match" in shown(app, "#confirm-problem")
        assert app.focused is not None and app.focused.id == "confirm-agent"
        await pilot.press("backspace", *AGENT, "enter")
        await pilot.pause()
        assert app.focused is not None and app.focused.id == "confirm-reason"
        assert shown(app, "#confirm-problem") == ""
        await pilot.press("enter")
        await pilot.pause()
        assert "reason is required" in shown(app, "#confirm-problem")
        assert isinstance(app.screen, ConfirmScreen)


@pytest.mark.parametrize("next_field", ["tab", "enter"])
async def test_typed_ahead_keys_are_not_lost(console: AppFactory, next_field: str) -> None:
    """Name, Tab (or Enter) and reason typed straight after the Enter that opens the
    confirmation, without waiting for it to draw, land in their fields."""
    app = console()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_agent(pilot, AGENT)
        await pilot.press("r")
        await settle(pilot)
        # posted in one burst, as a fast typist's terminal delivers them
        for key in ("enter", *AGENT, next_field, *"key", "space", *"leaked", "enter"):
            app.post_message(events.Key(key, " " if key == "space" else key))
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, RunScreen)
        assert screen.confirmation.reason == "key leaked"


async def test_keys_typed_ahead_leave_focus_where_they_put_it(console: AppFactory) -> None:
    """Name, Enter and reason typed ahead of the confirmation's drawing land in their
    fields and leave focus in the reason, so the Enter typed after a pause submits
    (the form's own first focus must not come back after them)."""
    app = console()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_agent(pilot, AGENT)
        await pilot.press("r")
        await settle(pilot)
        for key in ("enter", *AGENT, "enter", *"leaked"):
            app.post_message(events.Key(key, key))
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        assert app.focused is not None and app.focused.id == "confirm-reason"
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, RunScreen)
        assert app.screen.confirmation.reason == "leaked"


@pytest.mark.parametrize("burst", ["enters", "everything"])
async def test_enter_typed_straight_after_the_filter_opens_the_agent(
    console: AppFactory, burst: str
) -> None:
    """``/``, the name, Enter (keep the filter) and Enter (open), the Enters (or every
    key) in one burst: the second Enter goes to the list, not to the filter line the
    first one left."""
    app = console()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        typed = ("slash", *AGENT)
        if burst == "enters":
            await pilot.press(*typed)
            typed = ()
        for key in (*typed, "enter", "enter"):
            app.post_message(events.Key(key, {"slash": "/", "enter": "\r"}.get(key, key)))
        await settle(pilot)
        assert isinstance(app.screen, AgentDetailScreen)
        assert app.screen.agent == AGENT
