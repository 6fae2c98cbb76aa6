"""``journal export`` and ``journal sinks``: evidence that leaves the laptop."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from agent_ir.cli.common import emit_json, wants_json
from agent_ir.errors import NotFoundError
from agent_ir.exit_codes import ExitCode
from agent_ir.settings import EvidenceSettings


def dispatch(args: argparse.Namespace, directory: Path) -> ExitCode:
    """Run the evidence subcommand ``args`` names."""
    if args.journal_command == "export":
        return export(args, directory)
    return sinks(args, directory)


def export(args: argparse.Namespace, directory: Path) -> ExitCode:
    """Print one incident in the asked format; the chain is verified first."""
    from agent_ir.engine import journal as jr
    from agent_ir.evidence.export import export as render

    path = jr.incident_path(directory, args.incident)
    if not path.exists():
        raise NotFoundError(f"no incident {args.incident} in {directory}")
    sys.stdout.write(render(jr.Journal.read(path), args.format))
    return ExitCode.OK


def _evidence(args: argparse.Namespace) -> EvidenceSettings | None:
    """The configuration's evidence section (none for the in-process lab)."""
    from agent_ir.settings import load_settings, locate

    path = None if (args.lab or args.world) else locate(args.config)
    return load_settings(path).evidence if path is not None else None


def sinks(args: argparse.Namespace, directory: Path) -> ExitCode:
    """Show what each sink still has to deliver; with ``--flush``, deliver it first."""
    from agent_ir.errors import DeliveryError
    from agent_ir.evidence import signals
    from agent_ir.evidence.sinks import deliver, status

    evidence = _evidence(args) or EvidenceSettings()
    errors = []
    if args.flush and evidence.signals is not None:
        errors += signals.flush(evidence.signals, directory)
    if args.flush:
        errors += deliver(evidence.sinks, directory)
    states = status(evidence.sinks, directory)
    waiting = signals.pending(directory)
    if wants_json(args):
        data = {"sinks": [s.to_json() for s in states], "signals_pending": waiting}
        emit_json(data, args.output, records="sinks")
    else:
        for incident, count in waiting.items():
            print(f"signals: {incident}: {count} not yet accepted by a receiver")
        for state in states:
            total = sum(state.pending.values())
            print(f"{state.name} ({state.type}): {total} record(s) pending")
            for incident, count in state.pending.items():
                print(f"  {incident}: {count}")
            if state.last_error:
                print(f"  last error: {state.last_error}")
        if not states:
            print("no sinks configured (evidence.sinks in the configuration)")
    if errors:
        raise DeliveryError("; ".join(errors))
    return ExitCode.OK


def verify_signatures(args: argparse.Namespace, directory: Path) -> int:
    """Check signed chain heads when a public key is configured; how many failed."""
    evidence = _evidence(args)
    signing = evidence.signing if evidence else None
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
