"""Restore and resume refuse a journal that fails verification (exit 9) unless --force,
and a forced restore journals what it was forced past."""

from __future__ import annotations

from pathlib import Path

from agent_ir.engine import journal as jr
from tests.engine.test_journal_trust import INCIDENT, _cut_tail, _incident


def _state_journal(root: Path) -> Path:
    return root / "state" / "agent-ir" / "lab" / "journal"  # the default lab's journals


def test_restore_and_resume_refuse_a_damaged_journal_unless_forced(cli, tmp_path: Path) -> None:
    directory = _state_journal(tmp_path)
    path = _incident(directory)
    _cut_tail(path)
    for command in (["restore", INCIDENT, "--yes"], ["resume", INCIDENT]):
        run = cli(*command)
        assert run.code == 9, (command, run.err)
        assert "fails verification" in run.err and "--force" in run.err
    assert len(list(directory.glob("IR-*.jsonl"))) == 1  # nothing was started
    run = cli("restore", INCIDENT, "--yes", "--force", "-o", "json")
    assert run.code == 0, run.err
    new = run.json()["incident"]
    start = jr.Journal.read(jr.incident_path(directory, new))[0].payload
    assert start["restore_of"] == INCIDENT
    assert any("deleted from the tail" in p for p in start["forced_past_verification"])
