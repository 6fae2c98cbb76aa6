"""Apps in the Okta emulator: list (filter, ``q``, paging) and get, activate and deactivate,
the app's Okta API scope grants, its refresh tokens and its group assignments.

Deactivating an app has Okta's side effects: its access tokens stop working at once, and
its group assignments are removed (activating it again does not bring them back).
"""

from __future__ import annotations

from agent_ir.lab.okta_http import invalid, not_found
from agent_ir.lab.okta_routes import Call, FilterError, Route, filtered, narrowed, route
from agent_ir.lab.okta_state import App, ScopeGrant, new_id, stamp
from agent_ir.lab.server import LabResponse

READ = "okta.apps.read"
MANAGE = "okta.apps.manage"


def app_or_404(call: Call, ref: str) -> App | LabResponse:
    """The app with id ``ref``, or Okta's 404."""
    app = call.state.apps.get(ref)
    return app if app is not None else not_found(f"{ref} (AppInstance)")


def list_apps(call: Call) -> LabResponse:
    """``GET /api/v1/apps`` with ``filter``, ``q``, ``limit`` (default 20) and ``after``."""
    query = call.param("q")
    lazy = narrowed(
        call.state.apps.after,
        lambda a: a.to_json(call.base),
        [call.param("filter")],
        (lambda a: a.label.lower().startswith((query or "").lower())) if query else None,
    )
    if lazy is not None:
        return call.listing(lazy, lambda a: a.id, lambda a: a.to_json(call.base), default_limit=20)
    apps = list(call.state.apps.values())
    if query:
        apps = [a for a in apps if a.label.lower().startswith(query.lower())]
    try:
        apps = filtered(call.param("filter"), apps, lambda a: a.to_json(call.base))
    except FilterError as exc:
        return invalid("filter", str(exc))
    return call.listing(apps, lambda a: a.id, lambda a: a.to_json(call.base), default_limit=20)


def get_app(call: Call, ref: str) -> LabResponse:
    """``GET /api/v1/apps/{appId}``."""
    app = app_or_404(call, ref)
    if isinstance(app, LabResponse):
        return app
    return LabResponse.from_json(200, app.to_json(call.base))


def activate(call: Call, ref: str) -> LabResponse:
    """``POST /api/v1/apps/{appId}/lifecycle/activate`` → 200 ``{}``."""
    app = app_or_404(call, ref)
    if isinstance(app, LabResponse):
        return app
    if app.status != "ACTIVE":
        app.status = "ACTIVE"
        app.last_updated = call.now
    return LabResponse.from_json(200, {})


def deactivate(call: Call, ref: str) -> LabResponse:
    """``POST /api/v1/apps/{appId}/lifecycle/deactivate`` → 200 ``{}`` (see the module
    docstring for the side effects)."""
    app = app_or_404(call, ref)
    if isinstance(app, LabResponse):
        return app
    if app.status != "INACTIVE":
        app.status = "INACTIVE"
        app.last_updated = call.now
        app.groups.clear()
    return LabResponse.from_json(200, {})


def list_grants(call: Call, ref: str) -> LabResponse:
    """``GET /api/v1/apps/{appId}/grants``."""
    app = app_or_404(call, ref)
    if isinstance(app, LabResponse):
        return app
    return LabResponse.from_json(200, [g.to_json(call.base, app) for g in app.scope_grants])


def get_grant(call: Call, ref: str, grant_id: str) -> LabResponse:
    """``GET /api/v1/apps/{appId}/grants/{grantId}``."""
    app = app_or_404(call, ref)
    if isinstance(app, LabResponse):
        return app
    grant = next((g for g in app.scope_grants if g.id == grant_id), None)
    if grant is None:
        return not_found(f"{grant_id} (OAuth2ScopeConsentGrant)")
    return LabResponse.from_json(200, grant.to_json(call.base, app))


def grant_scope(call: Call, ref: str) -> LabResponse:
    """``POST /api/v1/apps/{appId}/grants`` ``{"issuer", "scopeId"}`` → 201, a new id."""
    app = app_or_404(call, ref)
    if isinstance(app, LabResponse):
        return app
    body = call.body()
    scope, issuer = str(body.get("scopeId", "")), str(body.get("issuer", ""))
    if not scope.startswith("okta."):
        return invalid("scopeId", f"{scope!r} is not an Okta API scope")
    if issuer.rstrip("/") != call.base:
        return invalid("issuer", f"The issuer must be {call.base}")
    if any(g.scope_id == scope for g in app.scope_grants):
        return invalid("scopeId", f"{scope} is already granted to this app")
    grant = ScopeGrant(new_id("oag"), scope, call.now)
    app.scope_grants.append(grant)
    return LabResponse.from_json(201, grant.to_json(call.base, app))


def revoke_grant(call: Call, ref: str, grant_id: str) -> LabResponse:
    """``DELETE /api/v1/apps/{appId}/grants/{grantId}`` → 204."""
    app = app_or_404(call, ref)
    if isinstance(app, LabResponse):
        return app
    kept = [g for g in app.scope_grants if g.id != grant_id]
    if len(kept) == len(app.scope_grants):
        return not_found(f"{grant_id} (OAuth2ScopeConsentGrant)")
    app.scope_grants = kept
    return LabResponse(204)


def list_tokens(call: Call, ref: str) -> LabResponse:
    """``GET /api/v1/apps/{appId}/tokens``: the refresh tokens users hold for the app."""
    app = app_or_404(call, ref)
    if isinstance(app, LabResponse):
        return app
    tokens = call.state.refresh_tokens.where("app_id", app.id)
    return call.listing(
        tokens, lambda t: t.id, lambda t: t.to_json(call.base, app.client_id), default_limit=20
    )


def revoke_tokens(call: Call, ref: str) -> LabResponse:
    """``DELETE /api/v1/apps/{appId}/tokens`` → 204: every refresh token of the app."""
    app = app_or_404(call, ref)
    if isinstance(app, LabResponse):
        return app
    for tid in [t.id for t in call.state.refresh_tokens.where("app_id", app.id)]:
        del call.state.refresh_tokens[tid]
    return LabResponse(204)


def revoke_token(call: Call, ref: str, token_id: str) -> LabResponse:
    """``DELETE /api/v1/apps/{appId}/tokens/{tokenId}`` → 204."""
    app = app_or_404(call, ref)
    if isinstance(app, LabResponse):
        return app
    token = call.state.refresh_tokens.get(token_id)
    if token is None or token.app_id != app.id:
        return not_found(f"{token_id} (OAuth2RefreshToken)")
    del call.state.refresh_tokens[token_id]
    return LabResponse(204)


def _assignment(call: Call, app: App, group_id: str) -> dict[str, object]:
    return {
        "id": group_id,
        "priority": 0,
        "lastUpdated": stamp(app.groups[group_id]),
        "_links": {
            "app": {"href": f"{call.base}/api/v1/apps/{app.id}"},
            "group": {"href": f"{call.base}/api/v1/groups/{group_id}"},
        },
    }


def list_groups(call: Call, ref: str) -> LabResponse:
    """``GET /api/v1/apps/{appId}/groups``."""
    app = app_or_404(call, ref)
    if isinstance(app, LabResponse):
        return app
    return call.listing(
        list(app.groups), lambda g: g, lambda g: _assignment(call, app, g), default_limit=20
    )


def assign_group(call: Call, ref: str, group_id: str) -> LabResponse:
    """``PUT /api/v1/apps/{appId}/groups/{groupId}`` → 200 with the assignment."""
    app = app_or_404(call, ref)
    if isinstance(app, LabResponse):
        return app
    if group_id not in call.state.groups:
        return not_found(f"{group_id} (UserGroup)")
    app.groups.setdefault(group_id, call.now)
    return LabResponse.from_json(200, _assignment(call, app, group_id))


def unassign_group(call: Call, ref: str, group_id: str) -> LabResponse:
    """``DELETE /api/v1/apps/{appId}/groups/{groupId}`` → 204."""
    app = app_or_404(call, ref)
    if isinstance(app, LabResponse):
        return app
    app.groups.pop(group_id, None)
    return LabResponse(204)


def get_group(call: Call, group_id: str) -> LabResponse:
    """``GET /api/v1/groups/{groupId}``."""
    name = call.state.groups.get(group_id)
    if name is None:
        return not_found(f"{group_id} (UserGroup)")
    return LabResponse.from_json(
        200, {"id": group_id, "type": "OKTA_GROUP", "profile": {"name": name, "description": ""}}
    )


ROUTES: list[Route] = [
    route("GET", "/api/v1/apps", READ, list_apps),
    route("GET", "/api/v1/apps/{app}", READ, get_app),
    route("POST", "/api/v1/apps/{app}/lifecycle/activate", MANAGE, activate),
    route("POST", "/api/v1/apps/{app}/lifecycle/deactivate", MANAGE, deactivate),
    route("GET", "/api/v1/apps/{app}/grants", "okta.appGrants.read", list_grants),
    route("POST", "/api/v1/apps/{app}/grants", "okta.appGrants.manage", grant_scope),
    route("GET", "/api/v1/apps/{app}/grants/{grant}", "okta.appGrants.read", get_grant),
    route("DELETE", "/api/v1/apps/{app}/grants/{grant}", "okta.appGrants.manage", revoke_grant),
    route("GET", "/api/v1/apps/{app}/tokens", READ, list_tokens),
    route("DELETE", "/api/v1/apps/{app}/tokens", MANAGE, revoke_tokens),
    route("DELETE", "/api/v1/apps/{app}/tokens/{token}", MANAGE, revoke_token),
    route("GET", "/api/v1/apps/{app}/groups", READ, list_groups),
    route("PUT", "/api/v1/apps/{app}/groups/{group}", MANAGE, assign_group),
    route("DELETE", "/api/v1/apps/{app}/groups/{group}", MANAGE, unassign_group),
    route("GET", "/api/v1/groups/{group}", "okta.groups.read", get_group),
]
"""Every app endpoint except credentials and client roles."""
