"""The files that ship inside agent-ir: playbooks, worlds, exercises, their JSON Schemas and
the console's stylesheet.

They live in this package so that a wheel carries them and an installed ``agent-ir`` finds
them wherever it was installed (``pip``, ``pipx``, ``uv tool``); this module is the one
place that locates them, through :mod:`importlib.resources`. Callers get real paths
because every user-facing message names the file (and line) a problem is in.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from agent_ir.errors import AgentIRError

__all__ = [
    "default_world",
    "exercise_dir",
    "playbook_dir",
    "shipped_file",
    "stylesheet",
    "world_dir",
]


def shipped_file(*parts: str) -> Path:
    """The path of a shipped file or folder, ``parts`` relative to this package.

    The package must be installed as files (every installer does so for wheels); a zipped
    install would need every file extracted first, which no supported installer produces.
    """
    root = files(__name__)
    if not isinstance(root, Path):
        raise AgentIRError(
            f"agent-ir's shipped files are not on the file system ({root}); "
            "install agent-ir from its wheel with pip, pipx or uv"
        )
    return root.joinpath(*parts)


def playbook_dir() -> Path:
    """The folder of shipped playbooks (with ``playbook.schema.json``)."""
    return shipped_file("playbooks")


def exercise_dir() -> Path:
    """The folder of shipped tabletop exercises (with ``exercise.schema.json``)."""
    return shipped_file("exercises")


def world_dir() -> Path:
    """The folder of shipped lab worlds."""
    return shipped_file("worlds")


def default_world() -> Path:
    """The default lab world: the story every command without configuration runs on."""
    return world_dir() / "default.yaml"


def stylesheet() -> Path:
    """The console's Textual stylesheet."""
    return shipped_file("app.tcss")
