"""Sinks on a real lab revoke: a file and an HTTPS webhook get every OCSF event as the run
happens; a webhook that fails changes nothing in the run, and what it missed is delivered
later exactly once."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from agent_ir.engine import journal as jr
from agent_ir.engine.incident import Who, execute, plan_for
from agent_ir.engine.inventory import Engine
from agent_ir.evidence import ocsf
from agent_ir.evidence.sinks import STATE_DIR, deliver, status
from agent_ir.exit_codes import ExitCode
from agent_ir.lab.receivers import WebhookReceiver
from agent_ir.lab.tls import create_lab_tls
from agent_ir.playbook.loader import find_playbook, load_playbook
from agent_ir.providers.base import utcnow
from agent_ir.settings import EvidenceSettings
from tests.engine.helpers import FAST
from tests.evidence.test_ocsf_export import assert_valid

SECRET = "whsec-canary-5f2b9c"
WHO = Who(responder="tester", reason="sink test")


@pytest.fixture
def receiver(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("AGENT_IR_TEST_WEBHOOK_SECRET", SECRET)
    tls = create_lab_tls(tmp_path)
    with WebhookReceiver(SECRET.encode(), tls.server_context) as running:
        running.ca_path = tls.ca_path  # type: ignore[attr-defined]
        yield running


def sinks_config(tmp_path: Path, receiver: Any) -> EvidenceSettings:
    return EvidenceSettings.model_validate(
        {
            "sinks": [
                {"type": "file", "name": "siem-file", "path": str(tmp_path / "events.ndjson")},
                {
                    "type": "webhook",
                    "name": "soc",
                    "url": receiver.url,
                    "hmac_secret_env": "AGENT_IR_TEST_WEBHOOK_SECRET",
                    "ca_bundle": str(receiver.ca_path),
                },
            ]
        }
    )


def engine_with(fresh_lab, tmp_path: Path, evidence: EvidenceSettings) -> Engine:
    settings = fresh_lab.settings.model_copy(
        update={"journal_dir": tmp_path / "journal", "evidence": evidence}
    )
    return Engine(settings, clock=utcnow)


async def revoke(engine: Engine) -> Any:
    playbook = load_playbook(find_playbook("contain-agent", []))
    plan = await plan_for(engine, "invoice-agent", playbook, {})
    return await execute(engine, plan, WHO, tuning=FAST)


def journal_events(directory: Path, incident: str) -> list[dict[str, Any]]:
    return ocsf.events(jr.Journal.read(jr.incident_path(directory, incident)))


async def test_a_revoke_delivers_every_event_to_both_sinks(fresh_lab, tmp_path, receiver) -> None:
    evidence = sinks_config(tmp_path, receiver)
    outcome = await revoke(engine_with(fresh_lab, tmp_path, evidence))
    assert outcome.exit_code == ExitCode.OK, outcome.warnings
    assert outcome.warnings == []
    expected = journal_events(tmp_path / "journal", outcome.incident)
    uids = [e["metadata"]["uid"] for e in expected]
    assert [e["metadata"]["uid"] for e in receiver.received.events] == uids
    for event in receiver.received.events:
        assert_valid(event)
    lines = (tmp_path / "events.ndjson").read_text().splitlines()
    assert [json.loads(line)["metadata"]["uid"] for line in lines] == uids
    assert receiver.received.repeats == 0 and receiver.received.rejected == 0
    assert all(not s.pending for s in status(evidence.sinks, tmp_path / "journal"))
    assert SECRET not in (tmp_path / "events.ndjson").read_text()
    assert SECRET not in json.dumps(receiver.received.deliveries)


async def test_a_failing_webhook_changes_nothing_and_catches_up_once(
    fresh_lab, tmp_path, receiver
) -> None:
    evidence = sinks_config(tmp_path, receiver)
    receiver.fail_with = 500
    outcome = await revoke(engine_with(fresh_lab, tmp_path, evidence))
    assert outcome.exit_code == ExitCode.OK
    assert {r.status.value for r in outcome.results} <= {"verified", "already"}
    assert any("journal sinks" in w for w in outcome.warnings)
    journal = tmp_path / "journal"
    states = {s.name: s for s in status(evidence.sinks, journal)}
    assert not states["siem-file"].pending  # the file sink was not held back
    assert states["soc"].pending[outcome.incident] > 0
    assert states["soc"].last_error == "sink soc: HTTP 500"
    assert receiver.received.deliveries == {}

    receiver.fail_with = None
    assert deliver(evidence.sinks, journal) == []
    expected = [e["metadata"]["uid"] for e in journal_events(journal, outcome.incident)]
    assert [e["metadata"]["uid"] for e in receiver.received.events] == expected
    assert all(not s.pending for s in status(evidence.sinks, journal))
    assert deliver(evidence.sinks, journal) == []
    assert receiver.received.repeats == 0


def test_a_lost_cursor_resends_but_nothing_is_duplicated(tmp_path, receiver) -> None:
    from tests.evidence.helpers import write_incident

    journal = tmp_path / "journal"
    write_incident(journal)
    evidence = sinks_config(tmp_path, receiver)
    assert deliver(evidence.sinks, journal) == []
    first = (tmp_path / "events.ndjson").read_text()
    count = len(receiver.received.deliveries)
    for state in (journal / STATE_DIR).iterdir():
        state.unlink()  # as if killed after sending, before the cursor moved
    assert deliver(evidence.sinks, journal) == []
    assert (tmp_path / "events.ndjson").read_text() == first
    assert len(receiver.received.deliveries) == count
    assert receiver.received.repeats == count  # the receiver saw the keys again, kept one


def test_a_wrong_secret_is_rejected_by_the_receiver(tmp_path, receiver, monkeypatch) -> None:
    from tests.evidence.helpers import write_incident

    journal = tmp_path / "journal"
    write_incident(journal)
    monkeypatch.setenv("AGENT_IR_TEST_WEBHOOK_SECRET", "not-the-secret")
    evidence = sinks_config(tmp_path, receiver)
    errors = deliver(evidence.sinks, journal)
    assert errors == ["sink soc: HTTP 401"]
    assert receiver.received.rejected == 1
