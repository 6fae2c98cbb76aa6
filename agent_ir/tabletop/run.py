"""The headless exercise: start the exercise's lab, play the injects on a virtual clock, run
a playbook against the agent at the response time, probe before and after, and score.

The clock is virtual: nothing waits for an inject's time to come. Injects up to the
response time are applied in order, the playbook runs at the response time (its own real
duration is added to the clock), and later injects follow. The probe runs at the start,
after every change inject and after the response; when paths still work right after the
response and the lab delays enforcing policy writes (GCP's IAM propagation), it probes
once more after that delay.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from agent_ir.actions.base import Reversibility
from agent_ir.activity.findings import after_containment
from agent_ir.activity.model import ActivityEvent, ActivityWindow
from agent_ir.activity.timeline import build_timeline
from agent_ir.engine import journal as jr
from agent_ir.engine.executor import Tuning
from agent_ir.engine.incident import Who, execute, journal_dir, load_incident, plan_for
from agent_ir.engine.inventory import Engine, Inventory
from agent_ir.engine.planner import Plan
from agent_ir.errors import AgentIRError
from agent_ir.lab.runner import Lab
from agent_ir.lab.world import load_world
from agent_ir.model import Finding
from agent_ir.playbook.model import Playbook
from agent_ir.tabletop.inject import ChangeRefused, apply_change
from agent_ir.tabletop.loader import LoadedExercise
from agent_ir.tabletop.model import AlertInject, Inject, NewConsent, SpawnSubAgent
from agent_ir.tabletop.probe import PathResult, Probe, residual
from agent_ir.tabletop.score import (
    Journaled,
    Verdict,
    collateral,
    score,
    time_to_contain,
    verdicts,
)

_RANK = {"alert": 0, "change": 1, "response": 2, "probe": 4}
"""Within one instant: what happened, then the response, then what the probe saw."""

SAME_SECOND_S = 1.0
"""A session issued in the same second as a revocation cut-off survives it (AWS compares
whole seconds), so the response starts at least this long after the last probe."""


@dataclass(frozen=True, slots=True)
class Event:
    """One line of the exercise timeline (``t`` in seconds from the start)."""

    t: float
    kind: str
    text: str

    def to_json(self) -> dict[str, Any]:
        """The documented JSON shape of a timeline event."""
        return {"t": round(self.t, 3), "kind": self.kind, "text": self.text}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Event:
        """The inverse of :meth:`to_json` (raises ``KeyError``/``TypeError`` on bad data)."""
        return cls(float(data["t"]), str(data["kind"]), str(data["text"]))


@dataclass(frozen=True, slots=True)
class ProbeRun:
    """The probe's results at one moment."""

    t: float
    label: str
    results: list[PathResult]


@dataclass(frozen=True, slots=True)
class Response:
    """One response run during the exercise: a playbook, or the undo of an incident."""

    t: float
    incident: str
    responder: str
    playbook: str
    restore_of: str | None = None
    irreversible: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The documented JSON shape of a response."""
        return {
            "t": round(self.t, 3),
            "incident": self.incident,
            "responder": self.responder,
            "playbook": self.playbook,
            "restore_of": self.restore_of,
            "irreversible_steps": list(self.irreversible),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Response:
        """The inverse of :meth:`to_json` (raises ``KeyError``/``TypeError`` on bad data)."""
        restore_of = data.get("restore_of")
        return cls(
            float(data["t"]),
            str(data["incident"]),
            str(data["responder"]),
            str(data["playbook"]),
            None if restore_of is None else str(restore_of),
            tuple(str(s) for s in data.get("irreversible_steps", [])),
        )


@dataclass(slots=True)
class TabletopResult:
    """Everything a headless exercise produced."""

    exercise: LoadedExercise
    agent: str
    respond_at: float
    timeline: list[Event] = field(default_factory=list)
    probes: list[ProbeRun] = field(default_factory=list)
    responses: list[Response] = field(default_factory=list)
    verdicts: list[Verdict] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    collateral: list[str] = field(default_factory=list)
    attempts: list[ActivityEvent] = field(default_factory=list)
    """The attacker's calls after the containment, from the providers' audit logs."""
    attempts_notes: list[str] = field(default_factory=list)
    """Providers whose audit log could not be read (the list above is then partial)."""

    @property
    def containment(self) -> Response | None:
        """The latest response that was not an undo (the one the score is about)."""
        contained = [r for r in self.responses if r.restore_of is None]
        return contained[-1] if contained else None

    @property
    def irreversible(self) -> list[str]:
        """The steps used that cannot be undone, over every response."""
        return [s for r in self.responses for s in r.irreversible]

    @property
    def score(self) -> int:
        """0 to 100: the weighted share of objectives held."""
        return score(self.exercise.exercise, self.verdicts)

    @property
    def passed(self) -> bool:
        """Whether every objective holds."""
        return all(v.held for v in self.verdicts)

    @property
    def residual(self) -> list[PathResult]:
        """The paths that still work at the end."""
        return residual(self.probes[-1].results) if self.probes else []

    @property
    def time_to_contain(self) -> float | None:
        """Seconds from the first alert to the first probe after which no path works."""
        return time_to_contain(self.exercise.exercise, [(p.t, p.results) for p in self.probes])


async def run_exercise(
    loaded: LoadedExercise,
    playbook: Playbook,
    params: dict[str, Any],
    agent: str,
    who: Who,
    *,
    at: float | None = None,
    journal: Path | None = None,
    tuning: Tuning | None = None,
) -> TabletopResult:
    """Play one exercise headless against ``agent`` with ``playbook``; see the module doc."""
    exercise = loaded.exercise
    loaded.suspect(agent)
    respond_at = exercise.respond_at if at is None else at
    result = TabletopResult(loaded, agent, respond_at)
    with (
        tempfile.TemporaryDirectory(prefix="agent-ir-tabletop-") as work,
        Lab(load_world(loaded.world_path)) as lab,
    ):
        settings = lab.settings
        if journal is not None:
            settings = settings.model_copy(update={"journal_dir": journal})
        engine = Engine(settings)
        try:
            await _play(engine, lab, Path(work), playbook, params, who, tuning, result)
        finally:
            await engine.aclose()
    return result


async def _play(
    engine: Engine,
    lab: Lab,
    work: Path,
    playbook: Playbook,
    params: dict[str, Any],
    who: Who,
    tuning: Tuning | None,
    result: TabletopResult,
) -> None:
    began = datetime.now(UTC)
    inventory = await engine.inventory()
    agent = inventory.agent(result.agent)
    result.findings = list(agent.findings)
    probe = Probe(lab, work)
    probe.arm(inventory, result.agent)
    last_probe = _probe(probe, result, 0.0, "start")
    injects = result.exercise.exercise.injects
    before = [i for i in injects if i.at <= result.respond_at]
    after = [i for i in injects if i.at > result.respond_at]
    for inject in before:
        event = apply_inject(lab, inventory, probe, inject)
        result.timeline.append(event)
        if event.kind == "change":
            last_probe = _probe(probe, result, inject.at, f"after the change at {inject.at:g}s")
    pause = SAME_SECOND_S - (time.monotonic() - last_probe)
    if pause > 0:
        time.sleep(pause)
    started = time.monotonic()
    plan = await plan_for(engine, result.agent, playbook, params)
    result.timeline.append(
        Event(result.respond_at, "response", f"playbook {plan.playbook} starts ({who.responder})")
    )
    outcome = await execute(engine, plan, who, tuning=tuning)
    result.responses.append(
        Response(
            result.respond_at,
            outcome.incident,
            who.responder,
            plan.playbook,
            irreversible=tuple(irreversible_steps(plan)),
        )
    )
    elapsed = time.monotonic() - started
    result.timeline += journal_events(engine, outcome.incident, result.respond_at)
    end = result.respond_at + elapsed
    _probe(probe, result, end, "after the response")
    settle = lab.settle_s
    if result.residual and settle > 0:
        # a policy write is enforced only after the provider's propagation delay
        time.sleep(settle)
        end += settle
        _probe(probe, result, end, f"after {settle:g}s of IAM propagation")
    for inject in after:
        event = apply_inject(lab, inventory, probe, inject)
        result.timeline.append(event)
        if event.kind == "change":
            _probe(probe, result, max(inject.at, end), f"after the change at {inject.at:g}s")
    await attempts_after_containment(engine, result, began)
    await judge(engine, result)
    sort_timeline(result)


async def attempts_after_containment(
    engine: Engine, result: TabletopResult, began: datetime
) -> None:
    """Read the agent's activity over the exercise and keep what followed the containment
    (the probe's calls with the credentials the attacker held are among them)."""
    window = ActivityWindow(
        began - timedelta(minutes=1), datetime.now(UTC) + timedelta(minutes=1), 10_000
    )
    try:
        timeline = await build_timeline(engine, result.agent, window)
    except AgentIRError as exc:
        result.attempts_notes.append(f"the activity could not be read: {exc.message}")
        return
    result.attempts_notes += [
        f"{s.provider}: {s.reason}"
        for s in timeline.statuses
        if s.state in ("unavailable", "unsupported")
    ]
    if timeline.containment is not None:
        result.attempts = after_containment(timeline.events, timeline.containment)


def irreversible_steps(plan: Plan) -> list[str]:
    """The plan's steps that cannot be undone, one line each."""
    return [
        f"{s.id}: {s.action} on {s.target_label}"
        for s in plan.steps
        if s.reversible is Reversibility.NO or any("IRREVERSIBLE" in h for h in s.hazards)
    ]


async def judge(engine: Engine, result: TabletopResult) -> None:
    """Judge every objective from the journals of the exercise's responses (none: nothing
    was run), the inventory as it is now and the last probe's residual paths; sets the
    result's verdicts and collateral damage."""
    journaled = []
    for response in result.responses:
        records = load_incident(engine, response.incident)
        ok = jr.verify(jr.incident_path(journal_dir(engine), response.incident)).ok
        journaled.append(Journaled(response.incident, records, ok))
    final = await engine.inventory()
    exercise = result.exercise.exercise
    result.verdicts = verdicts(exercise, result.agent, final, journaled, result.residual)
    result.collateral = collateral(result.agent, final, journaled)


def sort_timeline(result: TabletopResult) -> None:
    """Order the timeline by time; within one instant, what happened comes first."""
    result.timeline.sort(key=lambda e: (e.t, _RANK.get(e.kind, 3)))


def _probe(probe: Probe, result: TabletopResult, t: float, label: str) -> float:
    results = probe.check()
    result.probes.append(ProbeRun(t, label, results))
    still = residual(results)
    text = f"probe {label}: {len(still)} of {len(results)} paths work"
    result.timeline.append(Event(t, "probe", text))
    return time.monotonic()


def apply_inject(lab: Lab, inventory: Inventory, probe: Probe, inject: Inject) -> Event:
    """Apply one inject (a change is made to the lab and any credential it creates handed
    to the probe); the timeline event it makes, of kind ``alert`` or ``change``."""
    if isinstance(inject, AlertInject):
        return Event(inject.at, "alert", inject.text)
    what = inject.text or inject.change
    if isinstance(inject, NewConsent) and inject.app in probe.never_made:
        text = f"refused: {what} ({inject.app} was never created)"
        return Event(inject.at, "change", text)
    try:
        return Event(inject.at, "change", apply_change(lab, inventory, probe, inject))
    except ChangeRefused as exc:
        if isinstance(inject, SpawnSubAgent):
            probe.never_made.add(inject.name)
        return Event(inject.at, "change", f"refused: {what} ({exc.message})")


def journal_events(engine: Engine, incident: str, offset: float) -> list[Event]:
    """The incident's journal as timeline events, its start placed at ``offset``."""
    records = load_incident(engine, incident)
    if not records:
        return []
    start = _ts(records[0].ts)
    events = []
    for record in records:
        t = offset + (_ts(record.ts) - start).total_seconds()
        payload = record.payload
        if record.kind == jr.Kind.INTENT:
            text = f"{payload.get('step')}: {payload.get('action')} on {payload.get('target')}"
        elif record.kind == jr.Kind.RESULT:
            text = f"{payload.get('step')}: {payload.get('status')}"
        elif record.kind == jr.Kind.START:
            who = payload.get("who") or {}
            text = f"incident {incident} by {who.get('responder')}: {payload.get('why')}"
        else:
            continue
        events.append(Event(t, f"journal {record.kind}", text))
    return events


def _ts(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
