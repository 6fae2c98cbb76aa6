"""``?`` lists the keys grouped by screen, in words (no class or Textual key names); the
palette's commands name what they act on, and reach any agent or incident by name."""

from __future__ import annotations

from textual.command import CommandList, CommandPalette
from textual.pilot import Pilot

from agent_ir.tui.app import AgentIRApp
from agent_ir.tui.screens.agent_list import AgentListScreen
from agent_ir.tui.screens.help import HelpScreen
from agent_ir.tui.screens.incident import IncidentScreen
from agent_ir.tui.screens.plan import PlanScreen
from agent_ir.tui.widgets.agent_table import AgentTable
from tests.tui.conftest import AppFactory
from tests.tui.helpers import fill, open_agent, revoke, settle, type_text

AGENT = "invoice-agent"
HANG_GUARD = 2000  # pauses: only stops a hung test, never decides a result


async def test_help_groups_keys_by_screen_in_words(console: AppFactory) -> None:
    app = console()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, HelpScreen)
        rows = screen.rows
        titles = [key for key, name, does in rows if key and not name]
        assert titles == [
            "Here: The agent list",
            "Everywhere",
            "An agent (tabs 1 to 6)",
            "A plan",
            "A run",
            "An incident",
        ]
        here = rows[: rows.index(("Everywhere", "", ""))]
        keys = {key: (name, does) for key, name, does in here if name}
        assert keys["/"] == ("Filter", "Type a filter")
        assert keys["enter"] == ("Open", "Open the agent under the cursor")
        assert ("?", "Keys") in {(key, name) for key, name, _ in rows}
        text = " ".join(" ".join(row) for row in rows)
        for leak in ("Screen", "AgentTable", "slash", "question_mark", "[action]", "Textual"):
            assert leak not in text
        await pilot.press("escape")
        await open_agent(pilot, AGENT)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        assert app.screen.rows[0][0] == "Here: An agent (tabs 1 to 6)"
        assert ("5", "Journal", "show the journal tab") in app.screen.rows


async def _palette(pilot: Pilot[None], query: str, expect: str) -> list[str]:
    """Type ``query`` into the palette; its commands once ``expect`` is among them."""
    await pilot.press("colon")
    await pilot.pause()
    assert isinstance(pilot.app.screen, CommandPalette)
    await type_text(pilot, query)
    results = pilot.app.screen.query_one(CommandList)
    for _ in range(HANG_GUARD):
        found = [
            str(results.get_option_at_index(n).prompt).split("\n")[0]
            for n in range(results.option_count)
        ]
        if any(expect in text for text in found):
            return found
        await pilot.pause(0.01)
    raise AssertionError(f"the palette never offered {expect!r}: {found}")


def _current(app: AgentIRApp) -> str:
    assert isinstance(app.screen, AgentListScreen)
    name = app.screen.query_one(AgentTable).current
    assert name is not None
    return name


async def test_palette_commands_name_their_targets(console: AppFactory) -> None:
    app = console()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        highlighted = _current(app)
        found = await _palette(pilot, "revoke", f"Revoke {highlighted}…")
        # the screen's own Revoke names the highlighted agent; the others are by name
        assert f"Revoke {highlighted}…" in found
        assert all(not t.startswith("Revoke") or t.endswith("…") for t in found)
        assert "Revoke" not in found
        await pilot.press("escape")
        await pilot.pause()
        # with no agent highlighted (the filter hides them all), a command by name still
        # acts on the agent it names
        await fill(pilot, "#filter", "no-such-agent")
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen.query_one(AgentTable).current is None
        found = await _palette(pilot, f"revoke {AGENT}", f"Revoke {AGENT}…")
        assert found[0] == f"Revoke {AGENT}…"
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, PlanScreen) and app.screen.request.agent == AGENT
        await pilot.press("escape")
        await pilot.pause()
        await fill(pilot, "#filter", "")
        await pilot.press("enter")

        await open_agent(pilot, AGENT)
        await revoke(pilot, AGENT, "palette test")
        await pilot.press("escape")
        await settle(pilot)
        found = await _palette(pilot, "incident", "Restore incident IR-")
        opened = [t for t in found if t.startswith("Open incident IR-")]
        assert opened and f"Restore incident {opened[0].split()[-1]}…" in found
        await pilot.press(*["down"] * found.index(opened[0]), "enter")
        await settle(pilot)
        assert isinstance(app.screen, IncidentScreen)
        assert app.screen.incident == opened[0].split()[-1]
