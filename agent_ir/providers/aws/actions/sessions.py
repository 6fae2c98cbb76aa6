"""Role sessions: deny everything to sessions issued before the run."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from agent_ir.actions.base import Draft, PlanContext, PlannedStep, Reversibility
from agent_ir.providers.aws.actions.common import (
    REVOKE_POLICY,
    AwsAction,
    is_service_linked,
    revoke_document,
)
from agent_ir.providers.aws.adapter import AwsProvider


class RevokeRoleSessions(AwsAction):
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
            if is_service_linked(ident.id):
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
        """The cut-off instant, fixed before the call: the wall clock (AWS compares
        ``aws:TokenIssueTime`` with its own time, so an engine clock that is frozen or
        simulated, as in tests and exercises, must not move it), rounded *up* to the
        second, so a session issued earlier in the same second is cut too (``DateLessThan``
        is strict)."""
        now = datetime.now(UTC)
        ceiling = now if now.microsecond == 0 else now.replace(microsecond=0) + timedelta(seconds=1)
        return {"cutoff": ceiling.strftime("%Y-%m-%dT%H:%M:%SZ")}

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
        await self._reset_inline(
            adapter, op["account"], "role", op["role"], REVOKE_POLICY, snapshot.get("policy")
        )
        return [f"sessions of {op['role']} ended by the revoke stay ended"]
