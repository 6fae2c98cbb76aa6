"""Scoring an exercise: each objective judged from the probe and the incident journal."""

from __future__ import annotations

from dataclasses import dataclass

from agent_ir.engine import journal as jr
from agent_ir.engine.inventory import Inventory
from agent_ir.tabletop.model import Exercise, Objective
from agent_ir.tabletop.probe import PathResult, residual


@dataclass(frozen=True, slots=True)
class Journaled:
    """One response's journal: its records and whether its hash chain verifies."""

    incident: str
    records: list[jr.Record]
    ok: bool


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
    journaled: list[Journaled],
    left: list[PathResult],
) -> list[Verdict]:
    """Judge every objective the exercise names over every response's journal."""
    out = []
    for objective in exercise.objectives:
        if objective == "no-residual-access":
            held, detail = _no_residual(left)
        elif objective == "no-benign-agent-touched":
            touched = collateral(agent, inventory, journaled)
            held = not touched
            detail = (
                "steps touched other agents' identities: " + ", ".join(touched)
                if touched
                else "every step targeted the suspect's own identities or its delegations"
            )
        else:
            held, detail = _reasons(journaled)
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


def collateral(agent: str, inventory: Inventory, journaled: list[Journaled]) -> list[str]:
    """The identities of other agents the responses wrote to, each with its agent (a
    suspect whose every identity the response deleted is no longer in the inventory)."""
    suspect = next((a for a in inventory.agents if a.name.lower() == agent.lower()), None)
    own = {i.id for i in suspect.identities} if suspect else set()
    others: dict[str, str] = {}
    for other in inventory.agents:
        if other.name != agent:
            for identity in other.identities:
                if identity.id not in own:
                    others[identity.id] = other.name
    return sorted(
        {
            f"{r.payload.get('target')} ({others[str(r.payload.get('target'))]})"
            for j in journaled
            for r in j.records
            if r.kind == jr.Kind.INTENT and str(r.payload.get("target")) in others
        }
    )


def _reasons(journaled: list[Journaled]) -> tuple[bool, str]:
    if not journaled:
        return False, "no response was run, so nothing was journaled"
    writes, responders = 0, set()
    for j in journaled:
        records = j.records
        if not records or records[0].kind != jr.Kind.START:
            return False, f"the journal of {j.incident} has no incident-start record"
        start = records[0].payload
        who = start.get("who") or {}
        if not str(start.get("why") or "").strip() or not who.get("responder"):
            return False, f"{j.incident} was run without a responder or a reason"
        if not j.ok:
            return False, f"the journal of {j.incident} fails verification"
        writes += sum(1 for r in records if r.kind == jr.Kind.INTENT)
        responders.add(str(who.get("responder")))
    return True, (
        f"{writes} write(s) in {len(journaled)} incident(s) by {', '.join(sorted(responders))}, "
        "each journaled with a reason; hash chains verified"
    )
