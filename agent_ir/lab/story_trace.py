"""The trace the agent's runtime would have exported for the lab's seeded activity.

A world's ``activity:`` places calls relative to the lab's seeding instant; this module
places spans relative to the same instant, so ``agent-ir lab trace AGENT`` gives a file
that ``agent-ir activity AGENT --trace FILE`` joins back to the seeded events: one
``invoke_agent`` span a night (its conversation), one ``execute_tool`` span per call with
the AWS request id and role session name the SDK saw. Tool names come from
``agent_ir/data/traces/<agent>.yaml``. Only AWS entries are rendered for now.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from agent_ir.data import shipped_file
from agent_ir.errors import NotFoundError
from agent_ir.lab.activity_world import plan
from agent_ir.lab.aws_trail import seeded_request_id
from agent_ir.lab.world import World

LEAD = timedelta(milliseconds=300)
"""How long before the provider's record a tool span starts (the model's own latency)."""
TAIL = timedelta(milliseconds=500)


def runtime_of(agent: str) -> dict[str, Any]:
    """The agent's runtime description (tools by action), shipped with the lab's story."""
    path: Path = shipped_file("traces", f"{agent}.yaml")
    if not path.is_file():
        raise NotFoundError(f"no story trace for agent {agent!r} ({path} is missing)")
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return data if isinstance(data, dict) else {}


def story_trace(world: World, now: datetime, agent: str) -> dict[str, Any]:
    """OTLP JSON (the file exporter's shape) for ``agent``'s seeded AWS activity."""
    runtime = runtime_of(agent)
    tools: dict[str, str] = {str(k): str(v) for k, v in (runtime.get("tools") or {}).items()}
    ids = {i.id for a in world.inventory if a.name == agent for i in a.identities}
    if not ids:
        raise NotFoundError(f"agent {agent!r} is not in world {world.name!r}'s inventory")
    spans: list[dict[str, Any]] = []
    nights: dict[str, list[dict[str, Any]]] = {}
    for index, spec in enumerate(world.activity):
        if spec.provider != "aws" or spec.identity not in ids:
            continue
        for call in plan(spec, now, f"{world.name}:{index}"):
            day = call.when.date().isoformat()
            conversation = f"conv-{agent}-{day}"
            trace_id = _hex(32, "trace", agent, day)
            attributes = {
                "gen_ai.operation.name": "execute_tool",
                "gen_ai.tool.name": tools.get(call.action, call.action.replace(":", "_")),
                "gen_ai.tool.call.id": "call_" + _hex(24, "call", index, call.number),
                "gen_ai.conversation.id": conversation,
                "aws.request_id": seeded_request_id(spec, index, call.number),
                "rpc.system": "aws-api",
                "rpc.method": call.action.split(":", 1)[1],
            }
            if spec.session:
                attributes["aws.sts.role_session_name"] = spec.session
            nights.setdefault(day, []).append(
                _span(
                    trace_id,
                    _hex(16, "span", index, call.number),
                    _hex(16, "root", agent, day),
                    f"execute_tool {attributes['gen_ai.tool.name']}",
                    call.when - LEAD,
                    call.when + TAIL,
                    attributes,
                )
            )
    for day, children in nights.items():
        spans += children
        spans.append(_root(agent, day, runtime, children))
    spans.sort(key=lambda s: (int(s["startTimeUnixNano"]), s["spanId"]))
    service = str(runtime.get("service") or agent)
    return {
        "resourceSpans": [
            {
                "resource": {"attributes": _attrs({"service.name": service})},
                "scopeSpans": [{"scope": {"name": "agent-ir.lab.story"}, "spans": spans}],
            }
        ]
    }


def _root(
    agent: str, day: str, runtime: dict[str, Any], children: list[dict[str, Any]]
) -> dict[str, Any]:
    """The night's ``invoke_agent`` span, around its tool calls (one conversation)."""
    start = min(int(c["startTimeUnixNano"]) for c in children)
    end = max(int(c["endTimeUnixNano"]) for c in children)
    return {
        "traceId": _hex(32, "trace", agent, day),
        "spanId": _hex(16, "root", agent, day),
        "name": f"invoke_agent {agent}",
        "kind": 1,
        "startTimeUnixNano": str(start - 1_000_000_000),
        "endTimeUnixNano": str(end + 1_000_000_000),
        "attributes": _attrs(
            {
                "gen_ai.operation.name": "invoke_agent",
                "gen_ai.agent.name": agent,
                "gen_ai.conversation.id": f"conv-{agent}-{day}",
                "gen_ai.request.model": str(runtime.get("model") or ""),
            }
        ),
    }


def _span(
    trace_id: str,
    span_id: str,
    parent: str,
    name: str,
    start: datetime,
    end: datetime,
    attributes: dict[str, str],
) -> dict[str, Any]:
    return {
        "traceId": trace_id,
        "spanId": span_id,
        "parentSpanId": parent,
        "name": name,
        "kind": 3,
        "startTimeUnixNano": str(_nanos(start)),
        "endTimeUnixNano": str(_nanos(end)),
        "attributes": _attrs(attributes),
    }


def _attrs(values: dict[str, str]) -> list[dict[str, Any]]:
    return [{"key": k, "value": {"stringValue": v}} for k, v in values.items() if v]


def _nanos(moment: datetime) -> int:
    return int(moment.timestamp()) * 1_000_000_000 + moment.microsecond * 1000


def _hex(width: int, *parts: object) -> str:
    return hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()[:width]
