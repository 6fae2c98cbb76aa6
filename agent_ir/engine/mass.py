"""Mass containment: one plan, one incident, for every agent a selection names.

The estate is read once; each selected agent's playbook is compiled against it in a fixed
order (by name), sharing one record of what is already planned, so a target reachable from
ten agents (a role, a service account) gets one step. Each step's current state is the one
the estate read (the providers' listings, moments before) found: a mass plan does not read
every target a second time, which on a rate-limited provider would spend as many calls as
the containment itself. The rule "read the state live before acting" still holds where it
counts: the executor reads each target right before writing to it, and that read is the
step's snapshot (an already-contained target ends ``already``). ``live_reads=True`` reads
every target while planning instead, as a single-agent plan does. Step ids start with the agent that brought the step in (``agent/step.provider.n``).
The blast radius is counted in agents (``--max-agents``) and refused before any live read
or prompt; the playbook's ``max_targets`` holds per agent.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from agent_ir.actions.base import PlannedStep, ProviderAction
from agent_ir.engine.collateral import name_collateral
from agent_ir.engine.inventory import Engine, Inventory
from agent_ir.engine.planner import (
    Plan,
    _read_live,
    compile_steps,
    plan_hash,
    provider_status,
)
from agent_ir.engine.residual import access_paths
from agent_ir.engine.select import Selection
from agent_ir.errors import NotFoundError, RefusedError, UsageError
from agent_ir.model import Agent, ProviderName
from agent_ir.playbook.model import Playbook

DEFAULT_MAX_AGENTS = 50
"""How many agents one ``--select`` may contain unless ``--max-agents`` raises it."""
MAX_AGENTS_CEILING = 100_000


def check_max_agents(count: int, max_agents: int, text: str) -> None:
    """Refuse (exit 8) a selection of more agents than the limit, before anything else."""
    if not 1 <= max_agents <= MAX_AGENTS_CEILING:
        raise UsageError(f"--max-agents takes a number between 1 and {MAX_AGENTS_CEILING}")
    if count > max_agents:
        raise RefusedError(
            f"--select {text!r} names {count} agents; the limit is {max_agents}. "
            f"Narrow the selection, or raise the limit with --max-agents {count}."
        )


def selected(inv: Inventory, selection: Selection) -> list[Agent]:
    """The agents the selection names (sorted by name); none is an error (exit 4)."""
    agents = selection.select(inv)
    if not agents:
        failed = f" ({', '.join(sorted(inv.errors))} did not answer)" if inv.errors else ""
        raise NotFoundError(
            f"--select {selection.text!r} names no agent of the {len(inv.agents)} known{failed}"
        )
    return agents


def owner_of(step_id: str) -> str:
    """The agent that brought a mass plan's step in (its id's prefix)."""
    return step_id.split("/", 1)[0] if "/" in step_id else ""


async def mass_plan(
    engine: Engine,
    selection: Selection,
    playbook: Playbook,
    params: dict[str, Any],
    *,
    max_agents: int = DEFAULT_MAX_AGENTS,
    inventory: Inventory | None = None,
    read_at: datetime | None = None,
    live_reads: bool = False,
) -> Plan:
    """Compile ``playbook`` for every selected agent into one plan (changes nothing);
    ``read_at`` is when a given ``inventory`` was read (for the plan's note)."""
    if inventory is None or read_at is None:
        read_at = engine.clock()
    inv = inventory if inventory is not None else await engine.inventory()
    agents = selected(inv, selection)
    check_max_agents(len(agents), max_agents, selection.text)
    now = engine.clock()
    adapters = engine.providers()
    acted: set[tuple[str, str, str]] = set()
    notes: list[str] = []
    pending: list[tuple[ProviderAction[Any], Any, PlannedStep]] = []
    before = 0
    for agent in agents:
        own: list[str] = []
        pending += compile_steps(
            adapters, inv, agent, playbook, params, now, own, acted, prefix=f"{agent.name}/"
        )
        shared = sum(1 for n in own if n.endswith("is already in the plan"))
        before += shared
        notes += [f"{agent.name}: {n}" for n in own if not n.endswith("is already in the plan")]
    if before:
        notes.append(f"{before} targets shared by several agents are planned once")
    failed: dict[ProviderName, str] = {}
    if live_reads:
        steps = await _read_live(pending, notes, failed)
    else:
        steps = [step for _, _, step in pending]
        notes.append(
            f"current state of the {len(steps)} steps as the estate read found it "
            f"({_age(read_at, now)}); "
            "each target is read again right before it is changed"
        )
    by_name = {a.name: a for a in agents}
    steps = _collateral(steps, by_name, inv)
    index = {s.id: i for i, s in enumerate(steps)}
    steps.sort(key=lambda s: (s.provider, s.phase, index[s.id]))
    plan = Plan(
        agent=f"{len(agents)} agents ({selection.text})",
        playbook=playbook.name,
        params=params,
        steps=steps,
        notes=notes,
        max_targets=playbook.max_targets * len(agents) if playbook.max_targets else None,
        paths=_paths(agents, inv, steps),
        unplanned=sorted(
            {
                p
                for a in agents
                for p in a.providers
                if p in inv.errors or p not in adapters or p in failed
            }
        ),
        planned_at=now,
        provider_status=provider_status(engine.configured(), inv, failed),
        agents=[a.name for a in agents],
        max_agents=max_agents,
    )
    plan.plan_hash = plan_hash(plan)
    return plan


def _age(read_at: datetime, now: datetime) -> str:
    """How long before planning the estate was read, in words."""
    seconds = max(0.0, (now - read_at).total_seconds())
    return f"read {seconds:.0f}s before planning"


def _collateral(
    steps: list[PlannedStep], agents: dict[str, Agent], inv: Inventory
) -> list[PlannedStep]:
    """Each step's collateral hazard, judged from the agent that brought it in."""
    groups: dict[str, list[PlannedStep]] = {}
    for step in steps:
        groups.setdefault(owner_of(step.id), []).append(step)
    named = {
        s.id: s
        for owner, group in groups.items()
        for s in name_collateral(group, agents[owner], inv.graph)
    }
    return [named[s.id] for s in steps]


def _paths(agents: Iterable[Agent], inv: Inventory, steps: list[PlannedStep]) -> list[Any]:
    """Every selected agent's access paths, each against the steps on its own closure
    (a shared target's one step cuts the path of every agent that reaches it)."""
    by_identity: dict[str, list[PlannedStep]] = {}
    for step in steps:
        by_identity.setdefault(step.identity, []).append(step)
    out: list[Any] = []
    for agent in agents:
        own = [i.id for i in agent.identities]
        closure = set(own) | {t for t, _ in inv.graph.reach(own)}
        mine = [s for ident in sorted(closure) for s in by_identity.get(ident, [])]
        out += access_paths(agent, inv.identities, inv.graph.edges, mine)
    return out


@dataclass(slots=True)
class MassProgress:
    """Counts agents cut as step results come in: an agent is cut when every step it
    brought into the plan has ended (steps of shared targets count for their bringer)."""

    total: dict[str, int]
    ended: dict[str, int] = field(default_factory=dict)
    agents: int = 0
    cut: int = 0
    steps_done: int = 0

    @classmethod
    def of(cls, plan: Plan) -> MassProgress:
        """Progress over ``plan``'s steps and agents."""
        total: dict[str, int] = {}
        for step in plan.steps:
            total[owner_of(step.id)] = total.get(owner_of(step.id), 0) + 1
        progress = cls(total)
        progress.agents = len(plan.agents)
        # Agents whose every target was brought in by another have nothing left to wait for.
        progress.cut = progress.agents - len([a for a in plan.agents if a in total])
        return progress

    def ended_step(self, step: PlannedStep) -> bool:
        """Count one finished step; True when it finished its agent."""
        self.steps_done += 1
        owner = owner_of(step.id)
        self.ended[owner] = self.ended.get(owner, 0) + 1
        if self.ended[owner] == self.total.get(owner, -1):
            self.cut += 1
            return True
        return False

    def line(self, steps: int) -> str:
        """``N/M agents cut (s/S steps)``."""
        return f"{self.cut}/{self.agents} agents cut ({self.steps_done}/{steps} steps)"
