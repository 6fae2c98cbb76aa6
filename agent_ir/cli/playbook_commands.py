"""The ``agent-ir playbook`` subcommands: ``validate``, ``list`` and ``schema``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from agent_ir.cli.common import emit_json, wants_json
from agent_ir.errors import PlaybookError
from agent_ir.exit_codes import ExitCode


def validate(args: argparse.Namespace) -> ExitCode:
    """Validate playbook files (``args.files``); report every problem of every file.

    Prints ``FILE: ok (N steps)`` on stdout for each valid file and each problem of each
    invalid one on stderr; exits ``BAD_INPUT`` if any file is invalid.
    """
    from agent_ir.playbook.loader import load_playbook

    failed = False
    checked: list[dict[str, Any]] = []
    for path in args.files:
        try:
            playbook = load_playbook(path)
        except PlaybookError as exc:
            failed = True
            _report(exc)
            problems = [str(p) for p in exc.problems]
            checked.append({"file": str(path), "ok": False, "steps": None, "problems": problems})
            continue
        count = len(playbook.steps)
        checked.append({"file": str(path), "ok": True, "steps": count, "problems": []})
        if not wants_json(args):
            print(f"{path}: ok ({count} step{'s' if count != 1 else ''})")
    if wants_json(args):
        emit_json({"files": checked}, args.output, records="files")
    return ExitCode.BAD_INPUT if failed else ExitCode.OK


def list_(args: argparse.Namespace) -> ExitCode:
    """List the shipped playbooks, then the user's own, with their descriptions.

    An invalid playbook is still listed; its problems go to stderr and the exit code is
    ``BAD_INPUT``.
    """
    from agent_ir.playbook.loader import load_playbook, shipped_playbooks, user_playbook_dir

    user_dir = user_playbook_dir()
    found: list[tuple[str, str, Path]] = [
        (name, "shipped", path) for name, path in shipped_playbooks().items()
    ]
    found += [(path.stem, "user", path) for path in sorted(user_dir.glob("*.yaml"))]
    rows: list[tuple[str, str, str, str]] = []
    listed: list[dict[str, Any]] = []
    failed = False
    for name, source, path in found:
        try:
            playbook = load_playbook(path)
        except PlaybookError as exc:
            failed = True
            _report(exc)
            rows.append((name, source, "-", f"invalid: agent-ir playbook validate {path}"))
            listed.append(_listed(name, source, path, None, None))
            continue
        summary = playbook.description.strip().splitlines()[0] if playbook.description else ""
        rows.append((name, source, str(len(playbook.steps)), summary))
        listed.append(_listed(name, source, path, len(playbook.steps), summary))
    if wants_json(args):
        emit_json({"playbooks": listed}, args.output, records="playbooks")
        return ExitCode.BAD_INPUT if failed else ExitCode.OK
    if not rows:
        print("no playbooks found")
        return ExitCode.OK
    header = ("NAME", "SOURCE", "STEPS", "DESCRIPTION")
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(3)]
    for row in (header, *rows):
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        print("  ".join([*cells, row[3]]).rstrip())
    return ExitCode.BAD_INPUT if failed else ExitCode.OK


def _listed(
    name: str, source: str, path: Path, steps: int | None, description: str | None
) -> dict[str, Any]:
    """One playbook of ``playbook list -o json`` (``valid`` false: see its problems)."""
    return {
        "name": name,
        "source": source,
        "path": str(path),
        "valid": steps is not None,
        "steps": steps,
        "description": description,
    }


def schema(args: argparse.Namespace) -> ExitCode:
    """Print the JSON Schema of playbook files."""
    from agent_ir.playbook.schema import schema_text

    sys.stdout.write(schema_text())
    return ExitCode.OK


def _report(error: PlaybookError) -> None:
    for problem in error.problems:
        print(f"agent-ir: {problem}", file=sys.stderr)
