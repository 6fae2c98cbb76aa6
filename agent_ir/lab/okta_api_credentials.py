"""App credentials and client roles in the Okta emulator.

* Client secrets: list, create (the value is shown once), activate, deactivate, delete.
  The only ACTIVE secret cannot be deactivated, and only INACTIVE secrets can be deleted.
* JWKS keys: list, activate, deactivate (again never the only active key).
* Admin roles held by OAuth clients: ``/oauth2/v1/clients/{clientId}/roles``.
"""

from __future__ import annotations

import secrets

from agent_ir.lab.okta_api_apps import app_or_404
from agent_ir.lab.okta_http import invalid, not_found
from agent_ir.lab.okta_routes import Call, Route, route
from agent_ir.lab.okta_state import App, Jwk, Role, Secret, new_id
from agent_ir.lab.okta_world import ADMIN_ROLES
from agent_ir.lab.server import LabResponse

READ = "okta.apps.read"
MANAGE = "okta.apps.manage"


def list_secrets(call: Call, ref: str) -> LabResponse:
    """``GET /api/v1/apps/{appId}/credentials/secrets``."""
    app = app_or_404(call, ref)
    if isinstance(app, LabResponse):
        return app
    return LabResponse.from_json(200, [s.to_json(call.base, app.id) for s in app.secrets])


def create_secret(call: Call, ref: str) -> LabResponse:
    """``POST …/credentials/secrets`` → 201 with the new ``client_secret`` (once)."""
    app = app_or_404(call, ref)
    if isinstance(app, LabResponse):
        return app
    if len(app.secrets) >= 2:
        return invalid("secret", "You can't have more than two secrets per client")
    status = str(call.body().get("status", "ACTIVE"))
    secret = Secret(new_id("ocs"), secrets.token_urlsafe(40), status, call.now, call.now)
    app.secrets.append(secret)
    return LabResponse.from_json(201, secret.to_json(call.base, app.id, reveal=True))


def _secret(call: Call, ref: str, secret_id: str) -> tuple[App, Secret] | LabResponse:
    app = app_or_404(call, ref)
    if isinstance(app, LabResponse):
        return app
    secret = next((s for s in app.secrets if s.id == secret_id), None)
    if secret is None:
        return not_found(f"{secret_id} (OAuth2ClientSecret)")
    return app, secret


def get_secret(call: Call, ref: str, secret_id: str) -> LabResponse:
    """``GET …/credentials/secrets/{secretId}``."""
    found = _secret(call, ref, secret_id)
    if isinstance(found, LabResponse):
        return found
    app, secret = found
    return LabResponse.from_json(200, secret.to_json(call.base, app.id))


def activate_secret(call: Call, ref: str, secret_id: str) -> LabResponse:
    """``POST …/secrets/{secretId}/lifecycle/activate`` → 200 with the secret."""
    found = _secret(call, ref, secret_id)
    if isinstance(found, LabResponse):
        return found
    app, secret = found
    secret.status, secret.last_updated = "ACTIVE", call.now
    return LabResponse.from_json(200, secret.to_json(call.base, app.id))


def deactivate_secret(call: Call, ref: str, secret_id: str) -> LabResponse:
    """``POST …/secrets/{secretId}/lifecycle/deactivate``; refused for the only active one."""
    found = _secret(call, ref, secret_id)
    if isinstance(found, LabResponse):
        return found
    app, secret = found
    others = [s for s in app.secrets if s.status == "ACTIVE" and s.id != secret.id]
    if secret.status == "ACTIVE" and not others:
        return invalid("secret", "You can't deactivate the only active client secret")
    secret.status, secret.last_updated = "INACTIVE", call.now
    return LabResponse.from_json(200, secret.to_json(call.base, app.id))


def delete_secret(call: Call, ref: str, secret_id: str) -> LabResponse:
    """``DELETE …/secrets/{secretId}`` → 204; only INACTIVE secrets."""
    found = _secret(call, ref, secret_id)
    if isinstance(found, LabResponse):
        return found
    app, secret = found
    if secret.status != "INACTIVE":
        return invalid("secret", "Only inactive secrets can be deleted")
    app.secrets.remove(secret)
    return LabResponse(204)


def list_jwks(call: Call, ref: str) -> LabResponse:
    """``GET /api/v1/apps/{appId}/credentials/jwks``."""
    app = app_or_404(call, ref)
    if isinstance(app, LabResponse):
        return app
    return LabResponse.from_json(200, [k.to_json() for k in app.jwks])


def _key(call: Call, ref: str, key_id: str) -> tuple[App, Jwk] | LabResponse:
    app = app_or_404(call, ref)
    if isinstance(app, LabResponse):
        return app
    key = next((k for k in app.jwks if k.id == key_id), None)
    if key is None:
        return not_found(f"{key_id} (OAuth2ClientJsonWebKey)")
    return app, key


def activate_jwk(call: Call, ref: str, key_id: str) -> LabResponse:
    """``POST …/jwks/{keyId}/lifecycle/activate`` → 200 with the key."""
    found = _key(call, ref, key_id)
    if isinstance(found, LabResponse):
        return found
    _, key = found
    key.status, key.last_updated = "ACTIVE", call.now
    return LabResponse.from_json(200, key.to_json())


def deactivate_jwk(call: Call, ref: str, key_id: str) -> LabResponse:
    """``POST …/jwks/{keyId}/lifecycle/deactivate``; refused for the only active key."""
    found = _key(call, ref, key_id)
    if isinstance(found, LabResponse):
        return found
    app, key = found
    others = [k for k in app.jwks if k.status == "ACTIVE" and k.id != key.id]
    if key.status == "ACTIVE" and not others:
        return invalid("jwk", "You can't deactivate the only active JSON Web Key")
    key.status, key.last_updated = "INACTIVE", call.now
    return LabResponse.from_json(200, key.to_json())


def _client(call: Call, client_id: str) -> App | LabResponse:
    app = call.state.app_by_client(client_id)
    return app if app is not None else not_found(f"{client_id} (Client)")


def client_roles(call: Call, client_id: str) -> LabResponse:
    """``GET /oauth2/v1/clients/{clientId}/roles``."""
    app = _client(call, client_id)
    if isinstance(app, LabResponse):
        return app
    return LabResponse.from_json(200, [r.to_json("CLIENT") for r in app.roles])


def assign_client_role(call: Call, client_id: str) -> LabResponse:
    """``POST /oauth2/v1/clients/{clientId}/roles`` ``{"type"}`` → 200 (not 201, unlike a
    user's), a new assignment id."""
    app = _client(call, client_id)
    if isinstance(app, LabResponse):
        return app
    kind = str(call.body().get("type", ""))
    if kind not in ADMIN_ROLES:
        return invalid("type", f"Unknown role type {kind!r}")
    if any(r.type == kind for r in app.roles):
        return invalid("type", "The role is already assigned to the client")
    role = Role(new_id("irb"), kind, call.now)
    app.roles.append(role)
    return LabResponse.from_json(200, role.to_json("CLIENT"))


def get_client_role(call: Call, client_id: str, role_id: str) -> LabResponse:
    """``GET /oauth2/v1/clients/{clientId}/roles/{roleAssignmentId}``."""
    app = _client(call, client_id)
    if isinstance(app, LabResponse):
        return app
    role = next((r for r in app.roles if r.id == role_id), None)
    if role is None:
        return not_found(f"{role_id} (Role)")
    return LabResponse.from_json(200, role.to_json("CLIENT"))


def unassign_client_role(call: Call, client_id: str, role_id: str) -> LabResponse:
    """``DELETE /oauth2/v1/clients/{clientId}/roles/{roleAssignmentId}`` → 204."""
    app = _client(call, client_id)
    if isinstance(app, LabResponse):
        return app
    kept = [r for r in app.roles if r.id != role_id]
    if len(kept) == len(app.roles):
        return not_found(f"{role_id} (Role)")
    app.roles = kept
    return LabResponse(204)


_SECRETS = "/api/v1/apps/{app}/credentials/secrets"
_JWKS = "/api/v1/apps/{app}/credentials/jwks"
_ROLES = "/oauth2/v1/clients/{client}/roles"

ROUTES: list[Route] = [
    route("GET", _SECRETS, READ, list_secrets),
    route("POST", _SECRETS, MANAGE, create_secret),
    route("GET", _SECRETS + "/{secret}", READ, get_secret),
    route("DELETE", _SECRETS + "/{secret}", MANAGE, delete_secret),
    route("POST", _SECRETS + "/{secret}/lifecycle/activate", MANAGE, activate_secret),
    route("POST", _SECRETS + "/{secret}/lifecycle/deactivate", MANAGE, deactivate_secret),
    route("GET", _JWKS, READ, list_jwks),
    route("POST", _JWKS + "/{key}/lifecycle/activate", MANAGE, activate_jwk),
    route("POST", _JWKS + "/{key}/lifecycle/deactivate", MANAGE, deactivate_jwk),
    route("GET", _ROLES, "okta.roles.read", client_roles),
    route("POST", _ROLES, "okta.roles.manage", assign_client_role),
    route("GET", _ROLES + "/{role}", "okta.roles.read", get_client_role),
    route("DELETE", _ROLES + "/{role}", "okta.roles.manage", unassign_client_role),
]
"""Every credential and client-role endpoint."""
