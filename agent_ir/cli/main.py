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
import time
import traceback
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from agent_ir import __version__
from agent_ir.cli.completion import KINDS, SHELLS, tag
from agent_ir.cli.help import epilog
from agent_ir.cli.terminal import guarded_streams
from agent_ir.errors import AgentIRError, UsageError
from agent_ir.exit_codes import ExitCode, for_error
from agent_ir.providers import registry


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        # main() adds the one "agent-ir:" prefix; name the subcommand, if any, after it.
        where = self.prog.removeprefix("agent-ir").strip()
        raise UsageError(f"{where}: {message}" if where else message)


OUTPUTS = ("text", "json", "ndjson", "csv")
"""csv is for ``activity`` only; other commands refuse it."""


def _global_options(parser: argparse.ArgumentParser, *, top: bool) -> None:
    """The options every command takes, before or after its name.

    The top-level parser holds the defaults; every subcommand repeats the options with
    ``SUPPRESS`` defaults, so a value given after the subcommand wins and an absent one
    leaves the top-level value alone.
    """

    def default(value: object) -> object:
        return value if top else argparse.SUPPRESS

    parser.add_argument(
        "--config",
        type=Path,
        default=default(None),
        help="configuration file (else $AGENT_IR_CONFIG, else XDG)",
    )
    parser.add_argument(
        "--lab",
        action="store_true",
        default=default(False),
        help="start the lab in-process on the default world",
    )
    parser.add_argument(
        "--world",
        type=Path,
        default=default(None),
        help="start the lab in-process on this world file",
    )
    parser.add_argument(
        "--read-only",
        action="store_true",
        default=default(False),
        help="refuse every write path",
    )
    parser.add_argument(
        "--output",
        "-o",
        choices=OUTPUTS,
        default=default("text"),
        help="output format (ndjson: one JSON value per line)",
    )
    parser.add_argument(
        "--debug",
        action="store_true",
        default=default(False),
        help="show tracebacks for internal errors",
    )


def _shared() -> _Parser:
    parent = _Parser(add_help=False)
    _global_options(parent, top=False)
    return parent


class _Commands:
    """Adds subcommands with the global options, a description, examples and exit codes."""

    def __init__(self, group: argparse._SubParsersAction[_Parser], path: str) -> None:
        self.group = group
        self.path = path
        self.parent = _shared()

    def add(self, name: str, help: str, **kwargs: object) -> _Parser:
        """One subcommand; its ``--help`` ends with examples and the exit codes."""
        path = f"{self.path} {name}".strip()
        return self.group.add_parser(
            name,
            help=help,
            description=help[:1].upper() + help[1:] + ".",
            parents=[self.parent],
            epilog=epilog(path),
            formatter_class=argparse.RawDescriptionHelpFormatter,
            **kwargs,  # type: ignore[arg-type]
        )

    def nested(self, parser: argparse.ArgumentParser, name: str, dest: str) -> _Commands:
        """The subcommands of a subcommand (``journal list``, ``lab serve``, ...)."""
        group = parser.add_subparsers(
            dest=dest, metavar=dest.upper(), parser_class=_Parser, required=True
        )
        return _Commands(group, f"{self.path} {name}".strip())


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


def _cut_first(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--no-cut-first",
        dest="cut_first",
        action="store_false",
        help="with --yes on one agent: plan the whole closure before the first write "
        "(default: cut the agent's own credentials and sessions while the rest is read)",
    )


def _select(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--select",
        metavar="EXPR",
        help="many agents in one incident, e.g. 'name=invoice-* owner=alice* risk>=high "
        "provider=okta' (keys: name owner finding risk provider blueprint okta-agent kind; "
        "@FILE of names)",
    )
    parser.add_argument(
        "--max-agents",
        type=int,
        metavar="N",
        help="with --select: refuse a selection of more than N agents (default 50)",
    )


def _agent(parser: argparse.ArgumentParser, *flags: str, **kwargs: object) -> None:
    names = flags or ("agent",)
    tag(parser.add_argument(*names, help="agent name", **kwargs), "agents")  # type: ignore[arg-type]


def _incident(parser: argparse.ArgumentParser, **kwargs: object) -> None:
    tag(parser.add_argument("incident", help="incident id (IR-…)", **kwargs), "incidents")  # type: ignore[arg-type]


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
        epilog="With no configuration anywhere, commands run on the default lab world.\n\n"
        + epilog(""),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"agent-ir {__version__}")
    _global_options(parser, top=True)
    group = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands = _Commands(group, "")

    commands.add("console", "open the console (the default on a terminal when no command is given)")
    commands.add("inventory", "list every agent with its identities and findings")
    p = commands.add("show", "one agent: identities, credentials, grants, delegation")
    _agent(p)
    commands.add("doctor", "check configuration, connectivity and own permissions")
    p = commands.add("activity", "what an agent did: one timeline over the providers' audit logs")
    _agent(p)
    p.add_argument("--since", default="24h", help="how far back: 24h, 30m, 7d or ISO 8601")
    p.add_argument("--until", help="the window's end (default now): a span back or ISO 8601")
    p.add_argument("--provider", action="append", choices=registry.names(), help="only these")
    p.add_argument("--limit", type=int, default=1000, help="at most this many events (newest)")
    p.add_argument("--trace", type=Path, metavar="FILE", help="OTLP JSON spans to join")

    p = commands.add("plan", "show what a playbook would do to an agent (no changes)")
    _agent(p)
    p.add_argument("--playbook", default="contain-agent", help="playbook name or file")
    _params(p)
    p = commands.add("revoke", "the kill switch: run contain-agent on an agent")
    _agent(p, nargs="?")
    _select(p)
    _writes(p)
    _cut_first(p)
    p = commands.add("run", "run a playbook against an agent")
    p.add_argument("playbook", help="playbook name or file")
    _agent(p, "--agent")
    _select(p)
    p.add_argument("--dry-run", action="store_true", help="plan only; change nothing")
    _writes(p)
    _cut_first(p)
    p = commands.add("resume", "finish a crashed run from its journal")
    _incident(p)
    _trust(p)
    p = commands.add("restore", "undo an incident from its snapshots")
    _incident(p)
    p.add_argument("--reason", help="why (default: names the incident being undone)")
    p.add_argument("--responder", help="who is acting (default: $AGENT_IR_RESPONDER or OS user)")
    p.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")
    p.add_argument(
        "--force",
        action="store_true",
        help="restore even if already restored, superseded by a newer incident, or its "
        "journal fails verification (journaled)",
    )
    _wait(p)
    journal = commands.add("journal", "incident journals: list, show, verify, export, sinks")
    journal_commands = commands.nested(journal, "journal", "journal_command")
    journal_commands.add("list", "every incident, newest first")
    p = journal_commands.add("show", "one incident: who, why, when, steps, verdict")
    _incident(p)
    p.add_argument("--records", action="store_true", help="print the raw hash-chained records")
    p = journal_commands.add(
        "verify", "check hash chains and, when a public key is configured, signatures"
    )
    _incident(p, nargs="?")
    p = journal_commands.add("export", "one incident as OCSF, NDJSON or Markdown")
    _incident(p)
    p.add_argument("--format", choices=("ocsf", "ndjson", "md"), default="ocsf")
    p = journal_commands.add("sinks", "what each configured sink still has to deliver")
    p.add_argument("--flush", action="store_true", help="deliver what is pending now")
    p = commands.add("report", "an incident report to paste into a ticket")
    _incident(p)
    p.add_argument("--format", choices=("md", "json"), default="md", help="report format")
    p.add_argument(
        "--activity",
        nargs="?",
        const="24h",
        metavar="SPAN",
        help="add the agent's audit-log activity from SPAN before the incident began until "
        "now (default 24h; asks the providers)",
    )
    p.add_argument("--activity-limit", type=int, default=1000, metavar="N", help="at most N events")
    p.add_argument(
        "--out", type=Path, metavar="FILE", help="write the report here (default stdout)"
    )
    p = commands.add("permissions", "least privilege the responder identity needs")
    p.add_argument("playbook", nargs="?", help="only what this playbook needs")
    p.add_argument(
        "--aws-policy",
        action="store_true",
        help="print only the AWS IAM policy document (to paste into IAM)",
    )
    book = commands.add("playbook", "playbooks: validate, list, schema")
    book_commands = commands.nested(book, "playbook", "playbook_command")
    p = book_commands.add("validate", "validate playbook files")
    p.add_argument("files", nargs="+", type=Path)
    book_commands.add("list", "the shipped playbooks, then your own")
    book_commands.add("schema", "print the playbook JSON Schema")

    p = commands.add(
        "tabletop",
        "play a tabletop exercise: in the console on a terminal, or headless with --yes",
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
    _agent(p, "--agent")
    p.add_argument("--at", type=float, help="when the playbook runs (seconds from the start)")
    p.add_argument("--report", type=Path, help="write the after-action report (Markdown)")
    p.add_argument("--report-json", type=Path, help="write the after-action report (JSON)")
    p.add_argument("--reason", help="why (journaled; default: names the exercise)")
    p.add_argument("--responder", help="who is acting (default: $AGENT_IR_RESPONDER or OS user)")
    p.add_argument("--yes", "-y", action="store_true", help="run the playbook without asking")
    _params(p)
    lab = commands.add("lab", "the local lab of emulated providers")
    lab_commands = commands.nested(lab, "lab", "lab_command")
    p = lab_commands.add("serve", "run the lab until interrupted (on --world, else the default)")
    p.add_argument("--config-out", type=Path, help="where to write the lab's configuration file")
    p.add_argument(
        "--exercise",
        help="host this exercise (its world) for responders who join with 'tabletop --join'",
    )
    p.add_argument("--agent", help="with --exercise: the suspect (default: the first)")
    p.add_argument("--report", type=Path, help="with --exercise: the after-action report (.md)")
    p.add_argument("--report-json", type=Path, help="with --exercise: the report as JSON")
    p = lab_commands.add("faults", "show or change a running lab's fault injection")
    p.add_argument("provider", choices=registry.names())
    p.add_argument(
        "settings",
        nargs="*",
        metavar="KEY=VALUE",
        help="e.g. latency_ms=50 throttle_rate=0.2 (no settings: show the current ones)",
    )
    p = lab_commands.add("generate", "write a generated world of N agents")
    p.add_argument("--agents", type=int, default=1000, help="how many agents")
    p.add_argument("--accounts", type=int, default=2, help="how many AWS accounts")
    p.add_argument("--seed", type=int, default=7, help="random seed")
    p.add_argument(
        "--providers",
        default="aws",
        help=f"comma-separated: {','.join(registry.names())} (default aws)",
    )
    p = lab_commands.add("check", "validate world files")
    p.add_argument("files", nargs="+", type=Path)
    lab_commands.add(
        "reset", "start the default lab (used when nothing is configured) over from its world"
    )
    p = lab_commands.add("trace", "write the OTLP JSON trace of an agent's seeded lab activity")
    p.add_argument("agent", help="the agent whose runtime trace to write (invoice-agent)")
    p = commands.add("completion", "print a shell completion script")
    p.add_argument("shell", nargs="?", choices=SHELLS, help="bash, zsh or fish")
    p.add_argument("--list", choices=KINDS, help=argparse.SUPPRESS)
    return parser


def _terminated(signum: int, frame: FrameType | None) -> None:
    """SIGTERM unwinds like Ctrl-C, so a lab started here removes its directory (and the
    credential files in it) and journals are closed, instead of dying mid-way."""
    raise KeyboardInterrupt


def _completion(args: argparse.Namespace, parser: argparse.ArgumentParser) -> ExitCode:
    """Print a shell completion script for ``parser``, or (for that script) cached names."""
    from agent_ir.cli import completion

    if args.list:
        for name in completion.cached(args.list):
            print(name)
        return ExitCode.OK
    if args.shell is None:
        raise UsageError("completion: name a shell (bash, zsh or fish)")
    sys.stdout.write(completion.script(parser, args.shell))
    return ExitCode.OK


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns the process exit code. Everything it writes as text passes
    the terminal sanitiser (provider strings are attacker-shaped data)."""
    with guarded_streams():
        return _main(argv)


def _main(argv: Sequence[str] | None) -> int:
    started = time.monotonic()
    args: argparse.Namespace | None = None
    with contextlib.suppress(ValueError):  # not the main thread: leave signals alone
        signal.signal(signal.SIGTERM, _terminated)
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        args.started = started
        if not args.command:
            if not (sys.stdin.isatty() and sys.stdout.isatty()):
                parser.print_help()
                return ExitCode.OK
            args.command = "console"
        if args.command == "completion":
            return int(_completion(args, parser))
        if args.command == "console" and getattr(args, "output", "text") != "csv":
            # not through the commands module, which imports the engine: the console
            # paints first and imports the rest behind its start-up screen
            from agent_ir.cli import console

            return int(console.cmd_console(args))
        from agent_ir.cli import commands

        return int(commands.dispatch(args))
    except AgentIRError as exc:
        print(f"agent-ir: {exc.message}", file=sys.stderr)
        if args is not None and getattr(args, "debug", False):
            from agent_ir.cli.common import print_causes

            print_causes(exc)
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
