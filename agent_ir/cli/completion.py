"""Shell completion: scripts generated from the parser (with shtab), and a small cache of
agent names and incident ids for them to offer.

The scripts must not ask providers anything while someone presses TAB, so the names come
from files the commands write as a side effect: ``inventory`` and ``show`` remember agent
names, every command that reads or writes journals remembers the incident ids it saw. The
cache lives in ``$XDG_CACHE_HOME/agent-ir/`` (``~/.cache/agent-ir/``); losing it costs
nothing but completion.
"""

from __future__ import annotations

import argparse
import contextlib
import os
from collections.abc import Iterable
from pathlib import Path

SHELLS = ("bash", "zsh", "fish")
KINDS = ("agents", "incidents")
MAX_NAMES = 5000
"""More names than anyone tabs through; keeps the cache small on generated worlds."""


def cache_dir() -> Path:
    """``$XDG_CACHE_HOME/agent-ir`` (``~/.cache/agent-ir``)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "agent-ir"


def cached(kind: str) -> list[str]:
    """The names remembered for ``kind`` (``agents`` or ``incidents``), sorted."""
    try:
        text = (cache_dir() / kind).read_text(encoding="utf-8")
    except OSError:
        return []
    return sorted({line.strip() for line in text.splitlines() if line.strip()})


def remember_agents(names: Iterable[str], *, replace: bool = True) -> None:
    """Remember agent names (all of them after an inventory; one more after ``show``)."""
    _remember("agents", names, replace=replace)


def remember_incidents(ids: Iterable[str], *, replace: bool = False) -> None:
    """Remember incident ids (all of a journal folder, or the one a run just wrote)."""
    _remember("incidents", ids, replace=replace)


def _remember(kind: str, names: Iterable[str], *, replace: bool) -> None:
    """Write the cache file; a cache that cannot be written only costs completion, so an
    unwritable cache folder never fails the command that was asked for."""
    keep = set() if replace else set(cached(kind))
    keep.update(n for n in names if n and "\n" not in n)
    text = "".join(f"{name}\n" for name in sorted(keep)[:MAX_NAMES])
    with contextlib.suppress(OSError):
        directory = cache_dir()
        directory.mkdir(parents=True, exist_ok=True)
        temporary = directory / f".{kind}.tmp{os.getpid()}"
        temporary.write_text(text, encoding="utf-8")
        temporary.replace(directory / kind)


def tag(action: argparse.Action, kind: str) -> argparse.Action:
    """Mark an argument as completed from the cache of ``kind`` (shtab itself is imported
    only when a script is generated, so parsing stays stdlib-only)."""
    action.agent_ir_cache = kind  # type: ignore[attr-defined]
    return action


def script(parser: argparse.ArgumentParser, shell: str) -> str:
    """The completion script for ``shell``, generated from ``parser``."""
    import shtab

    for action in _actions(parser):
        kind = getattr(action, "agent_ir_cache", None)
        if kind is not None:
            action.complete = shtab.cmd(f"agent-ir completion --list {kind}")  # type: ignore[attr-defined]
    return str(shtab.complete(parser, shell=shell))


def _actions(parser: argparse.ArgumentParser) -> Iterable[argparse.Action]:
    """Every argument of ``parser`` and of all its subcommands."""
    for action in parser._actions:
        yield action
        if isinstance(action, argparse._SubParsersAction):
            for sub in {id(p): p for p in action.choices.values()}.values():
                yield from _actions(sub)
