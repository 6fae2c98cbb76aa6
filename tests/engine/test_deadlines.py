"""Deadlines: with every request to a provider timing out and retries that would go on for
long, each step ends `failed` at its deadline with the reason, the run's own deadline ends
the steps still waiting, and the run ends (the test only asserts that it does, and how)."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

from agent_ir.engine import journal as jr
from agent_ir.engine.executor import DEADLINE, Status, Tuning
from agent_ir.engine.incident import Who, execute, journal_dir, plan_for, restore
from agent_ir.engine.inventory import Engine
from agent_ir.engine.restore_check import kept_note
from agent_ir.exit_codes import ExitCode
from agent_ir.lab.faults import FaultSpec
from agent_ir.playbook.loader import find_playbook, load_playbook
from agent_ir.providers import registry
from tests.engine.helpers import FAST, iam_state, without_session_cutoffs

AGENT = "invoice-agent"
PATIENT = Tuning(attempts=1000, backoff_s=0.05, max_backoff_s=0.1, verify_interval_s=0.05)
"""Retries that would outlive any test: only a deadline can end these steps."""


def _quick(engine: Engine) -> Engine:
    aws = engine.settings.providers.aws
    assert aws is not None
    providers = engine.settings.providers.model_copy(
        update={"aws": aws.model_copy(update={"timeout_s": 0.5, "max_attempts": 1})}
    )
    return Engine(engine.settings.model_copy(update={"providers": providers}), clock=engine.clock)


async def _run_timing_out(engine: Engine, aws_faults: Any, tuning: Tuning) -> Any:
    engine = _quick(engine)
    plan = await plan_for(engine, AGENT, load_playbook(find_playbook("contain-agent", [])), {})
    assert plan.steps
    aws_faults.update(FaultSpec(timeout_rate=1, timeout_s=5))
    try:
        return await execute(engine, plan, Who("tester", "deadlines"), tuning=tuning)
    finally:
        aws_faults.update(FaultSpec())
        await engine.aclose()


def _results(engine: Engine, incident: str) -> list[dict[str, Any]]:
    records = jr.Journal.read(jr.incident_path(journal_dir(engine), incident))
    return [r.payload for r in records if r.kind == jr.Kind.RESULT]


async def test_each_step_ends_failed_at_its_deadline(engine, fresh_lab, aws_faults) -> None:
    outcome = await _run_timing_out(engine, aws_faults, replace(PATIENT, step_deadline_s=1.5))
    assert outcome.exit_code is ExitCode.FAILED
    for result in outcome.results:
        assert result.status is Status.FAILED, result.to_json()
        assert result.error and "step's deadline passed" in result.error
    assert outcome.unavailable["aws"].startswith("unavailable: execution: ")
    for payload in _results(engine, outcome.incident):
        assert payload["detail"] == [DEADLINE] and payload["unavailable"] is True
    end = jr.Journal.read(jr.incident_path(journal_dir(engine), outcome.incident))[-1]
    assert end.kind == jr.Kind.END and end.payload["status"] == "failed"


def test_a_call_cut_by_its_deadline_is_undone_by_restore(
    engine, fresh_lab, aws_client, monkeypatch
) -> None:
    """Every apply lands but its answer never comes back (a hook holds it): each step ends
    failed at its deadline after changing the provider, and restore undoes every one."""
    before = iam_state(aws_client, fresh_lab)
    plan = asyncio.run(_plan(_quick(engine)))
    for impl in registry.plugin("aws").actions().values():
        monkeypatch.setattr(impl, "apply", _answer_lost(impl.apply))
    # asyncio.run returns once the worker threads' calls have ended (and landed).
    outcome = asyncio.run(_execute(_quick(engine), plan, replace(PATIENT, step_deadline_s=4)))
    monkeypatch.undo()
    assert {r.status for r in outcome.results} == {Status.FAILED}
    assert all(DEADLINE in r.notes for r in outcome.results)
    assert iam_state(aws_client, fresh_lab) != before
    undo = asyncio.run(
        _then(_quick(engine), lambda e: restore(e, outcome.incident, Who("t", "undo"), tuning=FAST))
    )
    # Every step whose snapshot was journaled went on to apply (on a slow machine a read
    # alone may outlast the deadline: that step changed nothing and has nothing to undo).
    snapshots = {
        r.payload["step"]
        for r in jr.Journal.read(jr.incident_path(journal_dir(engine), outcome.incident))
        if r.kind == jr.Kind.SNAPSHOT
    }
    assert snapshots
    kept = {s.id for s in outcome.plan.steps if kept_note(s)}  # session cut-offs stay
    assert {r.step.id for r in undo.results} == {f"undo.{i}" for i in snapshots - kept}
    assert undo.exit_code is ExitCode.OK, undo.to_json()
    assert without_session_cutoffs(iam_state(aws_client, fresh_lab)) == before


def _answer_lost(apply: Any) -> Any:
    async def landed_but_unanswered(self: Any, adapter: Any, step: Any, prepared: Any) -> None:
        await apply(self, adapter, step, prepared)
        await asyncio.Event().wait()

    return landed_but_unanswered


async def _plan(engine: Engine) -> Any:
    try:
        return await plan_for(engine, AGENT, load_playbook(find_playbook("contain-agent", [])), {})
    finally:
        await engine.aclose()


async def _execute(engine: Engine, plan: Any, tuning: Tuning) -> Any:
    try:
        return await execute(engine, plan, Who("tester", "slow"), tuning=tuning)
    finally:
        await engine.aclose()


async def _then(engine: Engine, work: Any) -> Any:
    try:
        return await work(engine)
    finally:
        await engine.aclose()


async def test_the_run_deadline_ends_every_step_still_waiting(
    engine, fresh_lab, aws_faults
) -> None:
    tuning = replace(PATIENT, step_deadline_s=3600, run_deadline_s=2, per_provider_concurrency=1)
    outcome = await _run_timing_out(engine, aws_faults, tuning)
    assert outcome.exit_code is ExitCode.FAILED
    errors = [r.error or "" for r in outcome.results]
    assert all("run's deadline passed" in e for e in errors), errors
    assert len(_results(engine, outcome.incident)) == len(outcome.results)
