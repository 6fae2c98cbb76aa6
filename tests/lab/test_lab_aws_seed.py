"""The world as seeded into the AWS emulator, read back through boto3 as the responder."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from agent_ir.lab.aws_seed import lab_access_key_id
from agent_ir.lab.runner import Lab
from agent_ir.lab.world import AccountSpec, RoleSpec, UserSpec, World

AwsClientFactory = Callable[..., Any]

ONE_DAY = timedelta(days=1)


def _user(world: World, name: str) -> UserSpec:
    return next(u for u in world.aws.accounts[0].users if u.name == name)


def _role(world: World, name: str) -> RoleSpec:
    return next(r for r in world.aws.accounts[0].roles if r.name == name)


def _close(actual: datetime, expected: datetime) -> bool:
    return abs(actual - expected) < ONE_DAY


def test_the_responder_is_who_the_config_says(lab: Lab, aws_client: AwsClientFactory) -> None:
    identity = aws_client("sts").get_caller_identity()
    assert identity["Arn"] == "arn:aws:iam::111111111111:user/agent-ir-responder"
    assert identity["Account"] == lab.world.aws.accounts[0].id


def test_every_world_user_is_listed(lab_world: World, aws_client: AwsClientFactory) -> None:
    users = aws_client("iam").list_users()["Users"]
    expected = {u.name for u in lab_world.aws.accounts[0].users} | {"agent-ir-responder"}
    assert {u["UserName"] for u in users} == expected


def test_user_path_tags_boundary_and_policies(
    lab_world: World, aws_client: AwsClientFactory
) -> None:
    iam = aws_client("iam")
    spec = _user(lab_world, "invoice-agent")
    user = iam.get_user(UserName=spec.name)["User"]
    assert user["Arn"] == "arn:aws:iam::111111111111:user/agents/invoice-agent"
    assert user["Path"] == spec.path
    assert {t["Key"]: t["Value"] for t in user["Tags"]} == spec.tags
    assert user["PermissionsBoundary"]["PermissionsBoundaryArn"] == (
        "arn:aws:iam::111111111111:policy/AgentBoundary"
    )
    attached = iam.list_attached_user_policies(UserName=spec.name)["AttachedPolicies"]
    assert {p["PolicyArn"] for p in attached} == {
        "arn:aws:iam::111111111111:policy/TicketsRead",
        "arn:aws:iam::aws:policy/ReadOnlyAccess",
    }
    assert iam.list_user_policies(UserName=spec.name)["PolicyNames"] == ["assume-processor"]
    inline = iam.get_user_policy(UserName=spec.name, PolicyName="assume-processor")
    assert inline["PolicyDocument"] == spec.inline_policies[0].document


def test_access_keys_have_the_world_ages_status_and_last_use(
    lab: Lab, lab_world: World, aws_client: AwsClientFactory
) -> None:
    iam = aws_client("iam")
    spec = _user(lab_world, "invoice-agent")
    keys = iam.list_access_keys(UserName=spec.name)["AccessKeyMetadata"]
    assert len(keys) == len(spec.access_keys)
    for key, key_spec in zip(keys, spec.access_keys, strict=True):
        assert key["Status"] == key_spec.status
        assert _close(key["CreateDate"], lab.now - timedelta(days=key_spec.age_days))
        used = iam.get_access_key_last_used(AccessKeyId=key["AccessKeyId"])["AccessKeyLastUsed"]
        if key_spec.last_used_days_ago is None:
            assert "LastUsedDate" not in used
            assert used["ServiceName"] == "N/A"
        else:
            assert _close(
                used["LastUsedDate"], lab.now - timedelta(days=key_spec.last_used_days_ago)
            )
            assert used["ServiceName"] == key_spec.last_used_service


def test_role_trust_session_boundary_tags_and_last_use(
    lab: Lab, lab_world: World, aws_client: AwsClientFactory
) -> None:
    iam = aws_client("iam")
    spec = _role(lab_world, "invoice-processor")
    role = iam.get_role(RoleName=spec.name)["Role"]
    assert role["Arn"] == "arn:aws:iam::111111111111:role/service/invoice-processor"
    assert role["AssumeRolePolicyDocument"] == spec.trust_policy
    assert role["MaxSessionDuration"] == spec.max_session_hours * 3600
    assert role["PermissionsBoundary"]["PermissionsBoundaryArn"].endswith(":policy/AgentBoundary")
    assert {t["Key"]: t["Value"] for t in role["Tags"]} == spec.tags
    assert spec.last_used_days_ago is not None
    assert _close(
        role["RoleLastUsed"]["LastUsedDate"], lab.now - timedelta(days=spec.last_used_days_ago)
    )
    attached = iam.list_attached_role_policies(RoleName=spec.name)["AttachedPolicies"]
    assert [p["PolicyArn"] for p in attached] == ["arn:aws:iam::aws:policy/AdministratorAccess"]
    inline = iam.get_role_policy(RoleName=spec.name, PolicyName="read-finance")
    assert inline["PolicyDocument"] == spec.inline_policies[0].document


def test_customer_managed_policies_and_aws_managed_ones(
    lab_world: World, aws_client: AwsClientFactory
) -> None:
    iam = aws_client("iam")
    local = iam.list_policies(Scope="Local")["Policies"]
    account = lab_world.aws.accounts[0]
    assert {p["PolicyName"] for p in local} == {p.name for p in account.managed_policies}
    boundary = next(p for p in local if p["PolicyName"] == "AgentBoundary")
    version = iam.get_policy_version(
        PolicyArn=boundary["Arn"], VersionId=boundary["DefaultVersionId"]
    )["PolicyVersion"]
    assert version["Document"] == account.managed_policies[0].document
    deny_all = iam.get_policy(PolicyArn="arn:aws:iam::aws:policy/AWSDenyAll")["Policy"]
    assert deny_all["PolicyName"] == "AWSDenyAll"


def test_account_alias(aws_client: AwsClientFactory) -> None:
    assert aws_client("iam").list_account_aliases()["AccountAliases"] == ["corp-prod"]


def _assume(aws_client: AwsClientFactory, role_arn: str) -> dict[str, Any]:
    creds = aws_client("sts").assume_role(RoleArn=role_arn, RoleSessionName="agent-ir-test")
    c = creds["Credentials"]
    return {
        "aws_access_key_id": c["AccessKeyId"],
        "aws_secret_access_key": c["SecretAccessKey"],
        "aws_session_token": c["SessionToken"],
    }


def test_second_account_through_the_responder_role(
    lab: Lab, lab_world: World, aws_client: AwsClientFactory
) -> None:
    aws = lab.settings.providers.aws
    assert aws is not None
    second: AccountSpec = lab_world.aws.accounts[1]
    assert [(a.id, a.role_arn) for a in aws.accounts] == [
        (second.id, f"arn:aws:iam::{second.id}:role/AgentIRResponder")
    ]
    credentials = _assume(aws_client, aws.accounts[0].role_arn)
    identity = aws_client("sts", credentials=credentials).get_caller_identity()
    assert identity["Account"] == second.id
    iam = aws_client("iam", credentials=credentials)
    assert {u["UserName"] for u in iam.list_users()["Users"]} == {"data-loader"}
    roles = {r["RoleName"] for r in iam.list_roles()["Roles"]}
    assert roles == {"finance-data-reader", "AgentIRResponder"}
    assert iam.list_account_aliases()["AccountAliases"] == ["corp-data"]
    key = iam.list_access_keys(UserName="data-loader")["AccessKeyMetadata"][0]
    assert _close(key["CreateDate"], lab.now - timedelta(days=30))


def _key_ids(aws_client: AwsClientFactory, user: str) -> list[str]:
    keys = aws_client("iam").list_access_keys(UserName=user)["AccessKeyMetadata"]
    return [k["AccessKeyId"] for k in keys]


def test_seeded_key_ids_do_not_depend_on_motos_random_stream(
    fresh_lab: Lab, aws_client: AwsClientFactory, monkeypatch: Any
) -> None:
    """Every request draws from moto's one random stream; seeded ids must not follow it."""
    from moto.moto_api._internal import mock_random

    before = _key_ids(aws_client, "invoice-agent")
    seed = mock_random.seed

    def seed_then_draw(a: Any = None, version: int = 2) -> None:
        seed(a, version)
        mock_random.getrandbits(4096)  # what concurrent requests would have drawn

    monkeypatch.setattr(mock_random, "seed", seed_then_draw)
    fresh_lab.reset()
    assert _key_ids(aws_client, "invoice-agent") == before
    assert sorted(before) == sorted(
        lab_access_key_id("111111111111", "invoice-agent", n) for n in (1, 2)
    )
