"""The Okta calls the actions are made of: read a state, change it, put it back.

Each read returns plain values (statuses, sorted ids) so that a step's ``current``,
``predicted`` and snapshot are JSON and comparable. Missing objects read as ``absent``.
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import urlsplit

from agent_ir.errors import ObjectMissing, ProviderError, ProviderUnavailable, RefusedError
from agent_ir.providers.okta.client import OktaClient

AI_AGENTS = "/workload-principals/api/v1/ai-agents"
_OPERATION_POLLS = 40
_OPERATION_INTERVAL_S = 0.25


async def app_state(client: OktaClient, app_id: str) -> dict[str, Any]:
    """An app's status and the groups assigned to it."""
    try:
        app, _ = await client.call(f"reading app {app_id}", "get_application", app_id)
    except ObjectMissing:
        return {"status": "absent", "groups": []}
    groups = await client.pages(
        f"listing groups of app {app_id}", "list_application_group_assignments", app_id, limit=200
    )
    return {
        "status": str(app.get("status", "")),
        "groups": sorted(str(g.get("id")) for g in groups if isinstance(g, dict)),
    }


async def set_app_active(client: OktaClient, app_id: str, active: bool) -> None:
    """Activate or deactivate an app."""
    verb = "activate_application" if active else "deactivate_application"
    await client.call(f"{verb.split('_')[0]}ing app {app_id}", verb, app_id)


async def assign_groups(client: OktaClient, app_id: str, group_ids: list[str]) -> None:
    """Assign groups to an app again (deactivation removed them)."""
    for group_id in group_ids:
        await client.call(
            f"assigning group {group_id} to app {app_id}",
            "assign_group_to_application",
            app_id,
            group_id,
        )


async def secret_status(client: OktaClient, app_id: str, secret_id: str) -> str:
    """ACTIVE, INACTIVE or absent."""
    try:
        secrets, _ = await client.call(
            f"listing secrets of app {app_id}", "list_o_auth2_client_secrets", app_id
        )
    except ObjectMissing:
        return "absent"
    return next((str(s["status"]) for s in secrets or [] if s.get("id") == secret_id), "absent")


async def set_secret_active(client: OktaClient, app_id: str, secret_id: str, active: bool) -> None:
    """Activate or deactivate one client secret."""
    verb = "activate" if active else "deactivate"
    await client.call(
        f"{verb[:-1]}ing secret {secret_id} of app {app_id}",
        f"{verb}_o_auth2_client_secret",
        app_id,
        secret_id,
    )


async def key_status(client: OktaClient, app_id: str, key_id: str) -> str:
    """ACTIVE, INACTIVE or absent for one JWKS key."""
    try:
        keys, _ = await client.call(f"listing keys of app {app_id}", "list_jwk", app_id)
    except ObjectMissing:
        return "absent"
    return next((str(k["status"]) for k in keys or [] if k.get("id") == key_id), "absent")


async def set_key_active(client: OktaClient, app_id: str, key_id: str, active: bool) -> None:
    """Activate or deactivate one JWKS key."""
    verb = "activate" if active else "deactivate"
    await client.call(
        f"{verb[:-1]}ing key {key_id} of app {app_id}",
        f"{verb}_o_auth2_client_json_web_key",
        app_id,
        key_id,
    )


async def app_tokens(client: OktaClient, app_id: str) -> list[str]:
    """Ids of the refresh tokens users hold for an app."""
    try:
        tokens = await client.pages(
            f"listing tokens of app {app_id}",
            "list_o_auth2_tokens_for_application",
            app_id,
            limit=200,
        )
    except ObjectMissing:
        return []
    return sorted(str(t.get("id")) for t in tokens if isinstance(t, dict))


async def revoke_app_tokens(client: OktaClient, app_id: str) -> None:
    """Revoke every refresh token of an app."""
    await client.call(
        f"revoking tokens of app {app_id}", "revoke_o_auth2_tokens_for_application", app_id
    )


async def user_grants(client: OktaClient, user_id: str, client_id: str) -> list[str]:
    """The scopes a user granted a client (their refresh tokens go with the app's)."""
    try:
        grants, _ = await client.call(
            f"listing grants of user {user_id}",
            "list_grants_for_user_and_client",
            user_id,
            client_id,
        )
    except ObjectMissing:
        return []
    return sorted(str(g.get("scopeId")) for g in grants or [])


async def revoke_user_grants(client: OktaClient, user_id: str, client_id: str) -> None:
    """Revoke every grant a user gave a client."""
    await client.call(
        f"revoking grants of user {user_id} to {client_id}",
        "revoke_grants_for_user_and_client",
        user_id,
        client_id,
    )


async def clear_sessions(client: OktaClient, user_id: str) -> None:
    """End a user's sessions and revoke their OAuth tokens (``oauthTokens=true``)."""
    await client.call(
        f"clearing sessions of user {user_id}", "revoke_user_sessions", user_id, oauth_tokens=True
    )


async def user_status(client: OktaClient, user_id: str) -> str:
    """ACTIVE, SUSPENDED, … or absent."""
    try:
        user, _ = await client.call(f"reading user {user_id}", "get_user", user_id)
    except ObjectMissing:
        return "absent"
    return str(user.get("status", ""))


async def set_user_suspended(client: OktaClient, user_id: str, suspended: bool) -> None:
    """Suspend or unsuspend a user."""
    verb = "suspend_user" if suspended else "unsuspend_user"
    await client.call(f"{verb.split('_')[0]}ing user {user_id}", verb, user_id)


async def api_token_present(client: OktaClient, token_id: str) -> bool:
    """Whether an API token still exists."""
    try:
        await client.call(f"reading API token {token_id}", "get_api_token", token_id)
    except ObjectMissing:
        return False
    return True


async def revoke_api_token(client: OktaClient, token_id: str, own: set[str]) -> None:
    """Delete an API token for good; never the console's own (nor ``current``)."""
    if token_id == "current" or token_id in own:
        raise RefusedError(f"API token {token_id} is the console's own; it is never revoked")
    try:
        await client.call(f"revoking API token {token_id}", "revoke_api_token", token_id)
    except ObjectMissing:
        return


async def scope_grants(client: OktaClient, app_id: str) -> dict[str, str]:
    """An app's Okta API scopes, each with its grant id."""
    try:
        grants, _ = await client.call(
            f"listing scope grants of app {app_id}", "list_scope_consent_grants", app_id
        )
    except ObjectMissing:
        return {}
    return {str(g.get("scopeId")): str(g.get("id")) for g in grants or []}


async def grant_scope(client: OktaClient, app_id: str, scope: str) -> str:
    """Grant an Okta API scope to an app again; returns the new grant id."""
    await client.sdk()  # the SDK is imported in a worker thread, never here on the loop
    from okta.models import OAuth2ScopeConsentGrant

    body = OAuth2ScopeConsentGrant(issuer=client.settings.org_url, scopeId=scope)
    grant, _ = await client.call(
        f"granting {scope} to app {app_id}", "grant_consent_to_scope", app_id, body
    )
    return str(grant.get("id", "")) if isinstance(grant, dict) else ""


async def revoke_scope(client: OktaClient, app_id: str, grant_id: str) -> None:
    """Revoke one scope grant of an app."""
    try:
        await client.call(
            f"revoking grant {grant_id} of app {app_id}",
            "revoke_scope_consent_grant",
            app_id,
            grant_id,
        )
    except ObjectMissing:
        return


def _roles_path(holder: str, holder_id: str) -> str:
    if holder == "client":
        return f"/oauth2/v1/clients/{holder_id}/roles"
    return f"/api/v1/users/{holder_id}/roles"


async def roles(client: OktaClient, holder: str, holder_id: str) -> dict[str, str]:
    """Admin roles of a client or user: role type → assignment id."""
    try:
        _, data, _ = await client.raw(
            f"listing roles of {holder} {holder_id}", "GET", _roles_path(holder, holder_id)
        )
    except ObjectMissing:
        return {}
    return {str(r.get("type")): str(r.get("id")) for r in data or [] if isinstance(r, dict)}


async def assign_role(client: OktaClient, holder: str, holder_id: str, role_type: str) -> str:
    """Assign an admin role again; returns the new assignment id."""
    _, data, _ = await client.raw(
        f"assigning {role_type} to {holder} {holder_id}",
        "POST",
        _roles_path(holder, holder_id),
        body={"type": role_type},
    )
    return str(data.get("id", "")) if isinstance(data, dict) else ""


async def unassign_role(client: OktaClient, holder: str, holder_id: str, role_id: str) -> None:
    """Unassign one admin role."""
    try:
        await client.raw(
            f"unassigning role {role_id} of {holder} {holder_id}",
            "DELETE",
            f"{_roles_path(holder, holder_id)}/{role_id}",
        )
    except ObjectMissing:
        return


async def ai_agent_status(client: OktaClient, agent_id: str) -> str:
    """ACTIVE, INACTIVE, STAGED or absent."""
    try:
        _, data, _ = await client.raw(
            f"reading AI agent {agent_id}", "GET", f"{AI_AGENTS}/{agent_id}"
        )
    except ObjectMissing:
        return "absent"
    return str(data.get("status", "")) if isinstance(data, dict) else ""


async def set_ai_agent_active(client: OktaClient, agent_id: str, active: bool) -> None:
    """Activate or deactivate an AI agent: 202 with a ``Location`` to poll until done."""
    verb = "activate" if active else "deactivate"
    code, _, response = await client.raw(
        f"{verb[:-1]}ing AI agent {agent_id}", "POST", f"{AI_AGENTS}/{agent_id}/lifecycle/{verb}"
    )
    location = response.headers.get("Location") if code == 202 else None
    if not location:
        return
    path = urlsplit(location).path
    for _ in range(_OPERATION_POLLS):
        _, op, _ = await client.raw(f"waiting for {verb} of AI agent {agent_id}", "GET", path)
        status = str(op.get("status")) if isinstance(op, dict) else ""
        if status == "COMPLETED":
            return
        if status == "FAILED":
            raise ProviderError("okta", f"the {verb} of AI agent {agent_id} failed")
        await asyncio.sleep(_OPERATION_INTERVAL_S)
    raise ProviderUnavailable("okta", f"the {verb} of AI agent {agent_id} did not complete")
