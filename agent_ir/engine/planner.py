"""The planner: one playbook + one agent's graph → an ordered, provider-grouped plan.

Nothing changes while planning: implementations propose steps from the inventory, and the
current state of every target is read live. The plan hash covers everything the responder
approves (targets, live state, predictions, operations), so a plan that drifted between
approval and execution is noticed.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from agent_ir.actions.base import PlanContext, PlannedStep, ProviderAction
from agent_ir.actions.catalog import CATALOG
from agent_ir.engine.collateral import name_collateral
from agent_ir.engine.inventory import Engine, Inventory
from agent_ir.engine.residual import AccessPath, Residual, access_paths, residual
from agent_ir.engine.verdict import Verdict, verdict
from agent_ir.errors import AgentIRError, NotFoundError, ProviderError, unexpected
from agent_ir.model import Agent, Identity, ProviderName, iso
from agent_ir.playbook.loader import step_params
from agent_ir.playbook.model import Condition, Playbook, Step
from agent_ir.providers import registry

ANSWERED = "answered"
FIRST_CUT_ONLY = (
    "only the first cut was planned: the rest of the agent's closure was never read "
    "(revoke it again to contain the rest)"
)


def unavailable(reason: str) -> str:
    """The status of a provider that did not answer, with its reason."""
    return f"unavailable: {reason}"


@dataclass(slots=True)
class Plan:
    """An approved-before-run list of provider calls for one agent."""

    agent: str
    playbook: str
    params: dict[str, Any]
    steps: list[PlannedStep]
    notes: list[str] = field(default_factory=list)
    max_targets: int | None = None
    plan_hash: str = ""
    paths: list[AccessPath] = field(default_factory=list)
    """Every path by which the agent can act, with the steps that cut it."""
    unplanned: list[str] = field(default_factory=list)
    """Providers the agent spans that this plan could not cover."""
    planned_at: datetime | None = None
    provider_status: dict[str, str] = field(default_factory=dict)
    """Every configured provider: "answered", or "unavailable: <reason>" when it did not
    answer discovery or planning (then the plan cannot be complete there)."""
    agents: list[str] = field(default_factory=list)
    """A mass plan's selected agents, sorted (empty: the plan is for ``agent`` alone)."""
    max_agents: int | None = None
    """A mass plan's blast-radius limit in agents (``--max-agents``)."""
    growing: bool = False
    """A first cut: the credential steps on the agent's certain own principals, planned
    before the rest of its closure was read. Until the whole plan replaces it, nothing
    can be said of what else the agent can do: its verdict is open."""

    @property
    def unavailable(self) -> dict[str, str]:
        """The providers that did not answer, with why."""
        return {p: s for p, s in self.provider_status.items() if s != ANSWERED}

    @property
    def residual(self) -> list[Residual]:
        """The paths no step of the plan cuts, as if every step takes effect."""
        cut_at = self.planned_at or datetime.now().astimezone()
        return residual(self.paths, {s.id for s in self.steps}, cut_at)

    @property
    def verdict(self) -> Verdict:
        """What the plan would leave, if every step takes effect; a provider that did not
        answer leaves it open, and so does a first cut (the rest was not read)."""
        if self.growing:
            return Verdict("open", None, (FIRST_CUT_ONLY,))
        return verdict(self.residual, sorted(set(self.unplanned) | set(self.unavailable)))

    @property
    def blast_radius(self) -> list[str]:
        """The distinct identities the plan touches."""
        return sorted({s.identity for s in self.steps})

    @property
    def providers(self) -> list[ProviderName]:
        """Providers with at least one step, in canonical order."""
        present = {s.provider for s in self.steps}
        return sorted(present)

    def to_json(self) -> dict[str, Any]:
        """The documented JSON shape of a plan."""
        return {
            "plan_hash": self.plan_hash,
            "agent": self.agent,
            "playbook": self.playbook,
            "params": self.params,
            "blast_radius": {"identities": self.blast_radius, "max_targets": self.max_targets},
            "steps": [s.to_json() for s in self.steps],
            "notes": self.notes,
            "residual": [r.to_json() for r in self.residual],
            "verdict": self.verdict.label,
            "unplanned": self.unplanned,
            "planned_at": iso(self.planned_at),
            "access_paths": [p.to_json() for p in self.paths],
            "providers": self.provider_status,
            **({"agents": self.agents, "max_agents": self.max_agents} if self.agents else {}),
            **({"growing": True} if self.growing else {}),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Plan:
        """Rebuild a plan from its JSON (as journaled)."""
        return cls(
            agent=data["agent"],
            playbook=data["playbook"],
            params=data.get("params", {}),
            steps=[PlannedStep.from_json(s) for s in data["steps"]],
            notes=list(data.get("notes", [])),
            max_targets=data.get("blast_radius", {}).get("max_targets"),
            plan_hash=data["plan_hash"],
            paths=[AccessPath.from_json(p) for p in data.get("access_paths", [])],
            unplanned=list(data.get("unplanned", [])),
            planned_at=_moment(data.get("planned_at")),
            provider_status=dict(data.get("providers") or {}),
            agents=list(data.get("agents") or []),
            max_agents=data.get("max_agents"),
            growing=bool(data.get("growing")),
        )


def _moment(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None


def plan_hash(plan: Plan) -> str:
    """A stable hash of what the plan would do."""
    body = {
        "agent": plan.agent,
        "playbook": plan.playbook,
        "params": plan.params,
        "steps": [
            {k: v for k, v in s.to_json().items() if k not in ("target_label",)} for s in plan.steps
        ],
    }
    if plan.agents:
        body["agents"] = plan.agents
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()[:32]


def condition_holds(
    cond: Condition | None, agent: Agent, params: dict[str, Any]
) -> tuple[bool, str]:
    """Whether a step's ``when`` holds for the agent, and a reason when it does not."""
    if cond is None:
        return True, ""
    codes = {f.code for f in agent.findings}
    if cond.has_finding and not codes.intersection(cond.has_finding):
        return False, f"the agent has no finding {' or '.join(cond.has_finding)}"
    if cond.min_risk and (agent.risk is None or agent.risk.rank < cond.min_risk.rank):
        return False, f"the agent's risk is below {cond.min_risk.value}"
    if cond.has_provider and cond.has_provider not in agent.providers:
        return False, f"the agent has no {cond.has_provider} identity"
    if cond.has_identity_kind and not any(
        i.kind == cond.has_identity_kind for i in agent.identities
    ):
        return False, f"the agent has no {cond.has_identity_kind}"
    if cond.param and cond.equals is not None:
        if str(params.get(cond.param)) != cond.equals:
            return False, f"parameter {cond.param} is not {cond.equals}"
    elif cond.param and not params.get(cond.param):
        return False, f"parameter {cond.param} is false"
    if cond.not_param and params.get(cond.not_param):
        return False, f"parameter {cond.not_param} is true"
    return True, ""


def scope_targets(
    step: Step, agent: Agent, inv: Inventory, provider: ProviderName
) -> list[Identity]:
    """The identities a step acts on in one provider: the agent's own, or also all it reaches."""
    scope = step.scope or CATALOG[step.action].default_scope
    own = [i for i in agent.identities if i.provider == provider]
    if scope == "own":
        return own
    seen = {i.id for i in own}
    reached = []
    for target, _ in inv.graph.reach(i.id for i in agent.identities):
        ident = inv.identities.get(target)
        if ident is not None and ident.provider == provider and ident.id not in seen:
            reached.append(ident)
            seen.add(ident.id)
    return own + reached


async def make_plan(
    engine: Engine,
    inv: Inventory,
    agent: Agent,
    playbook: Playbook,
    params: dict[str, Any],
    now: datetime,
    *,
    live: bool = True,
    already: Sequence[PlannedStep] = (),
) -> Plan:
    """Compile ``playbook`` for ``agent``; reads live state, changes nothing.

    ``already``: steps a first cut planned (and may be running): they stay in the plan as
    they are, and the playbook adds only what they do not already do. Without ``live``
    the targets are not read here (the executor reads each right before changing it):
    a first cut writes one round sooner.
    """
    adapters = engine.providers()
    notes: list[str] = []
    acted = {(s.provider, s.action, s.target) for s in already}
    pending = compile_steps(adapters, inv, agent, playbook, params, now, notes, acted)
    failed: dict[ProviderName, str] = {}
    if live:
        fresh = await _read_live(pending, notes, failed)
    else:
        fresh = [step for _, _, step in pending]
    fresh = _unique_ids(fresh, {s.id for s in already})
    steps = [*already, *name_collateral(fresh, agent, inv.graph)]
    index = {s.id: i for i, s in enumerate(steps)}
    steps.sort(key=lambda s: (s.provider, s.phase, index[s.id]))
    plan = Plan(
        agent=agent.name,
        playbook=playbook.name,
        params=params,
        steps=steps,
        notes=notes,
        max_targets=playbook.max_targets,
        paths=access_paths(agent, inv.identities, inv.graph.edges, steps),
        unplanned=[
            p for p in agent.providers if p in inv.errors or p not in adapters or p in failed
        ],
        planned_at=now,
        provider_status=provider_status(engine.configured(), inv, failed),
    )
    plan.plan_hash = plan_hash(plan)
    return plan


def _unique_ids(steps: list[PlannedStep], taken: set[str]) -> list[PlannedStep]:
    """``steps`` with any id a first cut already used renumbered (``step.provider.N``
    counts on past the first cut's)."""
    from dataclasses import replace

    used = set(taken)
    out = []
    for step in steps:
        new_id = step.id
        if new_id in used:
            base, _, _ = new_id.rpartition(".")
            n = 1
            while f"{base}.{n}" in used:
                n += 1
            new_id = f"{base}.{n}"
        used.add(new_id)
        out.append(step if new_id == step.id else replace(step, id=new_id))
    return out


def _principal_names(inv: Inventory) -> set[str]:
    """Every way the inventory names a principal (id, name, alias, graph node, label),
    lower-cased; a ``human:`` node is also known by its bare address."""
    names: set[str] = set()
    for identity in inv.identities.values():
        names.update(n.lower() for n in (identity.id, identity.name, *identity.aliases))
    for edge in inv.graph.edges:
        for node in (edge.source, edge.target):
            names.update((node.lower(), node.lower().removeprefix("human:")))
    names.update(label.lower() for label in inv.graph.labels.values())
    return names


def _check_principals(step_id: str, action_params: Any, inv: Inventory) -> None:
    """A delegation link names two principals; one the inventory does not know is a
    mistake to report (exit 4), never a plan with no steps and an empty incident."""
    known = _principal_names(inv)
    for key, field_name in (("from", "source"), ("to", "target")):
        ref = str(getattr(action_params, field_name, "")).strip()
        if ref and ref.lower() not in known:
            raise NotFoundError(
                f"step {step_id}: {key} {ref!r} names no principal the agent's inventory "
                "knows (an id, a name, an alias or a human's address)"
            )


def compile_steps(
    adapters: dict[ProviderName, Any],
    inv: Inventory,
    agent: Agent,
    playbook: Playbook,
    params: dict[str, Any],
    now: datetime,
    notes: list[str],
    acted: set[tuple[str, str, str]],
    prefix: str = "",
) -> list[tuple[ProviderAction[Any], Any, PlannedStep]]:
    """The steps ``playbook`` proposes for ``agent`` (no I/O), each with its implementation
    and adapter; a target already in ``acted`` with the same action is left out with a
    note (shared across agents, a role reachable from ten agents gets one step). Step ids
    start with ``prefix`` (a mass plan names the agent there)."""
    pending: list[tuple[ProviderAction[Any], Any, PlannedStep]] = []
    for step in playbook.steps:
        holds, why = condition_holds(step.when, agent, params)
        if not holds:
            notes.append(f"step {step.id} skipped: {why}")
            continue
        action_params = step_params(step, params)
        spec = CATALOG[step.action]
        if step.action == "remove-delegation" and not inv.errors:
            _check_principals(step.id, action_params, inv)
        for provider in step.providers or sorted(adapters):
            adapter = adapters.get(provider)
            if adapter is None:
                if step.providers:
                    notes.append(f"step {step.id}: {provider} is not configured")
                continue
            if provider in inv.errors:
                notes.append(f"step {step.id}: {provider} did not answer discovery; no steps")
                continue
            impl_cls = registry.plugin(provider).actions().get(step.action)
            if impl_cls is None:
                if any(i.provider == provider for i in agent.identities):
                    notes.append(f"step {step.id}: {provider} has no '{step.action}' action")
                continue
            impl = impl_cls()
            ctx = PlanContext(
                agent=agent,
                inventory=inv,
                targets=scope_targets(step, agent, inv, provider),
                params=action_params,
                now=now,
                facts=adapter.plan_facts(),
            )
            drafts = _not_yet_planned(impl.plan(ctx), provider, step, acted, notes)
            notes.extend(f"step {step.id}: {n}" for n in ctx.notes)
            for n, draft in enumerate(drafts, start=1):
                planned = PlannedStep(
                    id=f"{prefix}{step.id}.{provider}.{n}",
                    step=step.id,
                    provider=provider,
                    action=step.action,
                    target=draft.target,
                    target_label=draft.target_label,
                    identity=draft.identity,
                    current=draft.current,
                    predicted=draft.predicted,
                    reversible=draft.reversible or impl.reversible,
                    hazards=impl.hazards + draft.hazards,
                    permissions=impl.permissions,
                    operation=draft.operation,
                    phase=spec.phase,
                    on_error=step.on_error,
                    approve=step.approve,
                )
                pending.append((impl, adapter, planned))
    return pending


def _not_yet_planned(
    drafts: list[Any], provider: str, step: Step, acted: set[tuple[str, str, str]], notes: list[str]
) -> list[Any]:
    """Drafts whose target an earlier step already acts on with the same action are left
    out (a ``scope: reachable`` step repeating an ``own`` one), each with a note."""
    kept = []
    for draft in drafts:
        key = (provider, step.action, draft.target)
        if key in acted:
            notes.append(f"step {step.id}: {draft.target_label} is already in the plan")
            continue
        acted.add(key)
        kept.append(draft)
    return kept


def provider_status(
    configured: list[ProviderName], inv: Inventory, planning: dict[ProviderName, str]
) -> dict[str, str]:
    """Each configured provider's part in a plan: it answered, or why it did not.

    A provider that failed discovery may hold identities of the agent no one has seen, and
    one whose live state could not be read was not planned on facts: neither is contained.
    """
    out: dict[str, str] = {}
    for name in configured:
        if name in inv.errors:
            out[name] = unavailable(f"discovery: {inv.errors[name].message}")
        elif name in planning:
            out[name] = unavailable(f"planning: {planning[name]}")
        else:
            out[name] = ANSWERED
    return out


async def _read_live(
    pending: list[tuple[ProviderAction[Any], Any, PlannedStep]],
    notes: list[str],
    failed: dict[ProviderName, str],
) -> list[PlannedStep]:
    """Read every step's target live; a provider whose reads fail is recorded in ``failed``."""

    async def one(impl: ProviderAction[Any], adapter: Any, step: PlannedStep) -> PlannedStep:
        from dataclasses import replace

        try:
            current = await impl.read(adapter, step)
        except (ProviderError, AgentIRError) as exc:
            notes.append(f"{step.id}: live state unreadable ({exc.message}); showing discovery's")
            failed.setdefault(step.provider, exc.message)
            return step
        except Exception as exc:  # noqa: BLE001 - a defect must not hide the others
            failed.setdefault(step.provider, unexpected(step.provider, exc).message)
            return step
        return replace(step, current=current)

    return list(await asyncio.gather(*(one(*p) for p in pending)))
