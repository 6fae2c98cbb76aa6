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
import contextlib
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
    check_may_write,
    execute,
    incident_start,
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
from agent_ir.model import ProviderName
from agent_ir.playbook.model import Playbook
from agent_ir.providers.base import Discovery

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
    check_may_write(engine, who)  # before any lookup, as a whole plan would be
    first = first_cut_playbook(playbook)
    if first is not None:
        async with contextlib.AsyncExitStack() as stack:
            run = await _first_cuts(
                engine, agent_name, first, params, who, stack, on_first_cut, on_event, tuning, wait
            )
            outcome = None if run is None else await run.finish(playbook, approve, started)
        if run is not None and outcome is not None:
            outcome.warnings += await asyncio.to_thread(
                after_run,
                engine.settings,
                journal_dir(engine),
                outcome.incident,
                engine.clock,
                run.follower,
            )
            return outcome
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


async def _first_cuts(
    engine: Engine,
    agent_name: str,
    first: Playbook,
    params: dict[str, Any],
    who: Who,
    stack: contextlib.AsyncExitStack,
    on_first_cut: Callable[[Plan], None],
    on_event: EventFn | None,
    tuning: Tuning | None,
    wait: bool,
) -> _Growing | None:
    """Cut each provider's part as soon as its own lookup answers: the first to find
    something opens the incident (and starts the whole read), each later one journals the
    grown plan and runs its own steps. None when no lookup found anything to cut."""
    run: _Growing | None = None
    found: dict[ProviderName, Discovery] = {}
    landed = asyncio.Event()  # the first cut's first write: slow-opening providers wait
    async for provider, discovery in engine.own_lookups(agent_name, later=landed):
        found[provider] = discovery
        if not discovery.identities:
            continue
        inv = engine.own_view(agent_name, found)
        if not any(a.name.lower() == agent_name.lower() for a in inv.agents):
            continue
        already = run.plan.steps if run is not None else []
        plan = await make_plan(
            engine,
            inv,
            inv.agent(agent_name),
            first,
            params,
            engine.clock(),
            live=False,
            already=already,
        )
        if len(plan.steps) == len(already):
            continue
        plan.growing = True
        plan.notes.append(FIRST_CUT_NOTE)
        try:
            check_blast_radius(plan)
        except RefusedError:
            if run is None:
                raise  # nothing has run: refused before anything, as a whole plan is
            continue  # the whole plan is over the limit too: the rest is refused there
        if run is None:
            on_first_cut(plan)
            run = await _Growing.open(
                engine, agent_name, params, who, plan, stack, on_event, tuning, wait, landed
            )
        else:
            run.grow(plan)
    return run


FIRST_CUT_NOTE = (
    "first cut: the credential and session steps on the agent's own principals, found by "
    "name and inventory without listing; the rest follows once its closure is read"
)


class _Growing:
    """One incident whose plan grows: first cuts as lookups answer, then the whole plan."""

    def __init__(
        self,
        engine: Engine,
        agent_name: str,
        params: dict[str, Any],
        incident: str,
        plan: Plan,
        journal: jr.Journal,
        executor: Executor,
        follower: Any,
    ) -> None:
        self.engine = engine
        self.agent_name = agent_name
        self.params = params
        self.incident = incident
        self.plan = plan
        self.journal = journal
        self.executor = executor
        self.follower = follower
        self.runs: list[asyncio.Future[list[StepResult]]] = []
        self.whole_read: asyncio.Future[Any] | None = None

    @classmethod
    async def open(
        cls,
        engine: Engine,
        agent_name: str,
        params: dict[str, Any],
        who: Who,
        plan: Plan,
        stack: contextlib.AsyncExitStack,
        on_event: EventFn | None,
        tuning: Tuning | None,
        wait: bool,
        landed: asyncio.Event,
    ) -> _Growing:
        """Open the incident on the first cut's plan (locks, journal), start running it,
        and start reading the whole closure once its first write has landed (or it ended
        without one): the interpreter serves the first cut before anything else."""
        directory, incident, start = incident_start(engine, plan, who)
        await stack.enter_async_context(
            plan_locks(directory, plan, incident, who.os_user, wait=wait)
        )
        journal = stack.enter_context(
            jr.Journal.create(directory, incident, start, clock=engine.clock)
        )
        follower = run_started(engine.settings, directory, incident)
        executor = Executor(
            engine.providers(),
            journal,
            engine.clock,
            tuning=tuning,
            on_event=on_event,
            landed=landed,
        )
        run = cls(engine, agent_name, params, incident, plan, journal, executor, follower)
        stack.push_async_callback(run._stop)
        run.runs.append(asyncio.ensure_future(executor.run(plan.steps)))
        run.whole_read = asyncio.ensure_future(engine.agent_inventory(agent_name, containment=True))
        return run

    def grow(self, plan: Plan) -> None:
        """Journal the grown first cut and run its new steps."""
        done = {s.id for s in self.plan.steps}
        self.journal.append(jr.Kind.PLAN, {"plan_hash": plan.plan_hash, "plan": plan.to_json()})
        self.plan = plan
        fresh = [s for s in plan.steps if s.id not in done]
        self.runs.append(asyncio.ensure_future(self.executor.run(fresh)))

    async def _stop(self) -> None:
        """On the way out (normally or not), nothing of this run is left running."""
        pending = [t for t in [*self.runs, self.whole_read] if t is not None and not t.done()]
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)

    async def finish(
        self,
        playbook: Playbook,
        approve: Callable[[Plan], Approval],
        started: float,
    ) -> Outcome:
        """Make the whole plan, journal it, run the rest, and end the incident."""
        whole, why = await self._whole(playbook)
        first_results = [r for results in await asyncio.gather(*self.runs) for r in results]
        outcome = await _rest(
            self.executor,
            self.journal,
            self.incident,
            self.plan,
            whole,
            why,
            first_results,
            approve,
        )
        outcome.timing = self.executor.timing(started)
        journal_verdict(self.journal, outcome, self.engine.clock())
        journal_end(self.journal, outcome)
        return outcome

    async def _whole(self, playbook: Playbook) -> tuple[Plan | None, str]:
        """The whole plan, keeping every first-cut step; or None and why it could not be made."""
        assert self.whole_read is not None
        try:
            inv = await self.whole_read
            agent = inv.agent(self.agent_name)
            whole = await make_plan(
                self.engine,
                inv,
                agent,
                playbook,
                self.params,
                self.engine.clock(),
                already=self.plan.steps,
            )
        except AgentIRError as exc:
            return None, exc.message
        whole.notes.insert(0, FIRST_CUT_NOTE)
        return whole, ""


async def _whole_read(
    engine: Engine, agent_name: str, landed: asyncio.Event, first_run: asyncio.Future[Any]
) -> Any:
    """The agent's whole closure, read once the first cut's first write has landed or its
    run has ended without one."""
    waiter = asyncio.ensure_future(landed.wait())
    try:
        await asyncio.wait({waiter, first_run}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        waiter.cancel()
    return await engine.agent_inventory(agent_name, containment=True)


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
