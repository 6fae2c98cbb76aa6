"""The AWS emulator answers key and role lookups from indexes: the entries examined per
request do not grow with the number of users and roles (counted, never timed). And the
lab's request log keeps what each request named, without secrets."""

from __future__ import annotations

import ssl
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from agent_ir.lab import aws_index
from agent_ir.lab.runner import Lab

AwsClientFactory = Callable[..., Any]
EXTRA = 80
TRUST = (
    '{"Version":"2012-10-17","Statement":[{"Effect":"Allow",'
    '"Principal":{"Service":"glue.amazonaws.com"},"Action":"sts:AssumeRole"}]}'
)


@pytest.fixture
def crowded(fresh_lab: Lab, aws_client: AwsClientFactory) -> Iterator[tuple[Any, list[str]]]:
    """The session's lab with EXTRA more users (one key each) and roles; reset afterwards."""
    iam = aws_client("iam")
    keys = []
    for n in range(EXTRA):
        iam.create_user(UserName=f"crowd-{n:03d}")
        keys.append(iam.create_access_key(UserName=f"crowd-{n:03d}")["AccessKey"]["AccessKeyId"])
        iam.create_role(RoleName=f"crowd-role-{n:03d}", AssumeRolePolicyDocument=TRUST)
    yield iam, keys


def test_key_last_used_examines_one_entry_per_account(crowded: tuple[Any, list[str]]) -> None:
    iam, keys = crowded
    aws_index.WORK.reset()
    for key in keys[::8]:
        assert iam.get_access_key_last_used(AccessKeyId=key)["UserName"].startswith("crowd-")
    lookups, examined = aws_index.WORK.lookups, aws_index.WORK.examined
    assert lookups >= len(keys[::8])
    # Two accounts in the world: at most two tables looked at per key, not EXTRA keys.
    assert examined <= 2 * lookups


def test_role_by_name_is_one_lookup(crowded: tuple[Any, list[str]]) -> None:
    iam, _ = crowded
    iam.get_role(RoleName="crowd-role-000")  # the index is built once after the creations
    aws_index.WORK.reset()
    for n in range(0, EXTRA, 5):
        assert iam.get_role(RoleName=f"crowd-role-{n:03d}")["Role"]["RoleName"].endswith(f"{n:03d}")
    assert aws_index.WORK.examined == aws_index.WORK.lookups


def test_a_deleted_role_or_user_key_is_not_found(
    crowded: tuple[Any, list[str]], aws_client: AwsClientFactory
) -> None:
    iam, keys = crowded
    iam.delete_role(RoleName="crowd-role-001")
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.get_role(RoleName="crowd-role-001")
    iam.delete_access_key(UserName="crowd-002", AccessKeyId=keys[2])
    with pytest.raises(iam.exceptions.ClientError):
        iam.get_access_key_last_used(AccessKeyId=keys[2])


def test_the_request_log_names_what_was_asked_and_no_secret(
    fresh_lab: Lab, aws_client: AwsClientFactory
) -> None:
    control = fresh_lab.control_urls["aws"]
    ca = ssl.create_default_context(cafile=str(fresh_lab.ca_path))
    httpx.delete(control + "/requests", verify=ca).raise_for_status()
    iam = aws_client("iam")
    iam.list_access_keys(UserName="invoice-agent")
    iam.put_user_policy(
        UserName="alice",
        PolicyName="deny",
        PolicyDocument=(
            '{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}'
        ),
    )
    logged = httpx.get(control + "/requests", verify=ca).json()["requests"]
    asked = [(r["params"].get("Action"), r["params"].get("UserName"), r["writes"]) for r in logged]
    assert asked == [("ListAccessKeys", "invoice-agent", False), ("PutUserPolicy", "alice", True)]
    text = str(logged).lower()
    assert "secret" not in text and "signature" not in text


def test_key_reads_answered_by_the_lab_match_the_state(
    lab: Lab, aws_client: AwsClientFactory
) -> None:
    """ListAccessKeys and GetAccessKeyLastUsed skip moto's app: botocore still parses
    them into what the seeded world says, and the misses keep moto's errors."""
    from moto.iam.models import iam_backends

    iam = aws_client("iam")
    user = iam_backends["111111111111"]["aws"].users["invoice-agent"]
    listed = iam.list_access_keys(UserName="invoice-agent")["AccessKeyMetadata"]
    assert [(k["AccessKeyId"], k["Status"]) for k in listed] == [
        (key.access_key_id, key.status) for key in user.access_keys
    ]
    assert {k["UserName"] for k in listed} == {"invoice-agent"}
    assert [k["CreateDate"].replace(tzinfo=None) for k in listed] == [
        key.create_date.replace(tzinfo=None) for key in user.access_keys
    ]
    used, unused = user.access_keys
    reply = iam.get_access_key_last_used(AccessKeyId=used.access_key_id)
    assert reply["UserName"] == "invoice-agent"
    assert reply["AccessKeyLastUsed"]["ServiceName"] == "sts"
    assert reply["AccessKeyLastUsed"]["LastUsedDate"].replace(tzinfo=None) == (
        used.last_used.timestamp.replace(tzinfo=None)
    )
    never = iam.get_access_key_last_used(AccessKeyId=unused.access_key_id)["AccessKeyLastUsed"]
    assert never == {"ServiceName": "N/A", "Region": "N/A"}
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.list_access_keys(UserName="nobody-here")
