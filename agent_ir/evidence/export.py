"""``journal export``: one incident as OCSF (a JSON array), NDJSON (one event a line) or
Markdown (a record an auditor can read, with the chain head to compare)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from agent_ir.engine.journal import Kind, Record
from agent_ir.errors import UsageError

FORMATS = ("ocsf", "ndjson", "md")


def export(records: Sequence[Record], fmt: str) -> str:
    """The incident in ``fmt``; the text ends with a newline."""
    if fmt == "md":
        return markdown(records)
    if fmt not in FORMATS:
        raise UsageError(f"unknown export format {fmt!r}; one of {', '.join(FORMATS)}")
    from agent_ir.evidence.ocsf import events

    found = events(records)
    if fmt == "ndjson":
        return "".join(json.dumps(e, sort_keys=True) + "\n" for e in found)
    return json.dumps(found, indent=2, sort_keys=True) + "\n"


def markdown(records: Sequence[Record]) -> str:
    """The incident as Markdown: who, why, the plan hash, each step's end, the chain head."""
    start: dict[str, Any] = records[0].payload if records else {}
    who = start.get("who") or {}
    intents = {r.payload.get("step"): r.payload for r in records if r.kind == Kind.INTENT}
    lines = [
        f"# Incident {start.get('incident', '?')}",
        "",
        f"- agent: {start.get('agent')}",
        f"- playbook: {start.get('playbook')}",
        f"- responder: {who.get('responder')} (OS user {who.get('os_user')})",
        f"- reason: {start.get('why')}",
        f"- plan hash: `{start.get('plan_hash')}`",
    ]
    if start.get("restore_of"):
        lines.append(f"- restore of: {start['restore_of']}")
    lines += [
        "",
        "| time | step | provider | action | target | result |",
        "|---|---|---|---|---|---|",
    ]
    for record in records:
        if record.kind != Kind.RESULT:
            continue
        step = record.payload.get("step")
        intent = intents.get(step, {})
        status = str(record.payload.get("status"))
        if record.payload.get("error"):
            status += f": {record.payload['error']}"
        cells = [
            record.ts,
            step,
            intent.get("provider"),
            intent.get("action"),
            intent.get("target"),
            status,
        ]
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    ends = [r for r in records if r.kind == Kind.END]
    if ends:
        lines += ["", f"Outcome: {ends[-1].payload.get('status')}"]
    if records:
        head = records[-1]
        lines += ["", f"Chain head: seq {head.seq}, sha256 `{head.hash}` ({len(records)} records)"]
    return "\n".join(lines) + "\n"


def _cell(value: Any) -> str:
    return str(value if value is not None else "").replace("|", "\\|").replace("\n", " ")
