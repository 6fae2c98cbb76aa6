"""Reading the lab's IAM state through boto3 (the official client), for comparisons."""

from __future__ import annotations

import json
from typing import Any

from agent_ir.engine.executor import Tuning
from agent_ir.lab.runner import Lab

FAST = Tuning(backoff_s=0.05, max_backoff_s=0.2, verify_interval_s=0.02)


def iam_state(aws_client: Any, lab: Lab) -> dict[str, Any]:
    """Everything IAM holds in every lab account, in a comparable form."""
    state: dict[str, Any] = {}
    iam = aws_client("iam", retries={"mode": "standard", "total_max_attempts": 5})
    state["main"] = _account_state(iam)
    aws = lab.settings.providers.aws
    assert aws is not None
    sts = aws_client("sts", retries={"mode": "standard", "total_max_attempts": 5})
    for account in aws.accounts:
        creds = sts.assume_role(RoleArn=account.role_arn, RoleSessionName="test")["Credentials"]
        other = aws_client(
            "iam",
            credentials={
                "aws_access_key_id": creds["AccessKeyId"],
                "aws_secret_access_key": creds["SecretAccessKey"],
                "aws_session_token": creds["SessionToken"],
            },
            retries={"mode": "standard", "total_max_attempts": 5},
        )
        state[account.id] = _account_state(other)
    return json.loads(json.dumps(state, sort_keys=True, default=str))


def without_session_cutoffs(state: dict[str, Any]) -> dict[str, Any]:
    """``state`` without the AWSRevokeOlderSessions policies a restore keeps on purpose
    (they deny only sessions issued before the revoke: held sessions stay ended)."""
    for account in state.values():
        for role in account.get("roles", {}).values():
            role.get("inline", {}).pop("AWSRevokeOlderSessions", None)
    return state


def _account_state(iam: Any) -> dict[str, Any]:
    users = {}
    for user in iam.list_users()["Users"]:
        name = user["UserName"]
        users[name] = {
            "keys": {
                k["AccessKeyId"]: k["Status"]
                for k in iam.list_access_keys(UserName=name)["AccessKeyMetadata"]
            },
            "inline": {
                p: iam.get_user_policy(UserName=name, PolicyName=p)["PolicyDocument"]
                for p in iam.list_user_policies(UserName=name)["PolicyNames"]
            },
            "attached": sorted(
                p["PolicyArn"]
                for p in iam.list_attached_user_policies(UserName=name)["AttachedPolicies"]
            ),
        }
    roles = {}
    for role in iam.list_roles()["Roles"]:
        name = role["RoleName"]
        roles[name] = {
            "trust": iam.get_role(RoleName=name)["Role"]["AssumeRolePolicyDocument"],
            "inline": {
                p: iam.get_role_policy(RoleName=name, PolicyName=p)["PolicyDocument"]
                for p in iam.list_role_policies(RoleName=name)["PolicyNames"]
            },
            "attached": sorted(
                p["PolicyArn"]
                for p in iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]
            ),
        }
    return {"users": users, "roles": roles}
