"""Incidents: plan → approve → journal → execute → verify, plus resume and restore.

This is the one choke point for writes: blast-radius limits, read-only mode and the
required reason are checked here, before any journal or provider call.
"""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import os
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from agent_ir.actions.base import PlannedStep, Reversibility
from agent_ir.engine import journal as jr
from agent_ir.engine import restore_check as rc
from agent_ir.engine.executor import (
    DEADLINE,
    SUCCESS,
    EventFn,
    Executor,
    Status,
    StepResult,
    Tuning,
)
from agent_ir.engine.inventory import Engine
from agent_ir.engine.locks import AgentBusy, agent_lock, describe, holder
from agent_ir.engine.planner import ANSWERED, FIRST_CUT_ONLY, Plan, make_plan, plan_hash
from agent_ir.engine.planner import unavailable as unavailable_status
from agent_ir.engine.residual import TAKES_EFFECT, Residual
from agent_ir.engine.verdict import Verdict, assess
from agent_ir.errors import AgentIRError, JournalError, NotFoundError, RefusedError
from agent_ir.evidence.hooks import after_run, run_started
from agent_ir.exit_codes import ExitCode
from agent_ir.playbook.model import Playbook


@dataclass(frozen=True, slots=True)
class Who:
    """Who acts, and why: every write carries both."""

    responder: str
    reason: str
    os_user: str = field(default_factory=lambda: _os_user())


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return str(os.getuid())


@dataclass(slots=True)
class Outcome:
    """The end of one incident run (or resume, or restore)."""

    incident: str
    plan: Plan
    results: list[StepResult]
    restore_of: str | None = None
    warnings: list[str] = field(default_factory=list)
    residual: list[Residual] = field(default_factory=list)
    verdict: Verdict | None = None
    timing: dict[str, float | None] = field(default_factory=dict)
    """Seconds from the command's start to the first write that landed (``first_cut_s``),
    the last (``all_cut_s``) and the last result journaled (``verified_s``)."""
    incomplete: str | None = None
    """Why part of the plan was never run (a first cut whose whole plan a safety rule
    refused, such as the playbook's blast radius): the run exits 8, journaled partial."""

    def assess(self, now: datetime) -> None:
        """Residual paths and the verdict, from the plan's paths and what took effect; a
        provider that was not planned or did not answer leaves the verdict open."""
        effective = {r.step.id for r in self.results if r.status.value in TAKES_EFFECT}
        unplanned = sorted(set(self.plan.unplanned) | set(self.unavailable))
        self.residual, self.verdict = assess(
            self.plan.paths, effective, unplanned, now, self.restore_of
        )
        if self.plan.growing:
            self.verdict = Verdict("open", None, (FIRST_CUT_ONLY,))

    def timing_words(self) -> str:
        """``first cut 1.2s, all cut 2.0s, verified 2.4s`` (empty when nothing was timed)."""
        names = (("first_cut_s", "first cut"), ("all_cut_s", "all cut"), ("verified_s", "verified"))
        return ", ".join(
            f"{label} {self.timing[key]:.1f}s"
            for key, label in names
            if self.timing.get(key) is not None
        )

    def counts(self) -> dict[str, int]:
        """How many steps ended in each status."""
        out = {s.value: 0 for s in Status}
        for r in self.results:
            out[r.status.value] += 1
        return out

    @property
    def provider_status(self) -> dict[str, str]:
        """Each provider in scope: "answered", or "unavailable: <reason>" when it did not
        answer discovery, planning, or a step's calls (down, throttled, past a deadline)."""
        status = dict(self.plan.provider_status)
        for r in self.results:
            if r.unavailable and status.get(r.step.provider, ANSWERED) == ANSWERED:
                status[r.step.provider] = unavailable_status(
                    f"execution: {r.error or r.status.value}"
                )
        return status

    @property
    def unavailable(self) -> dict[str, str]:
        """The providers that did not answer, with why: the run cannot be complete."""
        return {p: s for p, s in self.provider_status.items() if s != ANSWERED}

    @property
    def exit_code(self) -> ExitCode:
        """OK only when every provider answered and every step verified/already/skipped;
        PARTIAL or FAILED otherwise."""
        if self.incomplete is not None:
            return ExitCode.REFUSED  # a safety rule stopped the rest of the plan
        statuses = {r.status for r in self.results}
        whole = not self.plan.growing
        if statuses <= SUCCESS and not self.unavailable and whole:
            return ExitCode.OK
        done = statuses & {Status.VERIFIED, Status.ALREADY, Status.APPLIED_UNVERIFIED}
        if Status.FAILED in statuses and not done:
            return ExitCode.FAILED
        return ExitCode.PARTIAL

    def to_json(self) -> dict[str, Any]:
        """The documented JSON shape of a run, revoke or restore."""
        return {
            "incident": self.incident,
            "plan_hash": self.plan.plan_hash,
            "agent": self.plan.agent,
            "playbook": self.plan.playbook,
            "restore_of": self.restore_of,
            "counts": self.counts(),
            "steps": [r.to_json() for r in self.results],
            "warnings": self.warnings,
            "residual": [r.to_json() for r in self.residual],
            "verdict": self.verdict.label if self.verdict else None,
            "status": _end_status(self),
            "providers": self.provider_status,
            "timing": {k: _seconds(v) for k, v in self.timing.items()},
            **({"agents": self.plan.agents} if self.plan.agents else {}),
        }


def _seconds(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def journal_dir(engine: Engine) -> Path:
    """Where this environment's incidents are journaled."""
    if engine.settings.journal_dir is not None:
        return engine.settings.journal_dir
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "agent-ir" / "journal" / engine.settings.name


async def plan_for(
    engine: Engine,
    agent_name: str,
    playbook: Playbook,
    params: dict[str, Any],
    *,
    whole_estate: bool = False,
) -> Plan:
    """Discover what the agent's containment needs (or, with ``whole_estate``, everything),
    then compile ``playbook`` for it (changes nothing)."""
    if whole_estate:
        inv = await engine.inventory()
    else:
        inv = await engine.agent_inventory(agent_name, containment=not uses_findings(playbook))
    agent = inv.agent(agent_name)
    return await make_plan(engine, inv, agent, playbook, params, engine.clock())


def uses_findings(playbook: Playbook) -> bool:
    """Whether a step of ``playbook`` applies only on a finding or a risk level: then its
    plan needs everything findings are made from (credential last-use included)."""
    return any(
        step.when is not None and (step.when.has_finding or step.when.min_risk)
        for step in playbook.steps
    )


def check_agent_free(engine: Engine, agent: str) -> None:
    """Refuse early (before any prompt) when another writer is changing the agent."""
    who = holder(journal_dir(engine), agent)
    if who is not None:
        raise AgentBusy(describe(agent, who) + "; wait for it to finish, or pass --wait", who)


def check_plan_free(engine: Engine, plan: Plan) -> None:
    """Refuse early when another writer is changing any agent of the plan."""
    for agent in lock_order(plan):
        check_agent_free(engine, agent)


def lock_order(plan: Plan) -> list[str]:
    """The agents whose locks a run of ``plan`` holds, in one fixed order (by name, case
    folded) so two mass runs over overlapping selections never wait on each other in a
    circle."""
    return sorted({a.lower(): a for a in plan.agents or [plan.agent]}.values(), key=str.lower)


@contextlib.asynccontextmanager
async def plan_locks(
    directory: Path, plan: Plan, incident: str, user: str, *, wait: bool
) -> AsyncIterator[None]:
    """Hold every agent lock of ``plan`` for the block, taken in :func:`lock_order`."""
    async with contextlib.AsyncExitStack() as stack:
        for agent in lock_order(plan):
            await stack.enter_async_context(agent_lock(directory, agent, incident, user, wait=wait))
        yield


def check_blast_radius(plan: Plan) -> None:
    """Refuse a plan that touches more identities than its playbook allows."""
    radius = len(plan.blast_radius)
    if plan.max_targets is not None and radius > plan.max_targets:
        raise RefusedError(
            f"the plan touches {radius} identities; playbook {plan.playbook} allows at most "
            f"{plan.max_targets} (max_targets). Narrow the playbook or raise its limit."
        )


def check_may_write(engine: Engine, who: Who) -> None:
    """Refuse any write in read-only mode or without a reason."""
    if engine.settings.read_only:
        raise RefusedError("read-only mode: no write path is open")
    if not who.reason.strip():
        raise RefusedError("a reason is required for every write (--reason)")


def incident_start(
    engine: Engine, plan: Plan, who: Who, *, restore_of: str | None = None
) -> tuple[Path, str, dict[str, Any]]:
    """The checks every write passes before anything is journaled or called (read-only
    mode, a reason, the plan's blast radius), then where the incident is journaled, its
    new id and its start record."""
    check_may_write(engine, who)
    check_blast_radius(plan)
    start = jr.incident_start(
        os_user=who.os_user,
        responder=who.responder,
        why=who.reason,
        playbook=plan.playbook,
        agent=plan.agent,
        plan_hash=plan.plan_hash,
        plan=plan.to_json(),
        restore_of=restore_of,
        lab=engine.settings.lab,
    )
    return journal_dir(engine), jr.new_incident_id(engine.clock()), start


async def execute(
    engine: Engine,
    plan: Plan,
    who: Who,
    *,
    approved: Callable[[PlannedStep], bool] = lambda _: True,
    on_event: EventFn | None = None,
    tuning: Tuning | None = None,
    restore_of: str | None = None,
    notes: tuple[str, ...] = (),
    forced: list[str] | None = None,
    wait: bool = False,
    started: float | None = None,
) -> Outcome:
    """Journal and run an approved plan (``notes`` are journaled before any step);
    ``forced`` lists the verification problems of the journal a restore was forced past
    (journaled in the new incident's start). ``started`` (``time.monotonic()``): when
    the command began, for the outcome's timing (default: now)."""
    started = time.monotonic() if started is None else started
    directory, incident, start = incident_start(engine, plan, who, restore_of=restore_of)
    if forced:
        start["forced_past_verification"] = forced
    async with plan_locks(directory, plan, incident, who.os_user, wait=wait):
        with jr.Journal.create(directory, incident, start, clock=engine.clock) as journal:
            for note in notes:
                journal.note(note)
            follower = run_started(engine.settings, directory, incident)
            executor = Executor(
                engine.providers(), journal, engine.clock, tuning=tuning, on_event=on_event
            )
            results = await executor.run(plan.steps, approved=approved)
            outcome = Outcome(incident, plan, results, restore_of)
            outcome.timing = executor.timing(started)
            journal_verdict(journal, outcome, engine.clock())
            journal_end(journal, outcome)
    outcome.warnings += await asyncio.to_thread(
        after_run, engine.settings, directory, incident, engine.clock, follower
    )
    return outcome


def journal_verdict(journal: jr.Journal, outcome: Outcome, now: datetime) -> None:
    """Assess what remains and journal the verdict with its residual paths."""
    outcome.assess(now)
    verdict = outcome.verdict
    if verdict is not None:
        journal.append(
            "verdict",
            {**verdict.to_json(), "residual": [r.to_json() for r in outcome.residual]},
        )


def journal_end(journal: jr.Journal, outcome: Outcome) -> None:
    """Close the incident with its status, counts and which providers answered."""
    journal.end(_end_status(outcome), outcome.counts(), providers=outcome.provider_status)


def _end_status(outcome: Outcome) -> str:
    if outcome.incomplete is not None:
        return "partial"
    return {ExitCode.OK: "complete", ExitCode.PARTIAL: "partial"}.get(outcome.exit_code, "failed")


def load_incident(engine: Engine, incident: str, *, force: bool = False) -> list[jr.Record]:
    """The records of one incident, only when its journal verifies.

    What a crash leaves (a torn last line, a head file one record behind) is not damage:
    resume repairs it. Anything else (a record edited, deleted or cut from the tail) means
    the journal cannot be trusted to undo or finish anything; ``force`` acts on it anyway
    (the caller journals that it did).
    """
    path = jr.incident_path(journal_dir(engine), incident)
    if not path.exists():
        raise NotFoundError(f"no incident {incident} in {path.parent}")
    problems = untrusted(path)
    if problems and not force:
        raise JournalError(
            f"incident {incident} fails verification: "
            + "; ".join(problems)
            + " (--force acts on it anyway, and journals that it did)"
        )
    return jr.Journal.read(path) if not problems else jr.read_unchecked(path)


def untrusted(path: Path) -> list[str]:
    """The problems of a journal beyond what a crash leaves behind."""
    report = jr.verify(path)
    crash = ("torn tail", "(a crash before its update)")
    return [p for p in report.problems if not any(c in p for c in crash)]


def _start(records: list[jr.Record]) -> dict[str, Any]:
    if not records or records[0].kind != jr.Kind.START:
        raise JournalError("the journal does not begin with its incident-start record")
    return records[0].payload


async def resume(
    engine: Engine,
    incident: str,
    *,
    on_event: EventFn | None = None,
    tuning: Tuning | None = None,
    force: bool = False,
    wait: bool = False,
) -> Outcome:
    """Finish a crashed run: steps with a result are not touched again; a step that had
    journaled its intent keeps its prepared values and its first snapshot."""
    if engine.settings.read_only:
        raise RefusedError("read-only mode: no write path is open")
    began = time.monotonic()
    path = jr.incident_path(journal_dir(engine), incident)
    records = load_incident(engine, incident, force=force)
    forced = untrusted(path) if force else []
    start = _start(records)
    plan = Plan.from_json(jr.plan_of(records))
    if any(r.kind == jr.Kind.END for r in records):
        finished_results = _results(records, plan)
        return Outcome(
            incident, plan, finished_results, start.get("restore_of"), ["already complete"]
        )
    finished: dict[str, Status] = {}
    prior: dict[str, dict[str, Any]] = {}
    for record in records:
        step = record.payload.get("step")
        if record.kind == jr.Kind.RESULT and step:
            finished[step] = Status(record.payload["status"])
        elif record.kind == jr.Kind.INTENT and step:
            prior.setdefault(step, {})["intent"] = True
            prior[step]["prepared"] = record.payload.get("prepared") or {}
        elif record.kind == jr.Kind.SNAPSHOT and step:
            prior.setdefault(step, {})["snapshot"] = record.payload.get("data")
    async with plan_locks(journal_dir(engine), plan, incident, _os_user(), wait=wait):
        opened = jr.Journal.open(
            journal_dir(engine), incident, clock=engine.clock, force=bool(forced)
        )
        with opened as journal:
            follower = run_started(engine.settings, journal_dir(engine), incident)
            if forced:
                journal.note("resumed with --force past failed verification: " + "; ".join(forced))
            journal.note(f"resumed; {len(finished)} of {len(plan.steps)} steps had finished")
            grew = ""
            if plan.growing:
                plan, grew = await _complete_growing(engine, plan, journal)
            executor = Executor(
                engine.providers(), journal, engine.clock, tuning=tuning, on_event=on_event
            )
            results = await executor.run(plan.steps, finished=finished, prior=prior)
            outcome = Outcome(incident, plan, results, start.get("restore_of"))
            outcome.timing = executor.timing(began)
            if plan.growing:
                journal.note(grew)
                outcome.warnings.append(grew)
            journal_verdict(journal, outcome, engine.clock())
            journal_end(journal, outcome)
    outcome.warnings += await asyncio.to_thread(
        after_run, engine.settings, journal_dir(engine), incident, engine.clock, follower
    )
    return outcome


async def _complete_growing(engine: Engine, plan: Plan, journal: jr.Journal) -> tuple[Plan, str]:
    """A run that stopped after its first cut, before its whole plan: read the agent's
    closure now and plan the rest as the run would have (keeping every journaled step),
    journaled as its whole plan. When that cannot be done, the first cut alone, and why."""
    from agent_ir.playbook.loader import find_playbook, load_playbook

    try:
        playbook = load_playbook(find_playbook(plan.playbook, []))
        inv = await engine.agent_inventory(plan.agent, containment=True)
        whole = await make_plan(
            engine,
            inv,
            inv.agent(plan.agent),
            playbook,
            plan.params,
            engine.clock(),
            already=plan.steps,
        )
        check_blast_radius(whole)
    except AgentIRError as exc:
        return plan, f"{FIRST_CUT_ONLY}; the rest could not be planned on resume: {exc.message}"
    whole.notes.insert(0, "the run stopped after its first cut; resume planned the rest")
    journal.append(jr.Kind.PLAN, {"plan_hash": whole.plan_hash, "plan": whole.to_json()})
    return whole, ""


def _results(records: list[jr.Record], plan: Plan) -> list[StepResult]:
    status = {r.payload["step"]: r.payload for r in records if r.kind == jr.Kind.RESULT}
    return [
        StepResult(
            s,
            Status(status[s.id]["status"]),
            status[s.id].get("error"),
            unavailable=bool(status[s.id].get("unavailable")),
        )
        for s in plan.steps
        if s.id in status
    ]


def restore_plan(incident: str, records: list[jr.Record]) -> tuple[Plan, list[str]]:
    """The undo plan of an incident: its applied steps in reverse, back to their snapshots.

    Irreversible steps are left out with a warning; so are steps that never changed
    anything (``already``, ``skipped``, ``failed`` before applying).
    """
    start = _start(records)
    if start.get("restore_of"):
        raise RefusedError(
            f"{incident} is itself a restore; restore {start['restore_of']} again instead"
        )
    plan = Plan.from_json(jr.plan_of(records))
    snapshots = {
        r.payload["step"]: r.payload["data"] for r in records if r.kind == jr.Kind.SNAPSHOT
    }
    applied = {
        r.payload["step"]
        for r in records
        if r.kind == jr.Kind.RESULT
        and r.payload["status"] in (Status.VERIFIED.value, Status.APPLIED_UNVERIFIED.value)
    }
    # A step with an intent but no result may have landed before a crash: undo it too.
    results = {r.payload["step"] for r in records if r.kind == jr.Kind.RESULT}
    intents = {r.payload["step"] for r in records if r.kind == jr.Kind.INTENT}
    applied |= intents - results
    # A step cut short by a deadline after its snapshot may have landed after all: undo
    # it too (an undo of what did not land finds the state as it was and ends "already").
    applied |= snapshots.keys() & {
        r.payload["step"]
        for r in records
        if r.kind == jr.Kind.RESULT
        and isinstance(r.payload.get("detail"), list)
        and DEADLINE in r.payload["detail"]
    }
    warnings: list[str] = []
    steps: list[PlannedStep] = []
    for step in reversed(plan.steps):
        if step.id not in applied:
            continue
        if step.reversible is Reversibility.NO:
            warnings.append(f"{step.id} ({step.target_label}) cannot be undone: {step.action}")
            continue
        if step.id not in snapshots:
            warnings.append(f"{step.id}: no snapshot was journaled; it cannot be restored")
            continue
        kept = rc.kept_note(step)
        if kept is not None:
            warnings.append(f"{step.id}: {kept}")
            continue
        warnings.append(rc.revived(step))
        steps.append(
            replace(
                rc.as_reversal(step),
                id=f"undo.{step.id}",
                current=step.predicted,
                predicted=snapshots[step.id],
                undo=True,
                approve=False,
                on_error="continue",
            )
        )
    undo = Plan(
        agent=plan.agent,
        playbook=f"restore {incident}",
        params={},
        steps=steps,
        notes=warnings,
        agents=list(plan.agents),
    )
    undo.plan_hash = plan_hash(undo)
    return undo, warnings


async def restore(
    engine: Engine,
    incident: str,
    who: Who,
    *,
    on_event: EventFn | None = None,
    tuning: Tuning | None = None,
    force: bool = False,
    wait: bool = False,
) -> Outcome:
    """Undo an incident, journaled as a new incident that points at the first; refused
    when it was already restored or a newer incident superseded it, unless ``force``."""
    records = load_incident(engine, incident, force=force)
    overridden = rc.check_restorable(journal_dir(engine), incident, records, force)
    plan, warnings = restore_plan(incident, records)
    forced = untrusted(jr.incident_path(journal_dir(engine), incident)) if force else []
    outcome = await execute(
        engine,
        plan,
        who,
        on_event=on_event,
        tuning=tuning,
        restore_of=incident,
        notes=(overridden,) if overridden else (),
        forced=forced,
        wait=wait,
    )
    outcome.warnings.extend(warnings)
    return outcome
