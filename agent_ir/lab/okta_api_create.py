"""Creating OAuth 2.0 apps in the Okta emulator: ``POST /api/v1/apps`` for
``OPENID_CONNECT`` apps (``name`` ``oidc_client``), checked as Okta checks them.

* ``label``, ``signOnMode`` and ``settings.oauthClient.grant_types`` are required; an
  unknown grant type, application type or token endpoint auth method is refused.
* A ``service`` app takes ``client_credentials`` only and cannot be a public client
  (``none``); a ``web`` app needs ``redirect_uris``.
* ``private_key_jwt`` needs ``settings.oauthClient.jwks`` with at least one RSA key
  (``kty``, ``n``, ``e``; a missing ``kid`` is made up); a client secret method gets a
  generated secret, returned once in ``credentials.oauthClient.client_secret``.
* ``?activate=false`` creates the app INACTIVE (Okta's default is to activate it).

Every refusal is Okta's 400 ``E0000001`` with one cause per problem. The new app's
``client_id`` is its id unless the body names an unused one, and its profile attributes
``agent_ir_agent`` / ``agent_ir_owner`` are kept. The System Log records the creation
(``application.lifecycle.create``) with the caller as actor and, for an API token, the
token's id in ``transaction.detail.requestApiTokenId``.
"""

from __future__ import annotations

import secrets
from typing import Any

from agent_ir.lab.okta_http import okta_error
from agent_ir.lab.okta_org import APP_CREATED, LogEvent
from agent_ir.lab.okta_routes import Call, Route, route
from agent_ir.lab.okta_state import App, Jwk, Secret, new_id
from agent_ir.lab.server import LabResponse

GRANT_TYPES = frozenset(
    {
        "authorization_code",
        "implicit",
        "password",
        "refresh_token",
        "client_credentials",
        "urn:ietf:params:oauth:grant-type:token-exchange",
        "urn:ietf:params:oauth:grant-type:jwt-bearer",
    }
)
APP_TYPES = frozenset({"web", "native", "browser", "service"})
AUTH_METHODS = frozenset({"client_secret_basic", "client_secret_post", "private_key_jwt", "none"})


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _keys(oauth: dict[str, Any], now: Any, problems: list[str]) -> list[Jwk]:
    keys = _dict(oauth.get("jwks")).get("keys")
    if not isinstance(keys, list) or not keys:
        problems.append(
            "jwks: A JSON Web Key Set is required when token_endpoint_auth_method is "
            "private_key_jwt"
        )
        return []
    out = []
    for index, key in enumerate(keys):
        key = _dict(key)
        if key.get("kty") != "RSA" or not key.get("n") or not key.get("e"):
            problems.append(f"jwks.keys[{index}]: an RSA key needs kty, n and e")
            continue
        kid = str(key.get("kid") or secrets.token_urlsafe(24))
        out.append(Jwk(new_id("pks"), kid, "ACTIVE", str(key["n"]), str(key["e"]), now, now))
    return out


def _checked(call: Call) -> tuple[dict[str, Any], list[str]]:
    """The parts of the body the app is made from, and what is wrong with it."""
    body = call.body()
    problems: list[str] = []
    label = body.get("label")
    if not isinstance(label, str) or not label.strip():
        problems.append("label: The field cannot be left blank")
    if body.get("signOnMode") != "OPENID_CONNECT":
        problems.append("signOnMode: The lab creates OPENID_CONNECT apps only")
    if body.get("name", "oidc_client") != "oidc_client":
        problems.append("name: An OPENID_CONNECT app must be named oidc_client")
    oauth = _dict(_dict(body.get("settings")).get("oauthClient"))
    client = _dict(_dict(body.get("credentials")).get("oauthClient"))
    grants = oauth.get("grant_types")
    if not isinstance(grants, list) or not grants:
        problems.append("grant_types: The field cannot be left blank")
        grants = []
    unknown = [g for g in grants if g not in GRANT_TYPES]
    if unknown:
        problems.append(f"grant_types: Unsupported grant types: {unknown}")
    app_type = oauth.get("application_type", "web")
    if app_type not in APP_TYPES:
        problems.append(f"application_type: Unknown application type {app_type!r}")
    method = client.get("token_endpoint_auth_method", "client_secret_basic")
    if method not in AUTH_METHODS:
        problems.append(f"token_endpoint_auth_method: Unknown method {method!r}")
    if app_type == "service":
        if set(grants) - {"client_credentials"}:
            problems.append("grant_types: A service app may only use client_credentials")
        if method == "none":
            problems.append("token_endpoint_auth_method: A service app must authenticate")
    if app_type == "web" and not oauth.get("redirect_uris"):
        problems.append("redirect_uris: A web app needs at least one redirect URI")
    wanted_id = client.get("client_id")
    if wanted_id is not None and (
        not isinstance(wanted_id, str) or call.state.app_by_client(wanted_id) is not None
    ):
        problems.append("client_id: The client id must be unique")
    parts = {
        "label": label,
        "oauth": oauth,
        "method": method,
        "app_type": app_type,
        "client_id": wanted_id,
        "profile": _dict(body.get("profile")),
    }
    return parts, problems


def create_app(call: Call) -> LabResponse:
    """``POST /api/v1/apps[?activate=false]`` → 200 with the app (see the module doc)."""
    parts, problems = _checked(call)
    keys: list[Jwk] = []
    if not problems and parts["method"] == "private_key_jwt":
        keys = _keys(parts["oauth"], call.now, problems)
    if problems:
        return okta_error(
            400, "E0000001", f"Api validation failed: {problems[0].split(':')[0]}", problems
        )
    aid = new_id("0oa")
    activate = (call.param("activate") or "true").lower() != "false"
    profile = parts["profile"]
    app = App(
        id=aid,
        client_id=str(parts["client_id"] or aid),
        label=str(parts["label"]).strip(),
        status="ACTIVE" if activate else "INACTIVE",
        created=call.now,
        last_updated=call.now,
        auth_method=str(parts["method"]),
        app_type=str(parts["app_type"]),
        agent=profile.get("agent_ir_agent")
        if isinstance(profile.get("agent_ir_agent"), str)
        else None,
        owner=profile.get("agent_ir_owner")
        if isinstance(profile.get("agent_ir_owner"), str)
        else None,
        dpop=bool(parts["oauth"].get("dpop_bound_access_tokens", False)),
        jwks=keys,
    )
    revealed = None
    if app.auth_method.startswith("client_secret"):
        revealed = Secret(new_id("ocs"), secrets.token_urlsafe(40), "ACTIVE", call.now, call.now)
        app.secrets.append(revealed)
    call.state.add_app(app)
    call.state.log.append(_created(call, app))
    data = app.to_json(call.base)
    if revealed is not None:
        data["credentials"]["oauthClient"]["client_secret"] = revealed.value
    return LabResponse.from_json(200, data)


def _created(call: Call, app: App) -> LogEvent:
    caller = call.caller
    if caller.kind == "api-token" and caller.user_id:
        user = call.state.users.get(caller.user_id)
        actor_id, actor_name, actor_type = caller.user_id, user.login if user else "", "User"
    else:
        client = call.state.apps.get(caller.app_id or "")
        actor_id = client.client_id if client else ""
        actor_name, actor_type = (client.label if client else ""), "PublicClientApp"
    return LogEvent(
        secrets.token_hex(18),
        call.now,
        actor_id,
        actor_name,
        event_type=APP_CREATED,
        actor_type=actor_type,
        target_id=app.id,
        target_label=app.label,
        api_token_id=caller.token_id,
    )


ROUTES: list[Route] = [route("POST", "/api/v1/apps", "okta.apps.manage", create_app)]
"""App creation."""
