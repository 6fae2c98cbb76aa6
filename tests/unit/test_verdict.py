"""The verdict from residual paths: contained, contained-until the last expiry, or open."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from agent_ir.engine.residual import AccessPath, residual
from agent_ir.engine.verdict import assess, verdict

NOW = datetime(2026, 1, 1, tzinfo=UTC)
KEY = AccessPath("aws", "access key of u", "signs in", cut_by=("k",))
TOKEN = AccessPath("gcp", "held token of sa", "lives 1 h", cut_by=("d",), lifetime_s=3600)
SESSION = AccessPath("aws", "held session of r", "lives 12 h", cut_by=(), lifetime_s=43200)


def test_nothing_left_is_contained() -> None:
    left, found = assess([KEY, TOKEN], {"k", "d"}, [], NOW)
    assert left == [] and found.label == "contained"


def test_only_held_tokens_left_is_contained_until_the_last_expires() -> None:
    left, found = assess([KEY, TOKEN, SESSION], {"k"}, [], NOW)
    assert [r.path for r in left] == [TOKEN.path, SESSION.path]
    assert found.label == "contained-until 2026-01-01T12:00:00Z"
    assert "CONTAINED UNTIL" in found.words


def test_a_credential_left_active_is_open() -> None:
    left, found = assess([KEY, TOKEN], {"d"}, [], NOW)
    assert found.kind == "open" and left[0].until is None
    assert "no end" in found.words


def test_a_provider_not_planned_is_open_whatever_else_holds() -> None:
    _, found = assess([KEY], {"k"}, ["okta"], NOW)
    assert found.kind == "open" and "okta" in found.words
    assert verdict([], ["gcp"]).kind == "open"


def test_a_restore_reopens() -> None:
    _, found = assess([KEY], {"k"}, [], NOW, restore_of="inc-1")
    assert found.kind == "open"


def test_until_rounds_up_to_whole_seconds() -> None:
    (left,) = residual([TOKEN], set(), NOW + timedelta(microseconds=10))
    assert left.until == NOW + timedelta(seconds=3601)
