"""Units of the activity model and the timeline's linking (no provider involved)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from agent_ir.activity.model import ActivityEvent, ActivityPage, ActivityWindow, Hop
from agent_ir.activity.timeline import ProviderStatus, Subject, assemble
from agent_ir.model import Edge, EdgeKind, Identity

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
USER = Identity("aws", "user", "arn:aws:iam::111111111111:user/invoice-agent", "invoice-agent", "1")
ROLE = Identity("aws", "role", "arn:aws:iam::111111111111:role/invoice-processor", "ip", "1")
FIN = Identity("aws", "role", "arn:aws:iam::222222222222:role/finance-data-reader", "fdr", "2")


def event(identity: Identity, minutes_ago: int, eid: str, **kw: object) -> ActivityEvent:
    """One AWS event by ``identity``."""
    return ActivityEvent(
        when=NOW - timedelta(minutes=minutes_ago),
        provider="aws",
        identity_id=identity.id,
        identity=identity.name,
        action="s3:GetObject",
        event_id=eid,
        **kw,  # type: ignore[arg-type]
    )


def subjects() -> list[Subject]:
    """invoice-agent → invoice-processor → finance-data-reader."""
    hop1 = Edge(USER.id, ROLE.id, EdgeKind.ASSUME_ROLE, "trust")
    hop2 = Edge(ROLE.id, FIN.id, EdgeKind.ASSUME_ROLE, "trust")
    return [Subject(USER), Subject(ROLE, (hop1,)), Subject(FIN, (hop1, hop2))]


def test_chain_event_is_attributed_with_the_inventory_path_then_the_record() -> None:
    window = ActivityWindow.last(timedelta(hours=24), NOW)
    record = Hop("session", "arn:aws:sts::222222222222:assumed-role/finance-data-reader/s1")
    page = ActivityPage(
        "aws", [event(USER, 5, "a"), event(FIN, 1, "b", chain=(record,)), event(FIN, 1, "b")]
    )
    labels = {USER.id: "invoice-agent", ROLE.id: "invoice-processor", FIN.id: "fdr"}
    timeline = assemble("invoice-agent", window, subjects(), {"aws": page}, labels)
    assert [e.event_id for e in timeline.events] == ["b", "a"]  # newest first, deduplicated
    chained, own = timeline.events
    assert own.via == "own" and own.chain == ()
    assert chained.via == "chain"
    assert [h.text() for h in chained.chain] == [
        "invoice-agent",
        "invoice-processor",
        "fdr",
        record.principal,
    ]
    assert [h.source for h in chained.chain] == ["inventory"] * 3 + ["record"]


def test_bound_keeps_the_newest_and_says_it_cut() -> None:
    window = ActivityWindow.last(timedelta(hours=24), NOW, limit=2)
    page = ActivityPage("aws", [event(USER, m, f"e{m}") for m in range(5)])
    timeline = assemble("invoice-agent", window, subjects(), {"aws": page}, {})
    assert [e.event_id for e in timeline.events] == ["e0", "e1"]
    assert timeline.truncated


def test_a_failed_provider_is_named_and_makes_the_timeline_partial() -> None:
    window = ActivityWindow.last(timedelta(hours=1), NOW)
    down = ProviderStatus("okta", "unavailable", "okta: did not answer")
    timeline = assemble(
        "invoice-agent", window, subjects(), {"aws": ActivityPage("aws"), "okta": down}, {}
    )
    assert timeline.partial
    assert [s.provider for s in timeline.unavailable] == ["okta"]
    assert timeline.to_json()["providers"][1]["reason"] == "okta: did not answer"


def test_raw_is_exported_only_when_asked_and_naive_times_are_refused() -> None:
    ev = event(USER, 0, "x", raw={"eventName": "GetObject"})
    assert "raw" not in ev.to_json()
    assert ev.to_json(raw=True)["raw"] == {"eventName": "GetObject"}
    assert "eventName" not in repr(ev)
    with pytest.raises(ValueError):
        ActivityEvent(datetime(2026, 1, 1), "aws", "x", "x", "a")
