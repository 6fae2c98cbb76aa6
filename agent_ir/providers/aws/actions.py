"""AWS implementations of the catalog actions (IAM through the adapter's boto3 clients)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, ClassVar, cast

from agent_ir.actions.base import Draft, PlanContext, PlannedStep, ProviderAction, Reversibility
from agent_ir.actions.catalog import (
    DisableCredentialsParams,
    RemoveDelegationParams,
    RemoveGrantsParams,
)
from agent_ir.errors import ObjectMissing
from agent_ir.model import EdgeKind, Identity, ProviderName
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


def _is_service_linked(arn: str) -> bool:
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


class _Aws(ProviderAction[AwsProvider]):
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


class DisableAccessKeys(_Aws):
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


class RevokeRoleSessions(_Aws):
    """Deny everything to role sessions issued before now (the ``AWSRevokeOlderSessions``
    inline policy on ``aws:TokenIssueTime``), on every role the agent can reach.

    ```yaml
    - id: kill-sessions
      action: revoke-sessions
      scope: reachable
    ```
    """

    action = "revoke-sessions"
    permissions = ("iam:GetRolePolicy", "iam:PutRolePolicy")
    restore_permissions = ("iam:DeleteRolePolicy", "iam:PutRolePolicy")
    reversible = Reversibility.SIDE_EFFECTS
    hazards = (
        "ends every session of the role issued before the cut-off, legitimate ones too; "
        "restoring does not bring those sessions back",
    )

    def plan(self, ctx: PlanContext) -> list[Draft]:
        """One step per target role that is not service-linked."""
        drafts = []
        for ident in ctx.targets:
            if ident.kind != "iam-role":
                continue
            if _is_service_linked(ident.id):
                ctx.notes.append(
                    f"aws: {ident.name} is service-linked; its sessions cannot be revoked"
                )
                continue
            drafts.append(
                Draft(
                    target=ident.id,
                    target_label=f"role {ident.name} ({ident.account})",
                    identity=ident.id,
                    current={"policy": None},
                    predicted={"policy": f"{REVOKE_POLICY}: deny sessions issued before the run"},
                    operation={"account": ident.account, "role": ident.name},
                )
            )
        return drafts

    def prepare(self, step: PlannedStep, now: datetime) -> dict[str, Any]:
        """The cut-off instant, fixed before the call."""
        return {"cutoff": now.strftime("%Y-%m-%dT%H:%M:%SZ")}

    async def read(self, adapter: AwsProvider, step: PlannedStep) -> dict[str, Any]:
        """The role's AWSRevokeOlderSessions document, if any."""
        op = step.operation
        return {
            "policy": await self._inline(adapter, op["account"], "role", op["role"], REVOKE_POLICY)
        }

    def done(self, state: dict[str, Any], step: PlannedStep, prepared: dict[str, Any]) -> bool:
        """Done when the policy carries this run's cut-off."""
        return bool(prepared) and state.get("policy") == revoke_document(prepared["cutoff"])

    async def apply(
        self, adapter: AwsProvider, step: PlannedStep, prepared: dict[str, Any]
    ) -> None:
        """``PutRolePolicy AWSRevokeOlderSessions``."""
        op = step.operation
        doc = revoke_document(prepared["cutoff"])
        await self._put_inline(adapter, op["account"], "role", op["role"], REVOKE_POLICY, doc)

    async def restore(
        self, adapter: AwsProvider, step: PlannedStep, snapshot: dict[str, Any]
    ) -> list[str]:
        """Remove the policy (or put back the one that was there)."""
        op = step.operation
        before = snapshot.get("policy")
        if before is None:
            await self._delete_inline(adapter, op["account"], "role", op["role"], REVOKE_POLICY)
        else:
            await self._put_inline(
                adapter, op["account"], "role", op["role"], REVOKE_POLICY, before
            )
        return [f"sessions of {op['role']} ended by the revoke stay ended"]


class DenyAllUsers(_Aws):
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
        before = snapshot.get("policy")
        if before is None:
            await self._delete_inline(adapter, op["account"], "user", op["user"], DENY_ALL_POLICY)
        else:
            await self._put_inline(
                adapter, op["account"], "user", op["user"], DENY_ALL_POLICY, before
            )
        return []


class LockTrust(_Aws):
    """Replace the trust policy of each target role with one that lets nobody assume it.

    ```yaml
    - id: lock
      action: lock-trust
      scope: reachable
      approve: true
    ```
    """

    action = "lock-trust"
    permissions = ("iam:GetRole", "iam:UpdateAssumeRolePolicy")
    restore_permissions = ("iam:UpdateAssumeRolePolicy",)
    reversible = Reversibility.YES
    hazards = ("every workload that assumes this role, not only the agent, is locked out",)

    def plan(self, ctx: PlanContext) -> list[Draft]:
        """One step per target role that is not service-linked."""
        drafts = []
        for ident in ctx.targets:
            if ident.kind != "iam-role" or _is_service_linked(ident.id):
                continue
            drafts.append(
                Draft(
                    target=ident.id,
                    target_label=f"trust of role {ident.name} ({ident.account})",
                    identity=ident.id,
                    current={"trust": None},
                    predicted={"trust": LOCKED_TRUST},
                    operation={"account": ident.account, "role": ident.name},
                )
            )
        return drafts

    async def read(self, adapter: AwsProvider, step: PlannedStep) -> dict[str, Any]:
        """The role's trust policy."""
        op = step.operation
        reply = await adapter.iam_call(
            op["account"], f"reading role {op['role']}", "get_role", RoleName=op["role"]
        )
        return {"trust": policy.parse_document(reply["Role"]["AssumeRolePolicyDocument"])}

    def done(self, state: dict[str, Any], step: PlannedStep, prepared: dict[str, Any]) -> bool:
        """Done when the trust is the locked document."""
        return state.get("trust") == LOCKED_TRUST

    async def apply(
        self, adapter: AwsProvider, step: PlannedStep, prepared: dict[str, Any]
    ) -> None:
        """``UpdateAssumeRolePolicy`` with the locked document."""
        op = step.operation
        await adapter.iam_call(
            op["account"],
            f"locking trust of {op['role']}",
            "update_assume_role_policy",
            RoleName=op["role"],
            PolicyDocument=json.dumps(LOCKED_TRUST),
        )

    async def restore(
        self, adapter: AwsProvider, step: PlannedStep, snapshot: dict[str, Any]
    ) -> list[str]:
        """Put the saved trust policy back."""
        op = step.operation
        await adapter.iam_call(
            op["account"],
            f"restoring trust of {op['role']}",
            "update_assume_role_policy",
            RoleName=op["role"],
            PolicyDocument=json.dumps(snapshot["trust"]),
        )
        return []


class RemoveRiskyGrants(_Aws):
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


def _resolve(name: str, identities: dict[str, Identity]) -> list[str]:
    if name in identities:
        return [name]
    return [i.id for i in identities.values() if i.name == name and i.provider == "aws"]


class RemoveAssumeDelegation(_Aws):
    """Cut one assume-role link: take the principal out of the role's trust policy when it
    is named there, else deny the principal ``sts:AssumeRole`` on that role.

    ```yaml
    - id: cut
      action: remove-delegation
      with: {from: invoice-agent, to: invoice-processor}
    ```
    """

    action = "remove-delegation"
    permissions = (
        "iam:GetRole",
        "iam:UpdateAssumeRolePolicy",
        "iam:GetUserPolicy",
        "iam:PutUserPolicy",
        "iam:GetRolePolicy",
        "iam:PutRolePolicy",
    )
    restore_permissions = (
        "iam:UpdateAssumeRolePolicy",
        "iam:DeleteUserPolicy",
        "iam:DeleteRolePolicy",
    )
    reversible = Reversibility.YES

    def plan(self, ctx: PlanContext) -> list[Draft]:
        """One step per matching assume-role edge."""
        params = cast(RemoveDelegationParams, ctx.params)
        identities = ctx.inventory.identities
        sources = _resolve(params.source, identities)
        targets = set(_resolve(params.target, identities))
        principals = getattr(ctx.adapter, "principals", {})
        drafts = []
        for source in sources:
            for edge in ctx.inventory.graph.outgoing(source):
                if edge.kind is not EdgeKind.ASSUME_ROLE or edge.target not in targets:
                    continue
                role = identities[edge.target]
                src = identities[source]
                trust = getattr(principals.get(role.id), "trust", None) or {}
                named = any(p == source for _, p, _, _ in policy.trusted_principals(trust))
                if named:
                    new_trust = _without_principal(trust, source)
                    drafts.append(
                        Draft(
                            target=role.id,
                            target_label=f"trust of role {role.name}: remove {src.name}",
                            identity=role.id,
                            current={"trust": trust},
                            predicted={"trust": new_trust},
                            operation={
                                "account": role.account,
                                "mode": "trust",
                                "role": role.name,
                                "principal": source,
                            },
                        )
                    )
                else:
                    kind = "user" if src.kind == "iam-user" else "role"
                    name = CUT_POLICY_PREFIX + role.name[: 128 - len(CUT_POLICY_PREFIX)]
                    deny = {
                        "Version": "2012-10-17",
                        "Statement": [
                            {"Effect": "Deny", "Action": "sts:AssumeRole", "Resource": role.id}
                        ],
                    }
                    drafts.append(
                        Draft(
                            target=src.id,
                            target_label=f"{src.name}: deny assuming {role.name}",
                            identity=src.id,
                            current={"policy": None},
                            predicted={"policy": deny},
                            operation={
                                "account": src.account,
                                "mode": "deny",
                                "kind": kind,
                                "principal": src.name,
                                "policy": name,
                                "document": deny,
                            },
                        )
                    )
        if not drafts:
            ctx.notes.append(f"aws: no assume-role link from {params.source} to {params.target}")
        return drafts

    async def read(self, adapter: AwsProvider, step: PlannedStep) -> dict[str, Any]:
        """The trust policy, or the deny policy."""
        op = step.operation
        if op["mode"] == "trust":
            reply = await adapter.iam_call(
                op["account"], f"reading role {op['role']}", "get_role", RoleName=op["role"]
            )
            return {"trust": policy.parse_document(reply["Role"]["AssumeRolePolicyDocument"])}
        return {
            "policy": await self._inline(
                adapter, op["account"], op["kind"], op["principal"], op["policy"]
            )
        }

    def done(self, state: dict[str, Any], step: PlannedStep, prepared: dict[str, Any]) -> bool:
        """Done when the principal is no longer trusted, or the deny is in place."""
        op = step.operation
        if op["mode"] == "trust":
            trust = state.get("trust") or {}
            return not any(p == op["principal"] for _, p, _, _ in policy.trusted_principals(trust))
        return bool(state.get("policy") == op["document"])

    async def apply(
        self, adapter: AwsProvider, step: PlannedStep, prepared: dict[str, Any]
    ) -> None:
        """Edit the live trust policy (re-read, so concurrent edits survive), or put the deny."""
        op = step.operation
        if op["mode"] == "trust":
            state = await self.read(adapter, step)
            new_trust = _without_principal(state["trust"], op["principal"])
            await adapter.iam_call(
                op["account"],
                f"editing trust of {op['role']}",
                "update_assume_role_policy",
                RoleName=op["role"],
                PolicyDocument=json.dumps(new_trust),
            )
            return
        await self._put_inline(
            adapter, op["account"], op["kind"], op["principal"], op["policy"], op["document"]
        )

    async def restore(
        self, adapter: AwsProvider, step: PlannedStep, snapshot: dict[str, Any]
    ) -> list[str]:
        """Put the saved trust back, or remove the deny."""
        op = step.operation
        if op["mode"] == "trust":
            await adapter.iam_call(
                op["account"],
                f"restoring trust of {op['role']}",
                "update_assume_role_policy",
                RoleName=op["role"],
                PolicyDocument=json.dumps(snapshot["trust"]),
            )
            return []
        if snapshot.get("policy") is None:
            await self._delete_inline(
                adapter, op["account"], op["kind"], op["principal"], op["policy"]
            )
        else:
            await self._put_inline(
                adapter,
                op["account"],
                op["kind"],
                op["principal"],
                op["policy"],
                snapshot["policy"],
            )
        return []


def _without_principal(trust: dict[str, Any], principal: str) -> dict[str, Any]:
    """A copy of a trust policy with one AWS principal taken out of every statement."""
    statements = trust.get("Statement", [])
    statements = statements if isinstance(statements, list) else [statements]
    kept = []
    for raw in statements:
        stmt = dict(raw)
        named = stmt.get("Principal")
        if isinstance(named, dict) and "AWS" in named:
            aws = named["AWS"]
            values = aws if isinstance(aws, list) else [aws]
            rest = [v for v in values if v != principal]
            if len(rest) != len(values):
                others = {k: v for k, v in named.items() if k != "AWS"}
                if rest:
                    others["AWS"] = rest if len(rest) > 1 else rest[0]
                if not others:
                    continue
                stmt["Principal"] = others
        kept.append(stmt)
    if not kept:
        kept = [dict(LOCKED_TRUST["Statement"][0])]
    return {**trust, "Statement": kept}


ACTIONS: dict[str, type[_Aws]] = {
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
