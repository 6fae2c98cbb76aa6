"""The write-side commands: plan, revoke, run, resume, restore, journal, permissions."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from agent_ir.actions.base import PlannedStep
from agent_ir.cli.common import emit_json, wants_json, with_engine
from agent_ir.cli.common import playbook_named as _playbook
from agent_ir.cli.common import playbook_params as _params
from agent_ir.cli.common import who_from_args as _who
from agent_ir.cli.completion import remember_incidents
from agent_ir.cli.environment import environment
from agent_ir.cli.outcomes import (
    _outcome_exit,
    _plan_exit,
    _print_event,
    _refuse_writes,
    _tuning,
    plan_text,
)
from agent_ir.cli.planned_run import PlannedRun, run_planned
from agent_ir.engine.inventory import Engine
from agent_ir.errors import JournalError, NotFoundError, RefusedError, UsageError
from agent_ir.exit_codes import ExitCode
from agent_ir.textsafe import visible


def _confirm(plan: Any, args: argparse.Namespace) -> Any:
    """Ask for typed confirmation, or take ``--yes``; returns the approval function."""
    if getattr(plan, "agents", None):
        from agent_ir.cli.mass_commands import confirm

        return confirm(plan, args)
    if args.yes:
        return lambda _step: True
    if not sys.stdin.isatty():
        raise RefusedError(
            "refusing to change anything without --yes on a non-interactive terminal"
        )
    print(plan_text(plan), file=sys.stderr)
    # input() writes its prompt straight to a terminal, past the stream guard
    prompt = visible(f"Type the agent's name ({plan.agent}) to run this plan: ")
    answer = input("\n" + prompt).strip()
    if answer != plan.agent:
        raise RefusedError("confirmation did not match the agent's name; nothing was changed")

    def approve(step: PlannedStep) -> bool:
        reply = input(visible(f"Approve {step.id} ({step.target_label})? [y/N] ")).strip().lower()
        return reply in ("y", "yes")

    return approve


def cmd_plan(args: argparse.Namespace) -> ExitCode:
    """Show what a playbook would do to an agent; changes nothing."""
    playbook = _playbook(args.playbook)
    params = _params(playbook, args.param)
    with environment(args) as settings:
        from agent_ir.engine.incident import plan_for

        plan = with_engine(settings, lambda e: plan_for(e, args.agent, playbook, params))
    if wants_json(args):
        emit_json(plan.to_json(), args.output)
    else:
        print(plan_text(plan))
    return _plan_exit(plan)


def _run(args: argparse.Namespace, playbook_name: str, agent: str) -> ExitCode:
    from agent_ir.engine.incident import check_agent_free, plan_for

    async def cut_first(engine: Engine, playbook: Any, params: Any, who: Any, tuning: Any) -> Any:
        from agent_ir.engine.firstcut import cut_first

        if not args.wait:
            check_agent_free(engine, agent)
        return await cut_first(
            engine,
            agent,
            playbook,
            params,
            who,
            lambda plan: _confirm(plan, args),
            on_event=_print_event,
            tuning=tuning,
            wait=args.wait,
            started=getattr(args, "started", None),
            on_first_cut=lambda plan: print(
                f"running the first cut: {len(plan.steps)} credential and session steps on "
                f"{agent}'s own principals, while the rest of its closure is read…",
                file=sys.stderr,
            ),
        )

    return run_planned(
        args,
        playbook_name,
        PlannedRun(
            make_plan=lambda engine, playbook, params: plan_for(engine, agent, playbook, params),
            check_free=lambda engine, plan: check_agent_free(engine, plan.agent),
            confirm=_confirm,
            on_event=lambda _plan: _print_event,
            text=plan_text,
            running=lambda plan: f"running {len(plan.steps)} steps…",
            cut_first=cut_first,
        ),
    )


def cmd_revoke(args: argparse.Namespace) -> ExitCode:
    """The kill switch: run contain-agent against one agent (or many, with --select)."""
    return _one_or_many(args, "contain-agent", args.agent)


def cmd_run(args: argparse.Namespace) -> ExitCode:
    """Run any playbook against one agent (or many, with --select)."""
    return _one_or_many(args, args.playbook, args.agent)


def _one_or_many(args: argparse.Namespace, playbook: str, agent: str | None) -> ExitCode:
    from agent_ir.cli import mass_commands

    mass_commands.check_target_args(args, agent)
    if agent is None:
        return mass_commands.run_selected(args, playbook)
    return _run(args, playbook, agent)


def cmd_resume(args: argparse.Namespace) -> ExitCode:
    """Finish a crashed run from its journal."""
    from agent_ir.engine.incident import resume

    with environment(args) as settings:
        outcome = with_engine(
            settings,
            lambda e: resume(
                e,
                args.incident,
                on_event=_print_event,
                force=args.force,
                wait=args.wait,
                tuning=_tuning(args, e),
            ),
        )
    return _outcome_exit(outcome, args)


def cmd_restore(args: argparse.Namespace) -> ExitCode:
    """Undo an incident from its snapshots, journaled as a new incident."""
    from agent_ir.engine.incident import (
        check_plan_free,
        journal_dir,
        load_incident,
        restore,
        restore_plan,
    )
    from agent_ir.engine.restore_check import check_restorable

    with environment(args) as settings:

        async def work(engine: Engine) -> Any:
            _refuse_writes(engine)
            records = load_incident(engine, args.incident, force=args.force)
            forced = check_restorable(journal_dir(engine), args.incident, records, args.force)
            if forced:
                print(f"warning: {forced}", file=sys.stderr)
            plan, warnings = restore_plan(args.incident, records)
            for warning in warnings:
                print(f"warning: {warning}", file=sys.stderr)
            original = records[0].payload.get("why", "")
            who = _who(args, f"restore of {args.incident} ({original})")
            if not args.wait:
                check_plan_free(engine, plan)
            await asyncio.to_thread(_confirm, plan, args)
            return await restore(
                engine,
                args.incident,
                who,
                on_event=_print_event,
                force=args.force,
                wait=args.wait,
                tuning=_tuning(args, engine),
            )

        outcome = with_engine(settings, work)
    return _outcome_exit(outcome, args)


def _journal_dir(args: argparse.Namespace) -> Path:
    from agent_ir.engine.incident import journal_dir
    from agent_ir.settings import Settings, load_settings, locate

    path = locate(args.config)
    if args.world or args.lab or path is None:
        from agent_ir.cli.environment import JOURNAL_DIR, default_world, lab_state_dir
        from agent_ir.lab.world import load_world

        if not (args.world or args.lab):
            default_world()
            return lab_state_dir() / JOURNAL_DIR
        if args.world:
            load_world(args.world)
        else:
            default_world()
        return journal_dir(Engine(Settings(name="lab", lab=True)))
    return journal_dir(Engine(load_settings(path)))


def cmd_journal(args: argparse.Namespace) -> ExitCode:
    """List, show or verify journals."""
    from agent_ir.engine import journal as jr

    directory = _journal_dir(args)
    if args.journal_command in ("export", "sinks"):
        from agent_ir.cli import evidence_commands

        return evidence_commands.dispatch(args, directory)
    if args.journal_command == "list":
        items = jr.list_incidents(directory)
        remember_incidents((i.id for i in items), replace=True)
        if wants_json(args):
            incidents = [dataclasses.asdict(i) for i in items]
            emit_json({"incidents": incidents}, args.output, records="incidents")
        else:
            for i in items:
                link = f"  (restore of {i.restore_of})" if i.restore_of else ""
                print(f"{i.id}  {i.status:10}  {i.playbook}  agent {i.agent}{link}")
            if not items:
                print(f"no incidents in {directory}")
        return ExitCode.OK
    if args.journal_command == "show":
        path = jr.incident_path(directory, args.incident)
        if not path.exists():
            raise NotFoundError(f"no incident {args.incident} in {directory}")
        records = jr.Journal.read(path)
        if wants_json(args):
            document = {"incident": args.incident, "records": [_record(r) for r in records]}
            emit_json(document, args.output, records="records")
        elif args.records:
            for r in records:
                print(f"{r.seq:4} {r.ts} {r.kind:14} {json.dumps(r.payload, default=str)}")
        else:
            from agent_ir.engine.report import read_report, summary_lines

            print("\n".join(summary_lines(read_report(directory, args.incident))))
        return ExitCode.OK
    reports = (
        [jr.verify(jr.incident_path(directory, args.incident))]
        if args.incident
        else jr.verify_all(directory)
    )
    bad = [r for r in reports if not r.ok]
    if wants_json(args):
        checked = [
            {"incident": r.incident, "ok": r.ok, "records": r.records, "problems": r.problems}
            for r in reports
        ]
        emit_json({"incidents": checked}, args.output, records="incidents")
    else:
        for report in reports:
            state = "ok" if report.ok else "FAILED"
            print(f"{report.incident}: {state} ({report.records} records)")
            for problem in report.problems:
                print(f"  {problem}")
        if not reports:
            print(f"no incidents in {directory}")
    from agent_ir.cli.evidence_commands import verify_signatures

    unsigned = verify_signatures(args, directory)
    if bad or unsigned:
        raise JournalError(f"{len(bad) + unsigned} journal(s) failed verification")
    return ExitCode.OK


def cmd_report(args: argparse.Namespace) -> ExitCode:
    """Write one incident's report, in Markdown or JSON, to stdout or a file."""
    from agent_ir.engine.report import read_report, to_markdown

    report = read_report(_journal_dir(args), args.incident)
    timeline = _activity_around(args, report) if args.activity else None
    if args.format == "json":
        data = report.to_json()
        if timeline is not None:
            data["activity"] = timeline.to_json()
        text = json.dumps(data, indent=2, sort_keys=True, default=str) + "\n"
    else:
        text = to_markdown(report)
        if timeline is not None:
            from agent_ir.activity.around import activity_markdown

            text += "\n".join(["", *activity_markdown(timeline, report.started), ""])
    if args.out is None:
        sys.stdout.write(text)
        return _activity_exit(timeline)
    try:
        args.out.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {args.out}: {exc.strerror}") from exc
    print(f"wrote {args.out}", file=sys.stderr)
    return _activity_exit(timeline)


def _activity_around(args: argparse.Namespace, report: Any) -> Any:
    """The agent's activity from ``--activity`` before the incident began until now."""
    from agent_ir.activity.model import ActivityWindow
    from agent_ir.activity.timeline import build_timeline
    from agent_ir.cli.activity_commands import parse_moment
    from agent_ir.cli.environment import environment

    now = datetime.now(UTC)
    anchor = report.started or now
    since = parse_moment(args.activity, anchor, "--activity")
    window = ActivityWindow(min(since, now), now, args.activity_limit)
    with environment(args) as settings:
        timeline = with_engine(
            settings, lambda engine: build_timeline(engine, report.agent, window)
        )
    for status in timeline.unavailable:
        print(f"agent-ir: activity: {status.reason}", file=sys.stderr)
    return timeline


def _activity_exit(timeline: Any) -> ExitCode:
    """Exit 6 when the report's activity section is missing a provider that should answer."""
    if timeline is not None and timeline.partial:
        return ExitCode.PARTIAL
    return ExitCode.OK


def _record(r: Any) -> dict[str, Any]:
    return {"seq": r.seq, "ts": r.ts, "kind": r.kind, "hash": r.hash, **r.payload}


def cmd_permissions(args: argparse.Namespace) -> ExitCode:
    """The least privilege the responder's own identity needs, per provider."""
    from agent_ir.engine.permissions import required_permissions

    playbooks = [_playbook(args.playbook)] if args.playbook else None
    needs = required_permissions(playbooks)
    if args.aws_policy:
        if "policy" not in needs.get("aws", {}):
            raise NotFoundError("no AWS policy: the aws provider is not installed")
        json.dump(needs["aws"]["policy"], sys.stdout, indent=2)
        sys.stdout.write("\n")
        return ExitCode.OK
    if wants_json(args):
        emit_json(needs, args.output)
    else:
        for provider, data in needs.items():
            print(f"{provider}:")
            for perm in data["permissions"]:
                print(f"  {perm}")
            if "policy" in data:
                print("  IAM policy document: agent-ir permissions --aws-policy")
    return ExitCode.OK
