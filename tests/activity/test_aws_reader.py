"""The AWS activity reader against the lab's CloudTrail, over real sockets.

The calls are made here with official clients as the agent (its own key, then its role
chain into the second account); the lab records them and serves them by LookupEvents.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import botocore.exceptions
import pytest

from agent_ir.activity.model import ActivityWindow
from agent_ir.activity.timeline import Timeline, build_timeline
from agent_ir.engine.inventory import Engine
from agent_ir.lab.runner import Lab
from tests.conftest import AwsClientFactory

USER = "arn:aws:iam::111111111111:user/agents/invoice-agent"
PROCESSOR = "arn:aws:iam::111111111111:role/service/invoice-processor"
READER = "arn:aws:iam::222222222222:role/finance-data-reader"


def creds(answer: dict[str, Any]) -> dict[str, str]:
    """boto3 keyword credentials from an AssumeRole answer."""
    c = answer["Credentials"]
    return {
        "aws_access_key_id": c["AccessKeyId"],
        "aws_secret_access_key": c["SecretAccessKey"],
        "aws_session_token": c["SessionToken"],
    }


@pytest.fixture
def agent_calls(fresh_lab: Lab, aws_client: AwsClientFactory) -> dict[str, Any]:
    """The agent signs in with a fresh key, reads as itself, then chains into corp-data and
    is refused there; returns the secrets it held (to look for them in the output)."""
    iam = aws_client("iam")
    for held in iam.list_access_keys(UserName="invoice-agent")["AccessKeyMetadata"]:
        if held["Status"] == "Inactive":  # room for a key whose secret the test knows
            iam.delete_access_key(UserName="invoice-agent", AccessKeyId=held["AccessKeyId"])
    key = iam.create_access_key(UserName="invoice-agent")["AccessKey"]
    own = {"aws_access_key_id": key["AccessKeyId"], "aws_secret_access_key": key["SecretAccessKey"]}
    aws_client("s3", credentials=own).list_buckets()
    first = aws_client("sts", credentials=own).assume_role(
        RoleArn=PROCESSOR, RoleSessionName="nightly"
    )
    second = aws_client("sts", credentials=creds(first)).assume_role(
        RoleArn=READER, RoleSessionName="nightly-finance"
    )
    with pytest.raises(botocore.exceptions.ClientError) as refused:
        aws_client("iam", credentials=creds(second)).list_roles()
    assert refused.value.response["Error"]["Code"] == "AccessDenied"
    return {
        "secrets": [
            key["SecretAccessKey"],
            first["Credentials"]["SecretAccessKey"],
            first["Credentials"]["SessionToken"],
            second["Credentials"]["SecretAccessKey"],
            second["Credentials"]["SessionToken"],
        ],
        "own": own,
    }


def timeline(lab: Lab, tmp_path: Path, **window: Any) -> Timeline:
    """The invoice agent's timeline over the last hour (or the window given)."""
    now = datetime.now(UTC)
    since = window.pop("since", now - timedelta(hours=1))
    until = window.pop("until", now + timedelta(minutes=5))
    settings = lab.settings.model_copy(update={"journal_dir": tmp_path / "journal"})

    async def read() -> Timeline:
        engine = Engine(settings)
        try:
            return await build_timeline(
                engine, "invoice-agent", ActivityWindow(since, until, **window), ["aws"]
            )
        finally:
            await engine.aclose()

    return asyncio.run(read())


def test_an_action_through_the_chain_is_attributed_to_the_agent_denied(
    fresh_lab: Lab, agent_calls: dict[str, Any], tmp_path: Path
) -> None:
    result = timeline(fresh_lab, tmp_path)
    assert [s.state for s in result.statuses] == ["answered"]
    refused = [e for e in result.events if e.action == "iam:ListRoles"]
    assert len(refused) == 1
    event = refused[0]
    assert event.identity_id == READER and event.via == "chain"
    assert event.outcome == "denied" and event.error == "AccessDenied"
    assert event.account == "222222222222" and event.session == "nightly-finance"
    principals = [h.principal for h in event.chain]
    assert principals[:2] == [PROCESSOR, READER]
    assert (
        "arn:aws:sts::222222222222:assumed-role/finance-data-reader/nightly-finance" in principals
    )
    own = {e.action for e in result.events if e.via == "own"}
    assert {"s3:ListBuckets", "sts:AssumeRole"} <= own
    # the responder's own reads (discovery, the key it created) are not the agent's story
    assert all(e.action != "iam:CreateAccessKey" for e in result.events)


def test_secrets_never_reach_events_even_raw(
    fresh_lab: Lab, agent_calls: dict[str, Any], tmp_path: Path
) -> None:
    text = json.dumps(timeline(fresh_lab, tmp_path).to_json(raw=True))
    assert agent_calls["own"]["aws_access_key_id"] in text  # key ids are fine
    for secret in agent_calls["secrets"]:
        assert secret not in text


def test_paging_and_the_bound_keep_the_newest(
    fresh_lab: Lab, aws_client: AwsClientFactory, agent_calls: dict[str, Any], tmp_path: Path
) -> None:
    s3 = aws_client("s3", credentials=agent_calls["own"])
    for _ in range(55):
        s3.list_buckets()
    full = timeline(fresh_lab, tmp_path)
    gets = [e for e in full.events if e.action == "s3:ListBuckets"]
    assert len(gets) == 56  # more than one page of 50
    assert full.statuses[0].requests >= 2
    bounded = timeline(fresh_lab, tmp_path, limit=10)
    assert bounded.truncated and len(bounded.events) == 10
    assert [e.event_id for e in bounded.events] == [e.event_id for e in full.events[:10]]


def test_the_time_window_is_honoured(
    fresh_lab: Lab, agent_calls: dict[str, Any], tmp_path: Path
) -> None:
    before = datetime.now(UTC) - timedelta(hours=2)
    empty = timeline(fresh_lab, tmp_path, since=before - timedelta(hours=1), until=before)
    assert empty.events == [] and empty.statuses[0].state == "answered"


def test_lookup_events_answers_as_cloudtrail_does(
    fresh_lab: Lab, aws_client: AwsClientFactory, agent_calls: dict[str, Any]
) -> None:
    trail = aws_client("cloudtrail")
    page = trail.lookup_events(
        LookupAttributes=[{"AttributeKey": "Username", "AttributeValue": "invoice-agent"}],
        MaxResults=1,
    )
    assert len(page["Events"]) == 1 and page["NextToken"]
    record = json.loads(page["Events"][0]["CloudTrailEvent"])
    assert record["userIdentity"]["type"] == "IAMUser"
    assert record["eventVersion"] == "1.08" and record["recipientAccountId"] == "111111111111"
    for bad in (
        {"MaxResults": 51},
        {
            "LookupAttributes": [
                {"AttributeKey": "Username", "AttributeValue": "a"},
                {"AttributeKey": "EventName", "AttributeValue": "b"},
            ]
        },
    ):
        with pytest.raises(botocore.exceptions.ClientError):
            trail.lookup_events(**bad)
