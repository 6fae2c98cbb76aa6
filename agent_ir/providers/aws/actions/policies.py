"""Identity policies: deny everything; remove risky grants."""

from __future__ import annotations

from typing import Any, cast

from agent_ir.actions.base import Draft, PlanContext, PlannedStep, Reversibility
from agent_ir.actions.catalog import (
    RemoveGrantsParams,
)
from agent_ir.errors import ObjectMissing
from agent_ir.providers.aws.actions.common import (
    DENY_ALL,
    DENY_ALL_POLICY,
    AwsAction,
)
from agent_ir.providers.aws.adapter import AwsProvider


class DenyAllUsers(AwsAction):
    """Attach an inline ``Deny * on *`` policy to every IAM user of the agent.

    ```yaml
    - id: deny
      action: deny-all
      providers: [aws]
    ```
    """

    action = "deny-all"
    permissions = ("iam:GetUserPolicy", "iam:PutUserPolicy")
    restore_permissions = ("iam:DeleteUserPolicy", "iam:PutUserPolicy")
    reversible = Reversibility.YES

    def plan(self, ctx: PlanContext) -> list[Draft]:
        """One step per target user."""
        return [
            Draft(
                target=ident.id,
                target_label=f"user {ident.name} ({ident.account})",
                identity=ident.id,
                current={"policy": None},
                predicted={"policy": DENY_ALL},
                operation={"account": ident.account, "user": ident.name},
            )
            for ident in ctx.targets
            if ident.kind == "iam-user"
        ]

    async def read(self, adapter: AwsProvider, step: PlannedStep) -> dict[str, Any]:
        """The user's AgentIRDenyAll document, if any."""
        op = step.operation
        return {
            "policy": await self._inline(
                adapter, op["account"], "user", op["user"], DENY_ALL_POLICY
            )
        }

    def done(self, state: dict[str, Any], step: PlannedStep, prepared: dict[str, Any]) -> bool:
        """Done when the deny-all document is in place."""
        return state.get("policy") == DENY_ALL

    async def apply(
        self, adapter: AwsProvider, step: PlannedStep, prepared: dict[str, Any]
    ) -> None:
        """``PutUserPolicy AgentIRDenyAll``."""
        op = step.operation
        await self._put_inline(
            adapter, op["account"], "user", op["user"], DENY_ALL_POLICY, DENY_ALL
        )

    async def restore(
        self, adapter: AwsProvider, step: PlannedStep, snapshot: dict[str, Any]
    ) -> list[str]:
        """Remove the deny-all policy (or put back what was there)."""
        op = step.operation
        await self._reset_inline(
            adapter, op["account"], "user", op["user"], DENY_ALL_POLICY, snapshot.get("policy")
        )
        return []


class RemoveRiskyGrants(AwsAction):
    """Remove inline policies and detach managed policies at the given risk levels.

    ```yaml
    - id: scope-down
      action: remove-grants
      scope: reachable
      with: {risk: [admin, wildcard]}
    ```
    """

    action = "remove-grants"
    permissions = (
        "iam:GetUserPolicy",
        "iam:GetRolePolicy",
        "iam:DeleteUserPolicy",
        "iam:DeleteRolePolicy",
        "iam:ListAttachedUserPolicies",
        "iam:ListAttachedRolePolicies",
        "iam:DetachUserPolicy",
        "iam:DetachRolePolicy",
    )
    restore_permissions = (
        "iam:PutUserPolicy",
        "iam:PutRolePolicy",
        "iam:AttachUserPolicy",
        "iam:AttachRolePolicy",
    )
    reversible = Reversibility.YES
    hazards = ("the identity keeps running without these permissions; its work may fail",)

    def plan(self, ctx: PlanContext) -> list[Draft]:
        """One step per risky inline or directly attached policy."""
        params = cast(RemoveGrantsParams, ctx.params)
        drafts = []
        for ident in ctx.targets:
            kind = "user" if ident.kind == "iam-user" else "role"
            for grant in ctx.inventory.grants.get(ident.id, []):
                if grant.provider != "aws" or grant.risk not in params.risk:
                    continue
                if grant.kind == "group-policy":
                    ctx.notes.append(
                        f"aws: {grant.grant} reaches {ident.name} through a group; "
                        "removing it would hit every member, so it is left alone"
                    )
                    continue
                if grant.kind not in ("inline-policy", "managed-policy"):
                    continue
                inline = grant.kind == "inline-policy"
                drafts.append(
                    Draft(
                        target=f"{ident.id}#{grant.grant}",
                        target_label=f"{grant.kind} {grant.grant} of {ident.name}",
                        identity=ident.id,
                        current={"present": True},
                        predicted={"present": False},
                        operation={
                            "account": ident.account,
                            "kind": kind,
                            "principal": ident.name,
                            "policy": grant.grant,
                            "arn": "" if inline else grant.ref,
                            "inline": inline,
                        },
                    )
                )
        return drafts

    async def read(self, adapter: AwsProvider, step: PlannedStep) -> dict[str, Any]:
        """Whether the policy is still there (and its document, for inline ones)."""
        op = step.operation
        if op["inline"]:
            doc = await self._inline(
                adapter, op["account"], op["kind"], op["principal"], op["policy"]
            )
            return {"present": doc is not None, "document": doc}
        method = (
            "list_attached_user_policies" if op["kind"] == "user" else "list_attached_role_policies"
        )
        key = "UserName" if op["kind"] == "user" else "RoleName"
        reply = await adapter.iam_call(
            op["account"],
            f"listing policies of {op['principal']}",
            method,
            **{key: op["principal"]},
        )
        attached = {p["PolicyArn"] for p in reply.get("AttachedPolicies", [])}
        return {"present": op["arn"] in attached}

    def done(self, state: dict[str, Any], step: PlannedStep, prepared: dict[str, Any]) -> bool:
        """Done when the policy is gone."""
        return not state.get("present")

    async def apply(
        self, adapter: AwsProvider, step: PlannedStep, prepared: dict[str, Any]
    ) -> None:
        """Delete the inline policy, or detach the managed one."""
        op = step.operation
        if op["inline"]:
            await self._delete_inline(
                adapter, op["account"], op["kind"], op["principal"], op["policy"]
            )
            return
        method = "detach_user_policy" if op["kind"] == "user" else "detach_role_policy"
        key = "UserName" if op["kind"] == "user" else "RoleName"
        try:
            await adapter.iam_call(
                op["account"],
                f"detaching {op['policy']}",
                method,
                **{key: op["principal"], "PolicyArn": op["arn"]},
            )
        except ObjectMissing:
            return

    async def restore(
        self, adapter: AwsProvider, step: PlannedStep, snapshot: dict[str, Any]
    ) -> list[str]:
        """Put the inline document back, or re-attach the managed policy."""
        op = step.operation
        if not snapshot.get("present"):
            return []
        if op["inline"]:
            await self._put_inline(
                adapter,
                op["account"],
                op["kind"],
                op["principal"],
                op["policy"],
                snapshot["document"],
            )
            return []
        method = "attach_user_policy" if op["kind"] == "user" else "attach_role_policy"
        key = "UserName" if op["kind"] == "user" else "RoleName"
        await adapter.iam_call(
            op["account"],
            f"re-attaching {op['policy']}",
            method,
            **{key: op["principal"], "PolicyArn": op["arn"]},
        )
        return []
