"""Users in the Okta emulator: list and get, suspend and unsuspend, clear sessions, and
the OAuth grants, clients, refresh tokens and admin roles of one user."""

from __future__ import annotations

from typing import Any

from agent_ir.lab.okta_http import invalid, not_found
from agent_ir.lab.okta_index import IndexedDict
from agent_ir.lab.okta_routes import Call, FilterError, Route, filtered, narrowed, route
from agent_ir.lab.okta_state import App, Role, User, new_id
from agent_ir.lab.okta_world import ADMIN_ROLES
from agent_ir.lab.server import LabResponse

READ = "okta.users.read"
MANAGE = "okta.users.manage"


def _user_or_404(call: Call, ref: str) -> User | LabResponse:
    user = call.state.user(ref)
    return user if user is not None else not_found(f"{ref} (User)")


def list_users(call: Call) -> LabResponse:
    """``GET /api/v1/users`` with ``search``, ``filter``, ``q``, ``limit`` and ``after``."""
    query = call.param("q")
    lowered = (query or "").lower()
    lazy = narrowed(
        call.state.users.after,
        lambda u: u.to_json(call.base),
        [call.param("search"), call.param("filter")],
        (lambda u: any(v.lower().startswith(lowered) for v in (u.login, u.email, u.first_name)))
        if query
        else None,
    )
    if lazy is not None:
        return call.listing(lazy, lambda u: u.id, lambda u: u.to_json(call.base))
    users = list(call.state.users.values())
    if query:
        lowered = query.lower()
        users = [
            u
            for u in users
            if any(v.lower().startswith(lowered) for v in (u.login, u.email, u.first_name))
        ]
    try:
        users = filtered(call.param("search"), users, lambda u: u.to_json(call.base))
        users = filtered(call.param("filter"), users, lambda u: u.to_json(call.base))
    except FilterError as exc:
        return invalid("search", str(exc))
    return call.listing(users, lambda u: u.id, lambda u: u.to_json(call.base))


def get_user(call: Call, ref: str) -> LabResponse:
    """``GET /api/v1/users/{idOrLogin}``."""
    user = _user_or_404(call, ref)
    if isinstance(user, LabResponse):
        return user
    return LabResponse.from_json(200, user.to_json(call.base))


def suspend(call: Call, ref: str) -> LabResponse:
    """``POST …/lifecycle/suspend``: ACTIVE users only; their sessions end."""
    user = _user_or_404(call, ref)
    if isinstance(user, LabResponse):
        return user
    if user.status != "ACTIVE":
        return invalid("user", "Cannot suspend a user that is not active")
    user.status = "SUSPENDED"
    user.sessions = 0
    user.last_updated = call.now
    return LabResponse.from_json(200, {})


def unsuspend(call: Call, ref: str) -> LabResponse:
    """``POST …/lifecycle/unsuspend``: SUSPENDED users only."""
    user = _user_or_404(call, ref)
    if isinstance(user, LabResponse):
        return user
    if user.status != "SUSPENDED":
        return invalid("user", "Cannot unsuspend a user that is not suspended")
    user.status = "ACTIVE"
    user.last_updated = call.now
    return LabResponse.from_json(200, {})


def clear_sessions(call: Call, ref: str) -> LabResponse:
    """``DELETE /api/v1/users/{id}/sessions``; with ``oauthTokens=true`` the user's refresh
    tokens go too."""
    user = _user_or_404(call, ref)
    if isinstance(user, LabResponse):
        return user
    user.sessions = 0
    if (call.param("oauthTokens") or "").lower() == "true":
        for tid in [t.id for t in call.state.refresh_tokens.where("user_id", user.id)]:
            del call.state.refresh_tokens[tid]
    return LabResponse(204)


def _client_app(call: Call, client_id: str) -> App | LabResponse:
    app = call.state.app_by_client(client_id)
    return app if app is not None else not_found(f"{client_id} (Client)")


def user_grants(call: Call, ref: str) -> LabResponse:
    """``GET /api/v1/users/{id}/grants`` (optionally ``scopeId``)."""
    user = _user_or_404(call, ref)
    if isinstance(user, LabResponse):
        return user
    grants = call.state.user_grants.where("user_id", user.id)
    scope = call.param("scopeId")
    if scope:
        grants = [g for g in grants if g.scope_id == scope]
    return call.listing(grants, lambda g: g.id, lambda g: _grant_json(call, g))


def _grant_json(call: Call, grant: Any) -> dict[str, Any]:
    app = call.state.apps.get(grant.app_id)
    return dict(grant.to_json(call.base, app.client_id if app else grant.app_id))


def revoke_user_grants(call: Call, ref: str) -> LabResponse:
    """``DELETE /api/v1/users/{id}/grants``: every grant of the user."""
    user = _user_or_404(call, ref)
    if isinstance(user, LabResponse):
        return user
    for gid in [g.id for g in call.state.user_grants.where("user_id", user.id)]:
        del call.state.user_grants[gid]
    return LabResponse(204)


def user_clients(call: Call, ref: str) -> LabResponse:
    """``GET /api/v1/users/{id}/clients``: clients holding grants or tokens of the user."""
    user = _user_or_404(call, ref)
    if isinstance(user, LabResponse):
        return user
    app_ids = {g.app_id for g in call.state.user_grants.where("user_id", user.id)}
    app_ids |= {t.app_id for t in call.state.refresh_tokens.where("user_id", user.id)}
    apps = [call.state.apps[a] for a in app_ids if a in call.state.apps]
    return call.listing(
        apps,
        lambda a: a.client_id,
        lambda a: {
            "client_id": a.client_id,
            "client_name": a.label,
            "_links": {"app": {"href": f"{call.base}/api/v1/apps/{a.id}"}},
        },
    )


def _user_and_client(call: Call, ref: str, client_id: str) -> tuple[Any, Any] | LabResponse:
    """The user and the client app a ``/users/{id}/clients/{clientId}/…`` path names."""
    user = _user_or_404(call, ref)
    if isinstance(user, LabResponse):
        return user
    app = _client_app(call, client_id)
    if isinstance(app, LabResponse):
        return app
    return user, app


def _held(store: IndexedDict[Any], user: Any, app: Any) -> list[Any]:
    """What ``store`` holds for one user and one client (grants or refresh tokens)."""
    return [x for x in store.where("user_id", user.id) if x.app_id == app.id]


def client_grants(call: Call, ref: str, client_id: str) -> LabResponse:
    """``GET /api/v1/users/{id}/clients/{clientId}/grants``."""
    pair = _user_and_client(call, ref, client_id)
    if isinstance(pair, LabResponse):
        return pair
    user, app = pair
    grants = _held(call.state.user_grants, user, app)
    return call.listing(grants, lambda g: g.id, lambda g: g.to_json(call.base, app.client_id))


def revoke_client_grants(call: Call, ref: str, client_id: str) -> LabResponse:
    """``DELETE /api/v1/users/{id}/clients/{clientId}/grants``."""
    pair = _user_and_client(call, ref, client_id)
    if isinstance(pair, LabResponse):
        return pair
    for grant in _held(call.state.user_grants, *pair):
        del call.state.user_grants[grant.id]
    return LabResponse(204)


def client_tokens(call: Call, ref: str, client_id: str) -> LabResponse:
    """``GET /api/v1/users/{id}/clients/{clientId}/tokens``."""
    pair = _user_and_client(call, ref, client_id)
    if isinstance(pair, LabResponse):
        return pair
    user, app = pair
    tokens = _held(call.state.refresh_tokens, user, app)
    return call.listing(tokens, lambda t: t.id, lambda t: t.to_json(call.base, app.client_id))


def revoke_client_tokens(call: Call, ref: str, client_id: str) -> LabResponse:
    """``DELETE /api/v1/users/{id}/clients/{clientId}/tokens``."""
    pair = _user_and_client(call, ref, client_id)
    if isinstance(pair, LabResponse):
        return pair
    for token in _held(call.state.refresh_tokens, *pair):
        del call.state.refresh_tokens[token.id]
    return LabResponse(204)


def user_roles(call: Call, ref: str) -> LabResponse:
    """``GET /api/v1/users/{id}/roles``."""
    user = _user_or_404(call, ref)
    if isinstance(user, LabResponse):
        return user
    return LabResponse.from_json(200, [r.to_json("USER") for r in user.roles])


def assign_user_role(call: Call, ref: str) -> LabResponse:
    """``POST /api/v1/users/{id}/roles`` ``{"type": …}`` → 201 with a new assignment id."""
    user = _user_or_404(call, ref)
    if isinstance(user, LabResponse):
        return user
    kind = str(call.body().get("type", ""))
    if kind not in ADMIN_ROLES:
        return invalid("type", f"Unknown role type {kind!r}")
    if any(r.type == kind for r in user.roles):
        return invalid("type", "The role is already assigned to the user")
    role = Role(new_id("irb"), kind, call.now)
    user.roles.append(role)
    return LabResponse.from_json(201, role.to_json("USER"))


def unassign_user_role(call: Call, ref: str, role_id: str) -> LabResponse:
    """``DELETE /api/v1/users/{id}/roles/{roleAssignmentId}``."""
    user = _user_or_404(call, ref)
    if isinstance(user, LabResponse):
        return user
    kept = [r for r in user.roles if r.id != role_id]
    if len(kept) == len(user.roles):
        return not_found(f"{role_id} (Role)")
    user.roles = kept
    return LabResponse(204)


ROUTES: list[Route] = [
    route("GET", "/api/v1/users", READ, list_users),
    route("GET", "/api/v1/users/{id}", READ, get_user),
    route("POST", "/api/v1/users/{id}/lifecycle/suspend", MANAGE, suspend),
    route("POST", "/api/v1/users/{id}/lifecycle/unsuspend", MANAGE, unsuspend),
    route("DELETE", "/api/v1/users/{id}/sessions", MANAGE, clear_sessions),
    route("GET", "/api/v1/users/{id}/grants", READ, user_grants),
    route("DELETE", "/api/v1/users/{id}/grants", MANAGE, revoke_user_grants),
    route("GET", "/api/v1/users/{id}/clients", READ, user_clients),
    route("GET", "/api/v1/users/{id}/clients/{client}/grants", READ, client_grants),
    route("DELETE", "/api/v1/users/{id}/clients/{client}/grants", MANAGE, revoke_client_grants),
    route("GET", "/api/v1/users/{id}/clients/{client}/tokens", READ, client_tokens),
    route("DELETE", "/api/v1/users/{id}/clients/{client}/tokens", MANAGE, revoke_client_tokens),
    route("GET", "/api/v1/users/{id}/roles", "okta.roles.read", user_roles),
    route("POST", "/api/v1/users/{id}/roles", "okta.roles.manage", assign_user_role),
    route("DELETE", "/api/v1/users/{id}/roles/{role}", "okta.roles.manage", unassign_user_role),
]
"""Every user endpoint."""
