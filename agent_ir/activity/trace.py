"""The agent's own traces joined to its provider events: which tool call caused which call.

Agent runtimes export OpenTelemetry spans with the GenAI semantic conventions
(``gen_ai.operation.name``, ``gen_ai.tool.name``, ``gen_ai.tool.call.id``,
``gen_ai.conversation.id``). ``read_trace`` reads the file exporter's OTLP JSON (one
``{"resourceSpans": [...]}`` document, or JSON lines of them), bounded and with every
problem located; ``join`` sets each event's ``cause``:

1. ``request-id``: a span (or a descendant of a GenAI span) carries the event's request id
   (``aws.request_id``, or any attribute or recorded header named like ``request_id`` /
   ``x-amzn-requestid``), within ``ID_SLACK`` of the event;
2. ``session-name`` / ``client-id``: a span carries the role session name
   (``aws.sts.role_session_name``) or client id the event shows, and the event falls
   within the span (give or take ``WINDOW_SLACK``);
3. ``time``: the event falls within a tool span (``gen_ai.tool.name``) and no identifier
   says otherwise; the tightest such span wins.

``WINDOW_SLACK`` covers CloudTrail's whole seconds and a little clock skew between the
agent's host and the provider.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from agent_ir import boundedjson
from agent_ir.activity.model import ActivityEvent, TraceCause
from agent_ir.errors import Problem, TraceError

MAX_TRACE_BYTES = 64 * 1024 * 1024
"""The largest trace file read (the whole file is held while it is parsed)."""
WINDOW_SLACK = timedelta(seconds=2)
ID_SLACK = timedelta(minutes=10)

_TOOL = "gen_ai.tool.name"
_OPERATION = "gen_ai.operation.name"
_CALL = "gen_ai.tool.call.id"
_CONVERSATION = "gen_ai.conversation.id"


@dataclass(frozen=True, slots=True)
class Span:
    """One span, its attributes flattened to strings (arrays kept as tuples)."""

    trace_id: str
    span_id: str
    parent_id: str
    name: str
    start: datetime
    end: datetime
    attributes: Mapping[str, str | tuple[str, ...]] = field(default_factory=dict)

    def attr(self, key: str) -> str:
        """One attribute as text ('' when absent; an array's first value)."""
        value = self.attributes.get(key, "")
        return value[0] if isinstance(value, tuple) and value else str(value or "")

    @property
    def gen_ai(self) -> bool:
        """Whether the span follows the GenAI conventions."""
        return any(k.startswith("gen_ai.") for k in self.attributes)

    def values(self, *needles: str) -> set[str]:
        """Every value of the attributes whose names contain one of ``needles``."""
        found: set[str] = set()
        for key, value in self.attributes.items():
            name = key.lower().replace("-", "_")
            if any(n in name for n in needles):
                found.update(value if isinstance(value, tuple) else (value,))
        return {v for v in found if v}


@dataclass(slots=True)
class Trace:
    """The spans of one file and what joining them found."""

    path: str
    spans: list[Span]
    joined: int = 0

    @property
    def gen_ai(self) -> int:
        """How many spans follow the GenAI conventions."""
        return sum(1 for s in self.spans if s.gen_ai)


# -- reading ------------------------------------------------------------------------------


def read_trace(path: Path) -> Trace:
    """The spans of an OTLP JSON file (a document or JSON lines); TraceError, located."""
    try:
        raw = path.read_bytes() if path.stat().st_size <= MAX_TRACE_BYTES else None
    except OSError as exc:
        raise TraceError([Problem(str(path), None, "", f"cannot read it: {exc.strerror}")]) from exc
    if raw is None:
        message = f"larger than {MAX_TRACE_BYTES // (1024 * 1024)} MiB; split it"
        raise TraceError([Problem(str(path), None, "", message)])
    problems: list[Problem] = []
    spans: list[Span] = []
    for line, document in _documents(str(path), raw, problems):
        spans += _spans(str(path), line, document, problems)
    if problems:
        raise TraceError(problems[:20])
    return Trace(str(path), spans)


def _documents(name: str, raw: bytes, problems: list[Problem]) -> list[tuple[int | None, Any]]:
    """The file as one document, else as JSON lines (each with its line number)."""
    try:
        return [(None, boundedjson.loads(raw, max_bytes=MAX_TRACE_BYTES))]
    except boundedjson.TooLarge as exc:
        problems.append(Problem(name, None, "", f"refused: {exc}"))
        return []
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        if not isinstance(exc, json.JSONDecodeError) or exc.msg != "Extra data":
            problems.append(Problem(name, getattr(exc, "lineno", None), "", f"not JSON: {exc}"))
            return []
    out: list[tuple[int | None, Any]] = []
    for number, text in enumerate(raw.splitlines(), start=1):
        if not text.strip():
            continue
        try:
            out.append((number, boundedjson.loads(text, max_bytes=MAX_TRACE_BYTES)))
        except (ValueError, UnicodeDecodeError) as exc:
            problems.append(Problem(name, number, "", f"not a JSON line: {exc}"))
    return out


def _spans(name: str, line: int | None, document: Any, problems: list[Problem]) -> list[Span]:
    """The spans of one ``{"resourceSpans": [...]}`` document."""

    def problem(where: str, message: str) -> None:
        problems.append(Problem(name, line, where, message))

    if not isinstance(document, dict) or not isinstance(document.get("resourceSpans"), list):
        problem("", 'expected an OTLP object {"resourceSpans": [...]}')
        return []
    out = []
    for r, resource_spans in enumerate(document["resourceSpans"]):
        where = f"resourceSpans[{r}]"
        if not isinstance(resource_spans, dict):
            problem(where, "expected an object")
            continue
        resource = resource_spans.get("resource") or {}
        base = _attributes(resource.get("attributes"), f"{where}.resource", problem)
        for s, scope in enumerate(_list(resource_spans, "scopeSpans", where, problem)):
            at = f"{where}.scopeSpans[{s}]"
            if not isinstance(scope, dict):
                problem(at, "expected an object")
                continue
            for n, span in enumerate(_list(scope, "spans", at, problem)):
                made = _span(span, f"{at}.spans[{n}]", base, problem)
                if made is not None:
                    out.append(made)
    return out


def _list(obj: dict[str, Any], key: str, where: str, problem: Any) -> list[Any]:
    value = obj.get(key, [])
    if not isinstance(value, list):
        problem(f"{where}.{key}", "expected a list")
        return []
    return value


def _span(
    span: Any, where: str, base: dict[str, str | tuple[str, ...]], problem: Any
) -> Span | None:
    if not isinstance(span, dict):
        problem(where, "expected a span object")
        return None
    span_id = span.get("spanId")
    if not isinstance(span_id, str) or not span_id:
        problem(where, "spanId is missing")
        return None
    start = _nanos(span.get("startTimeUnixNano"), f"{where}.startTimeUnixNano", problem)
    end = _nanos(span.get("endTimeUnixNano", span.get("startTimeUnixNano")), where, problem)
    if start is None or end is None:
        return None
    if end < start:
        problem(where, "endTimeUnixNano is before startTimeUnixNano")
        return None
    attributes = {**base, **_attributes(span.get("attributes"), where, problem)}
    return Span(
        str(span.get("traceId") or ""),
        span_id,
        str(span.get("parentSpanId") or ""),
        str(span.get("name") or ""),
        start,
        end,
        attributes,
    )


def _nanos(value: Any, where: str, problem: Any) -> datetime | None:
    """OTLP JSON writes 64-bit integers as strings; both forms are accepted."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        problem(where, "expected nanoseconds since the epoch (a string or an integer)")
        return None
    try:
        nanos = int(value)
        return datetime.fromtimestamp(nanos / 1e9, UTC)
    except (ValueError, OverflowError, OSError):
        problem(where, f"{value!r} is not nanoseconds since the epoch")
        return None


def _attributes(items: Any, where: str, problem: Any) -> dict[str, str | tuple[str, ...]]:
    if items is None:
        return {}
    if not isinstance(items, list):
        problem(f"{where}.attributes", "expected a list of {key, value}")
        return {}
    out: dict[str, str | tuple[str, ...]] = {}
    for n, item in enumerate(items):
        if not isinstance(item, dict) or not isinstance(item.get("key"), str):
            problem(f"{where}.attributes[{n}]", "expected {key, value}")
            continue
        value = _value(item.get("value"))
        if value is not None:
            out[item["key"]] = value
    return out


def _value(value: Any) -> str | tuple[str, ...] | None:
    """An OTLP AnyValue as text (``arrayValue`` as a tuple; maps and bytes skipped)."""
    if not isinstance(value, dict):
        return None
    for kind in ("stringValue", "intValue", "doubleValue", "boolValue"):
        if kind in value:
            return str(value[kind])
    array = value.get("arrayValue")
    if isinstance(array, dict) and isinstance(array.get("values"), list):
        items = [_value(v) for v in array["values"]]
        return tuple(v for v in items if isinstance(v, str))
    return None


# -- joining ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Candidate:
    span: Span
    cause: TraceCause


def causes(spans: Sequence[Span]) -> list[_Candidate]:
    """Each span that belongs to a GenAI operation, with the cause it would give: the
    tool and call from the nearest GenAI span up its parents, the conversation too."""
    by_id = {s.span_id: s for s in spans}
    out = []
    for span in spans:
        lineage = _lineage(span, by_id)
        if not any(s.gen_ai for s in lineage):
            continue
        tool_span = next((s for s in lineage if s.attr(_TOOL)), None)
        op_span = next((s for s in lineage if s.attr(_OPERATION)), None)
        cause = TraceCause(
            span_id=(tool_span or op_span or span).span_id,
            operation=op_span.attr(_OPERATION) if op_span else "",
            tool=tool_span.attr(_TOOL) if tool_span else "",
            tool_call_id=next((s.attr(_CALL) for s in lineage if s.attr(_CALL)), ""),
            conversation_id=next(
                (s.attr(_CONVERSATION) for s in lineage if s.attr(_CONVERSATION)), ""
            ),
        )
        out.append(_Candidate(span, cause))
    return out


def _lineage(span: Span, by_id: Mapping[str, Span]) -> list[Span]:
    """The span, its parent, its parent's parent... (cycles cut)."""
    out, seen = [span], {span.span_id}
    while out[-1].parent_id in by_id and out[-1].parent_id not in seen:
        seen.add(out[-1].parent_id)
        out.append(by_id[out[-1].parent_id])
    return out


def _within(event: ActivityEvent, span: Span, slack: timedelta) -> bool:
    return span.start - slack <= event.when <= span.end + slack


def join(events: Iterable[ActivityEvent], trace: Trace) -> list[ActivityEvent]:
    """The events, each with the cause the trace gives it (see the module doc)."""
    candidates = causes(trace.spans)
    by_request: dict[str, list[_Candidate]] = {}
    by_session: dict[str, list[_Candidate]] = {}
    by_client: dict[str, list[_Candidate]] = {}
    for c in candidates:
        for value in c.span.values("request_id", "requestid"):
            by_request.setdefault(value, []).append(c)
        for value in c.span.values("session_name"):
            by_session.setdefault(value, []).append(c)
        for value in c.span.values("client_id", "clientid", "app_id"):
            by_client.setdefault(value, []).append(c)
    tools = [c for c in candidates if c.span.attr(_TOOL)]
    out = []
    for event in events:
        cause = _cause(event, by_request, by_session, by_client, tools)
        if cause is not None:
            trace.joined += 1
            event = replace(event, cause=cause)
        out.append(event)
    return out


def _cause(
    event: ActivityEvent,
    by_request: Mapping[str, list[_Candidate]],
    by_session: Mapping[str, list[_Candidate]],
    by_client: Mapping[str, list[_Candidate]],
    tools: Sequence[_Candidate],
) -> TraceCause | None:
    if event.request_id:
        hits = [c for c in by_request.get(event.request_id, []) if _within(event, c.span, ID_SLACK)]
        if hits:
            return replace(_tightest(event, hits).cause, joined_by="request-id")
    if event.session:
        hits = [
            c for c in by_session.get(event.session, []) if _within(event, c.span, WINDOW_SLACK)
        ]
        if hits:
            return replace(_tightest(event, hits).cause, joined_by="session-name")
    clients = {event.identity_id, event.session, *(h.principal for h in event.chain)}
    hits = [
        c
        for client in clients
        if client
        for c in by_client.get(client, [])
        if _within(event, c.span, WINDOW_SLACK)
    ]
    if hits:
        return replace(_tightest(event, hits).cause, joined_by="client-id")
    hits = [c for c in tools if _within(event, c.span, WINDOW_SLACK) and not _names_other(c, event)]
    if hits:
        return replace(_tightest(event, hits).cause, joined_by="time")
    return None


def _names_other(candidate: _Candidate, event: ActivityEvent) -> bool:
    """Whether the span names another request than the event's (then time alone must not
    join them)."""
    ids = candidate.span.values("request_id", "requestid")
    return bool(ids) and bool(event.request_id) and event.request_id not in ids


def _tightest(event: ActivityEvent, hits: Sequence[_Candidate]) -> _Candidate:
    """The shortest span, then the nearest to the event."""

    def key(c: _Candidate) -> tuple[float, float]:
        middle = c.span.start + (c.span.end - c.span.start) / 2
        return (
            (c.span.end - c.span.start).total_seconds(),
            abs((event.when - middle).total_seconds()),
        )

    return min(hits, key=key)
