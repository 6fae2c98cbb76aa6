"""Scoring an exercise: each objective judged from the probe and the incident journal."""

from __future__ import annotations

from dataclasses import dataclass

from agent_ir.engine import journal as jr
from agent_ir.engine.inventory import Inventory
from agent_ir.tabletop.model import Exercise, Objective
from agent_ir.tabletop.probe import PathResult, residual


@dataclass(frozen=True, slots=True)
class Verdict:
    """Whether one objective holds, and why."""

    objective: Objective
    held: bool
    weight: int
    detail: str

    def to_json(self) -> dict[str, object]:
        """The documented JSON shape of a verdict."""
        return {
            "objective": self.objective,
            "held": self.held,
            "weight": self.weight,
            "detail": self.detail,
        }


def verdicts(
    exercise: Exercise,
    agent: str,
    inventory: Inventory,
    records: list[jr.Record],
    journal_ok: bool,
    left: list[PathResult],
) -> list[Verdict]:
    """Judge every objective the exercise names."""
    out = []
    for objective in exercise.objectives:
        if objective == "no-residual-access":
            held, detail = _no_residual(left)
        elif objective == "no-benign-agent-touched":
            held, detail = _no_benign(agent, inventory, records)
        else:
            held, detail = _reasons(records, journal_ok)
        out.append(Verdict(objective, held, exercise.weight(objective), detail))
    return out


def score(exercise: Exercise, judged: list[Verdict]) -> int:
    """0 to 100: the weighted share of objectives that hold."""
    total = sum(v.weight for v in judged)
    if total <= 0:
        return 0
    return round(100 * sum(v.weight for v in judged if v.held) / total)


def time_to_contain(
    exercise: Exercise, probes: list[tuple[float, list[PathResult]]]
) -> float | None:
    """From the first alert (or the start) to the first probe after which no path works."""
    alerts = [i.at for i in exercise.injects if i.kind == "alert"]
    first_alert = min(alerts, default=0.0)
    contained: float | None = None
    for t, results in probes:
        if residual(results):
            contained = None
        elif contained is None:
            contained = t
    return None if contained is None else max(0.0, contained - first_alert)


def _no_residual(left: list[PathResult]) -> tuple[bool, str]:
    if not left:
        return True, "no path the attacker holds still works"
    return False, f"{len(left)} path(s) still work: " + "; ".join(r.path for r in left)


def _no_benign(agent: str, inventory: Inventory, records: list[jr.Record]) -> tuple[bool, str]:
    own = {i.id for i in inventory.agent(agent).identities}
    others: dict[str, str] = {}
    for other in inventory.agents:
        if other.name != agent:
            for identity in other.identities:
                if identity.id not in own:
                    others[identity.id] = other.name
    touched = sorted(
        {
            f"{r.payload.get('target')} ({others[str(r.payload.get('target'))]})"
            for r in records
            if r.kind == jr.Kind.INTENT and str(r.payload.get("target")) in others
        }
    )
    if touched:
        return False, "steps touched other agents' identities: " + ", ".join(touched)
    return True, "every step targeted the suspect's own identities or its delegations"


def _reasons(records: list[jr.Record], journal_ok: bool) -> tuple[bool, str]:
    if not records or records[0].kind != jr.Kind.START:
        return False, "the journal has no incident-start record"
    start = records[0].payload
    who = start.get("who") or {}
    writes = sum(1 for r in records if r.kind == jr.Kind.INTENT)
    if not str(start.get("why") or "").strip() or not who.get("responder"):
        return False, "the incident was run without a responder or a reason"
    if not journal_ok:
        return False, "the journal fails verification"
    return True, f"{writes} write(s) journaled under one reason, hash chain verified"
