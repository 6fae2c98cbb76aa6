"""Cut first: a pre-approved containment starts writing before the agent's closure is read.

Reading what an agent can become takes many dependent rounds on a large estate (listings,
policy searches, federation queries), but its own keys, secrets and sessions need none of
that: the principals named exactly like the agent, or listed for it in the inventory, are
found by a direct lookup in each provider (:class:`~agent_ir.providers.base.OwnLookup`).
So a run the responder approved up front (``--yes``) goes like this:

1. look up the certain own principals (no listing), plan the playbook's credential and
   session steps on them only (a *first cut*), journal it as the incident's plan, marked
   ``growing``, and start running it: intent before every call, as always;
2. meanwhile read the agent's whole closure and plan the whole playbook, keeping the
   first cut's steps as they are and adding only what they do not already do;
3. journal the whole plan (a ``plan`` record that supersedes the start's), check its
   blast radius, and run the rest on the same journal.

Resume, restore and the report read the last plan journaled (:func:`journal.plan_of`).
A run that stops before step 3 leaves a growing plan: its verdict is open, never
"contained", and resume says the rest was never planned.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from agent_ir.actions.base import PlannedStep
from agent_ir.engine import journal as jr
from agent_ir.engine.executor import EventFn, Executor, StepResult, Tuning
from agent_ir.engine.incident import (
    Outcome,
    Who,
    check_blast_radius,
    execute,
    journal_dir,
    journal_end,
    journal_verdict,
    plan_for,
    plan_locks,
    uses_findings,
)
from agent_ir.engine.inventory import Engine
from agent_ir.engine.planner import Plan, make_plan
from agent_ir.errors import AgentIRError, RefusedError
from agent_ir.evidence.hooks import after_run, run_started
from agent_ir.playbook.model import Playbook

FIRST_CUT_ACTIONS = frozenset({"disable-credentials", "revoke-sessions"})
"""What a first cut does: static credentials and live sessions, on the own principals."""

Approval = Callable[[PlannedStep], bool]


def first_cut_playbook(playbook: Playbook) -> Playbook | None:
    """The part of ``playbook`` a first cut runs: its credential and session steps that
    need no approval of their own, narrowed to the agent's own principals; None when it
    has none, or when its steps depend on findings (those need the whole read)."""
    if uses_findings(playbook):
        return None
    steps = [
        s.model_copy(update={"scope": "own"})
        for s in playbook.steps
        if s.action in FIRST_CUT_ACTIONS and not s.approve
    ]
    return playbook.model_copy(update={"steps": steps}) if steps else None


async def cut_first(
    engine: Engine,
    agent_name: str,
    playbook: Playbook,
    params: dict[str, Any],
    who: Who,
    approve: Callable[[Plan], Approval],
    *,
    on_event: EventFn | None = None,
    tuning: Tuning | None = None,
    wait: bool = False,
    started: float | None = None,
    on_first_cut: Callable[[Plan], None] = lambda _plan: None,
) -> Outcome:
    """Contain ``agent_name`` with ``playbook``, cutting its own credentials first (see
    the module docstring). ``approve`` turns the whole plan into the per-step approval
    (the responder approved up front). Without a first cut to make (no provider can look
    the agent up directly, or nothing to cut there) this is the ordinary plan-then-run."""
    started = time.monotonic() if started is None else started
    first = first_cut_playbook(playbook)
    early: Plan | None = None
    if first is not None:
        own = await engine.own_inventory(agent_name)
        if any(a.name.lower() == agent_name.lower() for a in own.agents):
            agent = own.agent(agent_name)
            early = await make_plan(engine, own, agent, first, params, engine.clock(), live=False)
    if early is None or not early.steps:
        plan = await plan_for(engine, agent_name, playbook, params)
        check_blast_radius(plan)
        return await execute(
            engine,
            plan,
            who,
            approved=approve(plan),
            on_event=on_event,
            tuning=tuning,
            wait=wait,
            started=started,
        )
    early.growing = True
    early.notes.append(
        "first cut: the credential and session steps on the agent's own principals, found "
        "by name and inventory without listing; the rest follows once its closure is read"
    )
    check_blast_radius(early)
    on_first_cut(early)
    return await _run_growing(
        engine, agent_name, playbook, params, who, approve, early, on_event, tuning, wait, started
    )


async def _run_growing(
    engine: Engine,
    agent_name: str,
    playbook: Playbook,
    params: dict[str, Any],
    who: Who,
    approve: Callable[[Plan], Approval],
    early: Plan,
    on_event: EventFn | None,
    tuning: Tuning | None,
    wait: bool,
    started: float,
) -> Outcome:
    """Journal and run the first cut while the whole plan is made, then run the rest."""
    directory = journal_dir(engine)
    incident = jr.new_incident_id(engine.clock())
    start = jr.incident_start(
        os_user=who.os_user,
        responder=who.responder,
        why=who.reason,
        playbook=early.playbook,
        agent=early.agent,
        plan_hash=early.plan_hash,
        plan=early.to_json(),
        lab=engine.settings.lab,
    )
    async with plan_locks(directory, early, incident, who.os_user, wait=wait):
        with jr.Journal.create(directory, incident, start, clock=engine.clock) as journal:
            follower = run_started(engine.settings, directory, incident)
            executor = Executor(
                engine.providers(), journal, engine.clock, tuning=tuning, on_event=on_event
            )
            first_run = asyncio.ensure_future(executor.run(early.steps))
            try:
                whole, why = await _whole_plan(engine, agent_name, playbook, params, early)
                first_results = await first_run
            finally:
                if not first_run.done():
                    first_run.cancel()
            outcome = await _rest(
                executor, journal, incident, early, whole, why, first_results, approve
            )
            outcome.timing = executor.timing(started)
            journal_verdict(journal, outcome, engine.clock())
            journal_end(journal, outcome)
    outcome.warnings += await asyncio.to_thread(
        after_run, engine.settings, directory, incident, engine.clock, follower
    )
    return outcome


async def _whole_plan(
    engine: Engine, agent_name: str, playbook: Playbook, params: dict[str, Any], early: Plan
) -> tuple[Plan | None, str]:
    """The whole plan, keeping the first cut's steps; or None and why it could not be made."""
    try:
        inv = await engine.agent_inventory(agent_name, containment=True)
        agent = inv.agent(agent_name)
        whole = await make_plan(
            engine, inv, agent, playbook, params, engine.clock(), already=early.steps
        )
    except AgentIRError as exc:
        return None, exc.message
    whole.notes.insert(0, early.notes[-1])
    return whole, ""


async def _rest(
    executor: Executor,
    journal: jr.Journal,
    incident: str,
    early: Plan,
    whole: Plan | None,
    why: str,
    first_results: list[StepResult],
    approve: Callable[[Plan], Approval],
) -> Outcome:
    """Journal the whole plan and run what the first cut did not; or say why not."""
    if whole is None:
        journal.note(f"the rest of the containment could not be planned: {why}")
        outcome = Outcome(incident, early, first_results)
        outcome.warnings.append(f"only the first cut ran; the rest could not be planned: {why}")
        return outcome
    journal.append(jr.Kind.PLAN, {"plan_hash": whole.plan_hash, "plan": whole.to_json()})
    try:
        check_blast_radius(whole)
    except RefusedError as exc:
        journal.note(f"the rest was not run: {exc.message}")
        outcome = Outcome(incident, whole, first_results, incomplete=exc.message)
        outcome.warnings.append(f"only the first cut ran: {exc.message}")
        return outcome
    done = {s.id for s in early.steps}
    rest = [s for s in whole.steps if s.id not in done]
    rest_results = await executor.run(rest, approved=approve(whole))
    by_id = {r.step.id: r for r in [*first_results, *rest_results]}
    return Outcome(incident, whole, [by_id[s.id] for s in whole.steps if s.id in by_id])
