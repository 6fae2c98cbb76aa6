"""``agent-ir activity AGENT``: what the agent did, newest first, across the providers."""

from __future__ import annotations

import argparse
import csv
import re
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

from agent_ir.activity.model import ActivityEvent, ActivityWindow
from agent_ir.activity.timeline import Timeline, build_timeline
from agent_ir.activity.trace import join, read_trace
from agent_ir.cli.common import emit_json, with_engine
from agent_ir.cli.completion import remember_agents
from agent_ir.cli.environment import environment
from agent_ir.errors import UsageError
from agent_ir.exit_codes import ExitCode
from agent_ir.model import ProviderName, iso
from agent_ir.providers import registry

_SPAN = re.compile(r"^(\d+)([smhdw])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
CSV_FIELDS = (
    "when",
    "provider",
    "identity",
    "via",
    "chain",
    "action",
    "resource",
    "outcome",
    "error",
    "source_ip",
    "user_agent",
    "request_id",
    "session",
    "account",
    "tool",
    "conversation_id",
)


def parse_moment(text: str, now: datetime, flag: str) -> datetime:
    """``24h``/``30m``/``7d`` back from ``now``, or an ISO 8601 moment (UTC if no zone)."""
    match = _SPAN.match(text.strip())
    if match:
        return now - timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(
            f"{flag} {text!r}: give a span back from now (24h, 30m, 7d) or an ISO 8601 time"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def window_of(args: argparse.Namespace, now: datetime) -> ActivityWindow:
    """The window and bound the arguments ask for."""
    since = parse_moment(args.since, now, "--since")
    until = parse_moment(args.until, now, "--until") if args.until else now
    if until < since:
        raise UsageError("--until is before --since")
    if args.limit < 1:
        raise UsageError("--limit must be at least 1")
    return ActivityWindow(since, until, args.limit)


def cmd_activity(args: argparse.Namespace) -> ExitCode:
    """Read the agent's activity timeline and print it."""
    window = window_of(args, datetime.now(UTC))
    trace = read_trace(args.trace) if args.trace else None  # a bad file fails before the lab

    only: list[ProviderName] | None = None
    if args.provider:
        only = [p for p in registry.names() if p in set(args.provider)]
    with environment(args) as settings:
        timeline = with_engine(
            settings, lambda engine: build_timeline(engine, args.agent, window, only)
        )
    remember_agents([timeline.agent], replace=False)
    if trace is not None:
        timeline.events = join(timeline.events, trace)
        print(
            f"agent-ir: trace {trace.path}: {len(trace.spans)} spans ({trace.gen_ai} GenAI); "
            f"{trace.joined} of {len(timeline.events)} events joined to a tool call",
            file=sys.stderr,
        )
    if args.output in ("json", "ndjson"):
        emit_json(timeline.to_json(), args.output, records="events")
    elif args.output == "csv":
        write_csv(timeline.events)
    else:
        print(timeline_text(timeline))
    for status in timeline.unavailable:
        print(f"agent-ir: {status.reason}", file=sys.stderr)
    if timeline.partial:
        answered = any(s.state == "answered" for s in timeline.statuses)
        return ExitCode.PARTIAL if answered else ExitCode.PROVIDER
    return ExitCode.OK


def csv_row(event: ActivityEvent) -> dict[str, Any]:
    """One CSV row: the chain joined with arrows, the trace cause flattened."""
    return {
        "when": iso(event.when),
        "provider": event.provider,
        "identity": event.identity,
        "via": event.via,
        "chain": " -> ".join(h.text() for h in event.chain),
        "action": event.action,
        "resource": event.resource,
        "outcome": event.outcome,
        "error": event.error,
        "source_ip": event.source_ip,
        "user_agent": event.user_agent,
        "request_id": event.request_id,
        "session": event.session,
        "account": event.account,
        "tool": event.cause.tool if event.cause else "",
        "conversation_id": event.cause.conversation_id if event.cause else "",
    }


def write_csv(events: list[ActivityEvent]) -> None:
    """The events as CSV on stdout (a spreadsheet's first look at them)."""
    writer = csv.DictWriter(sys.stdout, fieldnames=CSV_FIELDS, lineterminator="\n")
    writer.writeheader()
    for event in events:
        writer.writerow(csv_row(event))


def timeline_text(timeline: Timeline) -> str:
    """The table: one line an event, its chain beneath when it came through one."""
    window = timeline.window
    lines = [
        f"activity of {timeline.agent} from {iso(window.since)} to {iso(window.until)}"
        f" ({len(timeline.events)} events"
        + (f", cut at {window.limit}" if timeline.truncated else "")
        + ")"
    ]
    for status in timeline.statuses:
        state = status.state + (f": {status.reason}" if status.reason else "")
        lines.append(f"  {status.provider:<6} {state} ({status.events} events)")
    if timeline.containment is not None:
        held = timeline.containment
        lines.append(f"  contained by {held.incident} at {iso(held.at)}")
    for finding in timeline.findings:
        lines.append(
            f"  finding {finding.severity.value.upper()} {finding.code}: {finding.message}"
        )
    lines.append("")
    cutoff = timeline.containment.cutoff if timeline.containment else None
    for event in timeline.events:
        mark = {"success": "ok", "denied": "DENIED", "failure": "FAILED"}[event.outcome]
        when = event.when.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
        lines.append(
            f"{when}  {event.provider:<5} {event.identity:<22} {event.action:<32} "
            f"{mark:<6} {event.resource}"
            + ("  [after containment]" if cutoff and event.when >= cutoff else "")
        )
        if event.via == "chain":
            lines.append("      via " + " -> ".join(h.text() for h in event.chain))
        if event.cause is not None:
            cause = event.cause
            lines.append(
                f"      caused by tool {cause.tool or '?'} (call {cause.tool_call_id or '?'},"
                f" conversation {cause.conversation_id or '?'})"
            )
    return "\n".join(lines)
