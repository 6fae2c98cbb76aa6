"""What every AWS action shares: policy names and documents, and inline-policy calls."""

from __future__ import annotations

import json
from typing import Any, ClassVar

from agent_ir.actions.base import ProviderAction
from agent_ir.errors import ObjectMissing
from agent_ir.model import ProviderName
from agent_ir.providers.aws import policy
from agent_ir.providers.aws.adapter import AwsProvider

REVOKE_POLICY = "AWSRevokeOlderSessions"
DENY_ALL_POLICY = "AgentIRDenyAll"
CUT_POLICY_PREFIX = "AgentIRCutDelegation-"
DENY_ALL: dict[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [{"Sid": "AgentIRDenyAll", "Effect": "Deny", "Action": "*", "Resource": "*"}],
}
LOCKED_TRUST: dict[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "AgentIRLockTrust",
            "Effect": "Deny",
            "Principal": {"AWS": "*"},
            "Action": ["sts:AssumeRole", "sts:AssumeRoleWithWebIdentity", "sts:AssumeRoleWithSAML"],
        }
    ],
}


def name_of(arn: str) -> str:
    """The last path part of an IAM ARN (the user or role name)."""
    return arn.rsplit("/", 1)[-1]


def is_service_linked(arn: str) -> bool:
    return ":role/aws-service-role/" in arn


def revoke_document(cutoff: str) -> dict[str, Any]:
    """The AWSRevokeOlderSessions policy: deny everything to sessions issued before ``cutoff``."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Deny",
                "Action": "*",
                "Resource": "*",
                "Condition": {"DateLessThan": {"aws:TokenIssueTime": cutoff}},
            }
        ],
    }


class AwsAction(ProviderAction[AwsProvider]):
    provider: ClassVar[ProviderName] = "aws"

    @staticmethod
    async def _inline(
        adapter: AwsProvider, account: str, kind: str, principal: str, name: str
    ) -> dict[str, Any] | None:
        method = "get_user_policy" if kind == "user" else "get_role_policy"
        key = "UserName" if kind == "user" else "RoleName"
        try:
            reply = await adapter.iam_call(
                account,
                f"reading policy {name} of {principal}",
                method,
                **{key: principal, "PolicyName": name},
            )
        except ObjectMissing:
            return None
        return policy.parse_document(reply["PolicyDocument"])

    @staticmethod
    async def _put_inline(
        adapter: AwsProvider,
        account: str,
        kind: str,
        principal: str,
        name: str,
        doc: dict[str, Any],
    ) -> None:
        method = "put_user_policy" if kind == "user" else "put_role_policy"
        key = "UserName" if kind == "user" else "RoleName"
        await adapter.iam_call(
            account,
            f"putting policy {name} on {principal}",
            method,
            **{key: principal, "PolicyName": name, "PolicyDocument": json.dumps(doc)},
        )

    @staticmethod
    async def _delete_inline(
        adapter: AwsProvider, account: str, kind: str, principal: str, name: str
    ) -> None:
        method = "delete_user_policy" if kind == "user" else "delete_role_policy"
        key = "UserName" if kind == "user" else "RoleName"
        try:
            await adapter.iam_call(
                account,
                f"deleting policy {name} of {principal}",
                method,
                **{key: principal, "PolicyName": name},
            )
        except ObjectMissing:
            return

    @classmethod
    async def _reset_inline(
        cls,
        adapter: AwsProvider,
        account: str,
        kind: str,
        principal: str,
        name: str,
        before: dict[str, Any] | None,
    ) -> None:
        """Put back the inline policy ``before`` held, or delete it when there was none."""
        if before is None:
            await cls._delete_inline(adapter, account, kind, principal, name)
        else:
            await cls._put_inline(adapter, account, kind, principal, name, before)

    @staticmethod
    async def _trust(adapter: AwsProvider, account: str, role: str) -> dict[str, Any]:
        reply = await adapter.iam_call(account, f"reading role {role}", "get_role", RoleName=role)
        return policy.parse_document(reply["Role"]["AssumeRolePolicyDocument"])

    @staticmethod
    async def _set_trust(
        adapter: AwsProvider, account: str, role: str, doc: dict[str, Any], verb: str
    ) -> None:
        await adapter.iam_call(
            account,
            f"{verb} trust of {role}",
            "update_assume_role_policy",
            RoleName=role,
            PolicyDocument=json.dumps(doc),
        )
