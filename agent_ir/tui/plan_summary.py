"""What a plan does, in the few lines a responder reads before anything else (no Textual
here; the plan header and the confirmation both draw it).

The header answers, in order: how many steps in each provider; which steps cannot be
undone (each with its target, since that is what the responder must weigh); how many
have side effects; which principals outside the agent it touches; what the plan is
expected to leave; and the hash that names exactly this plan.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text

from agent_ir.actions.base import PlannedStep, Reversibility
from agent_ir.engine.inventory import Inventory
from agent_ir.engine.planner import Plan
from agent_ir.errors import NotFoundError


@dataclass(frozen=True, slots=True)
class PlanSummary:
    """The counts and names the plan header shows."""

    title: str
    per_provider: tuple[tuple[str, int], ...]
    irreversible: tuple[PlannedStep, ...]
    side_effects: int
    approvals: int
    identities: int
    max_targets: int | None
    collateral: tuple[str, ...]
    expected: str
    plan_hash: str

    @property
    def steps(self) -> int:
        """Every step of the plan."""
        return sum(n for _, n in self.per_provider)


def summarize(plan: Plan, collateral: list[str], restore_of: str | None = None) -> PlanSummary:
    """The header of ``plan``; ``collateral`` as :func:`collateral_principals` found it."""
    kind = f"undo of {restore_of}" if restore_of else plan.playbook
    steps = plan.steps
    expected = "the agent's access comes back" if restore_of else plan.verdict.words
    return PlanSummary(
        title=f"{kind} · agent {plan.agent}",
        per_provider=tuple((p, sum(1 for s in steps if s.provider == p)) for p in plan.providers),
        irreversible=tuple(s for s in steps if s.reversible is Reversibility.NO),
        side_effects=sum(1 for s in steps if s.reversible is Reversibility.SIDE_EFFECTS),
        approvals=sum(1 for s in steps if s.approve),
        identities=len(plan.blast_radius),
        max_targets=plan.max_targets,
        collateral=tuple(collateral),
        expected=expected,
        plan_hash=plan.plan_hash,
    )


def collateral_principals(plan: Plan, inventory: Inventory | None) -> list[str]:
    """The principals the plan touches that are not the agent's own, each saying whose
    they are: cutting a shared role or another agent's identity hurts someone else."""
    if inventory is None:
        return []
    try:
        own = {i.id for i in inventory.agent(plan.agent).identities}
    except NotFoundError:
        own = set()
    owners = {i.id: a.name for a in inventory.agents for i in a.identities}
    found: set[str] = set()
    for step in plan.steps:
        if step.identity in own:
            continue
        identity = inventory.identities.get(step.identity)
        name = f"{identity.provider} {identity.name}" if identity else step.identity
        owner = owners.get(step.identity)
        found.add(f"{name} ({f'agent {owner}' if owner else 'no agent'})")
    return sorted(found)


def summary_text(summary: PlanSummary) -> Text:
    """The header as styled text; every colour is also said in words."""
    text = Text()
    text.append(f"{summary.title} · {summary.steps} steps: ", style="bold")
    text.append(", ".join(f"{p} {n}" for p, n in summary.per_provider) or "none")
    text.append("\n")
    if summary.irreversible:
        text.append(f"IRREVERSIBLE {len(summary.irreversible)}:", style="bold red")
        for step in summary.irreversible:
            text.append(f"\n  {step.provider} {step.action} → {step.target_label}")
    else:
        text.append("irreversible 0: every step can be undone", style="green")
    text.append(f"\nside effects {summary.side_effects} · needs approval {summary.approvals}")
    limit = f" (limit {summary.max_targets})" if summary.max_targets else ""
    text.append(f" · blast radius {summary.identities} identities{limit}\n")
    if summary.collateral:
        text.append(f"collateral {len(summary.collateral)}: ", style="bold yellow")
        text.append(", ".join(summary.collateral) + "\n")
    else:
        text.append("collateral 0: only the agent's own identities\n")
    text.append("expected: ", style="bold")
    text.append(summary.expected + "\n")
    text.append(f"plan {summary.plan_hash}", style="dim")
    return text
