"""The agent view's Activity tab on the default lab world.

The default world seeds the invoice agent's overnight finance reads through
invoice-processor → finance-data-reader (and two refused secret reads in the last day).
The session's lab serves another world and moto is global to a process, so the default
world is served by ``agent-ir lab serve`` in a child process; the console's clock is the
real one, so the tab's last 24 hours hold the seeded night whatever the time of day.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import TabbedContent

from agent_ir.activity.findings import Containment
from agent_ir.activity.model import ActivityEvent, ActivityWindow, Hop
from agent_ir.activity.timeline import ProviderStatus, Timeline
from agent_ir.factory import make_app
from agent_ir.model import Finding, Severity
from agent_ir.tui.activity import (
    AFTER,
    ActivityPane,
    ActivityTable,
    Filters,
    chain_detail,
    chain_text,
    event_row,
    findings_text,
    status_text,
    status_words,
)
from agent_ir.tui.app import AgentIRApp
from tests.engine.served_lab import ServedLab, served_lab
from tests.tui.conftest import FAST
from tests.tui.helpers import open_agent, settle

PINNED = datetime(2025, 3, 4, 12, 0, tzinfo=UTC)
"""The moment the unit tests' events are placed from."""
AGENT = "invoice-agent"
SIZE = (160, 40)


@pytest.fixture(scope="module")
def story_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedLab]:
    """The default world, served from a child process."""
    with served_lab(tmp_path_factory.mktemp("story")) as lab:
        yield lab


@pytest.fixture
def story_console(story_lab: ServedLab, tmp_path: Path) -> AgentIRApp:
    """The console on that lab."""
    settings = story_lab.settings.model_copy(update={"journal_dir": tmp_path / "journal"})
    return make_app(
        settings,
        tuning=FAST,
        responder="responder@corp.test",
        playbook_dirs=(),
    )


def rows(app: AgentIRApp) -> list[dict[str, str]]:
    """The Activity list as the responder reads it, one dict a row by column name."""
    table = app.screen.query_one(ActivityTable)
    names = [str(c.label) for c in table.columns.values()]
    return [
        dict(zip(names, (str(cell) for cell in table.get_row_at(n)), strict=True))
        for n in range(table.row_count)
    ]


async def test_activity_tab_shows_the_finance_reads_through_the_chain(
    story_console: AgentIRApp,
) -> None:
    async with story_console.run_test(size=SIZE) as pilot:
        await open_agent(pilot, AGENT)
        pane = pilot.app.screen.query_one(ActivityPane)
        assert pane.timeline is None  # nothing read before the tab is opened
        await pilot.press("6")
        await settle(pilot)
        assert pilot.app.screen.query_one(TabbedContent).active == "activity"
        assert pane.timeline is not None

        shown = rows(pilot.app)
        reads = [r for r in shown if r["ACTION"] in ("athena:StartQueryExecution", "kms:Decrypt")]
        assert reads, shown
        for read in reads:
            assert read["CHAIN"] == "invoice-processor → finance-data-reader", read
        pilot.app.screen.query_one(ActivityTable).move_cursor(row=shown.index(reads[0]))
        await pilot.pause()
        detail = str(pilot.app.screen.query_one("#activity-chain").render())
        assert "source-identity invoice-agent" in detail  # the record's own hops, spelt out
        whens = [r["WHEN UTC"] for r in shown]
        assert whens == sorted(whens, reverse=True)  # newest first

        state = str(pilot.app.screen.query_one("#activity-state").render())
        assert "aws answered" in state
        for provider in ("entra", "gcp", "okta"):
            assert f"{provider} " in state  # every configured provider is named

        await pilot.press("o", "o")  # all → success → denied
        await settle(pilot)
        denied = rows(pilot.app)
        assert pane.outcome == "denied"
        assert denied and {r["OUTCOME"] for r in denied} == {"denied"}
        aws_denied = {r["ACTION"] for r in denied if r["PROVIDER"] == "aws"}
        assert aws_denied == {"secretsmanager:GetSecretValue"}  # the two refused secret reads
        assert {r["PROVIDER"] for r in denied} >= {"aws", "gcp"}  # one timeline, every provider
        assert len(denied) == sum(1 for r in shown if r["OUTCOME"] == "denied")

        await pilot.press("slash")
        await pilot.press(*"kms")
        await settle(pilot)
        assert rows(pilot.app) == []  # no denied kms call
        await pilot.press("escape")  # clears the words, back to the list
        await pilot.press("o")  # denied → failure
        await pilot.press("o")  # → all
        await settle(pilot)
        assert len(rows(pilot.app)) == len(shown)


def _event(
    minutes_ago: int, outcome: Any = "success", chain: tuple[Hop, ...] = ()
) -> ActivityEvent:
    return ActivityEvent(
        when=PINNED - timedelta(minutes=minutes_ago),
        provider="aws",
        identity_id="arn:aws:iam::1:user/a",
        identity="a",
        action="s3:GetObject",
        outcome=outcome,
        chain=chain,
    )


def test_rows_mark_events_after_containment_and_fold_the_chain() -> None:
    held = Containment("IR-1", PINNED - timedelta(minutes=30))
    before, after = _event(45), _event(10, "denied")
    assert str(event_row(before, held.cutoff)[3]) == ""
    assert str(event_row(after, held.cutoff)[3]) == AFTER
    assert str(event_row(after, None)[3]) == ""
    hops = (
        Hop("own", "arn:aws:iam::1:role/p", "aws iam-role p (1)", "inventory"),
        Hop("assume-role", "arn:aws:iam::2:role/r", "aws iam-role r (2)", "inventory"),
        Hop("assumed-role", "arn:aws:iam::2:role/r"),
    )
    assert chain_text(_event(1, chain=hops)) == "p → r → a"  # ends at the recorded identity
    assert chain_text(_event(1)) == "a"
    assert Filters(outcome="denied").keep(after) and not Filters(outcome="denied").keep(before)
    assert Filters(text="P → R").keep(_event(1, chain=hops))
    assert not Filters(provider="gcp").keep(before)


def test_provider_states_are_named_in_words() -> None:
    assert status_words(ProviderStatus("aws", "answered", events=3)) == "aws answered (3 events)"
    assert (
        status_words(ProviderStatus("gcp", "unavailable", "timed out"))
        == "gcp unavailable: timed out"
    )
    assert status_words(ProviderStatus("okta", "unsupported", "no log")) == "okta not read: no log"


def test_a_hostile_provider_string_is_shown_inert() -> None:
    hostile = "[reverse]evil\x1b[2J"
    event = ActivityEvent(
        when=PINNED, provider="okta", identity_id="x", identity=hostile, action="app.read"
    )
    timeline = Timeline(
        AGENT,
        ActivityWindow.last(timedelta(hours=1), PINNED),
        [event],
        [ProviderStatus("okta", "unavailable", hostile)],
        findings=[Finding("activity-spike", Severity.HIGH, hostile)],
    )
    for text in (chain_detail(event), status_text(timeline, 1), findings_text(timeline)):
        assert "\x1b" not in text.plain and "[reverse]evil" in text.plain
