"""Okta's remove-grants and disable-identity."""

from __future__ import annotations

from typing import Any, cast

from agent_ir.actions.base import Draft, PlanContext, PlannedStep, Reversibility
from agent_ir.actions.catalog import RemoveGrantsParams
from agent_ir.model import Grant, Identity
from agent_ir.providers.okta import operations as ops
from agent_ir.providers.okta import translate as tr
from agent_ir.providers.okta.actions_common import OktaAction, facts_of
from agent_ir.providers.okta.adapter import OktaProvider


class RemoveGrants(OktaAction):
    """Revoke the agent's risky Okta API scope grants and unassign its risky admin roles
    (from its apps and service users). Restoring grants and assigns them again, each
    with a new id.

    ```yaml
    - {id: scope-down, action: remove-grants, providers: [okta], with: {risk: [admin]}}
    ```
    """

    action = "remove-grants"
    permissions = ("okta.appGrants.read", "okta.appGrants.manage", "okta.roles.manage")
    restore_permissions = ("okta.appGrants.manage", "okta.roles.manage")
    reversible = Reversibility.YES
    hazards = ("restoring creates each grant or role assignment anew, with a new id",)

    def plan(self, ctx: PlanContext) -> list[Draft]:
        """One step per scope grant or role at the requested risk levels."""
        params = cast(RemoveGrantsParams, ctx.params)
        facts = facts_of(ctx)
        drafts: list[Draft] = []
        for ident in ctx.targets:
            risky = [
                g
                for g in ctx.inventory.grants.get(ident.id, [])
                if g.provider == "okta" and g.risk in params.risk
            ]
            if ident.kind == tr.KIND_TOKEN and risky:
                ctx.notes.append(
                    f"okta: API token {ident.name} acts with its creator's roles "
                    f"({', '.join(g.grant for g in risky)}); revoke the token or change the "
                    "creator's roles, which agent-ir leaves to a human"
                )
                continue
            app = facts.apps.get(ident.id)
            for grant in risky:
                draft = _grant_draft(ident, grant, app.client_id if app else ident.id)
                if draft is not None:
                    drafts.append(draft)
        return drafts

    async def read(self, adapter: OktaProvider, step: PlannedStep) -> dict[str, Any]:
        """Whether the scope or role is still there."""
        op = step.operation
        if op["mode"] == "scope":
            grants = await ops.scope_grants(adapter.client, op["app"])
            return {"present": op["scope"] in grants}
        roles = await ops.roles(adapter.client, op["holder"], op["holder_id"])
        return {"present": op["role"] in roles}

    def done(self, state: dict[str, Any], step: PlannedStep, prepared: dict[str, Any]) -> bool:
        """Gone."""
        return state.get("present") is False

    async def apply(
        self, adapter: OktaProvider, step: PlannedStep, prepared: dict[str, Any]
    ) -> None:
        """Revoke the grant or unassign the role (by its current id: a restore renews it)."""
        op = step.operation
        if op["mode"] == "scope":
            grants = await ops.scope_grants(adapter.client, op["app"])
            if op["scope"] in grants:
                await ops.revoke_scope(adapter.client, op["app"], grants[op["scope"]])
            return
        roles = await ops.roles(adapter.client, op["holder"], op["holder_id"])
        if op["role"] in roles:
            await ops.unassign_role(
                adapter.client, op["holder"], op["holder_id"], roles[op["role"]]
            )

    async def restore(
        self, adapter: OktaProvider, step: PlannedStep, snapshot: dict[str, Any]
    ) -> list[str]:
        """Grant or assign it again; the new id is reported."""
        op = step.operation
        if not snapshot.get("present"):
            return []
        if op["mode"] == "scope":
            new = await ops.grant_scope(adapter.client, op["app"], op["scope"])
            return [f"{op['scope']} granted again to {step.target_label}: new grant id {new}"]
        new = await ops.assign_role(adapter.client, op["holder"], op["holder_id"], op["role"])
        return [f"{op['role']} assigned again ({step.target_label}): new assignment id {new}"]


def _grant_draft(ident: Identity, grant: Grant, client_id: str) -> Draft | None:
    if grant.kind == "oauth-scope" and ident.kind == tr.KIND_APP:
        operation: dict[str, Any] = {"mode": "scope", "app": ident.id, "scope": grant.grant}
        label = f"scope {grant.grant} of app {ident.name}"
    elif grant.kind == "admin-role" and ident.kind in (tr.KIND_APP, tr.KIND_USER):
        holder = "client" if ident.kind == tr.KIND_APP else "user"
        holder_id = client_id if holder == "client" else ident.id
        operation = {"mode": "role", "holder": holder, "holder_id": holder_id, "role": grant.grant}
        label = f"admin role {grant.grant} of {ident.name}"
    else:
        return None
    return Draft(
        target=f"{ident.id}#{grant.grant}",
        target_label=label,
        identity=ident.id,
        current={"present": True},
        predicted={"present": False},
        operation=operation,
    )


class DisableIdentity(OktaAction):
    """Deactivate the agent's Okta apps and AI agents; suspend its service users.

    Deactivating an app stops its access tokens at once and removes its group
    assignments; restoring activates it and assigns the groups again.

    ```yaml
    - {id: disable, action: disable-identity, providers: [okta]}
    ```
    """

    action = "disable-identity"
    permissions = ("okta.apps.manage", "okta.users.manage", "okta.aiAgents.manage")
    restore_permissions = ("okta.apps.manage", "okta.users.manage", "okta.aiAgents.manage")
    reversible = Reversibility.SIDE_EFFECTS
    hazards = (
        "an app's access tokens stop working at once and its group assignments are removed; "
        "restore activates it and assigns the groups again, but clients must fetch new tokens",
    )

    def plan(self, ctx: PlanContext) -> list[Draft]:
        """One step per app, AI agent or service user."""
        drafts = []
        for ident in ctx.targets:
            if ident.kind == tr.KIND_APP:
                mode, label, off = "app", f"app {ident.name}", "INACTIVE"
            elif ident.kind == tr.KIND_AI_AGENT:
                mode, label, off = "ai-agent", f"AI agent {ident.name}", "INACTIVE"
            elif ident.kind == tr.KIND_USER:
                if ident.status != "active":
                    ctx.notes.append(
                        f"okta: service user {ident.name} is {ident.status}; only active users "
                        "can be suspended"
                    )
                    continue
                mode, label, off = "user", f"service user {ident.name}", "SUSPENDED"
            elif ident.kind == tr.KIND_TOKEN:
                ctx.notes.append(
                    f"okta: API token {ident.name} has no off switch; disable-credentials deletes it"
                )
                continue
            else:
                continue
            drafts.append(
                Draft(
                    target=ident.id,
                    target_label=label,
                    identity=ident.id,
                    current={"status": ident.status.upper()},
                    predicted={"status": off},
                    operation={"mode": mode, "id": ident.id},
                )
            )
        return drafts

    async def read(self, adapter: OktaProvider, step: PlannedStep) -> dict[str, Any]:
        """Status (and, for an app, its group assignments)."""
        op = step.operation
        if op["mode"] == "app":
            return await ops.app_state(adapter.client, op["id"])
        if op["mode"] == "ai-agent":
            return {"status": await ops.ai_agent_status(adapter.client, op["id"])}
        return {"status": await ops.user_status(adapter.client, op["id"])}

    def done(self, state: dict[str, Any], step: PlannedStep, prepared: dict[str, Any]) -> bool:
        """Off (or gone)."""
        return state.get("status") in (step.predicted["status"], "absent", "DEPROVISIONED")

    async def apply(
        self, adapter: OktaProvider, step: PlannedStep, prepared: dict[str, Any]
    ) -> None:
        """Deactivate or suspend."""
        op = step.operation
        if op["mode"] == "app":
            await ops.set_app_active(adapter.client, op["id"], False)
        elif op["mode"] == "ai-agent":
            await ops.set_ai_agent_active(adapter.client, op["id"], False)
        else:
            await ops.set_user_suspended(adapter.client, op["id"], True)

    async def restore(
        self, adapter: OktaProvider, step: PlannedStep, snapshot: dict[str, Any]
    ) -> list[str]:
        """Activate or unsuspend; an app gets its groups back."""
        op = step.operation
        before = snapshot.get("status")
        notes: list[str] = []
        if op["mode"] == "app":
            state = await ops.app_state(adapter.client, op["id"])
            if before == "ACTIVE" and state["status"] != "ACTIVE":
                await ops.set_app_active(adapter.client, op["id"], True)
            missing = sorted(set(snapshot.get("groups", [])) - set(state["groups"]))
            if missing:
                await ops.assign_groups(adapter.client, op["id"], missing)
                notes.append(f"{step.target_label}: group assignments made again: {missing}")
        elif op["mode"] == "ai-agent" and before == "ACTIVE":
            await ops.set_ai_agent_active(adapter.client, op["id"], True)
        elif op["mode"] == "user" and before == "ACTIVE":
            await ops.set_user_suspended(adapter.client, op["id"], False)
        return notes

    def restored(self, state: dict[str, Any], snapshot: dict[str, Any]) -> bool:
        """Same status; an app has at least its groups of before."""
        if state.get("status") != snapshot.get("status"):
            return False
        return set(snapshot.get("groups", [])) <= set(state.get("groups", []))
