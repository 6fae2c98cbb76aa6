"""The CLI's commands: each turns parsed arguments into engine calls and output."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

from agent_ir.cli import render
from agent_ir.cli.common import emit_json, print_causes, wants_json, with_engine
from agent_ir.cli.completion import remember_agents
from agent_ir.cli.environment import environment
from agent_ir.engine.inventory import Engine
from agent_ir.errors import ProviderError, UsageError
from agent_ir.exit_codes import ExitCode


def provider_status(inv: Any) -> dict[str, str]:
    """Each provider asked: "answered", or "unavailable: <why>"."""
    status = {name: "answered" for name in inv.discoveries}
    status.update({name: f"unavailable: {e.message}" for name, e in inv.errors.items()})
    return status


def _read_status(failed: int, answered: int) -> ExitCode:
    if not failed:
        return ExitCode.OK
    return ExitCode.PARTIAL if answered else ExitCode.PROVIDER


def cmd_inventory(args: argparse.Namespace) -> ExitCode:
    """List every agent."""
    with environment(args) as settings:
        inv = with_engine(settings, lambda e: e.inventory())
    remember_agents(a.name for a in inv.agents)
    if wants_json(args):
        emit_json(
            {
                "agents": [a.to_json() for a in inv.agents],
                "errors": [{"provider": p, "message": e.message} for p, e in inv.errors.items()],
                "warnings": inv.warnings,
                "providers": provider_status(inv),
            },
            args.output,
            records="agents",
        )
    else:
        print(render.inventory_text(inv, _now()))
    for err in inv.errors.values():
        print(f"agent-ir: {err.message}", file=sys.stderr)
        if args.debug:
            print_causes(err)
    return _read_status(len(inv.errors), len(inv.discoveries))


def cmd_show(args: argparse.Namespace) -> ExitCode:
    """Show one agent."""
    with environment(args) as settings:

        async def work(engine: Engine) -> Any:
            inv = await engine.agent_inventory(args.agent)
            from agent_ir.engine.inventory import view

            return inv, view(inv, inv.agent(args.agent))

        inv, agent_view = with_engine(settings, work)
    remember_agents([agent_view.agent.name], replace=False)
    if wants_json(args):
        data = agent_view.to_json()
        data["errors"] = [{"provider": p, "message": e.message} for p, e in inv.errors.items()]
        data["providers"] = provider_status(inv)
        emit_json(data, args.output)
    else:
        print(render.show_text(agent_view, inv, _now()))
    for err in inv.errors.values():
        print(f"agent-ir: {err.message}", file=sys.stderr)
        if args.debug:
            print_causes(err)
    return _read_status(len(inv.errors), len(inv.discoveries))


def cmd_doctor(args: argparse.Namespace) -> ExitCode:
    """Check configuration, connectivity and the responder's own permissions."""
    with environment(args) as settings:
        results = with_engine(settings, lambda e: e.doctor())
        source = "lab (in-process)" if settings.source is None else str(settings.source)
        if settings.lab and args.world is None and not args.lab and settings.source is not None:
            source += " (lab)"
    failed = {r.provider: r for r in results if isinstance(r, ProviderError)}
    if wants_json(args):
        emit_json(
            {
                "config": source,
                "providers": [
                    {"provider": r.provider, "ok": False, "error": r.message}
                    if isinstance(r, ProviderError)
                    else {
                        "provider": r.provider,
                        "ok": True,
                        "caller": r.caller,
                        "account": r.account,
                        "endpoint": r.endpoint,
                        "notes": r.notes,
                        "permissions": [
                            {"permission": p.permission, "allowed": p.allowed, "note": p.note}
                            for p in r.permissions
                        ],
                    }
                    for r in results
                ],
            },
            args.output,
        )
    else:
        print(render.doctor_text(results, source))
    return _read_status(len(failed), len(results) - len(failed))


def cmd_console(args: argparse.Namespace) -> ExitCode:
    """Open the Textual console; its environment opens behind the first paint."""
    from agent_ir.cli import console

    return console.cmd_console(args)


def cmd_lab(args: argparse.Namespace) -> ExitCode:
    """The ``lab`` subcommands."""
    from agent_ir.cli import lab_commands

    handlers = {
        "serve": lab_commands.serve,
        "faults": lab_commands.faults,
        "generate": lab_commands.generate,
        "check": lab_commands.check,
        "reset": lab_commands.reset,
        "trace": lab_commands.trace,
    }
    if args.lab_command not in handlers:
        raise UsageError("lab: choose one of " + ", ".join(handlers))
    return handlers[args.lab_command](args)


def _now() -> Any:
    from agent_ir.providers.base import utcnow

    return utcnow()


def cmd_playbook(args: argparse.Namespace) -> ExitCode:
    """The ``playbook`` subcommands."""
    from agent_ir.cli import playbook_commands

    handlers: dict[str, Callable[[argparse.Namespace], ExitCode]] = {
        "validate": playbook_commands.validate,
        "list": playbook_commands.list_,
        "schema": playbook_commands.schema,
    }
    return handlers[args.playbook_command](args)


def dispatch(args: argparse.Namespace) -> ExitCode:
    """Run the command the arguments name."""
    from agent_ir.cli import incident_commands as inc
    from agent_ir.cli import tabletop_commands
    from agent_ir.cli.activity_commands import cmd_activity

    if getattr(args, "output", "text") == "csv" and args.command != "activity":
        raise UsageError("-o csv is for activity only (use json or ndjson)")
    commands: dict[str, Callable[[argparse.Namespace], ExitCode]] = {
        "activity": cmd_activity,
        "console": cmd_console,
        "inventory": cmd_inventory,
        "show": cmd_show,
        "doctor": cmd_doctor,
        "lab": cmd_lab,
        "playbook": cmd_playbook,
        "plan": inc.cmd_plan,
        "revoke": inc.cmd_revoke,
        "run": inc.cmd_run,
        "resume": inc.cmd_resume,
        "restore": inc.cmd_restore,
        "journal": inc.cmd_journal,
        "report": inc.cmd_report,
        "permissions": inc.cmd_permissions,
        "tabletop": tabletop_commands.cmd_tabletop,
    }
    return commands[args.command](args)
