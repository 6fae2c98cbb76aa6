"""The activity findings: after containment (against the lab, with a real revoke) and the spike."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import botocore.exceptions
import pytest

from agent_ir.activity.findings import (
    SPIKE_FACTOR,
    SPIKE_MIN_EVENTS,
    Containment,
    containment_finding,
    spike_finding,
)
from agent_ir.activity.model import ActivityEvent, ActivityWindow
from agent_ir.activity.timeline import Timeline, build_timeline
from agent_ir.engine.incident import Who, execute, plan_for
from agent_ir.engine.inventory import Engine
from agent_ir.lab.runner import Lab
from agent_ir.model import Severity
from agent_ir.playbook.loader import find_playbook, load_playbook, load_playbook_text
from tests.activity.test_aws_reader import PROCESSOR, creds
from tests.conftest import AwsClientFactory
from tests.engine.helpers import FAST

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
WHO = Who(responder="tester", reason="activity findings test")
KEYS_ONLY = """\
name: keys-only
description: disable the agent's keys and nothing else (deliberately weak)
version: 1
steps:
  - {id: disable-credentials, action: disable-credentials, scope: own, providers: [aws]}
"""


def event(
    when: datetime, outcome: str = "success", action: str = "s3:ListBuckets"
) -> ActivityEvent:
    return ActivityEvent(when, "aws", "arn:x", "x", action, outcome=outcome)  # type: ignore[arg-type]


def test_a_spike_is_the_last_hour_far_above_the_hourly_baseline() -> None:
    window = ActivityWindow(NOW - timedelta(hours=25), NOW)
    base = [event(NOW - timedelta(hours=2 + h)) for h in range(24)]  # one an hour
    burst = [event(NOW - timedelta(minutes=1 + m)) for m in range(SPIKE_MIN_EVENTS)]
    found = spike_finding(base + burst, window)
    assert found is not None and found.code == "activity-spike"
    assert found.severity is Severity.HIGH and f"{SPIKE_MIN_EVENTS} events" in found.message
    # the same burst on a busy agent is its normal
    busy = [event(NOW - timedelta(minutes=30 * n + 61)) for n in range(48)] * 3
    assert spike_finding(busy + burst, window) is None
    assert SPIKE_MIN_EVENTS < SPIKE_FACTOR * 6  # the busy baseline is 6 an hour
    # too few events, or too short a window to have a baseline
    assert spike_finding(base + burst[:5], window) is None
    short = ActivityWindow(NOW - timedelta(hours=3), NOW)
    assert spike_finding(base + burst, short) is None


def test_after_containment_names_what_succeeded_and_counts_the_refused() -> None:
    held = Containment("IR-20260301-115959-abcd", NOW)
    before = event(NOW - timedelta(seconds=5))
    refused = event(NOW + timedelta(seconds=3), "denied", "sts:AssumeRole")
    assert containment_finding([before], held) is None
    low = containment_finding([before, refused], held)
    assert (
        low is not None and low.severity is Severity.LOW and "0 succeeded, 1 denied" in low.message
    )
    got = event(NOW + timedelta(seconds=9), action="iam:ListRoles")
    high = containment_finding([before, refused, got], held)
    assert high is not None and high.severity is Severity.CRITICAL
    assert "succeeded: " in high.message and "iam:ListRoles" in high.message
    assert "sts:AssumeRole" not in high.message.split("succeeded: ")[1]


def read(engine: Engine, since: datetime) -> Timeline:
    window = ActivityWindow(since, datetime.now(UTC) + timedelta(minutes=5))
    return asyncio.run(build_timeline(engine, "invoice-agent", window, ["aws"]))


def next_second(moment: datetime) -> None:
    """AWS compares whole seconds: a session issued in the revocation's second survives."""
    while datetime.now(UTC).replace(microsecond=0) <= moment.replace(microsecond=0):
        time.sleep(0.05)


@pytest.fixture
def held(fresh_lab: Lab, aws_client: AwsClientFactory) -> dict[str, Any]:
    """The attacker's credentials taken before the response: the agent's key and a
    session of invoice-processor."""
    iam = aws_client("iam")
    for key in iam.list_access_keys(UserName="invoice-agent")["AccessKeyMetadata"]:
        if key["Status"] == "Inactive":
            iam.delete_access_key(UserName="invoice-agent", AccessKeyId=key["AccessKeyId"])
    key = iam.create_access_key(UserName="invoice-agent")["AccessKey"]
    own = {"aws_access_key_id": key["AccessKeyId"], "aws_secret_access_key": key["SecretAccessKey"]}
    session = aws_client("sts", credentials=own).assume_role(
        RoleArn=PROCESSOR, RoleSessionName="attacker"
    )
    next_second(datetime.now(UTC))
    return {"own": own, "session": creds(session), "since": datetime.now(UTC) - timedelta(hours=1)}


def contain(fresh_lab: Lab, tmp_path: Path, text: str | None) -> Engine:
    engine = Engine(fresh_lab.settings.model_copy(update={"journal_dir": tmp_path / "journal"}))
    playbook = (
        load_playbook_text(text, "keys-only")
        if text
        else load_playbook(find_playbook("contain-agent", []))
    )

    async def run() -> None:
        plan = await plan_for(engine, "invoice-agent", playbook, {})
        await execute(engine, plan, WHO, tuning=FAST)

    asyncio.run(run())
    return engine


def attack(aws_client: AwsClientFactory, held: dict[str, Any]) -> list[str]:
    """The attacker's calls with what it held; the error codes of the refused ones."""
    codes = []
    for service, call, who in (
        ("s3", "list_buckets", held["session"]),
        ("iam", "list_roles", held["session"]),
        ("s3", "list_buckets", held["own"]),
    ):
        try:
            getattr(aws_client(service, credentials=who), call)()
        except botocore.exceptions.ClientError as exc:
            codes.append(exc.response["Error"]["Code"])
    return codes


def test_after_a_revoke_the_held_session_appears_denied(
    fresh_lab: Lab, aws_client: AwsClientFactory, held: dict[str, Any], tmp_path: Path
) -> None:
    engine = contain(fresh_lab, tmp_path, None)
    codes = attack(aws_client, held)
    assert "AccessDenied" in codes
    result = read(engine, held["since"])
    assert result.containment is not None
    after = [e for e in result.events if e.when >= result.containment.cutoff]
    by_session = [e for e in after if e.session == "attacker"]
    assert by_session and {e.outcome for e in by_session} == {"denied"}
    finding = next(f for f in result.findings if f.code == "activity-after-containment")
    assert finding.severity is Severity.LOW and " 0 succeeded" in finding.message
    data = result.to_json()
    assert data["containment"]["incident"] == result.containment.incident
    assert data["findings"][0]["code"] == "activity-after-containment"


def test_a_weak_containment_names_the_calls_that_still_succeeded(
    fresh_lab: Lab, aws_client: AwsClientFactory, held: dict[str, Any], tmp_path: Path
) -> None:
    engine = contain(fresh_lab, tmp_path, KEYS_ONLY)
    attack(aws_client, held)
    result = read(engine, held["since"])
    finding = next(f for f in result.findings if f.code == "activity-after-containment")
    assert finding.severity is Severity.CRITICAL
    succeeded = finding.message.split("succeeded: ", 1)[1]
    assert "s3:ListBuckets" in succeeded and "invoice-processor" in succeeded
    assert finding.identity == PROCESSOR
