"""The AWS semantics containment depends on, checked with boto3 against the lab: sessions
revoked by ``aws:TokenIssueTime``, trust policies on every AssumeRole (same and cross
account), resources and boundaries in identity policies, actions the lab does not evaluate."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError

from agent_ir.lab.aws import AwsEmulator
from agent_ir.lab.runner import Lab

AwsClientFactory = Callable[..., Any]
HOME, OTHER = "111111111111", "222222222222"
ALLOW_ASSUME = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}],
}
LIST_ROLES = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": ["iam:ListRoles", "iam:GetRole"], "Resource": "*"}],
}


def _error(call: Callable[[], Any]) -> dict[str, Any]:
    with pytest.raises(ClientError) as caught:
        call()
    return dict(caught.value.response)


def _trust(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def _allow(principal: Any, **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole", **extra}


class World:
    """Builds principals in the lab through IAM, as the responder."""

    def __init__(self, aws_client: AwsClientFactory) -> None:
        self.client = aws_client
        self.iam = aws_client("iam")
        self._other: Any = None

    def user(
        self, name: str, policy: dict[str, Any] | None = ALLOW_ASSUME, **tags: str
    ) -> dict[str, str]:
        """A user in the home account with one access key; returns its credentials."""
        self.iam.create_user(UserName=name, Tags=[{"Key": k, "Value": v} for k, v in tags.items()])
        if policy is not None:
            self.iam.put_user_policy(
                UserName=name, PolicyName="p", PolicyDocument=json.dumps(policy)
            )
        key = self.iam.create_access_key(UserName=name)["AccessKey"]
        return {
            "aws_access_key_id": key["AccessKeyId"],
            "aws_secret_access_key": key["SecretAccessKey"],
        }

    def other_iam(self) -> Any:
        """The responder's IAM client in the second account (through its role there)."""
        if self._other is None:
            creds = self.client("sts").assume_role(
                RoleArn=f"arn:aws:iam::{OTHER}:role/AgentIRResponder", RoleSessionName="setup"
            )["Credentials"]
            self._other = self.client("iam", credentials=_session(creds))
        return self._other

    def role(self, name: str, trust: str, *, other: bool = False) -> str:
        """A role (home account unless ``other``) that may list roles; returns its ARN."""
        iam = self.other_iam() if other else self.iam
        arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust)["Role"]["Arn"]
        iam.put_role_policy(RoleName=name, PolicyName="p", PolicyDocument=json.dumps(LIST_ROLES))
        return str(arn)

    def assume(self, credentials: dict[str, str], role_arn: str, **params: Any) -> dict[str, str]:
        """Assume ``role_arn`` with ``credentials``; returns the session's credentials."""
        sts = self.client("sts", credentials=credentials)
        reply = sts.assume_role(RoleArn=role_arn, RoleSessionName="probe", **params)
        return _session(reply["Credentials"])


def _session(creds: dict[str, Any]) -> dict[str, str]:
    return {
        "aws_access_key_id": creds["AccessKeyId"],
        "aws_secret_access_key": creds["SecretAccessKey"],
        "aws_session_token": creds["SessionToken"],
    }


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


@pytest.fixture
def world(fresh_lab: Lab, aws_client: AwsClientFactory) -> World:
    return World(aws_client)


def test_revoke_older_sessions_denies_held_sessions_and_not_fresh_ones(
    world: World, aws_client: AwsClientFactory
) -> None:
    agent, human = world.user("rogue-agent"), world.user("on-call-human")
    shared = world.role(
        "shared-ops",
        _trust(
            _allow(
                {
                    "AWS": [
                        f"arn:aws:iam::{HOME}:user/rogue-agent",
                        f"arn:aws:iam::{HOME}:user/on-call-human",
                    ]
                }
            )
        ),
    )
    held = world.assume(agent, shared)
    held_human = world.assume(human, shared)
    assert aws_client("iam", credentials=held).list_roles()["Roles"]
    s3 = aws_client("s3", credentials=held, s3={"addressing_style": "path"})
    assert _error(s3.list_buckets)["Error"]["Code"] == "AccessDenied"  # the role has no S3
    world.iam.put_role_policy(
        RoleName="shared-ops",
        PolicyName="s3",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
            }
        ),
    )
    assert s3.list_buckets()["Buckets"] == []

    cutoff = _now()  # read after both sessions were issued, before the fresh ones are asked for
    world.iam.put_role_policy(
        RoleName="shared-ops",
        PolicyName="AWSRevokeOlderSessions",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": {
                    "Effect": "Deny",
                    "Action": "*",
                    "Resource": "*",
                    "Condition": {"DateLessThan": {"aws:TokenIssueTime": cutoff}},
                },
            }
        ),
    )

    for session in (held, held_human):
        s3 = aws_client("s3", credentials=session, s3={"addressing_style": "path"})
        assert _error(s3.list_buckets)["Error"]["Code"] == "AccessDenied"
        refused = _error(aws_client("iam", credentials=session).list_roles)
        assert refused["Error"]["Code"] == "AccessDenied"
        assert refused["ResponseMetadata"]["HTTPStatusCode"] == 403
        assert "explicit deny" in refused["Error"]["Message"]
        # AWS never denies GetCallerIdentity: the session still authenticates.
        assert (
            aws_client("sts", credentials=session)
            .get_caller_identity()["Arn"]
            .endswith("assumed-role/shared-ops/probe")
        )
    fresh = world.assume(human, shared)
    assert aws_client("iam", credentials=fresh).list_roles()["Roles"]
    # a held session cannot renew itself by chaining into the role again either
    assert _error(lambda: world.assume(held, shared))["Error"]["Code"] == "AccessDenied"


def test_a_date_greater_than_condition_allows_only_newer_sessions(
    world: World, aws_client: AwsClientFactory
) -> None:
    user = world.user("newcomer")
    arn = world.role("timed", _trust(_allow({"AWS": f"arn:aws:iam::{HOME}:user/newcomer"})))
    old = world.assume(user, arn)
    cutoff = _now()
    world.iam.put_role_policy(
        RoleName="timed",
        PolicyName="p",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": {
                    "Effect": "Allow",
                    "Action": "iam:ListRoles",
                    "Resource": "*",
                    "Condition": {"DateGreaterThan": {"aws:TokenIssueTime": cutoff}},
                },
            }
        ),
    )
    assert _error(aws_client("iam", credentials=old).list_roles)["Error"]["Code"] == "AccessDenied"
    assert aws_client("iam", credentials=world.assume(user, arn)).list_roles()["Roles"]


def test_a_cross_account_assume_the_trust_does_not_allow_is_refused(
    world: World, aws_client: AwsClientFactory
) -> None:
    agent = world.user("hopper")
    glue_only = world.role(
        "glue-crawler", _trust(_allow({"Service": "glue.amazonaws.com"})), other=True
    )
    refused = _error(lambda: world.assume(agent, glue_only))
    assert refused["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert refused["Error"]["Code"] == "AccessDenied"
    assert refused["Error"]["Type"] == "Sender"
    assert refused["Error"]["Message"].startswith(
        f"User: arn:aws:iam::{HOME}:user/hopper is not authorized to perform: sts:AssumeRole "
        f"on resource: {glue_only}"
    )
    # the same trust edited to name the home account lets the hop through
    world.other_iam().update_assume_role_policy(
        RoleName="glue-crawler", PolicyDocument=_trust(_allow({"AWS": f"arn:aws:iam::{HOME}:root"}))
    )
    session = world.assume(agent, glue_only)
    identity = aws_client("sts", credentials=session).get_caller_identity()
    assert identity["Account"] == OTHER


def test_cross_account_needs_the_callers_own_policy_too(world: World) -> None:
    no_policy = world.user("no-policy", policy=None)
    arn = world.role(
        "trusts-home", _trust(_allow({"AWS": f"arn:aws:iam::{HOME}:user/no-policy"})), other=True
    )
    refused = _error(lambda: world.assume(no_policy, arn))
    assert "no identity-based policy allows" in refused["Error"]["Message"]
    # in the same account, a trust naming the user is enough on its own
    same = world.role("names-user", _trust(_allow({"AWS": f"arn:aws:iam::{HOME}:user/no-policy"})))
    assert world.assume(no_policy, same)["aws_session_token"]
    # but a trust naming only the account root defers to the (missing) identity policy
    root = world.role("trusts-root", _trust(_allow({"AWS": f"arn:aws:iam::{HOME}:root"})))
    assert _error(lambda: world.assume(no_policy, root))["Error"]["Code"] == "AccessDenied"


def test_trust_conditions_external_id_principal_tag_and_source_identity(world: World) -> None:
    finance = world.user("fin-bot", team="finance")
    other = world.user("ops-bot", team="ops")
    principals = {"AWS": f"arn:aws:iam::{HOME}:root"}
    external = world.role(
        "vendor",
        _trust(_allow(principals, Condition={"StringEquals": {"sts:ExternalId": "v-123"}})),
    )
    assert _error(lambda: world.assume(finance, external))["Error"]["Code"] == "AccessDenied"
    assert _error(lambda: world.assume(finance, external, ExternalId="nope"))
    assert world.assume(finance, external, ExternalId="v-123")

    tagged = world.role(
        "finance-only",
        _trust(
            _allow(principals, Condition={"StringEquals": {"aws:PrincipalTag/team": "finance"}})
        ),
    )
    assert world.assume(finance, tagged)
    assert _error(lambda: world.assume(other, tagged))["Error"]["Code"] == "AccessDenied"

    sourced = world.role(
        "sourced",
        _trust(
            {
                "Effect": "Allow",
                "Principal": principals,
                "Action": ["sts:AssumeRole", "sts:SetSourceIdentity"],
                "Condition": {"StringLike": {"sts:SourceIdentity": "alice@*"}},
            }
        ),
    )
    assert _error(lambda: world.assume(finance, sourced))["Error"]["Code"] == "AccessDenied"
    assert _error(lambda: world.assume(finance, sourced, SourceIdentity="mallory@corp"))
    assert world.assume(finance, sourced, SourceIdentity="alice@corp.test")


def test_a_trust_naming_a_role_admits_its_sessions_only(world: World) -> None:
    user = world.user("chainer")
    first = world.role("first-hop", _trust(_allow({"AWS": f"arn:aws:iam::{HOME}:user/chainer"})))
    world.iam.put_role_policy(
        RoleName="first-hop", PolicyName="hop", PolicyDocument=json.dumps(ALLOW_ASSUME)
    )
    second = world.role("second-hop", _trust(_allow({"AWS": first})), other=True)
    hop = world.assume(user, first)
    assert world.assume(hop, second)["aws_session_token"]
    assert _error(lambda: world.assume(user, second))["Error"]["Code"] == "AccessDenied"


def test_resources_in_identity_policies_are_honoured(
    world: World, aws_client: AwsClientFactory
) -> None:
    narrow = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "iam:GetRole",
                "Resource": f"arn:aws:iam::{HOME}:role/service/invoice-processor",
            }
        ],
    }
    iam = aws_client("iam", credentials=world.user("narrow", policy=narrow))
    assert iam.get_role(RoleName="invoice-processor")["Role"]["RoleName"] == "invoice-processor"
    world.role("elsewhere", _trust(_allow({"AWS": f"arn:aws:iam::{HOME}:root"})))
    refused = _error(lambda: iam.get_role(RoleName="elsewhere"))
    assert refused["Error"]["Code"] == "AccessDenied"
    assert f"on resource: arn:aws:iam::{HOME}:role/elsewhere" in refused["Error"]["Message"]


def test_a_permissions_boundary_caps_a_role_session(
    world: World, aws_client: AwsClientFactory
) -> None:
    user = world.user("bounded-caller")
    world.iam.update_assume_role_policy(
        RoleName="invoice-processor",
        PolicyDocument=_trust(_allow({"AWS": f"arn:aws:iam::{HOME}:user/bounded-caller"})),
    )
    # AdministratorAccess attached, boundary AgentBoundary allows s3:* and sts:AssumeRole only
    session = world.assume(user, f"arn:aws:iam::{HOME}:role/service/invoice-processor")
    refused = _error(aws_client("iam", credentials=session).list_users)
    assert refused["Error"]["Code"] == "AccessDenied"
    assert "no identity-based policy allows" in refused["Error"]["Message"]


def test_an_action_the_lab_does_not_evaluate_is_refused_and_says_so(
    aws_client: AwsClientFactory,
) -> None:
    refused = _error(aws_client("iam").list_open_id_connect_providers)
    assert refused["Error"]["Code"] == "AccessDenied"
    assert "the lab does not evaluate this action" in refused["Error"]["Message"]


def test_credential_lookups_do_not_scan_users(
    lab: Lab, world: World, aws_client: AwsClientFactory
) -> None:
    emulator = lab.emulators["aws"]
    assert isinstance(emulator, AwsEmulator)
    for index in range(40):
        world.iam.create_user(UserName=f"filler-{index:02d}")
    allowed = ["sts:AssumeRole", "iam:ListUserPolicies"]
    user = world.user(
        "counted",
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": allowed, "Resource": "*"}],
        },
    )
    arn = world.role("counted-role", _trust(_allow({"AWS": f"arn:aws:iam::{HOME}:user/counted"})))
    session = world.assume(user, arn)
    iam, sts = aws_client("iam", credentials=user), aws_client("sts", credentials=user)
    session_iam = aws_client("iam", credentials=session)
    sts.get_caller_identity()  # warm: sessions issued so far are indexed once
    session_iam.list_roles()

    index = emulator.auth.index
    before = index.visited
    for _ in range(5):
        sts.get_caller_identity()
        iam.list_user_policies(UserName="counted")
        session_iam.get_role(RoleName="counted-role")
    # one principal looked at per user-key request; none per session request
    assert index.visited - before == 10
