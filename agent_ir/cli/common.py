"""What every command module shares: JSON output, running the engine, and the playbook,
parameters and responder of a write. Command modules import from here, never from each
other, so the CLI has no import circles."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from agent_ir.cli.progress import StderrProgress
from agent_ir.engine.inventory import Engine
from agent_ir.errors import UsageError
from agent_ir.model import iso
from agent_ir.settings import Settings

T = TypeVar("T")


def _json_value(value: Any) -> Any:
    """JSON for what the standard encoder cannot write: times as ISO 8601 UTC with ``Z``
    (as everywhere else in agent-ir's output), paths and the rest as text."""
    if isinstance(value, datetime):
        return iso(value.astimezone(UTC))
    return str(value)


def emit_json(data: Any, output: str = "json", *, records: str | None = None) -> None:
    """Write ``data`` on stdout: one indented JSON document, or with ``output="ndjson"``
    one compact JSON value per line (each item of ``data[records]`` for a list command,
    else the document itself on one line)."""
    if output != "ndjson":
        json.dump(data, sys.stdout, indent=2, default=_json_value)
        sys.stdout.write("\n")
        return
    items = data[records] if records is not None else [data]
    for item in items:
        sys.stdout.write(json.dumps(item, default=_json_value, separators=(",", ":")) + "\n")


def wants_json(args: argparse.Namespace) -> bool:
    """Whether the command was asked for JSON (``-o json`` or ``-o ndjson``); a namespace
    built by hand (a caller that is not the parser) means text."""
    return getattr(args, "output", "text") != "text"


def with_engine(settings: Settings, work: Callable[[Engine], Awaitable[T]]) -> T:
    """Run ``work`` against an engine on a fresh event loop, closing it afterwards."""
    progress = StderrProgress()

    async def run() -> T:
        engine = Engine(settings, progress=progress)
        try:
            return await work(engine)
        finally:
            progress.clear()
            await engine.aclose()

    return asyncio.run(run())


def playbook_named(name: str) -> Any:
    """A shipped or user playbook by name or path, loaded and validated."""
    from agent_ir.playbook.loader import find_playbook, load_playbook

    return load_playbook(find_playbook(name, []))


def playbook_params(playbook: Any, pairs: list[str]) -> dict[str, Any]:
    """The playbook's parameters from ``--param NAME=VALUE`` pairs, typed and defaulted."""
    from agent_ir.playbook.loader import resolve_params

    given: dict[str, str] = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise UsageError(f"--param expects NAME=VALUE, got {pair!r}")
        given[key] = value
    return dict(resolve_params(playbook, given))


def who_from_args(args: argparse.Namespace, default_reason: str | None = None) -> Any:
    """Who is acting and why, from ``--responder``/``$AGENT_IR_RESPONDER`` (else the OS
    user) and ``--reason``; a write without a reason is refused."""
    from agent_ir.engine.incident import Who

    reason = (args.reason or default_reason or "").strip()
    if not reason:
        raise UsageError("a reason is required for every write: --reason TEXT")
    responder = args.responder or os.environ.get("AGENT_IR_RESPONDER") or ""
    who = Who(responder=responder, reason=reason)
    return who if responder else Who(responder=who.os_user, reason=reason)


def print_causes(error: BaseException) -> None:
    """With ``--debug``: the chain of errors under an agent-ir error (the library's own,
    kept by each provider's boundary), so a responder can see what the SDK said."""
    seen: list[BaseException] = [error]
    cause = error.__cause__ or error.__context__
    while cause is not None and cause not in seen:
        kind = type(cause)
        print(f"  caused by {kind.__module__}.{kind.__qualname__}: {cause}", file=sys.stderr)
        seen.append(cause)
        cause = cause.__cause__ or cause.__context__
