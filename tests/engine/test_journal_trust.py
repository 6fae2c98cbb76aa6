"""A journal is trusted only when it verifies: restore and resume refuse a damaged one
(exit 9) unless forced, and that is journaled; a crash while creating a journal leaves no
file that breaks the others; one unreadable journal never stops verifying the others;
temp files are never a path someone else planted."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from agent_ir.engine import journal as jr
from agent_ir.engine.planner import Plan
from agent_ir.errors import JournalError

INCIDENT = "IR-20250131-120000-a1b2"
OTHER = "IR-20250131-120001-c3d4"


def _incident(directory: Path, incident: str = INCIDENT, *, finished: bool = True) -> Path:
    """A revoke's journal with one step applied and, if ``finished``, its end."""
    plan = Plan(agent="invoice-agent", playbook="contain-agent", params={}, steps=[])
    start = jr.incident_start(
        os_user="alice",
        responder="alice",
        why="test",
        playbook="contain-agent",
        agent="invoice-agent",
        plan_hash="sha256:0",
        plan=plan.to_json(),
    )
    with jr.Journal.create(directory, incident, start) as journal:
        journal.note("one")
        journal.note("two")
        if finished:
            journal.end("complete", {})
    return journal.path


def _cut_tail(path: Path) -> None:
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(lines[:-1]))


class _Crash(BaseException):
    pass


def test_a_crash_while_creating_a_journal_leaves_nothing_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _incident(tmp_path, OTHER)

    def die(*_args: object) -> None:
        raise _Crash

    monkeypatch.setattr(os, "link", die)
    with pytest.raises(_Crash):
        _incident(tmp_path)
    monkeypatch.undo()
    assert not jr.incident_path(tmp_path, INCIDENT).exists()
    reports = jr.verify_all(tmp_path)
    assert [(r.incident, r.ok) for r in reports] == [(OTHER, True)]


def test_one_unreadable_journal_never_stops_verifying_the_others(tmp_path: Path) -> None:
    _incident(tmp_path, OTHER)
    jr.incident_path(tmp_path, INCIDENT).mkdir()  # unreadable as a file
    (tmp_path / f"{INCIDENT}.head").write_text("{}")
    reports = {r.incident: r for r in jr.verify_all(tmp_path)}
    assert reports[OTHER].ok
    assert not reports[INCIDENT].ok and reports[INCIDENT].problems
    assert {i.id for i in jr.list_incidents(tmp_path)} == {OTHER, INCIDENT}


def test_a_planted_symlink_at_the_head_temp_name_is_never_written(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_text("precious")
    (tmp_path / f"{INCIDENT}.head.tmp").symlink_to(victim)
    path = _incident(tmp_path)
    assert victim.read_text() == "precious"
    assert jr.verify(path).ok
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_resume_of_a_journal_cut_at_the_tail_is_refused(tmp_path: Path) -> None:
    path = _incident(tmp_path, finished=False)
    _cut_tail(path)
    assert not jr.verify(path).ok
    with pytest.raises(JournalError):
        jr.Journal.open(tmp_path, INCIDENT)
    with jr.Journal.open(tmp_path, INCIDENT, force=True) as journal:
        journal.note("forced")
    assert [r.kind for r in jr.Journal.read(path)][-1] == "note"
