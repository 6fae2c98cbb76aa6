"""``agent-ir tabletop``: play an exercise headless, score it, write the after-action report."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

from agent_ir.cli.common import emit_json, wants_json
from agent_ir.errors import RefusedError, UsageError
from agent_ir.exit_codes import ExitCode


def cmd_tabletop(args: argparse.Namespace) -> ExitCode:
    """Without ``--yes`` on a terminal, open the exercise in the console. With ``--yes``,
    run the playbook against the agent in the exercise's lab; exit 0 only if every
    objective holds."""
    from agent_ir.cli.common import playbook_named as _playbook
    from agent_ir.cli.common import playbook_params as _params
    from agent_ir.cli.common import who_from_args as _who
    from agent_ir.engine.executor import Tuning
    from agent_ir.tabletop.loader import find_exercise, load_exercise
    from agent_ir.tabletop.report import report_json, report_markdown
    from agent_ir.tabletop.run import run_exercise

    if getattr(args, "read_only", False) and (args.yes or args.end):
        raise RefusedError(
            "read-only mode: a headless exercise changes its lab and journals it; "
            "nothing was started"
        )
    if args.join:
        return join(args)
    if args.end:
        raise UsageError("--end ends a shared exercise: pass it with --join")
    if args.exercise is None:
        raise UsageError("name an exercise (a file or a shipped name), or pass --join")
    if not args.yes:
        if not (sys.stdin.isatty() and sys.stdout.isatty()):
            raise RefusedError("a headless exercise changes its lab without asking: pass --yes")
        return open_console(args)
    loaded = load_exercise(find_exercise(args.exercise))
    if args.agent is None:
        raise UsageError(
            "pass --agent with --yes (suspects: " + ", ".join(loaded.exercise.suspects) + ")"
        )
    playbook = _playbook(args.playbook)
    params = _params(playbook, args.param)
    who = _who(args, f"tabletop exercise {loaded.exercise.name}")
    tuning = Tuning(backoff_s=0.05, max_backoff_s=0.5, verify_interval_s=0.05)
    print(f"LAB exercise '{loaded.exercise.name}': emulated providers", file=sys.stderr)
    result = asyncio.run(
        run_exercise(loaded, playbook, params, args.agent, who, at=args.at, tuning=tuning)
    )
    if args.report:
        _write(args.report, report_markdown(result))
    if args.report_json:
        import json

        _write(args.report_json, json.dumps(report_json(result), indent=2) + "\n")
    if wants_json(args):
        emit_json(report_json(result), args.output)
    else:
        print(f"Exercise {loaded.exercise.name}: agent {args.agent}, playbook {args.playbook}")
        for v in result.verdicts:
            print(f"  {'held  ' if v.held else 'FAILED'} {v.objective} ({v.weight}): {v.detail}")
        print(f"Score: {result.score}/100")
        if result.residual:
            print("Residual access (paths that still work):")
            for r in result.residual:
                print(f"  [{r.provider}] {r.path}  ({r.decided_by}: {r.detail})")
        else:
            print("Residual access: none")
    return ExitCode.OK if result.passed else ExitCode.FAILED


def open_console(args: argparse.Namespace) -> ExitCode:
    """Open the console in exercise mode on the exercise's own lab."""
    import tempfile

    from agent_ir.engine.executor import Tuning
    from agent_ir.factory import make_exercise_app
    from agent_ir.lab.runner import Lab
    from agent_ir.lab.world import load_world
    from agent_ir.tabletop.loader import find_exercise, load_exercise

    loaded = load_exercise(find_exercise(args.exercise))
    exercise = loaded.exercise
    agent = loaded.suspect(args.agent)
    report = args.report or Path(f"{exercise.name}-after-action.md")
    report_json = args.report_json or Path(f"{exercise.name}-after-action.json")
    tuning = Tuning(backoff_s=0.05, max_backoff_s=0.5, verify_interval_s=0.05)
    print(f"LAB exercise '{exercise.name}': emulated providers", file=sys.stderr)
    with (
        tempfile.TemporaryDirectory(prefix="agent-ir-tabletop-") as work,
        Lab(load_world(loaded.world_path)) as lab,
    ):
        app = make_exercise_app(
            _read_only(lab.settings, args),
            lab,
            loaded,
            agent,
            workdir=Path(work),
            report=report,
            report_json=report_json,
            tuning=tuning,
            responder=args.responder,
        )
        app.run()
    return ExitCode.OK


def join(args: argparse.Namespace) -> ExitCode:
    """Join the shared exercise a running lab hosts: open the console on it, or with
    ``--end`` end it, print the score and exit 0 only if every objective holds."""
    from agent_ir.settings import load_settings, locate
    from agent_ir.tabletop.remote import RemoteExercise

    if args.exercise is not None or args.yes:
        raise UsageError(
            "--join takes the exercise from the lab's configuration (--config); "
            "it goes without an exercise name and without --yes"
        )
    path = locate(args.config)
    if path is None:
        raise UsageError("--join: name the running lab's configuration with --config")
    settings = _read_only(load_settings(path), args)
    remote = RemoteExercise.from_settings(settings)
    if args.end:
        card = asyncio.run(_end(remote))
        if wants_json(args):
            emit_json(card.to_json(), args.output)
        else:
            print(f"Exercise {remote.name}: agent {remote.agent}")
            for v in card.verdicts:
                mark = "held  " if v.held else "FAILED"
                print(f"  {mark} {v.objective} ({v.weight}): {v.detail}")
            print(f"Score: {card.score}/100")
            print(f"Report: {card.markdown} and {card.json}")
        return ExitCode.OK if card.passed else ExitCode.FAILED
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise RefusedError("--join opens the console: run it on a terminal (or pass --end)")
    from agent_ir.engine.executor import Tuning
    from agent_ir.factory import make_joined_app

    tuning = Tuning(backoff_s=0.05, max_backoff_s=0.5, verify_interval_s=0.05)
    print(f"LAB exercise '{remote.name}': joined at {remote.url}", file=sys.stderr)
    make_joined_app(settings, tuning=tuning, responder=args.responder).run()
    return ExitCode.OK


def _read_only(settings: Any, args: argparse.Namespace) -> Any:
    """The settings with ``--read-only`` applied (the console then refuses every write)."""
    if getattr(args, "read_only", False):
        return settings.model_copy(update={"read_only": True})
    return settings


async def _end(remote: Any) -> Any:
    try:
        return await remote.end()
    finally:
        await remote.aclose()


def _write(path: Path, text: str) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror}") from None
