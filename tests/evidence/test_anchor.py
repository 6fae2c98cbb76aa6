"""Signed chain heads: a rewritten, re-hashed journal, a removed incident and a swapped key
are each caught; an untouched journal passes."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent_ir.engine import journal as jr
from agent_ir.evidence.anchor import ANCHORS, anchor, verify_anchors
from tests.evidence.helpers import write_incident
from tests.evidence.keys import forge, write_keys

FIRST = "IR-20250301-120000-abcd"
SECOND = "IR-20250301-130000-beef"


@pytest.fixture
def signed(tmp_path: Path) -> tuple[Path, Path, Path]:
    """Two finished incidents, each anchored: (journal dir, private key, public key)."""
    directory = tmp_path / "journal"
    private, public = write_keys(tmp_path)
    for incident in (FIRST, SECOND):
        write_incident(directory, incident)
        anchor(directory, incident, private)
    return directory, private, public


def test_untouched_journals_verify(signed) -> None:
    directory, _, public = signed
    report = verify_anchors(directory, public)
    assert report.ok, report
    assert set(report.incidents) == {FIRST, SECOND}


def test_a_rewritten_and_rehashed_journal_fails(signed) -> None:
    directory, _, public = signed
    path = jr.incident_path(directory, FIRST)
    forge(path, {"why": "routine rotation"})
    assert jr.verify(path).ok  # the chain alone cannot tell
    report = verify_anchors(directory, public)
    assert not report.ok
    assert "rewritten" in report.incidents[FIRST][0]
    assert report.incidents[SECOND] == []


def test_a_removed_incident_fails(signed) -> None:
    directory, _, public = signed
    for suffix in (".jsonl", ".head"):
        jr.incident_path(directory, SECOND).with_suffix(suffix).unlink()
    report = verify_anchors(directory, public)
    assert "removed" in report.incidents[SECOND][0]


def test_a_swapped_key_fails(signed, tmp_path: Path) -> None:
    directory, _, public = signed
    forge(jr.incident_path(directory, FIRST), {"why": "routine rotation"})
    other, _ = write_keys(tmp_path, "attacker")
    (directory / ANCHORS).unlink()
    for incident in (FIRST, SECOND):
        anchor(directory, incident, other)
    report = verify_anchors(directory, public)
    assert not report.ok
    assert any("another key" in p for p in report.problems)
    assert any("does not verify" in p for p in report.problems)


def test_an_edited_or_dropped_anchor_line_fails(signed) -> None:
    directory, _, public = signed
    anchors = directory / ANCHORS
    lines = anchors.read_text().splitlines()
    anchors.write_text(lines[1] + "\n")  # the first anchor removed
    report = verify_anchors(directory, public)
    assert any("does not follow" in p for p in report.problems)
    assert "not anchored" in report.incidents[FIRST][0]


def test_records_appended_after_the_anchor_are_reported(signed) -> None:
    directory, _, public = signed
    with jr.Journal.open(directory, FIRST) as journal:
        journal.note("added later")
    assert "unsigned" in verify_anchors(directory, public).incidents[FIRST][0]
