"""Where a command's providers come from: a configuration file, or a lab started here.

Without a configuration, commands share one **default lab**: the default world, seeded on
first use, whose state each command takes up where the last one left it and saves back
when it ends (under ``$XDG_STATE_HOME/agent-ir/lab/``, with its journals), so revoke, show
and restore behave as against real providers. One command at a time holds it (a lock file);
``agent-ir lab reset`` starts it over. ``--lab`` and ``--world`` start a lab of their own,
from the world as seeded, that ends with the command.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from agent_ir import data
from agent_ir.errors import LabError
from agent_ir.settings import Settings, load_settings, locate

if TYPE_CHECKING:
    from agent_ir.lab.runner import Lab

STATE_FILE = "state.pickle"
LOCK_FILE = "lock"
JOURNAL_DIR = "journal"


def default_world() -> Path:
    """The shipped default lab world."""
    world = data.default_world()
    if not world.exists():
        raise LabError(f"the default world is missing ({world}); pass --world FILE")
    return world


def lab_state_dir() -> Path:
    """Where the default lab keeps its state and journals (``$XDG_STATE_HOME/agent-ir/lab``)."""
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "agent-ir" / "lab"


def banner(settings: Settings, world: str | None = None, state: str | None = None) -> None:
    """Say LAB on stderr so no one mistakes emulated providers for production, and whose
    state the command works on."""
    if settings.lab:
        name = f" world '{world}'" if world else ""
        where = f"; {state}" if state else ""
        print(
            f"LAB{name}: emulated providers on this machine, not production{where}",
            file=sys.stderr,
        )


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

    ``--world`` or ``--lab`` start a fresh lab in-process; otherwise the configuration file
    is used; with no configuration anywhere the command runs on the default lab.
    """
    world_file: Path | None = args.world
    if world_file is None and not args.lab:
        path = locate(args.config)
        if path is not None:
            settings = load_settings(path)
            banner(settings)
            yield settings
            return
        with default_lab_settings() as settings:
            yield settings
        return
    with lab_settings(world_file or default_world()) as settings:
        yield settings


@contextmanager
def lab_settings(world_file: Path) -> Iterator[Settings]:
    """Start a lab on ``world_file`` for the duration of the block."""
    from agent_ir.lab.world import load_world

    world = load_world(world_file)
    with _lab_class()(world) as lab:
        settings = load_settings(lab.config_path)
        banner(settings, world.name, "fresh state, dropped when the command ends")
        yield settings


@contextmanager
def default_lab_settings() -> Iterator[Settings]:
    """Run the block on the default lab (see the module docstring), holding its lock."""
    from agent_ir.lab.world import load_world

    world = load_world(default_world())
    root = lab_state_dir()
    with lab_state_lock(root):
        lab = _lab_class()(world, state_file=root / STATE_FILE)
        with lab:
            settings = load_settings(lab.config_path).model_copy(
                update={"journal_dir": root / JOURNAL_DIR}
            )
            how = "kept" if lab.resumed else "seeded now, kept"
            banner(settings, world.name, f"state {how} in {root}")
            try:
                yield settings
            finally:
                lab.save_state()


@contextmanager
def lab_state_lock(root: Path) -> Iterator[None]:
    """Hold the default lab's lock: one command at a time loads, changes and saves it."""
    try:
        root.mkdir(parents=True, exist_ok=True, mode=0o700)
        descriptor = os.open(root / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise LabError(f"cannot use the lab state directory {root}: {exc}") from exc
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(
                f"agent-ir: another command is using the lab in {root}; waiting for it",
                file=sys.stderr,
            )
            fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)


def _lab_class() -> type[Lab]:
    try:
        from agent_ir.lab.runner import Lab
    except ImportError as exc:
        raise LabError(
            f"the lab is not installed ({exc.name} is missing); install agent-ir[lab]"
        ) from None
    return Lab
