"""The incident journal: chain, durability, verification, repair, locking and redaction."""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from agent_ir.engine.journal import (
    INCIDENT_ID,
    Journal,
    Kind,
    incident_path,
    incident_start,
    list_incidents,
    new_incident_id,
    verify,
    verify_all,
)
from agent_ir.errors import JournalError, NotFoundError
from agent_ir.redact import redact

T0 = datetime(2025, 1, 31, 12, 0, 0, tzinfo=UTC)
INCIDENT = "IR-20250131-120000-a1b2"


def ticking(start: datetime = T0) -> Callable[[], datetime]:
    """A clock that moves one second per reading."""
    count = itertools.count()
    return lambda: start + timedelta(seconds=next(count))


def start(**overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "os_user": "alice",
        "responder": "arn:aws:iam::123456789012:role/ir",
        "why": "agent exfiltrating data",
        "playbook": "contain-agent",
        "agent": "agent-billing-bot",
        "plan_hash": "0" * 64,
        "plan": {"steps": [{"id": "aws-1", "action": "deactivate-keys"}]},
    }
    return incident_start(**(fields | overrides))


def make_journal(directory: Path, incident: str = INCIDENT) -> Path:
    """A finished incident with every record kind; returns its path."""
    with Journal.create(directory, incident, start(), clock=ticking()) as journal:
        journal.intent("aws-1", "aws", "deactivate-keys", {"user": "bot"})
        journal.snapshot("aws-1", {"keys": [{"AccessKeyId": "AKIA0000000000000001"}]})
        journal.result("aws-1", "verified", detail={"keys": 1})
        journal.note("paged the owner")
        journal.end("contained", {"verified": 1})
    return journal.path


def lines_of(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines(keepends=True)


def problems(path: Path) -> list[str]:
    report = verify(path)
    assert report.ok is (not report.problems)
    return report.problems


def test_new_incident_id_is_utc_time_and_random_hex() -> None:
    plus_two = timezone(timedelta(hours=2))
    ids = {new_incident_id(datetime(2025, 1, 31, 14, 5, 9, tzinfo=plus_two)) for _ in range(20)}
    assert all(i.startswith("IR-20250131-120509-") and INCIDENT_ID.fullmatch(i) for i in ids)
    assert len(ids) > 1


def test_round_trip_and_record_format(tmp_path: Path) -> None:
    directory = tmp_path / "journals"
    path = make_journal(directory)
    assert path == incident_path(directory, INCIDENT)
    assert directory.stat().st_mode & 0o777 == 0o700
    assert path.stat().st_mode & 0o777 == 0o600

    records = Journal.read(path)
    assert [r.kind for r in records] == [
        "incident-start",
        "intent",
        "snapshot",
        "result",
        "note",
        "incident-end",
    ]
    assert [r.seq for r in records] == list(range(6))
    assert records[0].prev == ""
    assert records[0].ts == "2025-01-31T12:00:00.000000Z"
    assert records[0].payload["incident"] == INCIDENT
    assert records[0].payload["who"] == start()["who"]
    assert records[0].payload["restore_of"] is None and records[0].payload["lab"] is False
    assert records[1].payload == {
        "step": "aws-1",
        "provider": "aws",
        "action": "deactivate-keys",
        "target": {"user": "bot"},
    }
    assert records[3].payload == {
        "step": "aws-1",
        "status": "verified",
        "error": None,
        "detail": {"keys": 1},
    }

    previous = ""
    for raw, record in zip(lines_of(path), records, strict=True):
        obj = json.loads(raw)
        body = {k: v for k, v in obj.items() if k != "hash"}
        canonical = json.dumps(body, sort_keys=True, separators=(",", ":"))
        assert obj["hash"] == hashlib.sha256(canonical.encode()).hexdigest() == record.hash
        assert obj["prev"] == previous
        previous = obj["hash"]
    head = json.loads(path.with_suffix(".head").read_text())
    assert head == {"seq": 5, "hash": records[-1].hash}


def test_open_resumes_the_chain(tmp_path: Path) -> None:
    path = make_journal(tmp_path)
    with Journal.open(tmp_path, INCIDENT, clock=ticking()) as journal:
        assert journal.records() == Journal.read(path)
        record = journal.note("resumed")
    assert (record.seq, record.prev) == (6, Journal.read(path)[5].hash)
    assert verify(path).ok


def test_intent_is_on_disk_before_append_returns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    journal = Journal.create(tmp_path, INCIDENT, start())
    inode = journal.path.stat().st_ino
    events: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        real_fsync(fd)
        events.append("fsync journal" if os.fstat(fd).st_ino == inode else "fsync other")

    def replace(src: str | Path, dst: str | Path) -> None:
        real_replace(src, dst)
        events.append(f"replace {Path(dst).suffix}")

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    with journal:
        record = journal.intent("aws-1", "aws", "deactivate-keys", {"user": "bot"})
        on_disk = json.loads(lines_of(journal.path)[-1])
        assert on_disk["kind"] == "intent" and on_disk["hash"] == record.hash
        assert Journal.read(journal.path)[-1] == record
    assert events[0] == "fsync journal"
    assert events.index("fsync journal") < events.index("replace .head")


def test_verify_passes_on_an_untouched_journal(tmp_path: Path) -> None:
    path = make_journal(tmp_path)
    report = verify(path)
    assert (report.incident, report.records, report.ok, report.problems) == (INCIDENT, 6, True, [])


def test_every_flipped_byte_is_detected_and_located(tmp_path: Path) -> None:
    original = make_journal(tmp_path / "original")
    copy_dir = tmp_path / "copy"
    copy_dir.mkdir()
    copy = copy_dir / original.name
    copy.with_suffix(".head").write_bytes(original.with_suffix(".head").read_bytes())
    data = original.read_bytes()
    for offset in range(len(data)):
        flipped = bytearray(data)
        flipped[offset] ^= 0x01
        copy.write_bytes(bytes(flipped))
        found = problems(copy)
        assert found, f"flip at byte {offset} went unnoticed"
        if data[offset] != ord("\n"):
            line = data[:offset].count(b"\n") + 1
            assert any(p.startswith(f"line {line}:") for p in found), (offset, found)


def test_deleted_middle_record_is_detected(tmp_path: Path) -> None:
    path = make_journal(tmp_path)
    lines = lines_of(path)
    path.write_bytes(b"".join(lines[:2] + lines[3:]))
    found = problems(path)
    assert any(p.startswith("line 3: seq 3 where 2 was expected") for p in found)
    assert any(p.startswith("line 3: prev does not match") for p in found)


def test_deleted_last_record_is_detected_by_the_head_file(tmp_path: Path) -> None:
    path = make_journal(tmp_path)
    path.write_bytes(b"".join(lines_of(path)[:-1]))
    assert problems(path) == [
        "line 5: the journal ends at seq 4 but the head file says 5: "
        "records were deleted from the tail"
    ]
    with pytest.raises(JournalError, match="deleted from the tail"):
        Journal.open(tmp_path, INCIDENT)


def test_swapped_records_are_detected(tmp_path: Path) -> None:
    path = make_journal(tmp_path)
    lines = lines_of(path)
    lines[2], lines[3] = lines[3], lines[2]
    path.write_bytes(b"".join(lines))
    found = problems(path)
    assert any(p.startswith("line 3: seq 3 where 2 was expected") for p in found)
    assert any(p.startswith("line 4: seq 2 where 4 was expected") for p in found)
    with pytest.raises(JournalError, match="fails verification"):
        Journal.open(tmp_path, INCIDENT)


def test_missing_head_and_lone_head_are_detected(tmp_path: Path) -> None:
    gone = make_journal(tmp_path, "IR-20250131-120000-0001")
    headless = make_journal(tmp_path, "IR-20250131-120000-0002")
    make_journal(tmp_path, "IR-20250131-120000-0003")
    gone.unlink()
    headless.with_suffix(".head").unlink()
    reports = {r.incident: r for r in verify_all(tmp_path)}
    assert reports["IR-20250131-120000-0001"].problems == [
        "line 1: the journal file is gone but its head file remains"
    ]
    assert reports["IR-20250131-120000-0002"].problems == [
        "line 6: the head file IR-20250131-120000-0002.head is missing"
    ]
    assert reports["IR-20250131-120000-0003"].ok


@pytest.mark.parametrize(
    "tail",
    [b'{"action":"disable-user","kind":"intent","pr', b"\0" * 37, b'{"kind":"res\n'],
    ids=["partial-line", "zero-filled", "invalid-json-line"],
)
def test_torn_tail_is_reported_then_repaired(tmp_path: Path, tail: bytes) -> None:
    path = make_journal(tmp_path)
    complete = Journal.read(path)
    with path.open("ab") as handle:
        handle.write(tail)

    assert problems(path) == [
        f"line 7: torn tail of {len(tail)} bytes from an interrupted write; "
        "open the incident to repair it"
    ]
    assert Journal.read(path) == complete

    with Journal.open(tmp_path, INCIDENT) as journal:
        repair = journal.records()[-1]
        assert (repair.kind, repair.seq, repair.prev) == ("repair", 6, complete[-1].hash)
        assert repair.payload == {"dropped_bytes": len(tail), "reason": "torn tail"}
        journal.note("carried on")
    assert verify(path).ok
    assert tail not in path.read_bytes()


def test_open_will_not_cut_an_acknowledged_last_record(tmp_path: Path) -> None:
    path = make_journal(tmp_path)
    data = bytearray(path.read_bytes())
    data[-3] ^= 0x01  # inside the last record, which the head file vouches for
    path.write_bytes(bytes(data))
    assert not verify(path).ok
    with pytest.raises(JournalError, match="deleted from the tail"):
        Journal.open(tmp_path, INCIDENT)
    assert path.read_bytes() == bytes(data)


def test_head_one_record_behind_is_reported_then_repaired(tmp_path: Path) -> None:
    path = make_journal(tmp_path)
    before_last = Journal.read(path)[-2]
    head = {"seq": before_last.seq, "hash": before_last.hash}
    path.with_suffix(".head").write_text(json.dumps(head))
    assert problems(path) == [
        "line 6: the head file is one record behind (a crash before its update)"
    ]
    Journal.open(tmp_path, INCIDENT).close()
    assert verify(path).ok


_CONTEND = textwrap.dedent(
    """
    import sys
    from agent_ir.engine.journal import Journal
    from agent_ir.errors import JournalError
    try:
        Journal.open(sys.argv[1], sys.argv[2]).close()
    except JournalError as exc:
        print(exc.message)
        sys.exit(3)
    """
)


def test_second_process_cannot_write_an_open_incident(tmp_path: Path) -> None:
    make_journal(tmp_path)

    def other_process() -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-c", _CONTEND, str(tmp_path), INCIDENT]
        return subprocess.run(command, capture_output=True, text=True, check=False)

    with Journal.open(tmp_path, INCIDENT):
        busy = other_process()
        assert busy.returncode == 3, busy.stderr
        assert f"incident {INCIDENT} is in use" in busy.stdout
        with pytest.raises(JournalError, match="is in use"):
            Journal.open(tmp_path, INCIDENT)
    free = other_process()
    assert free.returncode == 0, free.stdout + free.stderr


AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
PEM = "-----BEGIN RSA PRIVATE KEY-----\nMIIEcanaryPEMbody+/=\n-----END RSA PRIVATE KEY-----\n"
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJjYW5hcnkifQ.c2lnbmF0dXJlY2FuYXJ5"
CANARIES = [
    AWS_SECRET,
    "MIIEcanaryPEMbody",
    "eyJzdWIiOiJjYW5hcnkifQ",
    "c2lnbmF0dXJlY2FuYXJ5",
    "CANARY-password",
    "CANARY-client-secret",
    "CANARY-access-token",
    "CANARY-session",
    "CANARY-secret-text",
    "CANARY-list-token",
    "CANARYbearer",
    "00CANARYokta",
    "CANARY-api-key",
]


def test_secrets_never_reach_the_disk(tmp_path: Path) -> None:
    plan = {"auth": {"client_secret": "CANARY-client-secret", "client_id": "app-1"}}
    why = f"leaked: aws_access_key_id=AKIAIOSFODNN7EXAMPLE aws_secret_access_key={AWS_SECRET}"
    with Journal.create(tmp_path, INCIDENT, start(plan=plan, why=why)) as journal:
        journal.snapshot(
            "aws-1",
            {
                "AccessKey": {"AccessKeyId": "AKIAIOSFODNN7EXAMPLE", "SecretAccessKey": AWS_SECRET},
                "sibling": {"id": "AKIAIOSFODNN7EXAMPLE", "value": AWS_SECRET},
                "passwordCredentials": [
                    {"keyId": "k-1", "hint": "Q~x", "secretText": "CANARY-secret-text"}
                ],
                "service_account": {"private_key_id": "pk-1", "private_key": PEM},
                "tokens": ["CANARY-list-token"],
                "Password": "CANARY-password",
                "token_id": "tok-1",
            },
        )
        journal.result(
            "okta-1",
            "failed",
            error="401 with Authorization: Bearer CANARYbearer123 and SSWS 00CANARYokta99",
            detail={
                "access_token": "CANARY-access-token",
                "SessionToken": "CANARY-session",
                "response": f"id_token {JWT}",
                "blob": PEM,
                "x-api-key": "CANARY-api-key",
            },
        )
        journal.note(f"pasted by mistake: {JWT}")

    written = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    for canary in CANARIES:
        assert canary.encode() not in written, canary
    for kept in ("AKIAIOSFODNN7EXAMPLE", "app-1", "k-1", "Q~x", "pk-1", "tok-1", "okta-1"):
        assert kept.encode() in written, kept
    assert b"[redacted]" in written
    assert verify(tmp_path / f"{INCIDENT}.jsonl").ok


def test_redact_leaves_plain_data_alone() -> None:
    plain = {
        "user": "bot",
        "keys": [{"AccessKeyId": "AKIA0000000000000001", "Status": "Active"}],
        "count": 3,
        "ok": True,
        "nothing": None,
        "sha1": "a" * 40,
    }
    assert redact(plain) == plain
    keys = {"password_update": "x", "PasswordLastUsed": "2025-01-01", "TOKEN_ID": "t-1"}
    assert redact(keys) == {
        "password_update": "[redacted]",
        "PasswordLastUsed": "2025-01-01",
        "TOKEN_ID": "t-1",
    }
    assert redact({"token": "abc", "tokenType": "Bearer"}) == {
        "token": "[redacted]",
        "tokenType": "Bearer",
    }


@pytest.mark.parametrize(
    "bad",
    [
        "../etc/passwd",
        "IR-20250131-120000-ABCD",
        "IR-20250131-120000-abc",
        "IR-x/../../a",
        "IR-20250131-120000-abcd\n",
        "IR-20250131-120000-abcd/../../x",
    ],
)
def test_bad_incident_ids_are_refused(tmp_path: Path, bad: str) -> None:
    with pytest.raises(NotFoundError, match="is not an incident id"):
        Journal.create(tmp_path, bad, start())
    with pytest.raises(NotFoundError, match="is not an incident id"):
        Journal.open(tmp_path, bad)
    assert list(tmp_path.iterdir()) == []


def test_unknown_incident_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError):
        Journal.open(tmp_path, INCIDENT)
    with pytest.raises(NotFoundError):
        verify(tmp_path / f"{INCIDENT}.jsonl")


def test_create_refuses_an_existing_incident(tmp_path: Path) -> None:
    path = make_journal(tmp_path)
    before = path.read_bytes()
    with pytest.raises(JournalError, match="already exists"):
        Journal.create(tmp_path, INCIDENT, start())
    assert path.read_bytes() == before


def test_bad_appends_are_refused_without_harm(tmp_path: Path) -> None:
    with Journal.create(tmp_path, INCIDENT, start()) as journal:
        with pytest.raises(JournalError, match="may not set"):
            journal.append("note", {"seq": 9})
        with pytest.raises(JournalError, match="not plain JSON"):
            journal.append("note", {"when": datetime.now(UTC)})
        with pytest.raises(JournalError, match="not plain JSON"):
            journal.append("note", {"ratio": float("nan")})
        journal.note("still fine")
    with pytest.raises(JournalError, match="closed"):
        journal.note("too late")
    assert [r.kind for r in Journal.read(journal.path)] == ["incident-start", "note"]
    assert verify(journal.path).ok


def test_list_incidents_newest_first(tmp_path: Path) -> None:
    old = new_incident_id(T0)
    with Journal.create(tmp_path, old, start(), clock=ticking(T0)) as journal:
        journal.end("contained", {"verified": 3})
    newer = new_incident_id(T0 + timedelta(hours=1))
    restore = start(restore_of=old, playbook="restore")
    Journal.create(tmp_path, newer, restore, clock=ticking(T0 + timedelta(hours=1))).close()
    broken = tmp_path / "IR-20250101-000000-dead.jsonl"
    broken.write_bytes(b"not json\n")
    (tmp_path / "notes.jsonl").write_bytes(b"ignored\n")

    summaries = list_incidents(tmp_path)
    assert [s.id for s in summaries] == [newer, old, broken.stem]
    latest, first, unreadable = summaries
    assert (latest.status, latest.restore_of, latest.playbook) == ("unfinished", old, "restore")
    assert latest.started == T0 + timedelta(hours=1)
    assert (first.status, first.agent, first.restore_of) == ("contained", "agent-billing-bot", None)
    assert (unreadable.status, unreadable.started) == ("unreadable", None)
    assert list_incidents(tmp_path / "absent") == []


def test_kinds_are_the_documented_names() -> None:
    assert [k.value for k in Kind] == [
        "incident-start",
        "intent",
        "snapshot",
        "result",
        "note",
        "repair",
        "plan",
        "incident-end",
    ]
