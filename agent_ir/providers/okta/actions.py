"""Okta implementations of the catalog actions.

| action              | on what                                    | Okta calls                                   | undo |
|---------------------|--------------------------------------------|----------------------------------------------|------|
| disable-credentials | client secrets, JWKS keys of an app        | ``…/credentials/{secrets,jwks}/{id}/lifecycle/deactivate`` | yes |
|                     | API tokens                                 | ``DELETE /api/v1/api-tokens/{id}``           | no (per step) |
| revoke-sessions     | an app's refresh tokens, users' grants to it, (delegating) users' sessions | ``DELETE …/apps/{id}/tokens``, ``DELETE …/users/{uid}/clients/{cid}/grants``, ``DELETE …/users/{uid}/sessions?oauthTokens=true`` | no |
| remove-grants       | Okta API scope grants, admin roles         | ``DELETE …/apps/{id}/grants/{gid}``, ``DELETE /oauth2/v1/clients/{cid}/roles/{rid}`` | yes, new ids |
| disable-identity    | apps, AI agents, service users             | ``…/lifecycle/deactivate``, ``…/lifecycle/suspend`` | side effects |
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from agent_ir.actions.base import Draft, PlanContext, PlannedStep, Reversibility
from agent_ir.actions.catalog import DisableCredentialsParams, RevokeSessionsParams
from agent_ir.errors import RefusedError
from agent_ir.model import Credential, EdgeKind, Identity
from agent_ir.providers.okta import operations as ops
from agent_ir.providers.okta import translate as tr
from agent_ir.providers.okta.actions_common import OktaAction, facts_of
from agent_ir.providers.okta.actions_identity import DisableIdentity, RemoveGrants
from agent_ir.providers.okta.adapter import OktaProvider
from agent_ir.providers.okta.discovery import AppFacts, Facts

_DELEGATING = {EdgeKind.OWNER, EdgeKind.CONSENT}


class DisableCredentials(OktaAction):
    """Deactivate the client secrets or JWKS keys of the agent's Okta apps, and revoke
    (delete) its API tokens.

    Okta refuses to deactivate an app's only active secret or key, so the newest one stays
    active (the plan says which); deactivating the app (disable-identity) cuts it. Deleting
    an API token cannot be undone: those steps are irreversible and the plan says so.

    ```yaml
    - {id: cut-secrets, action: disable-credentials, providers: [okta], with: {older_than_days: 30}}
    ```
    """

    action = "disable-credentials"
    permissions = ("okta.apps.read", "okta.apps.manage", "okta.apiTokens.manage")
    restore_permissions = ("okta.apps.manage",)
    reversible = Reversibility.YES

    def plan(self, ctx: PlanContext) -> list[Draft]:
        """One step per active secret or key (all but the newest of each app), and one
        irreversible step per API token."""
        params = cast(DisableCredentialsParams, ctx.params)
        facts = facts_of(ctx)
        own = facts.responder_ids
        drafts: list[Draft] = []
        for ident in ctx.targets:
            if ident.kind == tr.KIND_TOKEN:
                if ident.id in own:
                    ctx.notes.append(f"okta: API token {ident.name} is the console's own; kept")
                elif all(
                    _cred_older(c, ctx.now, params.older_than_days) for c in ident.credentials
                ):
                    drafts.append(_token_draft(ctx, ident))
                continue
            app = facts.apps.get(ident.id)
            if ident.kind != tr.KIND_APP or app is None:
                continue
            drafts.extend(self._app(ctx, ident, app, params.older_than_days))
        return drafts

    def _app(
        self, ctx: PlanContext, ident: Identity, app: AppFacts, older_than: int | None
    ) -> list[Draft]:
        kind, items = ("key", app.keys) if app.keys else ("secret", app.secrets)
        label = "JWKS key" if kind == "key" else "client secret"
        active = [c for c in items if str(c.get("status")) == "ACTIVE"]
        chosen = [c for c in active if _older(c, ctx.now, older_than)]
        if not active:
            return []
        if len(chosen) == len(active):
            newest = max(active, key=lambda c: str(c.get("created", "")))
            chosen.remove(newest)
            ctx.notes.append(
                f"okta: {label} {_cred_id(newest)} of {ident.name} stays active: Okta refuses to "
                f"deactivate an app's only active {label}; disable-identity deactivates the app"
            )
        return [
            Draft(
                target=f"{app.id}/{kind}s/{cred['id']}",
                target_label=f"{label} {_cred_id(cred)} of app {ident.name}",
                identity=ident.id,
                current={"status": "ACTIVE"},
                predicted={"status": "INACTIVE"},
                operation={"app": app.id, "kind": kind, "credential_id": str(cred["id"])},
            )
            for cred in chosen
        ]

    async def read(self, adapter: OktaProvider, step: PlannedStep) -> dict[str, Any]:
        """The secret's or key's status (``absent`` once gone); whether a token exists."""
        op = step.operation
        if op["kind"] == "api-token":
            return {"present": await ops.api_token_present(adapter.client, op["token_id"])}
        if op["kind"] == "key":
            return {"status": await ops.key_status(adapter.client, op["app"], op["credential_id"])}
        return {"status": await ops.secret_status(adapter.client, op["app"], op["credential_id"])}

    def done(self, state: dict[str, Any], step: PlannedStep, prepared: dict[str, Any]) -> bool:
        """Inactive (or gone)."""
        if step.operation["kind"] == "api-token":
            return state.get("present") is False
        return state.get("status") in ("INACTIVE", "absent")

    async def apply(
        self, adapter: OktaProvider, step: PlannedStep, prepared: dict[str, Any]
    ) -> None:
        """Deactivate it; delete an API token."""
        op = step.operation
        if op["kind"] == "api-token":
            await ops.revoke_api_token(adapter.client, op["token_id"], adapter.responder_ids)
            return
        await self._set(adapter, step, active=False)

    async def restore(
        self, adapter: OktaProvider, step: PlannedStep, snapshot: dict[str, Any]
    ) -> list[str]:
        """Activate it again, if it was active (a deleted API token cannot come back)."""
        if step.operation["kind"] == "api-token":
            raise RefusedError(f"{step.target_label} was deleted; it cannot be restored")
        if snapshot.get("status") == "ACTIVE":
            await self._set(adapter, step, active=True)
        return []

    @staticmethod
    async def _set(adapter: OktaProvider, step: PlannedStep, *, active: bool) -> None:
        op = step.operation
        if op["kind"] == "key":
            await ops.set_key_active(adapter.client, op["app"], op["credential_id"], active)
        else:
            await ops.set_secret_active(adapter.client, op["app"], op["credential_id"], active)


def _token_draft(ctx: PlanContext, ident: Identity) -> Draft:
    identities = ctx.inventory.identities
    creators = [
        e.source.removeprefix("human:")
        if e.source.startswith("human:")
        else f"service user {identities[e.source].name}"
        for e in ctx.inventory.graph.incoming(ident.id)
        if e.provider == "okta"
        and (e.source.startswith("human:") or e.source in identities)
        and e.kind in (EdgeKind.CONSENT, EdgeKind.OWNER)
    ]
    by = f" (created by {creators[0]})" if creators else ""
    return Draft(
        target=ident.id,
        target_label=f"API token {ident.name}{by}",
        identity=ident.id,
        current={"present": True},
        predicted={"present": False},
        operation={"kind": "api-token", "token_id": ident.id},
        reversible=Reversibility.NO,
        hazards=(
            "IRREVERSIBLE: a deleted API token cannot be restored; only its creator can "
            "mint a new one, in the Admin Console",
        ),
    )


def _older(cred: dict[str, Any], now: datetime, days: int | None) -> bool:
    created = tr.parse_time(cred.get("created"))
    return days is None or created is None or (now - created).days >= days


def _cred_older(cred: Credential, now: datetime, days: int | None) -> bool:
    return days is None or cred.created is None or (now - cred.created).days >= days


def _cred_id(cred: dict[str, Any]) -> str:
    return str(cred.get("kid") or cred.get("id"))


class RevokeSessions(OktaAction):
    """End what the agent's Okta identities were issued: the refresh tokens users hold for
    its apps, each user's grants to them, a service user's sessions; with
    ``include_delegating_users``, also the sessions and OAuth tokens of every Okta user who
    owns or consented to the agent. None of it can be brought back.

    ```yaml
    - {id: kill-sessions, action: revoke-sessions, with: {include_delegating_users: true}}
    ```
    """

    action = "revoke-sessions"
    permissions = ("okta.apps.read", "okta.apps.manage", "okta.users.read", "okta.users.manage")
    restore_permissions = ()
    reversible = Reversibility.NO
    hazards = (
        "nothing revoked here comes back: users sign in and consent again, and clients get "
        "new tokens",
    )

    def plan(self, ctx: PlanContext) -> list[Draft]:
        """Tokens and grants per app and consenting user; sessions."""
        params = cast(RevokeSessionsParams, ctx.params)
        facts = facts_of(ctx)
        drafts: list[Draft] = []
        for ident in ctx.targets:
            if ident.kind == tr.KIND_APP and ident.id in facts.apps:
                drafts.extend(_app_sessions(ident, facts.apps[ident.id]))
                ctx.notes.append(
                    f"okta: revoking the tokens of app {ident.name} ends its refresh tokens and "
                    "the access tokens issued with them; access tokens it got by client "
                    "credentials are not revoked (Okta cannot): deactivating the app ends them"
                )
            elif ident.kind == tr.KIND_TOKEN:
                ctx.notes.append(
                    f"okta: API token {ident.name} has no sessions; disable-credentials deletes it"
                )
            elif ident.kind == tr.KIND_USER:
                drafts.append(_sessions_draft(ident.id, ident.name, ident.id))
        if params.include_delegating_users:
            drafts.extend(_delegating_users(ctx, facts, drafts))
        return drafts

    def prepare(self, step: PlannedStep, now: datetime) -> dict[str, Any]:
        """The instant sessions are cleared at (how this run recognises its own clearing)."""
        return {"cutoff": now.strftime("%Y-%m-%dT%H:%M:%SZ")}

    async def read(self, adapter: OktaProvider, step: PlannedStep) -> dict[str, Any]:
        """What is left to revoke."""
        op = step.operation
        mode = op["mode"]
        if mode == "app-tokens":
            return {"refresh_token_ids": await ops.app_tokens(adapter.client, op["app"])}
        if mode == "user-grants":
            return {"grants": await ops.user_grants(adapter.client, op["user"], op["client"])}
        cleared = adapter.sessions_cleared.get(op["user"])
        return {"sessions": f"cleared at {cleared}" if cleared else "live"}

    def done(self, state: dict[str, Any], step: PlannedStep, prepared: dict[str, Any]) -> bool:
        """Nothing left (sessions: cleared by this run)."""
        mode = step.operation["mode"]
        if mode == "app-tokens":
            return not state.get("refresh_token_ids")
        if mode == "user-grants":
            return not state.get("grants")
        return bool(prepared) and state.get("sessions") == f"cleared at {prepared['cutoff']}"

    async def apply(
        self, adapter: OktaProvider, step: PlannedStep, prepared: dict[str, Any]
    ) -> None:
        """Revoke."""
        op = step.operation
        mode = op["mode"]
        if mode == "app-tokens":
            await ops.revoke_app_tokens(adapter.client, op["app"])
        elif mode == "user-grants":
            await ops.revoke_user_grants(adapter.client, op["user"], op["client"])
        else:
            await ops.clear_sessions(adapter.client, op["user"])
            adapter.sessions_cleared[op["user"]] = prepared.get("cutoff", "")


def _app_sessions(ident: Identity, app: AppFacts) -> list[Draft]:
    drafts = [
        Draft(
            target=f"{app.id}/tokens",
            target_label=f"refresh tokens of app {ident.name}",
            identity=ident.id,
            current={"refresh_token_ids": []},
            predicted={"refresh_token_ids": []},
            operation={"mode": "app-tokens", "app": app.id},
        )
    ]
    for user_id, email in sorted(app.consents.items(), key=lambda kv: kv[1]):
        drafts.append(
            Draft(
                target=f"{app.id}/users/{user_id}",
                target_label=f"grants of {email} to app {ident.name}",
                identity=ident.id,
                current={"grants": []},
                predicted={"grants": []},
                operation={"mode": "user-grants", "user": user_id, "client": app.client_id},
            )
        )
    return drafts


def _sessions_draft(user_id: str, name: str, identity: str) -> Draft:
    return Draft(
        target=f"users/{user_id}/sessions",
        target_label=f"sessions and OAuth tokens of {name}",
        identity=identity,
        current={"sessions": "live"},
        predicted={"sessions": "cleared"},
        operation={"mode": "sessions", "user": user_id},
    )


def _delegating_users(ctx: PlanContext, facts: Facts, planned: list[Draft]) -> list[Draft]:
    graph = ctx.inventory.graph
    nodes = [f"agent:{ctx.agent.name}", *(i.id for i in ctx.agent.identities)]
    done = {d.operation.get("user") for d in planned if d.operation.get("mode") == "sessions"}
    drafts = []
    for node in nodes:
        for edge in graph.incoming(node):
            if edge.kind not in _DELEGATING or not edge.source.startswith("human:"):
                continue
            email = edge.source.removeprefix("human:")
            user_id = facts.users_by_email.get(email.lower())
            if user_id is None or user_id in done:
                continue
            done.add(user_id)
            drafts.append(_sessions_draft(user_id, email, edge.source))
    return drafts


ACTIONS: dict[str, type[OktaAction]] = {
    cls.action: cls for cls in (DisableCredentials, RevokeSessions, RemoveGrants, DisableIdentity)
}
"""Every Okta action implementation, by catalog name."""
