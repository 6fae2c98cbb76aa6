"""OTLP traces joined to provider events: by identifier, by window, never outside it; bad
files refused with their place; the lab story's trace joined back to its seeded events."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from agent_ir.activity.model import ActivityEvent
from agent_ir.activity.trace import join, read_trace
from agent_ir.errors import TraceError
from agent_ir.exit_codes import ExitCode

T0 = datetime(2026, 3, 1, 2, 0, 0, tzinfo=UTC)


def nanos(moment: datetime) -> str:
    return str(int(moment.timestamp() * 1_000_000) * 1000)


def span(
    span_id: str, start: datetime, seconds: float, parent: str = "", **attrs: str
) -> dict[str, Any]:
    return {
        "traceId": "t" * 32,
        "spanId": span_id,
        "parentSpanId": parent,
        "name": span_id,
        "startTimeUnixNano": nanos(start),
        "endTimeUnixNano": nanos(start + timedelta(seconds=seconds)),
        "attributes": [{"key": key(k), "value": {"stringValue": v}} for k, v in attrs.items()],
    }


def key(name: str) -> str:
    """``gen_ai_tool_name`` -> ``gen_ai.tool.name``; ``aws_request_id`` -> ``aws.request_id``."""
    dotted = name.replace("_", ".").replace("gen.ai.", "gen_ai.")
    return dotted.replace("role.session.name", "role_session_name").replace(
        "request.id", "request_id"
    )


def otlp(*spans: dict[str, Any]) -> dict[str, Any]:
    return {
        "resourceSpans": [{"resource": {}, "scopeSpans": [{"scope": {}, "spans": list(spans)}]}]
    }


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "trace.json"
    path.write_text(text)
    return path


def event(when: datetime, request_id: str = "", session: str = "") -> ActivityEvent:
    return ActivityEvent(
        when, "aws", "arn:r", "r", "kms:Decrypt", request_id=request_id, session=session
    )


ROOT = span(
    "root", T0, 3600, **{"gen_ai_operation_name": "invoke_agent", "gen_ai_conversation_id": "c-1"}
)


def test_join_by_request_id_through_a_child_http_span(tmp_path: Path) -> None:
    tool = span("tool", T0 + timedelta(minutes=5), 1, "root", gen_ai_tool_name="decrypt_export")
    tool["attributes"].append({"key": "gen_ai.tool.call.id", "value": {"stringValue": "call_9"}})
    # the SDK's HTTP span under the tool span records the request id as a response header
    http = span("http", T0 + timedelta(minutes=5), 0.5, "tool")
    http["attributes"] = [
        {
            "key": "http.response.header.x-amzn-requestid",
            "value": {"arrayValue": {"values": [{"stringValue": "req-42"}]}},
        }
    ]
    trace = read_trace(write(tmp_path, json.dumps(otlp(ROOT, tool, http))))
    # the provider stamped the call 40 s off the span (clock skew): the id still joins it
    (joined,) = join([event(T0 + timedelta(minutes=5, seconds=40), "req-42")], trace)
    assert joined.cause is not None
    assert joined.cause.joined_by == "request-id" and joined.cause.tool == "decrypt_export"
    assert joined.cause.tool_call_id == "call_9" and joined.cause.conversation_id == "c-1"
    assert joined.to_json()["cause"]["tool"] == "decrypt_export" and trace.joined == 1


def test_join_by_session_name_and_by_window_only(tmp_path: Path) -> None:
    by_session = span(
        "s",
        T0 + timedelta(minutes=1),
        2,
        "root",
        gen_ai_tool_name="query_ledger",
        aws_sts_role_session_name="invoice-nightly",
    )
    by_time = span("w", T0 + timedelta(minutes=9), 1.5, "root", gen_ai_tool_name="list_buckets")
    trace = read_trace(write(tmp_path, json.dumps(otlp(ROOT, by_session, by_time))))
    first, second = join(
        [
            event(T0 + timedelta(minutes=1, seconds=1), session="invoice-nightly"),
            # CloudTrail keeps whole seconds: 09:00 for a call made at 09:00.4 within the span
            event(T0 + timedelta(minutes=9)),
        ],
        trace,
    )
    assert first.cause is not None and first.cause.joined_by == "session-name"
    assert first.cause.tool == "query_ledger"
    assert second.cause is not None and second.cause.joined_by == "time"
    assert second.cause.tool == "list_buckets" and second.cause.conversation_id == "c-1"


def test_no_join_outside_the_window_or_against_another_request(tmp_path: Path) -> None:
    tool = span("w", T0 + timedelta(minutes=9), 1, "root", gen_ai_tool_name="list_buckets")
    named = span(
        "n", T0 + timedelta(minutes=20), 1, "root", gen_ai_tool_name="x", aws_request_id="a"
    )
    plain = span("p", T0 + timedelta(minutes=30), 5)  # no GenAI anywhere up its parents
    trace = read_trace(write(tmp_path, json.dumps(otlp(ROOT, tool, named, plain))))
    events = [
        event(T0 + timedelta(minutes=9, seconds=10)),  # after the tool span (and its slack)
        event(T0 + timedelta(minutes=20), request_id="b"),  # in the span, another request
        event(T0 + timedelta(minutes=30, seconds=1)),  # only a non-GenAI span covers it
        event(T0 + timedelta(hours=2), request_id="a"),  # the id, but hours away
    ]
    assert [e.cause for e in join(events, trace)] == [None, None, None, None]
    assert trace.joined == 0


def test_json_lines_are_read_and_each_bad_line_is_located(tmp_path: Path) -> None:
    good = json.dumps(otlp(span("a", T0, 1, gen_ai_tool_name="t")))
    trace = read_trace(write(tmp_path, good + "\n\n" + good + "\n"))
    assert len(trace.spans) == 2 and trace.gen_ai == 2
    with pytest.raises(TraceError) as bad:
        read_trace(write(tmp_path, good + "\n{not json\n" + json.dumps({"x": 1}) + "\n"))
    lines = [p.line for p in bad.value.problems]
    assert lines == [2, 3] and "trace.json:2" in bad.value.message


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("", "not JSON"),
        ("[]", "resourceSpans"),
        ('{"resourceSpans": [{"scopeSpans": [{"spans": [{"name": "x"}]}]}]}', "spans[0]"),
        (
            json.dumps(otlp({**span("a", T0, 1), "startTimeUnixNano": "soon"})),
            "startTimeUnixNano",
        ),
        ("[" * 5000 + "]" * 5000, "nested"),
    ],
)
def test_malformed_files_are_refused_with_their_place(
    tmp_path: Path, text: str, where: str
) -> None:
    with pytest.raises(TraceError) as bad:
        read_trace(write(tmp_path, text))
    assert where in bad.value.message and "invalid trace file" in bad.value.message


def cli(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {"XDG_STATE_HOME": str(home), "XDG_CONFIG_HOME": str(home / "c"), "HOME": str(home)}
    return subprocess.run(
        [sys.executable, "-m", "agent_ir", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**env, "PATH": "/usr/bin:/bin"},
        check=False,
    )


def test_a_bad_trace_file_exits_3_before_any_provider_is_asked(tmp_path: Path) -> None:
    bad = write(tmp_path, '{"resourceSpans": 7}')
    done = cli("activity", "invoice-agent", "--trace", str(bad), home=tmp_path)
    assert done.returncode == ExitCode.BAD_INPUT == 3
    assert f"{bad}: resourceSpans" in done.stderr or "resourceSpans" in done.stderr
    assert "Traceback" not in done.stderr and "LAB" not in done.stderr


def test_the_lab_storys_trace_names_the_tool_call_behind_each_seeded_read(tmp_path: Path) -> None:
    made = cli("lab", "trace", "invoice-agent", home=tmp_path)
    assert made.returncode == 0, made.stderr
    path = write(tmp_path, made.stdout)
    done = cli(
        "activity",
        "invoice-agent",
        "--since",
        "3d",
        "--trace",
        str(path),
        "-o",
        "json",
        home=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    events = json.loads(done.stdout)["events"]
    reads = [
        e for e in events if e["account"] == "222222222222" and e["action"] != "sts:AssumeRole"
    ]
    assert reads and all(e["cause"] for e in reads)
    decrypt = next(e for e in reads if e["action"] == "kms:Decrypt")
    assert decrypt["cause"]["tool"] == "decrypt_export"
    assert decrypt["cause"]["joined_by"] == "request-id"
    assert decrypt["cause"]["conversation_id"].startswith("conv-invoice-agent-")
    assert decrypt["cause"]["tool_call_id"].startswith("call_")
    assert "events joined to a tool call" in done.stderr
