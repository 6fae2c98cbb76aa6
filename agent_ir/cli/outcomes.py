"""How plans and run outcomes are printed, and the exit code each one earns: shared by the
single-agent commands and the mass ones."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from agent_ir.actions.base import PlannedStep
from agent_ir.cli.common import emit_json, wants_json
from agent_ir.cli.completion import remember_incidents
from agent_ir.engine.inventory import Engine
from agent_ir.errors import RefusedError, UsageError
from agent_ir.exit_codes import ExitCode


def _print_event(event: str, step: PlannedStep, detail: str) -> None:
    if event == "end":
        print(f"[{step.provider}] {step.id}: {detail}  ({step.target_label})", file=sys.stderr)
    elif event in ("retry", "wait"):
        print(f"[{step.provider}] {step.id}: {detail}", file=sys.stderr)


def plan_text(plan: Any) -> str:
    """The plan grouped by provider and phase, with current → predicted and hazards."""
    from agent_ir.actions.catalog import PHASES

    out = [
        f"Plan {plan.plan_hash} for agent {plan.agent} (playbook {plan.playbook})",
        f"Blast radius: {len(plan.blast_radius)} identities"
        + (f" (limit {plan.max_targets})" if plan.max_targets else ""),
    ]
    for provider in plan.providers:
        out.append(f"\n{provider}")
        for phase in sorted({s.phase for s in plan.steps if s.provider == provider}):
            out.append(f"  {phase}. {PHASES.get(phase, 'other')}")
            for step in [s for s in plan.steps if s.provider == provider and s.phase == phase]:
                gate = "  [needs approval]" if step.approve else ""
                out.append(f"    {step.id}  {step.action}: {step.target_label}{gate}")
                out.append(
                    f"        now: {_brief(step.current)}  →  after: {_brief(step.predicted)}"
                )
                out.append(f"        reversible: {step.reversible.value}")
                out += [f"        hazard: {h}" for h in step.hazards]
    if not plan.steps:
        out.append("\nNo steps: nothing in this plan changes anything.")
    out += [f"provider {name}: {status}" for name, status in plan.provider_status.items()]
    out += [f"note: {n}" for n in plan.notes]
    out += _verdict_lines("If every step takes effect", plan.verdict, plan.residual)
    return "\n".join(out)


def _verdict_lines(lead: str, verdict: Any, residual: list[Any]) -> list[str]:
    """The verdict in words, then each residual path with its reason and end."""
    if verdict is None:
        return []
    out = [f"{lead}: {verdict.words}"]
    for r in residual:
        until = f"works until {r.to_json()['until']}" if r.until else "no end"
        out.append(f"  residual [{r.provider}] {r.path} ({until}): {r.reason}")
    return out


def _brief(state: dict[str, Any]) -> str:
    text = json.dumps(state, sort_keys=True, default=str)
    return text if len(text) <= 90 else text[:87] + "..."


def outcome_text(outcome: Any) -> str:
    """A run's per-step results and its summary."""
    out = [f"Incident {outcome.incident} ({outcome.plan.playbook}, agent {outcome.plan.agent})"]
    for r in outcome.results:
        error = f"  error: {r.error}" if r.error else ""
        out.append(f"  {r.status.value:18} {r.step.id}  {r.step.target_label}{error}")
        out += [f"  {'':18} note: {n}" for n in r.notes]
    counts = ", ".join(f"{v} {k}" for k, v in outcome.counts().items() if v)
    out.append(f"Summary: {counts or 'no steps'}")
    timing = outcome.timing_words()
    if timing:
        out.append(f"Timing: {timing}")
    out += [f"  {name}: {status}" for name, status in outcome.provider_status.items()]
    out += [f"warning: {w}" for w in outcome.warnings]
    out += _verdict_lines("Verdict", outcome.verdict, outcome.residual)
    return "\n".join(out)


def report_unavailable(providers: dict[str, str], what: str) -> None:
    """Say on stderr which providers did not answer: the result is partial there."""
    for name, status in providers.items():
        if status != "answered":
            print(f"agent-ir: {name} {status}", file=sys.stderr)
    if any(status != "answered" for status in providers.values()):
        print(
            f"agent-ir: partial {what}: the providers above did not answer; "
            "nothing there is contained or known to be",
            file=sys.stderr,
        )


def _plan_exit(plan: Any) -> ExitCode:
    """A plan is complete only when every provider in scope answered."""
    report_unavailable(plan.provider_status, "plan")
    return ExitCode.PARTIAL if plan.unavailable else ExitCode.OK


def _tuning(args: argparse.Namespace, engine: Engine) -> Any:
    """Deadlines from the command line: the step's, the run's (which also bounds each
    provider's discovery); None keeps the defaults."""
    from agent_ir.engine.executor import Tuning

    for name in ("step_deadline", "deadline"):
        value = getattr(args, name, None)
        if value is not None and not 0 < value <= 86_400:
            raise UsageError(f"--{name.replace('_', '-')} takes seconds between 0 and 86400")
    tuning = Tuning()
    if getattr(args, "step_deadline", None):
        tuning.step_deadline_s = args.step_deadline
    if getattr(args, "deadline", None):
        tuning.run_deadline_s = args.deadline
        engine.discovery_deadline_s = min(engine.discovery_deadline_s, args.deadline)
    return tuning


def _refuse_writes(engine: Engine) -> None:
    """Read-only refuses before anything is read, asked or printed."""
    if engine.settings.read_only:
        raise RefusedError("read-only mode: no write path is open")


def _outcome_exit(outcome: Any, args: argparse.Namespace) -> ExitCode:
    """Print a run's outcome (and remember its incident id for shell completion); its exit
    code says whether it is complete."""
    remember_incidents([outcome.incident])
    if wants_json(args):
        emit_json(outcome.to_json(), args.output)
    else:
        print(outcome_text(outcome))
    report_unavailable(outcome.provider_status, "run")
    return ExitCode(outcome.exit_code)
