"""The AWS provider's descriptor (see :mod:`agent_ir.providers.plugin`)."""

from __future__ import annotations

from typing import Any

from agent_ir.providers.base import Ability
from agent_ir.providers.plugin import ProviderPlugin
from agent_ir.settings import AwsSettings


def iam_policy(read: list[str], write: list[str]) -> dict[str, Any]:
    """The IAM policy document granting the responder exactly read and write."""
    statements: list[dict[str, Any]] = [
        {"Sid": "AgentIRRead", "Effect": "Allow", "Action": read, "Resource": "*"}
    ]
    if write:
        statements.append(
            {"Sid": "AgentIRContain", "Effect": "Allow", "Action": write, "Resource": "*"}
        )
    return {"Version": "2012-10-17", "Statement": statements}


PLUGIN = ProviderPlugin(
    name="aws",
    title="AWS",
    settings=AwsSettings,
    adapter="agent_ir.providers.aws.adapter:AwsProvider",
    facts="agent_ir.providers.aws.adapter:AwsFacts",
    actions_index="agent_ir.providers.aws.actions:ACTIONS",
    abilities=Ability.DISCOVER
    | Ability.CHECK_PERMISSIONS
    | Ability.READ_PERMISSIONS
    | Ability.CONTAIN
    | Ability.RESTORE
    | Ability.READ_ACTIVITY,
    permission_document=iam_policy,
)
