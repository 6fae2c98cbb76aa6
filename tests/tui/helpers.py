"""Driving the console in tests: wait for workers, read what a widget shows."""

from __future__ import annotations

from textual.app import App
from textual.pilot import Pilot
from textual.widgets import Input, Static


async def settle(pilot: Pilot[None]) -> None:
    """Let every started worker finish and the screen catch up (twice, since a finished
    worker often starts the next one: discovery, then drawing the rows)."""
    for _ in range(2):
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


def shown(app: App[None], selector: str) -> str:
    """The plain text of a Static on the active screen."""
    return str(app.screen.query_one(selector, Static).content)


async def type_text(pilot: Pilot[None], text: str) -> None:
    """Type ``text`` key by key."""
    await pilot.press(*[{" ": "space"}.get(c, c) for c in text])


async def fill(pilot: Pilot[None], selector: str, text: str) -> None:
    """Put ``text`` in an input at once (typing key by key is tested in the flow test)."""
    field = pilot.app.screen.query_one(selector, Input)
    field.focus()
    field.value = text
    await pilot.pause()


async def open_agent(pilot: Pilot[None], name: str) -> None:
    """From the list, filter down to ``name`` and open it."""
    await settle(pilot)
    await fill(pilot, "#filter", name)
    await pilot.press("enter", "enter")
    await settle(pilot)


async def confirm(pilot: Pilot[None], agent: str, reason: str = "") -> None:
    """On a plan: open the confirmation, fill in the agent's name (and a reason); focus
    ends in the reason field, where enter submits."""
    await pilot.press("enter")
    await pilot.pause()
    await fill(pilot, "#confirm-agent", agent)
    if reason:
        await fill(pilot, "#confirm-reason", reason)
    else:
        pilot.app.screen.query_one("#confirm-reason", Input).focus()


async def revoke(pilot: Pilot[None], agent: str, reason: str) -> None:
    """From an agent's detail screen: revoke it and wait for the summary."""
    await pilot.press("r")
    await settle(pilot)
    await confirm(pilot, agent, reason)
    await pilot.press("enter")
    await settle(pilot)
