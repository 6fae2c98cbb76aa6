"""The plan read in five seconds: a header with the counts, the irreversible steps first,
the collateral and the hash, repeated in the confirmation; phases numbered 1, 2, 3."""

from __future__ import annotations

from pathlib import Path

from agent_ir.tui.screens.confirm import ConfirmScreen
from agent_ir.tui.screens.plan import PlanScreen
from agent_ir.tui.session import PlanRequest
from agent_ir.tui.widgets.plan_header import PlanHeader
from tests.tui.conftest import AppFactory
from tests.tui.helpers import open_agent, settle, shown

AGENT = "invoice-agent"

GAPPED = """
name: keys-then-deny
description: Phases 1 and 3 only, so the screen must not skip a number.
version: 1
steps:
  - {id: cut-keys, action: disable-credentials, scope: own}
  - {id: deny, action: deny-all, scope: own}
"""


async def test_the_header_sums_the_plan_and_the_confirmation_repeats_it(
    console: AppFactory,
) -> None:
    app = console()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_agent(pilot, AGENT)
        await pilot.press("r")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, PlanScreen) and screen.ready is not None
        plan = screen.ready.plan
        header = shown(app, "#plan-header")
        lines = header.splitlines()
        assert lines[0] == f"contain-agent · agent {AGENT} · 4 steps: aws 4"
        assert lines[1] == "irreversible 0: every step can be undone"
        assert lines[2].startswith("side effects 2 · needs approval 0 · blast radius 3")
        # the role the agent's role can assume belongs to no agent: cutting it is collateral
        assert "collateral 1: aws finance-data-reader (no agent)" in header
        assert "expected: CONTAINED" in header
        assert plan.plan_hash.startswith("sha256:")
        assert lines[-1] == f"plan {plan.plan_hash}"
        assert app.screen.query_one(PlanHeader).plan_hash == plan.plan_hash

        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        assert shown(app, "#confirm-summary") == header


async def test_phases_are_numbered_without_gaps(console: AppFactory, tmp_path: Path) -> None:
    book = tmp_path / "playbooks" / "keys-then-deny.yaml"
    book.parent.mkdir(parents=True, exist_ok=True)
    book.write_text(GAPPED, encoding="utf-8")
    app = console()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.push_screen(PlanScreen(app.session, PlanRequest(AGENT, book)))
        await settle(pilot)
        text = shown(app, "#plan-text")
        assert " 1. credentials\n" in text
        assert " 2. grants and delegations\n" in text
        assert " 3. " not in text
        assert text.startswith("aws  (2 steps)")
