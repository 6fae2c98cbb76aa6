"""AWS implementations of the catalog actions (IAM through the adapter's boto3 clients)."""

from agent_ir.providers.aws.actions.common import AwsAction
from agent_ir.providers.aws.actions.keys import DisableAccessKeys
from agent_ir.providers.aws.actions.policies import DenyAllUsers, RemoveRiskyGrants
from agent_ir.providers.aws.actions.sessions import RevokeRoleSessions
from agent_ir.providers.aws.actions.trust import LockTrust, RemoveAssumeDelegation

ACTIONS: dict[str, type[AwsAction]] = {
    cls.action: cls
    for cls in (
        DisableAccessKeys,
        RevokeRoleSessions,
        DenyAllUsers,
        LockTrust,
        RemoveRiskyGrants,
        RemoveAssumeDelegation,
    )
}
"""Every AWS action implementation, by catalog name."""

__all__ = ["ACTIONS", "AwsAction"]
