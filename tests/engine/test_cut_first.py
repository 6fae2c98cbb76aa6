"""Cut first on the lab: a revoke approved up front writes the agent's own credentials off
before its closure is read, ends with exactly what the whole plan does, restores whole,
and a run stopped before its whole plan is never called contained."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from agent_ir.engine import firstcut
from agent_ir.engine import journal as jr
from agent_ir.engine.executor import Status
from agent_ir.engine.firstcut import FIRST_CUT_ACTIONS, cut_first
from agent_ir.engine.incident import Who, journal_dir, plan_for, restore, resume
from agent_ir.engine.inventory import Engine
from agent_ir.engine.planner import FIRST_CUT_ONLY
from agent_ir.errors import ProviderUnavailable, RefusedError
from agent_ir.exit_codes import ExitCode
from agent_ir.playbook.loader import find_playbook, load_playbook
from agent_ir.settings import load_settings
from tests.engine.helpers import FAST, iam_state
from tests.engine.test_scoped_discovery import default_lab

__all__ = ["default_lab"]  # the four-provider default world, served (a fixture)

AGENT = "invoice-agent"
WHO = Who(responder="tester", reason="lab test")


def contain() -> Any:
    return load_playbook(find_playbook("contain-agent", []))


def approve_all(_plan: Any) -> Any:
    return lambda _step: True


def _records(engine: Engine, incident: str) -> list[jr.Record]:
    return jr.Journal.read(jr.incident_path(journal_dir(engine), incident))


def _key(payload: dict[str, Any]) -> tuple[str, str, str]:
    return (payload["provider"], payload["action"], payload["target"])


async def test_the_first_cut_lands_before_the_whole_plan_and_ends_as_the_plan(
    engine: Engine,
) -> None:
    plan = await plan_for(engine, AGENT, contain(), {})
    planned = {(s.provider, s.action, s.target) for s in plan.steps}

    outcome = await cut_first(engine, AGENT, contain(), {}, WHO, approve_all, tuning=FAST)

    records = _records(engine, outcome.incident)
    start = records[0].payload["plan"]
    assert start["growing"] is True
    assert start["steps"] and {s["action"] for s in start["steps"]} <= FIRST_CUT_ACTIONS
    kinds = [r.kind for r in records]
    assert kinds.count(jr.Kind.PLAN) == 1
    # the first intent is journaled (and its call made) before the whole plan exists
    assert kinds.index(jr.Kind.INTENT) < kinds.index(jr.Kind.PLAN)
    intents = [_key(r.payload) for r in records if r.kind == jr.Kind.INTENT]
    assert Counter(intents).most_common(1)[0][1] == 1, "a target was changed twice"
    assert set(intents) == planned
    assert {r.status for r in outcome.results} == {Status.VERIFIED}, outcome.to_json()
    assert {(r.step.provider, r.step.action, r.step.target) for r in outcome.results} == planned
    assert outcome.exit_code is ExitCode.OK
    assert outcome.verdict is not None and outcome.verdict.kind == plan.verdict.kind
    assert not outcome.plan.growing
    timing = outcome.to_json()["timing"]
    assert timing["first_cut_s"] <= timing["all_cut_s"] <= timing["verified_s"]
    assert jr.verify(jr.incident_path(journal_dir(engine), outcome.incident)).ok
    assert jr.list_incidents(journal_dir(engine))[0].status == "complete"


async def test_restore_after_a_first_cut_undoes_the_first_cut_too(
    engine: Engine, fresh_lab: Any, aws_client: Any
) -> None:
    before = iam_state(aws_client, fresh_lab)
    outcome = await cut_first(engine, AGENT, contain(), {}, WHO, approve_all, tuning=FAST)
    keys = iam_state(aws_client, fresh_lab)["main"]["users"][AGENT]["keys"]
    assert set(keys.values()) == {"Inactive"}

    undo = await restore(engine, outcome.incident, WHO, tuning=FAST)

    assert {r.status for r in undo.results} == {Status.VERIFIED}, undo.to_json()
    assert any(w.startswith("revives aws: access key") for w in undo.warnings)
    restored = iam_state(aws_client, fresh_lab)
    for account, role in (("main", "invoice-processor"), ("222222222222", "finance-data-reader")):
        del restored[account]["roles"][role]["inline"]["AWSRevokeOlderSessions"]
    assert restored == before


class Crash(BaseException):
    """The process dying (as a kill would) once the first cut has run."""


async def _stopped_after_the_first_cut(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run a revoke that dies once its first cut has run, before its whole plan."""

    async def crash(self: Any, *_args: Any) -> Any:
        await asyncio.gather(*self.runs)
        raise Crash

    monkeypatch.setattr(firstcut._Growing, "finish", crash)
    with pytest.raises(Crash):
        await cut_first(engine, AGENT, contain(), {}, WHO, approve_all, tuning=FAST)
    monkeypatch.undo()
    (summary,) = jr.list_incidents(journal_dir(engine))
    assert summary.status != "complete"
    return summary.id


async def test_resume_after_the_first_cut_plans_and_runs_the_rest(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    planned = {
        (s.provider, s.action, s.target)
        for s in (await plan_for(engine, AGENT, contain(), {})).steps
    }
    incident = await _stopped_after_the_first_cut(engine, monkeypatch)

    finished = await resume(engine, incident, tuning=FAST)

    assert not finished.plan.growing
    assert {(r.step.provider, r.step.action, r.step.target) for r in finished.results} == planned
    assert {r.status for r in finished.results} == {Status.VERIFIED}, finished.to_json()
    assert finished.exit_code is ExitCode.OK
    records = _records(engine, incident)
    assert [r.kind for r in records].count(jr.Kind.PLAN) == 1
    intents = [_key(r.payload) for r in records if r.kind == jr.Kind.INTENT]
    assert Counter(intents).most_common(1)[0][1] == 1, "a target was changed twice"
    assert jr.list_incidents(journal_dir(engine))[0].status == "complete"


async def test_a_first_cut_whose_rest_cannot_be_planned_on_resume_is_never_contained(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    incident = await _stopped_after_the_first_cut(engine, monkeypatch)

    async def down(*_args: Any, **_kwargs: Any) -> Any:
        raise ProviderUnavailable("aws", "no provider answered")

    monkeypatch.setattr(engine, "agent_inventory", down)
    finished = await resume(engine, incident, tuning=FAST)

    assert finished.plan.growing
    assert any(w.startswith(FIRST_CUT_ONLY) for w in finished.warnings)
    assert finished.verdict is not None and finished.verdict.kind == "open"
    assert finished.exit_code is ExitCode.PARTIAL
    assert {r.step.action for r in finished.results} <= FIRST_CUT_ACTIONS
    assert {r.status for r in finished.results} == {Status.VERIFIED}
    assert jr.list_incidents(journal_dir(engine))[0].status == "partial"


async def test_a_whole_plan_that_cannot_be_made_leaves_the_first_cut_and_an_open_verdict(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def down(*_args: Any, **_kwargs: Any) -> Any:
        raise ProviderUnavailable("aws", "no provider answered")

    monkeypatch.setattr(engine, "agent_inventory", down)

    outcome = await cut_first(engine, AGENT, contain(), {}, WHO, approve_all, tuning=FAST)

    assert outcome.results and {r.status for r in outcome.results} == {Status.VERIFIED}
    assert {r.step.action for r in outcome.results} <= FIRST_CUT_ACTIONS
    assert outcome.verdict is not None and outcome.verdict.kind == "open"
    assert outcome.exit_code is ExitCode.PARTIAL
    assert any("could not be planned" in w for w in outcome.warnings)
    assert jr.list_incidents(journal_dir(engine))[0].status == "partial"


async def test_a_silent_provider_does_not_hold_up_the_others_first_cut(
    default_lab: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = load_settings(default_lab).model_copy(update={"journal_dir": tmp_path / "j"})
    engine = Engine(settings)
    never = asyncio.Event()

    async def silent(*_args: Any, **_kwargs: Any) -> Any:
        await never.wait()

    monkeypatch.setattr(engine.providers()["entra"], "own_identities", silent)
    try:
        outcome = await cut_first(engine, AGENT, contain(), {}, WHO, approve_all, tuning=FAST)
    finally:
        await engine.aclose()

    first = _records(engine, outcome.incident)[0].payload["plan"]["steps"]
    assert first and "entra" not in {s["provider"] for s in first}
    entra = [r for r in outcome.results if r.step.provider == "entra"]
    assert entra and {r.status for r in entra} == {Status.VERIFIED}
    assert outcome.exit_code is ExitCode.OK


async def test_a_first_cut_needs_a_reason_and_a_writable_environment(engine: Engine) -> None:
    with pytest.raises(RefusedError):
        await cut_first(engine, AGENT, contain(), {}, Who("t", " "), approve_all, tuning=FAST)
    read_only = Engine(engine.settings.model_copy(update={"read_only": True}))
    with pytest.raises(RefusedError):
        await cut_first(read_only, AGENT, contain(), {}, WHO, approve_all, tuning=FAST)
    assert jr.list_incidents(journal_dir(engine)) == []
