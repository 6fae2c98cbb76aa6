"""``revoke --select`` and ``run PLAYBOOK --select``: many agents, one incident.

The expression is parsed before anything is read (exit 2 with the column of the problem);
a selection of more agents than ``--max-agents`` is refused before any prompt (exit 8); the
confirmation names the count and shows the plan's summary; progress goes to stderr as
agents are cut.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from agent_ir.actions.base import PlannedStep
from agent_ir.engine.inventory import Engine
from agent_ir.errors import RefusedError, UsageError
from agent_ir.exit_codes import ExitCode
from agent_ir.textsafe import visible

MASS_CONCURRENCY = 64
"""Steps in flight per provider in a mass run. The pace is set by each provider's rate gate,
which knows its limit from the start: GCP's client buckets (``writes_per_minute``, 600 as
IAM allows), Okta's ``X-Rate-Limit-*`` headers on every answer, Graph's ``Retry-After``;
this only has to be high enough that the gates, not the number of steps waiting, decide."""
MASS_DISCOVERY_DEADLINE_S = 900.0
"""How long one provider's estate read may take in a mass run (``--deadline`` lowers it).
Reading thousands of agents is paced by the providers' rate limits (Okta reads a few
requests per app against a per-minute family limit), so the single-agent default would
report a provider that is merely rate-limited as not answering."""
MASS_STEP_DEADLINE_S = 600.0
"""A mass step's deadline unless ``--step-deadline`` says otherwise: its calls wait their
turn at the provider's rate gate (a minute or more at Okta's per-minute limits), and
waiting for the budget is not a provider failing to answer."""
PROGRESS_EVERY_S = 1.0
SHOWN_AGENTS = 20


def check_target_args(args: argparse.Namespace, agent: str | None) -> None:
    """One agent or a selection, not both, not neither."""
    select = getattr(args, "select", None)
    if select is not None and agent:
        raise UsageError("name one agent or --select many, not both")
    if select is None and not agent:
        raise UsageError("name an agent, or select many with --select EXPR")
    if select is None and getattr(args, "max_agents", None) is not None:
        raise UsageError("--max-agents goes with --select")


def summary_text(plan: Any) -> str:
    """A mass plan in a screenful: agents, steps per provider and phase, shared targets."""
    from agent_ir.actions.catalog import PHASES

    names = plan.agents[:SHOWN_AGENTS]
    more = len(plan.agents) - len(names)
    out = [
        f"Plan {plan.plan_hash} for {len(plan.agents)} agents (playbook {plan.playbook})",
        "Agents: " + ", ".join(names) + (f" and {more} more" if more else ""),
        f"Blast radius: {len(plan.blast_radius)} identities, {len(plan.agents)} agents "
        f"(limit {plan.max_agents} agents)",
        f"Steps: {len(plan.steps)}",
    ]
    counts = Counter((s.provider, s.phase, s.action) for s in plan.steps)
    for (provider, phase, action), n in sorted(counts.items()):
        out.append(f"  {provider:6} {phase}. {PHASES.get(phase, 'other'):24} {action:20} {n}")
    approvals = sum(1 for s in plan.steps if s.approve)
    if approvals:
        out.append(f"  {approvals} steps need approval one by one")
    out += [f"provider {name}: {status}" for name, status in plan.provider_status.items()]
    shared = [n for n in plan.notes if "planned once" in n]
    out += [f"note: {n}" for n in shared]
    others = len(plan.notes) - len(shared)
    if others:
        out.append(f"note: {others} more notes in --output json")
    out.append(f"If every step takes effect: {plan.verdict.words}")
    return "\n".join(out)


def confirm(plan: Any, args: argparse.Namespace) -> Any:
    """Typed confirmation of a mass plan: the responder types the number of agents."""
    if args.yes:
        return lambda _step: True
    if not sys.stdin.isatty():
        raise RefusedError(
            "refusing to change anything without --yes on a non-interactive terminal"
        )
    print(summary_text(plan), file=sys.stderr)
    count = str(len(plan.agents))
    prompt = visible(f"Type the number of agents ({count}) to run this plan on all of them: ")
    if input("\n" + prompt).strip() != count:
        raise RefusedError("confirmation did not match the number of agents; nothing was changed")

    def approve(step: PlannedStep) -> bool:
        reply = input(visible(f"Approve {step.id} ({step.target_label})? [y/N] ")).strip().lower()
        return reply in ("y", "yes")

    return approve


class Progress:
    """Prints ``N/M agents cut`` to stderr at most once a second, and every failure."""

    def __init__(self, plan: Any) -> None:
        from agent_ir.engine.mass import MassProgress

        self.count = MassProgress.of(plan)
        self.steps = len(plan.steps)
        self.last = 0.0

    def __call__(self, event: str, step: PlannedStep, detail: str) -> None:
        if event == "wait":
            print(f"[{step.provider}] {detail}", file=sys.stderr)
        if event != "end":
            return
        if detail == "failed":
            print(f"[{step.provider}] {step.id}: failed ({step.target_label})", file=sys.stderr)
        self.count.ended_step(step)
        now = time.monotonic()
        if now - self.last >= PROGRESS_EVERY_S or self.count.steps_done == self.steps:
            self.last = now
            print(self.count.line(self.steps), file=sys.stderr)


def run_selected(args: argparse.Namespace, playbook_name: str) -> ExitCode:
    """Plan and (unless ``--dry-run``) run one playbook over every selected agent."""
    from agent_ir.cli.planned_run import PlannedRun, run_planned
    from agent_ir.engine.incident import check_plan_free
    from agent_ir.engine.mass import DEFAULT_MAX_AGENTS, check_max_agents, mass_plan
    from agent_ir.engine.select import parse

    selection = parse(args.select, base=Path.cwd())
    max_agents = DEFAULT_MAX_AGENTS if args.max_agents is None else args.max_agents
    check_max_agents(0, max_agents, args.select)

    def prepare(engine: Engine) -> None:
        engine.discovery_deadline_s = max(engine.discovery_deadline_s, MASS_DISCOVERY_DEADLINE_S)

    def tune(tuning: Any, args: argparse.Namespace) -> None:
        if not getattr(args, "step_deadline", None):
            tuning.step_deadline_s = max(tuning.step_deadline_s, MASS_STEP_DEADLINE_S)
        tuning.per_provider_concurrency = max(tuning.per_provider_concurrency, MASS_CONCURRENCY)

    async def make_plan(engine: Engine, playbook: Any, params: dict[str, Any]) -> Any:
        started = time.monotonic()
        read_at = engine.clock()
        inventory = await engine.inventory()
        read = time.monotonic()
        print(
            f"estate read in {read - started:.1f}s "
            f"({len(inventory.identities)} identities, {len(inventory.agents)} agents)",
            file=sys.stderr,
        )
        plan = await mass_plan(
            engine,
            selection,
            playbook,
            params,
            max_agents=max_agents,
            inventory=inventory,
            read_at=read_at,
        )
        print(
            f"planned {len(plan.steps)} steps over {len(plan.agents)} agents in "
            f"{time.monotonic() - read:.1f}s",
            file=sys.stderr,
        )
        return plan

    return run_planned(
        args,
        playbook_name,
        PlannedRun(
            make_plan=make_plan,
            check_free=check_plan_free,
            confirm=confirm,
            on_event=Progress,
            text=summary_text,
            running=lambda plan: f"running {len(plan.steps)} steps over {len(plan.agents)} agents…",
            prepare=prepare,
            tune=tune,
        ),
    )
