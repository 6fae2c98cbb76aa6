"""A revoke killed after every one of its journal lines, resumed, then restored: resume ends
every step as a run without a crash would, and restore brings back the exact IAM state
read through boto3 before the revoke.

The crash is simulated in-process: once line N is on disk, every later journal write
raises, the run's tasks are cancelled where they wait, and the event loop is torn down
(its worker threads finish what they had sent, as a killed process's requests would).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from agent_ir.actions.base import Reversibility
from agent_ir.engine import journal as jr
from agent_ir.engine.executor import Status
from agent_ir.engine.incident import Outcome, Who, execute, journal_dir, plan_for, restore, resume
from agent_ir.engine.inventory import Engine
from agent_ir.engine.planner import Plan
from agent_ir.engine.restore_check import kept_note
from agent_ir.lab.runner import Lab
from agent_ir.playbook.loader import find_playbook, load_playbook
from tests.engine.helpers import FAST, iam_state, without_session_cutoffs

AGENT = "invoice-agent"
WHO = Who("tester", "crash at every line")


class _Crash(BaseException):
    """The process died here (not an Exception: nothing may handle it)."""


class _CrashAfter:
    """Journal writes go through until line ``n`` is on disk (line 1, the incident's start,
    is written on create); every later one dies, and the dead process's journal is closed
    (its lock released) as the kernel would."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.written = 1
        self.crashed = False

    def wrap(self, append: Any) -> Any:
        def hooked(journal: jr.Journal, kind: str, payload: Any) -> jr.Record:
            if not self.crashed and self.written < self.n:
                record = append(journal, kind, payload)
                self.written += 1
                if self.written < self.n:
                    return record
            self.crashed = True
            journal.close()
            raise _Crash

        return hooked

    def wrap_many(self, append: Any) -> Any:
        """The executor commits concurrent records together: the crash may fall between
        any two of them, so they are written one at a time through the hooked append."""
        one = self.wrap(append)

        def hooked(journal: jr.Journal, items: Any) -> list[Any]:
            return [one(journal, kind, payload) for kind, payload in items]

        return hooked


@pytest.fixture
def crash(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """``crash(n)`` arms a crash after the n-th journal line; ``crash(None)`` disarms it."""
    original = jr.Journal.append
    original_many = jr.Journal.append_many

    def arm(n: int | None) -> _CrashAfter | None:
        if n is None:
            monkeypatch.setattr(jr.Journal, "append", original)
            monkeypatch.setattr(jr.Journal, "append_many", original_many)
            return None
        hook = _CrashAfter(n)
        monkeypatch.setattr(jr.Journal, "append", hook.wrap(original))
        monkeypatch.setattr(jr.Journal, "append_many", hook.wrap_many(original))
        return hook

    yield arm
    monkeypatch.setattr(jr.Journal, "append", original)
    monkeypatch.setattr(jr.Journal, "append_many", original_many)


async def _crashing_revoke(engine: Engine, plan: Plan) -> None:
    """Run the revoke until the crash, then stop everything it had started."""
    try:
        await execute(engine, plan, WHO, tuning=FAST)
    except _Crash:
        pass
    finally:
        others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in others:
            task.cancel()
        await asyncio.gather(*others, return_exceptions=True)
        await engine.aclose()


def _fresh(engine: Engine) -> Engine:
    return Engine(engine.settings, clock=engine.clock)


async def _plan(engine: Engine) -> Plan:
    try:
        return await plan_for(engine, AGENT, load_playbook(find_playbook("contain-agent", [])), {})
    finally:
        await engine.aclose()


async def _then(engine: Engine, work: Any) -> Outcome:
    try:
        outcome: Outcome = await work(engine)
        return outcome
    finally:
        await engine.aclose()


def _incident(engine: Engine, before: set[str]) -> str:
    made = {p.stem for p in journal_dir(engine).glob("IR-*.jsonl")} - before
    assert len(made) == 1, made
    return made.pop()


def test_kill_at_every_journal_line_then_resume_and_restore(
    engine: Engine, fresh_lab: Lab, aws_client: Any, crash: Any
) -> None:
    before = iam_state(aws_client, fresh_lab)
    plan = asyncio.run(_plan(_fresh(engine)))
    assert plan.steps and not plan.unavailable
    irreversible = {s.id for s in plan.steps if s.reversible is Reversibility.NO}
    clean = asyncio.run(_then(_fresh(engine), lambda e: execute(e, plan, WHO, tuning=FAST)))
    expected = {r.step.id: r.status for r in clean.results}
    assert set(expected.values()) <= {Status.VERIFIED, Status.ALREADY}, clean.to_json()
    lines = len(jr.Journal.read(jr.incident_path(journal_dir(engine), clean.incident)))
    fresh_lab.reset()
    assert iam_state(aws_client, fresh_lab) == before

    for n in range(1, lines):
        known = {p.stem for p in journal_dir(engine).glob("IR-*.jsonl")}
        hook = crash(n)
        asyncio.run(_crashing_revoke(_fresh(engine), plan))
        crash(None)
        assert hook is not None and hook.crashed, n
        incident = _incident(engine, known)
        resumed = asyncio.run(
            _then(_fresh(engine), lambda e, i=incident: resume(e, i, tuning=FAST))
        )
        assert {r.step.id: r.status for r in resumed.results} == expected, (n, resumed.to_json())
        assert resumed.exit_code == 0, (n, resumed.to_json())
        restored = asyncio.run(
            _then(_fresh(engine), lambda e, i=incident: restore(e, i, WHO, tuning=FAST))
        )
        assert restored.exit_code == 0, (n, restored.to_json())
        undone = {r.step.id.removeprefix("undo.") for r in restored.results}
        applied = {i for i, s in expected.items() if s is Status.VERIFIED}
        kept = {s.id for s in plan.steps if kept_note(s)}  # session cut-offs stay
        assert undone == applied - irreversible - kept, n
        assert without_session_cutoffs(iam_state(aws_client, fresh_lab)) == before, n
        fresh_lab.reset()
