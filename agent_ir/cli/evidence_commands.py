"""``journal export`` and ``journal sinks``: evidence that leaves the laptop."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from agent_ir.errors import NotFoundError
from agent_ir.exit_codes import ExitCode


def dispatch(args: argparse.Namespace, directory: Path) -> ExitCode:
    """Run the evidence subcommand ``args`` names."""
    if args.journal_command == "export":
        return export(args, directory)
    return ExitCode.OK


def export(args: argparse.Namespace, directory: Path) -> ExitCode:
    """Print one incident in the asked format; the chain is verified first."""
    from agent_ir.engine import journal as jr
    from agent_ir.evidence.export import export as render

    path = jr.incident_path(directory, args.incident)
    if not path.exists():
        raise NotFoundError(f"no incident {args.incident} in {directory}")
    sys.stdout.write(render(jr.Journal.read(path), args.format))
    return ExitCode.OK
