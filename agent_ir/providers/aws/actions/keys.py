"""Access keys: deactivate them."""

from __future__ import annotations

from typing import Any, cast

from agent_ir.actions.base import Draft, PlanContext, PlannedStep, Reversibility
from agent_ir.actions.catalog import (
    DisableCredentialsParams,
)
from agent_ir.providers.aws.actions.common import (
    AwsAction,
)
from agent_ir.providers.aws.adapter import AwsProvider


class DisableAccessKeys(AwsAction):
    """Deactivate every access key of the agent's IAM users (``Status=Inactive``).

    ```yaml
    - id: cut-keys
      action: disable-credentials
      providers: [aws]
    ```
    """

    action = "disable-credentials"
    permissions = ("iam:ListAccessKeys", "iam:UpdateAccessKey")
    restore_permissions = ("iam:UpdateAccessKey",)
    reversible = Reversibility.YES

    def plan(self, ctx: PlanContext) -> list[Draft]:
        """One step per active key of each target user."""
        params = cast(DisableCredentialsParams, ctx.params)
        drafts = []
        for ident in ctx.targets:
            if ident.kind != "iam-user":
                continue
            for cred in ident.credentials:
                if cred.kind != "access-key" or cred.status != "active":
                    continue
                limit = params.older_than_days
                if limit is not None and cred.created and (ctx.now - cred.created).days < limit:
                    continue
                drafts.append(
                    Draft(
                        target=cred.id,
                        target_label=f"access key {cred.id} of {ident.name}",
                        identity=ident.id,
                        current={"status": "Active"},
                        predicted={"status": "Inactive"},
                        operation={"account": ident.account, "user": ident.name, "key": cred.id},
                    )
                )
        return drafts

    async def read(self, adapter: AwsProvider, step: PlannedStep) -> dict[str, Any]:
        """The key's status, or ``absent``."""
        op = step.operation
        reply = await adapter.iam_call(
            op["account"], f"listing keys of {op['user']}", "list_access_keys", UserName=op["user"]
        )
        for key in reply.get("AccessKeyMetadata", []):
            if key["AccessKeyId"] == op["key"]:
                return {"status": key["Status"]}
        return {"status": "absent"}

    def done(self, state: dict[str, Any], step: PlannedStep, prepared: dict[str, Any]) -> bool:
        """Inactive (or gone) is done."""
        return state.get("status") in ("Inactive", "absent")

    async def apply(
        self, adapter: AwsProvider, step: PlannedStep, prepared: dict[str, Any]
    ) -> None:
        """``UpdateAccessKey Status=Inactive``."""
        op = step.operation
        await adapter.iam_call(
            op["account"],
            f"deactivating key {op['key']}",
            "update_access_key",
            UserName=op["user"],
            AccessKeyId=op["key"],
            Status="Inactive",
        )

    async def restore(
        self, adapter: AwsProvider, step: PlannedStep, snapshot: dict[str, Any]
    ) -> list[str]:
        """Set the key's status back."""
        op = step.operation
        status = snapshot.get("status")
        if status not in ("Active", "Inactive"):
            return [f"key {op['key']} was {status} before; nothing to put back"]
        await adapter.iam_call(
            op["account"],
            f"reactivating key {op['key']}",
            "update_access_key",
            UserName=op["user"],
            AccessKeyId=op["key"],
            Status=status,
        )
        return []
