"""The console paints at once with every provider loading, then fills the list with each
provider's agents as that provider answers, not when the slowest has; a plan asked for
before then waits, naming whom it waits for. Providers are held
by the lab (``FaultState.hold``) and let go one at a time, so the order is certain without
timing anything."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.pilot import Pilot

from agent_ir.factory import make_app
from agent_ir.lab.faults import FaultSpec
from agent_ir.lab.runner import Lab
from agent_ir.tui.app import AgentIRApp
from agent_ir.tui.screens.agent_detail import AgentDetailScreen
from agent_ir.tui.screens.agent_list import AgentListScreen
from agent_ir.tui.screens.plan import PlanScreen
from agent_ir.tui.widgets.agent_table import AgentTable
from agent_ir.tui.widgets.plan_header import PlanHeader
from agent_ir.tui.widgets.provider_status import FAILED, LOADING, OK, ProviderStatus
from tests.tabletop.section_lab import section_world
from tests.tui.helpers import fill, settle, shown

AGENT = "invoice-agent"
HANG_GUARD = 2000  # pauses: only stops a hung test, never decides a result


@pytest.fixture(scope="module")
def three_providers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """A lab of the default world's Entra, GCP and Okta (the session lab has AWS alone,
    and moto allows one AWS lab per process)."""
    with Lab(section_world("entra", "gcp", "okta"), tmp_path_factory.mktemp("three")) as lab:
        yield lab


@pytest.fixture
def held(three_providers: Lab) -> Iterator[Lab]:
    """Every provider of the lab holds its requests until the test lets it go."""
    for state in three_providers.faults.values():
        state.hold()
    try:
        yield three_providers
    finally:
        for state in three_providers.faults.values():
            state.release()


async def _until(pilot: Pilot[None], ready: object) -> None:
    for _ in range(HANG_GUARD):
        if ready():  # type: ignore[operator]
            return
        await pilot.pause(0.01)
    raise AssertionError("the console never got there")


def _states(app: AgentIRApp) -> dict[str, str]:
    status = app.screen.query_one(ProviderStatus)
    return {name: state for name, (state, _) in status.lines.items()}


async def test_loading_paints_first_then_rows_fill_per_provider(
    held: Lab, tmp_path: Path
) -> None:
    settings = held.settings.model_copy(update={"journal_dir": tmp_path / "journal"})
    app = make_app(settings, clock=lambda: held.now, playbook_dirs=())
    async with app.run_test(size=(80, 24)) as pilot:
        try:
            await _fill_in_order(app, pilot, held)
        finally:
            # held requests would keep the adapters from closing
            for state in held.faults.values():
                state.release()


async def _fill_in_order(app: AgentIRApp, pilot: Pilot[None], held: Lab) -> None:
    await pilot.pause()
    assert isinstance(app.screen, AgentListScreen)
    table = app.screen.query_one(AgentTable)
    # painted, nothing has answered: every provider is loading, no row yet
    assert set(_states(app).values()) == {LOADING}
    assert table.total == 0 and table.empty_text == "reading providers…"
    assert "reading providers… 0 of 3 answered" in shown(app, "#list-count")

    held.faults["okta"].release()
    await _until(pilot, lambda: table.total > 0)
    states = _states(app)
    assert states["okta"] == OK
    assert {states[p] for p in ("entra", "gcp")} == {LOADING}
    okta_only = table.total
    assert "reading providers… 1 of 3 answered" in shown(app, "#list-count")

    # a plan needs every provider's answer: the screen opens and waits; escape leaves
    await pilot.press("r")
    await _until(pilot, lambda: isinstance(app.screen, PlanScreen))
    await _until(pilot, lambda: "waiting for entra, gcp…" in shown(app, "#plan-text"))
    await pilot.press("escape")
    await pilot.pause()
    assert isinstance(app.screen, AgentListScreen)

    held.faults["gcp"].release()
    await _until(pilot, lambda: _states(app)["gcp"] == OK and table.total > okta_only)
    assert _states(app)["entra"] == LOADING

    # an agent opened now says what is still missing, and fills in as it arrives
    await pilot.press("enter")
    await _until(pilot, lambda: isinstance(app.screen, AgentDetailScreen))
    assert "still reading entra" in shown(app, "#detail-status")
    held.faults["entra"].release()
    await _until(pilot, lambda: "still reading" not in shown(app, "#detail-status"))
    await pilot.press("escape")
    await settle(pilot)
    assert set(_states(app).values()) <= {OK, FAILED}
    assert "reading providers" not in shown(app, "#list-count")
    assert table.total >= okta_only


async def _revoke_waiting(app: AgentIRApp, pilot: Pilot[None], held: Lab) -> None:
    """Entra and GCP answer, Okta is held: r on the story agent opens the plan screen at
    once, waiting for Okta."""
    held.faults["entra"].release()
    held.faults["gcp"].release()
    await _until(pilot, lambda: {_states(app)[p] for p in ("entra", "gcp")} == {OK})
    await fill(pilot, "#filter", AGENT)
    await pilot.press("enter")
    await _until(pilot, lambda: app.screen.query_one(AgentTable).current == AGENT)
    await pilot.press("r")
    await _until(pilot, lambda: isinstance(app.screen, PlanScreen))
    await _until(pilot, lambda: "waiting for okta…" in shown(app, "#plan-text"))
    assert not app.screen.query_one(PlanHeader).display


async def test_revoke_before_every_answer_waits_then_plans(held: Lab, tmp_path: Path) -> None:
    settings = held.settings.model_copy(update={"journal_dir": tmp_path / "journal"})
    app = make_app(settings, clock=lambda: held.now, playbook_dirs=())
    async with app.run_test(size=(80, 24)) as pilot:
        try:
            await _revoke_waiting(app, pilot, held)
            held.faults["okta"].release()
            await _until(pilot, lambda: app.screen.query_one(PlanHeader).display)
            assert isinstance(app.screen, PlanScreen) and app.screen.ready is not None
            assert "okta" in app.screen.ready.plan.providers
            assert not app.screen.ready.plan.unavailable
            assert "waiting" not in shown(app, "#plan-text")
            assert "NOT ANSWERED" not in shown(app, "#plan-text")
        finally:
            for state in held.faults.values():
                state.release()


async def test_a_provider_that_fails_while_waited_for_is_named_and_the_rest_planned(
    held: Lab, tmp_path: Path
) -> None:
    settings = held.settings.model_copy(update={"journal_dir": tmp_path / "journal"})
    app = make_app(settings, clock=lambda: held.now, playbook_dirs=())
    async with app.run_test(size=(80, 24)) as pilot:
        try:
            await _revoke_waiting(app, pilot, held)
            held.faults["okta"].update(FaultSpec(malformed_rate=1))
            held.faults["okta"].release()
            await _until(pilot, lambda: app.screen.query_one(PlanHeader).display)
            assert isinstance(app.screen, PlanScreen) and app.screen.ready is not None
            plan = app.screen.ready.plan
            assert set(plan.unavailable) == {"okta"}
            assert {"entra", "gcp"} <= set(plan.providers)
            text = shown(app, "#plan-text")
            assert "NOT ANSWERED okta unavailable: discovery:" in text
            assert "partial plan" in text
        finally:
            held.faults["okta"].update(FaultSpec())
            for state in held.faults.values():
                state.release()


async def test_escape_while_waiting_cancels_the_wait_cleanly(held: Lab, tmp_path: Path) -> None:
    settings = held.settings.model_copy(update={"journal_dir": tmp_path / "journal"})
    app = make_app(settings, clock=lambda: held.now, playbook_dirs=())
    async with app.run_test(size=(80, 24)) as pilot:
        try:
            await _revoke_waiting(app, pilot, held)
            waiting = app.screen
            await pilot.press("escape")
            await pilot.pause()
            assert isinstance(app.screen, AgentListScreen)
            assert not [w for w in app.workers if w.node is waiting and not w.is_finished]
            held.faults["okta"].release()
            await _until(pilot, lambda: _states(app)["okta"] == OK)
            await settle(pilot)
            assert isinstance(app.screen, AgentListScreen)
            assert app.screen.query_one(AgentTable).current == AGENT
        finally:
            for state in held.faults.values():
                state.release()
