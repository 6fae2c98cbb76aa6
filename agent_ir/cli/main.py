"""``agent-ir``: the command line. Parsing is stdlib-only so ``--help`` stays instant;
each command imports what it needs when it runs.

Errors become one message on stderr and an exit code from :mod:`agent_ir.exit_codes`;
a traceback appears only with ``--debug``.
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from agent_ir import __version__
from agent_ir.errors import AgentIRError, UsageError
from agent_ir.exit_codes import ExitCode, for_error


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{self.prog}: {message}")


def _output(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--output", "-o", choices=("text", "json"), default="text", help="output format"
    )


def _params(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--param", action="append", default=[], metavar="NAME=VALUE", help="playbook parameter"
    )


def _writes(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--reason", help="why (required for every write; journaled)")
    parser.add_argument(
        "--responder", help="who is acting (default: $AGENT_IR_RESPONDER or OS user)"
    )
    parser.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")
    parser.add_argument("--expect-plan", metavar="HASH", help="refuse if the plan hash differs")
    _wait(parser)
    _params(parser)
    _output(parser)


def _trust(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--force",
        action="store_true",
        help="act on a journal that fails verification (journaled)",
    )
    _wait(parser)


def _deadlines(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--step-deadline",
        type=float,
        metavar="SECONDS",
        help="a step still running after this ends failed (default 60)",
    )
    parser.add_argument(
        "--deadline",
        type=float,
        metavar="SECONDS",
        help="the whole run's deadline (default: sized from the plan)",
    )


def _wait(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--wait",
        action="store_true",
        help="wait while another run changes the same agent (default: refuse, exit 8)",
    )
    _deadlines(parser)


def build_parser() -> argparse.ArgumentParser:
    """The whole command-line grammar."""
    parser = _Parser(
        prog="agent-ir",
        description="See an AI agent's identities, credentials, access and delegation "
        "across Entra ID, AWS, Google Cloud and Okta, and cut it in one step.",
        epilog="With no configuration anywhere, commands run on the default lab world.",
    )
    parser.add_argument("--version", action="version", version=f"agent-ir {__version__}")
    parser.add_argument(
        "--config", type=Path, help="configuration file (else $AGENT_IR_CONFIG, else XDG)"
    )
    parser.add_argument(
        "--lab", action="store_true", help="start the lab in-process on the default world"
    )
    parser.add_argument("--world", type=Path, help="start the lab in-process on this world file")
    parser.add_argument("--read-only", action="store_true", help="refuse every write path")
    parser.add_argument("--debug", action="store_true", help="show tracebacks for internal errors")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    commands.add_parser(
        "console", help="open the console (the default on a terminal when no command is given)"
    )
    p = commands.add_parser("inventory", help="list every agent with its identities and findings")
    _output(p)
    p = commands.add_parser("show", help="one agent: identities, credentials, grants, delegation")
    p.add_argument("agent", help="agent name")
    _output(p)
    p = commands.add_parser("doctor", help="check configuration, connectivity and own permissions")
    _output(p)

    p = commands.add_parser("plan", help="show what a playbook would do to an agent (no changes)")
    p.add_argument("agent", help="agent name")
    p.add_argument("--playbook", default="contain-agent", help="playbook name or file")
    _params(p)
    _output(p)
    p = commands.add_parser("revoke", help="the kill switch: run contain-agent on an agent")
    p.add_argument("agent", help="agent name")
    _writes(p)
    p = commands.add_parser("run", help="run a playbook against an agent")
    p.add_argument("playbook", help="playbook name or file")
    p.add_argument("--agent", required=True, help="agent name")
    p.add_argument("--dry-run", action="store_true", help="plan only; change nothing")
    _writes(p)
    p = commands.add_parser("resume", help="finish a crashed run from its journal")
    p.add_argument("incident", help="incident id (IR-…)")
    _trust(p)
    _output(p)
    p = commands.add_parser("restore", help="undo an incident from its snapshots")
    p.add_argument("incident", help="incident id (IR-…)")
    p.add_argument("--reason", help="why (default: names the incident being undone)")
    p.add_argument("--responder", help="who is acting (default: $AGENT_IR_RESPONDER or OS user)")
    p.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")
    _trust(p)
    _output(p)
    journal = commands.add_parser("journal", help="incident journals: list, show, verify")
    journal_commands = journal.add_subparsers(
        dest="journal_command", metavar="JOURNAL_COMMAND", parser_class=_Parser, required=True
    )
    p = journal_commands.add_parser("list", help="every incident, newest first")
    _output(p)
    p = journal_commands.add_parser("show", help="one incident's records")
    p.add_argument("incident")
    _output(p)
    p = journal_commands.add_parser("verify", help="check hash chains (one incident or all)")
    p.add_argument("incident", nargs="?")
    p = commands.add_parser("permissions", help="least privilege the responder identity needs")
    p.add_argument("playbook", nargs="?", help="only what this playbook needs")
    _output(p)
    book = commands.add_parser("playbook", help="playbooks: validate, list, schema")
    book_commands = book.add_subparsers(
        dest="playbook_command", metavar="PLAYBOOK_COMMAND", parser_class=_Parser, required=True
    )
    p = book_commands.add_parser("validate", help="validate playbook files")
    p.add_argument("files", nargs="+", type=Path)
    book_commands.add_parser("list", help="the shipped playbooks")
    book_commands.add_parser("schema", help="print the playbook JSON Schema")

    p = commands.add_parser(
        "tabletop",
        help="play a tabletop exercise: in the console on a terminal, or headless with --yes",
    )
    p.add_argument(
        "exercise", nargs="?", help="exercise file or shipped exercise name (not with --join)"
    )
    p.add_argument(
        "--join",
        action="store_true",
        help="join the shared exercise 'lab serve --exercise' hosts (its --config)",
    )
    p.add_argument(
        "--end", action="store_true", help="with --join: end the shared exercise and score it"
    )
    p.add_argument("--playbook", default="contain-agent", help="playbook name or file")
    p.add_argument(
        "--agent",
        help="the suspect agent to respond to (required with --yes; console: the first suspect)",
    )
    p.add_argument("--at", type=float, help="when the playbook runs (seconds from the start)")
    p.add_argument("--report", type=Path, help="write the after-action report (Markdown)")
    p.add_argument("--report-json", type=Path, help="write the after-action report (JSON)")
    p.add_argument("--reason", help="why (journaled; default: names the exercise)")
    p.add_argument("--responder", help="who is acting (default: $AGENT_IR_RESPONDER or OS user)")
    p.add_argument("--yes", "-y", action="store_true", help="run the playbook without asking")
    _params(p)
    _output(p)
    lab = commands.add_parser("lab", help="the local lab of emulated providers")
    lab_commands = lab.add_subparsers(
        dest="lab_command", metavar="LAB_COMMAND", parser_class=_Parser
    )
    p = lab_commands.add_parser("serve", help="run the lab until interrupted")
    p.add_argument(
        "--world", dest="serve_world", type=Path, help="world file (default: the shipped one)"
    )
    p.add_argument("--config-out", type=Path, help="where to write the lab's configuration file")
    p.add_argument(
        "--exercise",
        help="host this exercise (its world) for responders who join with 'tabletop --join'",
    )
    p.add_argument("--agent", help="with --exercise: the suspect (default: the first)")
    p.add_argument("--report", type=Path, help="with --exercise: the after-action report (.md)")
    p.add_argument("--report-json", type=Path, help="with --exercise: the report as JSON")
    p = lab_commands.add_parser("faults", help="change a running lab's fault injection")
    p.add_argument("provider", choices=("aws", "entra", "gcp", "okta"))
    p.add_argument(
        "settings",
        nargs="*",
        metavar="KEY=VALUE",
        help="e.g. latency_ms=50 throttle_rate=0.2 (no settings: show the current ones)",
    )
    p = lab_commands.add_parser("generate", help="write a generated world of N agents")
    p.add_argument("--agents", type=int, default=1000, help="how many agents")
    p.add_argument("--accounts", type=int, default=2, help="how many AWS accounts")
    p.add_argument("--seed", type=int, default=7, help="random seed")
    p.add_argument(
        "--providers", default="aws", help="comma-separated: aws,entra,gcp,okta (default aws)"
    )
    p = lab_commands.add_parser("check", help="validate world files")
    p.add_argument("files", nargs="+", type=Path)
    return parser


def _terminated(signum: int, frame: FrameType | None) -> None:
    """SIGTERM unwinds like Ctrl-C, so a lab started here removes its directory (and the
    credential files in it) and journals are closed, instead of dying mid-way."""
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns the process exit code."""
    args: argparse.Namespace | None = None
    with contextlib.suppress(ValueError):  # not the main thread: leave signals alone
        signal.signal(signal.SIGTERM, _terminated)
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        if not args.command:
            if not (sys.stdin.isatty() and sys.stdout.isatty()):
                parser.print_help()
                return ExitCode.OK
            args.command = "console"
        from agent_ir.cli import commands

        return int(commands.dispatch(args))
    except AgentIRError as exc:
        print(f"agent-ir: {exc.message}", file=sys.stderr)
        return for_error(exc)
    except KeyboardInterrupt:
        print("agent-ir: interrupted", file=sys.stderr)
        return ExitCode.INTERRUPTED
    except BrokenPipeError:
        return ExitCode.OK
    except Exception as exc:  # noqa: BLE001 - the last line of defence: report, never trace
        if args is not None and getattr(args, "debug", False):
            traceback.print_exc()
        print(
            f"agent-ir: internal error: {type(exc).__name__}: {exc}\n"
            "This is a defect in agent-ir; run again with --debug for details.",
            file=sys.stderr,
        )
        return ExitCode.INTERNAL
