"""Deadlines: with every request to a provider timing out and retries that would go on for
long, each step ends `failed` at its deadline with the reason, the run's own deadline ends
the steps still waiting, and the run ends (the test only asserts that it does, and how)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from agent_ir.engine import journal as jr
from agent_ir.engine.executor import DEADLINE, Status, Tuning
from agent_ir.engine.incident import Who, execute, journal_dir, plan_for
from agent_ir.engine.inventory import Engine
from agent_ir.exit_codes import ExitCode
from agent_ir.lab.faults import FaultSpec
from agent_ir.playbook.loader import find_playbook, load_playbook

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


async def test_the_run_deadline_ends_every_step_still_waiting(
    engine, fresh_lab, aws_faults
) -> None:
    tuning = replace(PATIENT, step_deadline_s=3600, run_deadline_s=2, per_provider_concurrency=1)
    outcome = await _run_timing_out(engine, aws_faults, tuning)
    assert outcome.exit_code is ExitCode.FAILED
    errors = [r.error or "" for r in outcome.results]
    assert all("run's deadline passed" in e for e in errors), errors
    assert len(_results(engine, outcome.incident)) == len(outcome.results)
