"""Plan, confirm, execute: the body every write command that runs a playbook shares.

``revoke`` and ``run`` on one agent and on a ``--select`` of many differ only in how the
plan is made, how the engine is tuned for it, which agents must be free, how progress is
printed and how the plan reads as text. Everything in between lives here once: read-only
refuses before anything is read, ``--dry-run`` shows the plan, ``--expect-plan`` refuses a
plan that changed since it was approved, the blast radius is checked, the agents are
checked free (unless ``--wait``), the responder confirms, and the run's outcome decides
the exit code.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from agent_ir.cli.common import emit_json, wants_json, with_engine
from agent_ir.cli.common import playbook_named as _playbook
from agent_ir.cli.common import playbook_params as _params
from agent_ir.cli.common import who_from_args as _who
from agent_ir.cli.environment import environment
from agent_ir.cli.outcomes import _outcome_exit, _plan_exit, _refuse_writes, _tuning
from agent_ir.engine.inventory import Engine
from agent_ir.errors import RefusedError
from agent_ir.exit_codes import ExitCode
from agent_ir.playbook.model import Playbook


@dataclass(frozen=True)
class PlannedRun:
    """What one kind of run does its own way (see the module docstring)."""

    make_plan: Callable[[Engine, Playbook, dict[str, Any]], Awaitable[Any]]
    """Reads what the plan needs and makes it."""
    check_free: Callable[[Engine, Any], None]
    """Refuses when another writer holds one of the plan's agents."""
    confirm: Callable[[Any, argparse.Namespace], Any]
    """Asks the responder (or takes ``--yes``); returns the per-step approval."""
    on_event: Callable[[Any], Any]
    """The progress printer for a plan."""
    text: Callable[[Any], str]
    """The plan as text, for ``--dry-run``."""
    running: Callable[[Any], str]
    """The line printed as the run starts."""
    prepare: Callable[[Engine], None] = lambda _engine: None
    """Adjusts the engine before the command line's deadlines apply (they may lower it)."""
    tune: Callable[[Any, argparse.Namespace], None] = lambda _tuning, _args: None
    """Adjusts the step tuning made from the command line."""
    cut_first: Callable[[Engine, Playbook, dict[str, Any], Any, Any], Awaitable[Any]] | None = None
    """Plans, confirms and runs in one go, cutting credentials before the closure is read
    (engine, playbook, params, who, tuning); used on a run approved up front (``--yes``)."""


def run_planned(args: argparse.Namespace, playbook_name: str, how: PlannedRun) -> ExitCode:
    """Plan ``playbook_name`` as ``how`` says, then (unless ``--dry-run``) confirm and run it."""
    from agent_ir.engine.incident import check_blast_radius, execute

    playbook = _playbook(playbook_name)
    params = _params(playbook, args.param)
    dry_run = getattr(args, "dry_run", False)
    who = None if dry_run else _who(args)
    with environment(args) as settings:

        async def work(engine: Engine) -> Any:
            if not dry_run:
                _refuse_writes(engine)
            how.prepare(engine)
            tuning = _tuning(args, engine)
            how.tune(tuning, args)
            if how.cut_first is not None and who is not None and _cuts_first(args):
                return await how.cut_first(engine, playbook, params, who, tuning)
            plan = await how.make_plan(engine, playbook, params)
            if dry_run or who is None:
                return plan
            if args.expect_plan and args.expect_plan != plan.plan_hash:
                raise RefusedError(
                    f"the plan changed since it was approved ({args.expect_plan} → "
                    f"{plan.plan_hash}); review it again"
                )
            check_blast_radius(plan)
            if not args.wait:
                how.check_free(engine, plan)
            approve = await asyncio.to_thread(how.confirm, plan, args)
            print(how.running(plan), file=sys.stderr)
            return await execute(
                engine,
                plan,
                who,
                approved=approve,
                on_event=how.on_event(plan),
                wait=args.wait,
                tuning=tuning,
                started=getattr(args, "started", None),
            )

        result = with_engine(settings, work)
    if dry_run:
        if wants_json(args):
            emit_json(result.to_json(), args.output)
        else:
            print(how.text(result))
        return _plan_exit(result)
    return _outcome_exit(result, args)


def _cuts_first(args: argparse.Namespace) -> bool:
    """Whether the run may write before its whole plan is made: only when approved up
    front (``--yes``), not pinned to an approved plan (``--expect-plan`` needs the whole
    plan's hash first), and not turned off (``--no-cut-first``)."""
    return bool(args.yes) and not args.expect_plan and getattr(args, "cut_first", True)
