"""Where a command's providers come from: a configuration file, or a lab started here."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from agent_ir import data
from agent_ir.errors import LabError
from agent_ir.settings import Settings, load_settings, locate


def default_world() -> Path:
    """The shipped default lab world."""
    world = data.default_world()
    if not world.exists():
        raise LabError(f"the default world is missing ({world}); pass --world FILE")
    return world


def banner(settings: Settings, world: str | None = None) -> None:
    """Say LAB on stderr so no one mistakes emulated providers for production."""
    if settings.lab:
        name = f" world '{world}'" if world else ""
        print(f"LAB{name}: emulated providers on this machine, not production", file=sys.stderr)


@contextmanager
def environment(args: argparse.Namespace) -> Iterator[Settings]:
    """Like :func:`_environment`, with ``--read-only`` applied on top."""
    with _environment(args) as settings:
        if getattr(args, "read_only", False):
            settings = settings.model_copy(update={"read_only": True})
        yield settings


@contextmanager
def _environment(args: argparse.Namespace) -> Iterator[Settings]:
    """Yield the settings a command runs with, starting (and stopping) a lab if asked to.

    ``--world`` or ``--lab`` start a lab in-process; otherwise the configuration file is
    used; with no configuration anywhere the default world runs in a lab.
    """
    world_file: Path | None = args.world
    if world_file is None and not args.lab:
        path = locate(args.config)
        if path is not None:
            settings = load_settings(path)
            banner(settings)
            yield settings
            return
        world_file = default_world()
    elif world_file is None:
        world_file = default_world()
    with lab_settings(world_file) as settings:
        yield settings


@contextmanager
def lab_settings(world_file: Path) -> Iterator[Settings]:
    """Start a lab on ``world_file`` for the duration of the block."""
    from agent_ir.lab.world import load_world

    world = load_world(world_file)
    try:
        from agent_ir.lab.runner import Lab
    except ImportError as exc:
        raise LabError(
            f"the lab is not installed ({exc.name} is missing); install agent-ir[lab]"
        ) from None
    with Lab(world) as lab:
        settings = load_settings(lab.config_path)
        banner(settings, world.name)
        yield settings
