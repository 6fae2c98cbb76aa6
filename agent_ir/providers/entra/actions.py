"""Entra implementations of the catalog actions, over Microsoft Graph.

Every step's Graph calls are in :mod:`agent_ir.providers.entra.operations`; planning is in
:mod:`agent_ir.providers.entra.planning`. Permissions are Graph application permissions.
Re-created grants, assignments and federated credentials get new ids: restore returns
notes naming them, and the executor journals those notes.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, ClassVar, cast

from agent_ir.actions.base import Draft, PlanContext, PlannedStep, ProviderAction, Reversibility
from agent_ir.actions.catalog import (
    DisableCredentialsParams,
    RemoveDelegationParams,
    RemoveGrantsParams,
    RevokeSessionsParams,
)
from agent_ir.model import EdgeKind, ProviderName
from agent_ir.providers.entra import operations, planning
from agent_ir.providers.entra.adapter import EntraProvider

TOKENS_OUTLIVE = "access tokens already issued keep working until they expire (about an hour)"
CLOCK_SLACK = timedelta(seconds=30)
APP_WRITE = ("Application.ReadWrite.All",)
GRANT_WRITE = (
    "DelegatedPermissionGrant.ReadWrite.All",
    "AppRoleAssignment.ReadWrite.All",
    "RoleManagement.ReadWrite.Directory",
)


class _Entra(ProviderAction[EntraProvider]):
    provider: ClassVar[ProviderName] = "entra"

    async def read(self, adapter: EntraProvider, step: PlannedStep) -> dict[str, Any]:
        """The live state of the step's object."""
        return await operations.read(adapter, step.operation)

    def done(self, state: dict[str, Any], step: PlannedStep, prepared: dict[str, Any]) -> bool:
        """Whether the step's aim already holds."""
        return operations.done(step.operation, state, prepared)

    async def apply(
        self, adapter: EntraProvider, step: PlannedStep, prepared: dict[str, Any]
    ) -> None:
        """Make the change."""
        await operations.apply(adapter, step.operation)

    async def restore(
        self, adapter: EntraProvider, step: PlannedStep, snapshot: dict[str, Any]
    ) -> list[str]:
        """Put the object back; notes name re-created objects' new ids."""
        return await operations.restore(adapter, step.operation, snapshot)

    def restored(self, state: dict[str, Any], snapshot: dict[str, Any]) -> bool:
        """Whether the object matches its snapshot again (ids aside)."""
        return state == snapshot


class DisableIdentity(_Entra):
    """Disable the agent's service principals, agent identities and blueprint principals
    (``PATCH accountEnabled: false``; agent identities through ``/beta``). A managed
    identity cannot be disabled through Graph: its grants are removed instead.

    ```yaml
    - id: disable
      action: disable-identity
      providers: [entra]
    ```
    """

    action = "disable-identity"
    permissions = (*APP_WRITE, *GRANT_WRITE)
    restore_permissions = (*APP_WRITE, *GRANT_WRITE)
    reversible = Reversibility.YES
    hazards = (TOKENS_OUTLIVE,)

    def plan(self, ctx: PlanContext) -> list[Draft]:
        """One step per principal; a managed identity's grants instead of itself."""
        snap = planning.snapshot_of(ctx)
        drafts: list[Draft] = []
        for ident in planning.entra(ctx.targets):
            if ident.kind in planning.DISABLEABLE:
                drafts.append(planning.disable_draft(ident, snap, ctx))
            elif ident.kind == "managed-identity":
                removals = planning.grant_drafts(
                    ident, ctx.inventory.grants.get(ident.id, []), snap, None
                )
                ctx.notes.append(
                    f"entra: managed identity {ident.name} cannot be disabled through Graph; "
                    f"its {len(removals)} grant(s) are removed instead (stop its Azure resource "
                    "to end it)"
                )
                drafts.extend(removals)
        return drafts


class DisableCredentials(_Entra):
    """Remove the static and federated credentials of the agent's applications: client
    secrets (``removePassword``: **cannot be undone**), certificates (``PATCH keyCredentials``
    without them; the whole prior list is snapshotted and the removed entries are put back on
    restore) and federated identity credentials (``DELETE``; restore re-creates them under a
    new id). An agent identity has no credentials of its own: its blueprint's are used when
    the blueprint serves only this agent. With ``older_than_days`` only secrets and
    certificates at least that old are removed (federated credentials have no age).

    Whole-action reversibility is "side-effects" so that certificates and federated
    credentials are restored; each client-secret step carries an IRREVERSIBLE hazard and its
    restore fails with that reason.

    ```yaml
    - id: cut-credentials
      action: disable-credentials
      providers: [entra]
    ```
    """

    action = "disable-credentials"
    permissions = APP_WRITE
    restore_permissions = APP_WRITE
    reversible = Reversibility.SIDE_EFFECTS
    hazards = (TOKENS_OUTLIVE,)

    def plan(self, ctx: PlanContext) -> list[Draft]:
        """One step per secret, per application's certificates, per federated credential."""
        params = cast(DisableCredentialsParams, ctx.params)
        snap = planning.snapshot_of(ctx)
        drafts: list[Draft] = []
        seen: set[str] = set()
        for target, holder in planning.credential_holders(ctx, snap):
            if holder.id in seen:
                continue
            seen.add(holder.id)
            drafts += planning.credential_drafts(
                target, holder, snap, params.older_than_days, ctx.now
            )
        return drafts

    def restored(self, state: dict[str, Any], snapshot: dict[str, Any]) -> bool:
        """Certificates by key id; the rest exactly."""
        if "certificates" in snapshot:
            return state.get("present") == snapshot.get("present")
        return state == snapshot


class RevokeDelegatingSessions(_Entra):
    """End the sign-in sessions of the humans who consented to the agent
    (``POST /users/{id}/revokeSignInSessions``; refresh tokens stop working within minutes).
    Service principals have no sessions to end: their app-only tokens expire on their own,
    so without ``include_delegating_users`` there is nothing to do in Entra.

    ```yaml
    - id: kill-sessions
      action: revoke-sessions
      with: {include_delegating_users: true}
    ```
    """

    action = "revoke-sessions"
    permissions = ("User.RevokeSessions.All",)
    restore_permissions = ()
    reversible = Reversibility.NO
    hazards = (
        "signs the human out of every application and device; they must sign in again; "
        "this cannot be undone",
    )

    def plan(self, ctx: PlanContext) -> list[Draft]:
        """One step per consenting human known to the tenant."""
        params = cast(RevokeSessionsParams, ctx.params)
        targets = planning.entra(ctx.targets)
        if not targets:
            return []
        if not params.include_delegating_users:
            ctx.notes.append(
                "entra: app-only tokens cannot be revoked; they expire within about an hour "
                "(disable the identity to stop new ones)"
            )
            return []
        snap = planning.snapshot_of(ctx)
        by_mail = {
            str(u.get("mail") or u.get("userPrincipalName")).lower(): (uid, u)
            for uid, u in snap.users.items()
        }
        drafts: list[Draft] = []
        seen: set[str] = set()
        for ident in [*targets, *(i for i in ctx.agent.identities if i.provider != "entra")]:
            for edge in ctx.inventory.graph.incoming(ident.id):
                if edge.kind is not EdgeKind.CONSENT or not edge.source.startswith("human:"):
                    continue
                mail = edge.source.removeprefix("human:")
                if mail.startswith("*@") or mail in seen:
                    continue
                seen.add(mail)
                found = by_mail.get(mail)
                if found is None:
                    ctx.notes.append(
                        f"entra: {mail} consented to {ident.name} but is no user of this tenant"
                    )
                    continue
                user_id, _ = found
                label = f"sessions of {mail}"
                drafts.append(
                    Draft(
                        target=user_id,
                        target_label=f"{label} (consented to {ident.name})",
                        identity=ident.id,
                        current={"validFrom": None},
                        predicted={"validFrom": "the time of the run"},
                        operation={"op": "sessions", "user": user_id, "label": label},
                    )
                )
        return drafts

    def prepare(self, step: PlannedStep, now: datetime) -> dict[str, Any]:
        """The instant sessions must be valid from, fixed before the call (half a minute
        early, so a directory clock slightly behind ours still verifies)."""
        return {"cutoff": (now - CLOCK_SLACK).strftime("%Y-%m-%dT%H:%M:%SZ")}


class RemoveRiskyGrants(_Entra):
    """Remove the agent's grants at the given risk levels: delegated consents (the risky
    scopes only, the consent itself when nothing else is left), app role assignments and
    directory role assignments. Restore puts scopes back or re-creates the objects under
    new ids, and names them.

    ```yaml
    - id: scope-down
      action: remove-grants
      providers: [entra]
      with: {risk: [admin, wildcard]}
    ```
    """

    action = "remove-grants"
    permissions = GRANT_WRITE
    restore_permissions = GRANT_WRITE
    reversible = Reversibility.YES
    hazards = (
        "the identity keeps running without these permissions; its work may fail",
        TOKENS_OUTLIVE,
    )

    def plan(self, ctx: PlanContext) -> list[Draft]:
        """One step per consent or assignment holding a risky grant."""
        params = cast(RemoveGrantsParams, ctx.params)
        snap = planning.snapshot_of(ctx)
        risks: set[str] = set(params.risk)
        drafts: list[Draft] = []
        for ident in planning.entra(ctx.targets):
            drafts += planning.grant_drafts(
                ident, ctx.inventory.grants.get(ident.id, []), snap, risks
            )
        return drafts


class RemoveAllGrants(_Entra):
    """Entra has no deny policy: take every grant away instead (delegated consents, app role
    assignments, directory role assignments). Restore re-creates them under new ids.

    ```yaml
    - id: deny
      action: deny-all
      providers: [entra]
    ```
    """

    action = "deny-all"
    permissions = GRANT_WRITE
    restore_permissions = GRANT_WRITE
    reversible = Reversibility.YES
    hazards = (
        "every grant of the identity is removed (Entra has no deny policy)",
        TOKENS_OUTLIVE,
    )

    def plan(self, ctx: PlanContext) -> list[Draft]:
        """One step per consent or assignment of every target."""
        snap = planning.snapshot_of(ctx)
        drafts: list[Draft] = []
        for ident in planning.entra(ctx.targets):
            drafts += planning.grant_drafts(
                ident, ctx.inventory.grants.get(ident.id, []), snap, None
            )
        return drafts


class RemoveDelegation(_Entra):
    """Cut one delegation into the agent: a human's consent (the ``oauth2PermissionGrant``
    between that human and the agent's principal), or an outside workload's federated
    identity credential on the agent's application.

    ```yaml
    - id: cut
      action: remove-delegation
      providers: [entra]
      with: {from: alice@corp.test, to: invoice-agent}
    ```
    """

    action = "remove-delegation"
    permissions = ("DelegatedPermissionGrant.ReadWrite.All", "Application.ReadWrite.All")
    restore_permissions = permissions
    reversible = Reversibility.YES
    hazards = ("restore re-creates the consent or federated credential under a new id",)

    def plan(self, ctx: PlanContext) -> list[Draft]:
        """The consent grants or federated credentials from ``from`` into ``to``."""
        params = cast(RemoveDelegationParams, ctx.params)
        snap = planning.snapshot_of(ctx)
        targets = {i for i in planning.resolve(params.target, ctx) if _is_entra(ctx, i)}
        source = params.source
        drafts: list[Draft] = []
        if source.startswith("human:") or (
            "@" in source and source not in ctx.inventory.identities
        ):
            mail = source.removeprefix("human:").lower()
            for consent in snap.grants.values():
                if str(consent.get("clientId")) not in targets:
                    continue
                if consent.get("consentType") == "AllPrincipals":
                    ctx.notes.append(
                        f"entra: {snap.principal_label(consent.get('clientId'))} also holds an admin "
                        "consent for every user; cutting it would cut everyone (use remove-grants)"
                    )
                    continue
                if (snap.human_of(consent.get("principalId")) or "") == f"human:{mail}":
                    ident = ctx.inventory.identities[str(consent["clientId"])]
                    drafts.append(planning.consent_draft(ident, consent, snap, None))
        else:
            for source_id in planning.resolve(source, ctx) | {source}:
                drafts += planning.federation_drafts(source_id, targets, ctx, snap)
        if not drafts:
            ctx.notes.append(
                f"entra: no consent or federated credential from {source} to {params.target}"
            )
        return drafts


def _is_entra(ctx: PlanContext, identity_id: str) -> bool:
    ident = ctx.inventory.identities.get(identity_id)
    return ident is not None and ident.provider == "entra"


ACTIONS: dict[str, type[_Entra]] = {
    cls.action: cls
    for cls in (
        DisableIdentity,
        DisableCredentials,
        RevokeDelegatingSessions,
        RemoveRiskyGrants,
        RemoveAllGrants,
        RemoveDelegation,
    )
}
"""Every Entra action implementation, by catalog name."""
