"""Trust policies: lock a role; cut one assume-role link."""

from __future__ import annotations

from typing import Any, cast

from agent_ir.actions.base import Draft, PlanContext, PlannedStep, Reversibility
from agent_ir.actions.catalog import (
    RemoveDelegationParams,
)
from agent_ir.model import EdgeKind, Identity
from agent_ir.providers.aws import policy
from agent_ir.providers.aws.actions.common import (
    CUT_POLICY_PREFIX,
    LOCKED_TRUST,
    AwsAction,
    is_service_linked,
)
from agent_ir.providers.aws.adapter import AwsFacts, AwsProvider


class LockTrust(AwsAction):
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
            if ident.kind != "iam-role" or is_service_linked(ident.id):
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
        return {"trust": await self._trust(adapter, op["account"], op["role"])}

    def done(self, state: dict[str, Any], step: PlannedStep, prepared: dict[str, Any]) -> bool:
        """Done when the trust is the locked document."""
        return state.get("trust") == LOCKED_TRUST

    async def apply(
        self, adapter: AwsProvider, step: PlannedStep, prepared: dict[str, Any]
    ) -> None:
        """``UpdateAssumeRolePolicy`` with the locked document."""
        op = step.operation
        await self._set_trust(adapter, op["account"], op["role"], LOCKED_TRUST, "locking")

    async def restore(
        self, adapter: AwsProvider, step: PlannedStep, snapshot: dict[str, Any]
    ) -> list[str]:
        """Put the saved trust policy back."""
        op = step.operation
        await self._set_trust(adapter, op["account"], op["role"], snapshot["trust"], "restoring")
        return []


def _resolve(name: str, identities: dict[str, Identity]) -> list[str]:
    if name in identities:
        return [name]
    return [i.id for i in identities.values() if i.name == name and i.provider == "aws"]


class RemoveAssumeDelegation(AwsAction):
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
        facts = ctx.facts
        principals = facts.principals if isinstance(facts, AwsFacts) else {}
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
            return {"trust": await self._trust(adapter, op["account"], op["role"])}
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
            await self._set_trust(adapter, op["account"], op["role"], new_trust, "editing")
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
            await self._set_trust(
                adapter, op["account"], op["role"], snapshot["trust"], "restoring"
            )
            return []
        await self._reset_inline(
            adapter,
            op["account"],
            op["kind"],
            op["principal"],
            op["policy"],
            snapshot.get("policy"),
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
