"""The ``agent-ir lab`` subcommands."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from agent_ir.cli.common import emit_json, wants_json
from agent_ir.cli.environment import (
    STATE_FILE,
    default_world,
    lab_state_dir,
    lab_state_lock,
)
from agent_ir.errors import UsageError, WorldError
from agent_ir.exit_codes import ExitCode


def serve(args: argparse.Namespace) -> ExitCode:
    """Run the lab until interrupted; print ``ready <config>`` once it listens. With
    ``--exercise``, the lab runs the exercise's world and hosts the exercise for
    responders who join it."""
    from agent_ir.lab.serve import serve as run
    from agent_ir.lab.world import load_world

    if args.exercise is None:
        if args.agent or args.report or args.report_json:
            raise UsageError("lab serve: --agent and --report go with --exercise")
        world = load_world(args.world or default_world())
        return ExitCode(run(world, args.config_out))
    from agent_ir.tabletop.host import attach_exercise
    from agent_ir.tabletop.loader import find_exercise, load_exercise

    if args.world:
        raise UsageError(
            "lab serve: --world and --exercise exclude each other (the exercise names its world)"
        )
    loaded = load_exercise(find_exercise(args.exercise))
    exercise = loaded.exercise
    agent = loaded.suspect(args.agent)
    report = (args.report or Path(f"{exercise.name}-after-action.md")).resolve()
    report_json = (args.report_json or Path(f"{exercise.name}-after-action.json")).resolve()
    attach = attach_exercise(loaded, agent, report, report_json)
    return ExitCode(run(load_world(loaded.world_path), args.config_out, attach))


def faults(args: argparse.Namespace) -> ExitCode:
    """Show or change the fault injection of a running lab (found through its config)."""
    from agent_ir.lab.faults import FaultSpec
    from agent_ir.lab.serve import get_faults, set_faults
    from agent_ir.settings import load_settings, locate

    path = locate(args.config)
    if path is None:
        raise UsageError("lab faults: name the running lab's configuration with --config")
    settings = load_settings(path)
    if not args.settings:
        _faults_out(args, get_faults(settings, args.provider))
        return ExitCode.OK
    values: dict[str, Any] = {}
    for item in args.settings:
        key, sep, value = item.partition("=")
        if not sep:
            raise UsageError(f"lab faults: expected KEY=VALUE, got {item!r}")
        values[key] = value
    try:
        spec = FaultSpec.model_validate(values)
    except ValueError as exc:
        raise UsageError(f"lab faults: {exc}") from None
    _faults_out(args, set_faults(settings, args.provider, spec))
    return ExitCode.OK


def _faults_out(args: argparse.Namespace, report: dict[str, Any]) -> None:
    """A lab's fault report: JSON as the lab sends it, or ``key=value`` lines as text."""
    if wants_json(args):
        emit_json(report, args.output)
        return
    for key, value in report.items():
        shown = json.dumps(value) if isinstance(value, dict | list) else value
        print(f"{key}={shown}")


def generate(args: argparse.Namespace) -> ExitCode:
    """Write a generated world on stdout."""
    from agent_ir.lab.generator import generate_yaml

    if args.agents < 1 or args.agents > 100_000 or args.accounts < 1 or args.accounts > 50:
        raise UsageError("lab generate: --agents must be 1..100000 and --accounts 1..50")
    providers = tuple(p.strip() for p in args.providers.split(",") if p.strip())
    from agent_ir.lab.plugin import lab_plugins

    unknown = sorted(set(providers) - set(lab_plugins()))
    if unknown or not providers:
        raise UsageError(f"lab generate: unknown providers {', '.join(unknown) or '(none)'}")
    sys.stdout.write(generate_yaml(args.agents, args.accounts, args.seed, providers))
    return ExitCode.OK


def check(args: argparse.Namespace) -> ExitCode:
    """Validate world files; report every problem of every file."""
    from agent_ir.lab.world import load_world

    failed = False
    checked: list[dict[str, Any]] = []
    for path in args.files:
        try:
            world = load_world(path)
        except WorldError as exc:
            failed = True
            print(f"agent-ir: {exc.message}", file=sys.stderr)
            problems = [str(p) for p in exc.problems] or [exc.message]
            checked.append({"file": str(path), "ok": False, "world": None, "problems": problems})
            continue
        checked.append({"file": str(path), "ok": True, "world": world.name, "problems": []})
        if not wants_json(args):
            print(f"{path}: ok (world '{world.name}')")
    if wants_json(args):
        emit_json({"files": checked}, args.output, records="files")
    return ExitCode.BAD_INPUT if failed else ExitCode.OK


def reset(args: argparse.Namespace) -> ExitCode:
    """Seed the default lab afresh from the default world, dropping every change made to
    it; its journals stay (they record what was done)."""
    from agent_ir.lab.runner import Lab
    from agent_ir.lab.world import load_world

    world = load_world(default_world())
    root = lab_state_dir()
    with lab_state_lock(root):
        state = root / STATE_FILE
        state.unlink(missing_ok=True)
        with Lab(world, state_file=state) as lab:
            lab.save_state()
    print(f"lab reset: world '{world.name}' seeded afresh; state in {root}")
    return ExitCode.OK


def trace(args: argparse.Namespace) -> ExitCode:
    """Write on stdout the trace the agent's runtime would have exported for the lab's
    seeded activity, timed from the same seeding instant (see ``lab/story_trace.py``)."""
    from agent_ir.lab.story_trace import story_trace

    world, now = _seeded(args)
    json.dump(story_trace(world, now, args.agent), sys.stdout, separators=(",", ":"))
    sys.stdout.write("\n")
    return ExitCode.OK


def _seeded(args: argparse.Namespace) -> tuple[Any, datetime]:
    """The world and seeding instant of the lab a next command would use: the default
    lab's kept state (seeded now if it has none); with ``--world``/``--lab``, a fresh lab
    seeded now (the next ``--lab`` command seeds again, a few seconds later: the events
    then match by request id, not to the second)."""
    from agent_ir.lab import state
    from agent_ir.lab.runner import Lab
    from agent_ir.lab.world import load_world

    if args.world is not None or args.lab:
        print("agent-ir: a fresh lab: its times follow this instant", file=sys.stderr)
        return load_world(args.world or default_world()), datetime.now(UTC)
    world = load_world(default_world())
    root = lab_state_dir()
    with lab_state_lock(root):
        saved = state.load(root / STATE_FILE, world)
        if saved is not None:
            return world, saved.seeded_at
        with Lab(world, state_file=root / STATE_FILE) as lab:
            lab.save_state()
            return world, lab.now
