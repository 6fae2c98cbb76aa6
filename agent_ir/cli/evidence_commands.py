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


def verify_signatures(args: argparse.Namespace, directory: Path) -> int:
    """Check signed chain heads when a public key is configured; how many failed."""
    from agent_ir.settings import load_settings, locate

    path = None if (args.lab or args.world) else locate(args.config)
    settings = load_settings(path) if path is not None else None
    signing = settings.evidence.signing if settings and settings.evidence else None
    if signing is None or signing.public_key_file is None:
        return 0
    from agent_ir.evidence.anchor import verify_anchors

    report = verify_anchors(directory, signing.public_key_file, args.incident)
    print(f"signatures (key {report.key_id}): {'ok' if report.ok else 'FAILED'}")
    for problem in report.problems:
        print(f"  {problem}")
    for incident, problems in report.incidents.items():
        for problem in problems:
            print(f"  {incident}: {problem}")
    failed = sum(1 for problems in report.incidents.values() if problems)
    return failed + (1 if report.problems else 0)
