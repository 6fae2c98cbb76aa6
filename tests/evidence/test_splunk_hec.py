"""The Splunk HEC sink against the lab's collector over HTTPS: a revoke's OCSF events are
indexed and acknowledged; a collector that is busy changes nothing in the run and gets the
events once from `journal sinks --flush`; a wrong token is refused and stays pending."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from agent_ir.evidence.sinks import deliver, status
from agent_ir.exit_codes import ExitCode
from agent_ir.lab.receivers import HecReceiver
from agent_ir.lab.tls import create_lab_tls
from agent_ir.settings import EvidenceSettings
from tests.evidence.test_anchor_cli import evidence_config
from tests.evidence.test_ocsf_export import assert_valid
from tests.evidence.test_sinks import engine_with, journal_events, revoke

TOKEN = "hec-canary-0b7e41d2"
TOKEN_ENV = "AGENT_IR_TEST_HEC_TOKEN"


@pytest.fixture
def hec(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    tls = create_lab_tls(tmp_path)
    with HecReceiver(TOKEN, tls.server_context) as running:
        running.ca_path = tls.ca_path  # type: ignore[attr-defined]
        yield running


def hec_sink(receiver: Any) -> dict[str, Any]:
    return {
        "type": "splunk_hec",
        "name": "splunk",
        "url": receiver.url,
        "token_env": TOKEN_ENV,
        "ca_bundle": str(receiver.ca_path),
        "host": "ir-laptop",
    }


def uids(events: list[dict[str, Any]]) -> list[str]:
    return [e["metadata"]["uid"] for e in events]


async def test_a_revoke_is_indexed_and_acknowledged(fresh_lab, tmp_path, hec) -> None:
    evidence = EvidenceSettings.model_validate({"sinks": [hec_sink(hec)]})
    outcome = await revoke(engine_with(fresh_lab, tmp_path, evidence))
    assert outcome.exit_code == ExitCode.OK, outcome.warnings
    assert outcome.warnings == []
    journal = tmp_path / "journal"
    expected = journal_events(journal, outcome.incident)
    assert expected and uids(hec.events) == uids(expected)
    for event in hec.events:
        assert_valid(event)
    for envelope in hec.indexed:
        assert envelope["source"] == "agent-ir" and envelope["sourcetype"] == "ocsf"
        assert envelope["host"] == "ir-laptop"
        assert envelope["time"] == envelope["event"]["time"] / 1000
    assert len(hec.channels) == 1
    uuid.UUID(next(iter(hec.channels)))
    assert hec.ack_queries >= 1 and hec.rejected == 0
    assert all(not s.pending for s in status(evidence.sinks, journal))
    assert TOKEN not in json.dumps(hec.indexed)


def test_a_busy_collector_changes_nothing_and_flush_delivers_once(
    hec, cli, fresh_lab, tmp_path
) -> None:  # hec first: it sets the token before cli copies the environment
    config = str(evidence_config(fresh_lab, tmp_path, {"sinks": [hec_sink(hec)]}))
    hec.fail_with = 503
    run = cli(
        "--config", config, "revoke", "invoice-agent", "--reason", "exfil", "--yes", "-o", "json"
    )
    assert run.code == 0, run.err
    assert any("journal sinks" in w for w in run.json()["warnings"])
    assert run.json()["status"] == "complete"
    assert {s["status"] for s in run.json()["steps"]} <= {"verified", "already"}
    incident = run.json()["incident"]
    pending = cli("--config", config, "journal", "sinks", "-o", "json").json()["sinks"][0]
    assert pending["pending"][incident] > 0
    assert pending["last_error"] == "sink splunk: HTTP 503 Server is busy (code 9)"
    assert hec.indexed == []

    hec.fail_with = None
    flushed = cli("--config", config, "journal", "sinks", "--flush", "-o", "json")
    assert flushed.code == 0, flushed.err
    assert flushed.json()["sinks"][0]["pending_records"] == 0
    expected = journal_events(tmp_path / "journal", incident)
    assert uids(hec.events) == uids(expected)  # every event, none twice
    again = cli("--config", config, "journal", "sinks", "--flush")
    assert again.code == 0 and uids(hec.events) == uids(expected)
    for out in (run, flushed, again):
        assert TOKEN not in out.out + out.err


def test_a_wrong_token_is_refused_and_stays_pending(tmp_path, hec, monkeypatch) -> None:
    from tests.evidence.helpers import write_incident

    journal = tmp_path / "journal"
    write_incident(journal)
    monkeypatch.setenv(TOKEN_ENV, "not-the-token")
    evidence = EvidenceSettings.model_validate({"sinks": [hec_sink(hec)]})
    assert deliver(evidence.sinks, journal) == ["sink splunk: HTTP 403 Invalid token (code 4)"]
    assert hec.rejected == 1 and hec.indexed == []
    (state,) = status(evidence.sinks, journal)
    assert state.pending and state.last_error == "sink splunk: HTTP 403 Invalid token (code 4)"

    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    assert deliver(evidence.sinks, journal) == []
    assert hec.indexed and not status(evidence.sinks, journal)[0].pending


def test_an_unacknowledged_batch_stays_pending(tmp_path, hec) -> None:
    from tests.evidence.helpers import write_incident

    journal = tmp_path / "journal"
    write_incident(journal)
    sink = {**hec_sink(hec), "ack_timeout_s": 0.2}  # a bound on the wait, not an assertion
    evidence = EvidenceSettings.model_validate({"sinks": [sink]})
    hec.hold_acks = True
    assert deliver(evidence.sinks, journal) == ["sink splunk: ack 0 not confirmed within 0.2s"]
    (state,) = status(evidence.sinks, journal)
    assert sum(state.pending.values()) == len(journal_records(journal))
    first = list(hec.events)
    assert first  # sent, but not counted as delivered until Splunk confirms indexing

    hec.hold_acks = False
    assert deliver(evidence.sinks, journal) == []
    assert not status(evidence.sinks, journal)[0].pending
    resent = hec.events[len(first) :]
    assert resent[0] == first[0]  # the same event, under the same delivery key
    assert resent[0]["unmapped"]["agent_ir"]["delivery"]


def journal_records(journal: Path) -> list[Any]:
    from agent_ir.engine import journal as jr

    (path,) = journal.glob("*.jsonl")
    return jr.Journal.read(path)
