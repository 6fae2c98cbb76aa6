"""Pure translation of Okta API data (JSON as Okta sends it) into model objects.

Conventions (documented for users in the adapter's module docstring):

* An OAuth app whose ``grant_types`` include ``client_credentials`` (every service app)
  is an identity of kind ``service-app``; its app ``profile`` attributes
  ``agent_ir_agent`` / ``agent_ir_owner`` name its agent and owner. An app whose profile
  names no agent but which the System Log shows was created through an API token belongs
  to that token's agent: the token's name (tag ``created_by_api_token``).
* An API token is an identity of kind ``api-token`` named as the token; it carries
  its creator's admin roles, and the creator is linked to it (``human:<email>``).
* An AI agent (Okta for AI Agents) is an identity of kind ``ai-agent``; it is an
  agent by definition, named by its profile, owned by its first owner.
* A user with the profile attribute ``agent_ir_agent`` is a service user
  (``service-user``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from agent_ir.model import Credential, Edge, EdgeKind, Grant, Identity

ADMIN_RISK_ROLES = frozenset(
    {
        "SUPER_ADMIN",
        "ORG_ADMIN",
        "APP_ADMIN",
        "USER_ADMIN",
        "HELP_DESK_ADMIN",
        "GROUP_MEMBERSHIP_ADMIN",
        "API_ACCESS_MANAGEMENT_ADMIN",
        "MOBILE_ADMIN",
    }
)
"""Admin roles that can change identities or access (READ_ONLY_ADMIN and REPORT_ADMIN
cannot)."""

ADMIN_SCOPES = frozenset(
    {
        "okta.users.manage",
        "okta.apps.manage",
        "okta.clients.manage",
        "okta.roles.manage",
        "okta.apiTokens.manage",
        "okta.authorizationServers.manage",
        "okta.policies.manage",
        "okta.groups.manage",
        "okta.appGrants.manage",
    }
)
"""Okta API scopes that let a client change who may do what."""

KIND_APP = "service-app"
KIND_TOKEN = "api-token"
KIND_AI_AGENT = "ai-agent"
KIND_USER = "service-user"


def parse_time(text: Any) -> datetime | None:
    """An Okta timestamp, or None."""
    if not isinstance(text, str) or not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def parse_window(text: Any) -> timedelta | None:
    """An ISO-8601 duration such as ``P30D`` or ``PT12H`` (years and months approximated)."""
    if not isinstance(text, str):
        return None
    match = re.match(
        r"^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$",
        text,
    )
    if match is None:
        return None
    y, mo, w, d, h, mi, s = (int(g or 0) for g in match.groups())
    return timedelta(days=y * 365 + mo * 30 + w * 7 + d, hours=h, minutes=mi, seconds=s)


def role_risk(role_type: str) -> str | None:
    """``admin`` for roles that can change identities or access."""
    return "admin" if role_type in ADMIN_RISK_ROLES else None


def scope_risk(scope: str) -> str | None:
    """``admin`` for Okta API scopes that can change who may do what."""
    return "admin" if scope in ADMIN_SCOPES else None


def _get(data: Any, *path: str) -> Any:
    node = data
    for key in path:
        if not isinstance(node, dict):
            return None
        node = node.get(key)
    return node


def _status(value: Any) -> str:
    return str(value or "unknown").lower()


def is_machine_app(app: dict[str, Any]) -> bool:
    """Whether an app can get tokens as itself (client credentials)."""
    grants = _get(app, "settings", "oauthClient", "grant_types") or []
    return "client_credentials" in grants


def client_id_of(app: dict[str, Any]) -> str:
    """An app's OAuth client id (the app id when Okta chose it)."""
    return str(_get(app, "credentials", "oauthClient", "client_id") or app.get("id", ""))


def auth_method_of(app: dict[str, Any]) -> str:
    """How the app authenticates at the token endpoint."""
    return str(_get(app, "credentials", "oauthClient", "token_endpoint_auth_method") or "")


def app_identity(
    app: dict[str, Any],
    account: str,
    *,
    agent_attribute: str,
    owner_attribute: str,
    credentials: Iterable[Credential] = (),
    made_by: str | None = None,
) -> Identity:
    """An OAuth app that can act as itself; ``made_by`` is the name of the API token that
    created it, the agent when the profile names none."""
    profile = app.get("profile") or {}
    client_id = client_id_of(app)
    tags = [
        ("application_type", str(_get(app, "settings", "oauthClient", "application_type"))),
        ("token_endpoint_auth_method", auth_method_of(app)),
        ("client_id", client_id),
    ]
    tags += [(str(k), str(v)) for k, v in sorted(profile.items()) if isinstance(v, str | int)]
    if made_by:
        tags.append(("created_by_api_token", made_by))
    return Identity(
        provider="okta",
        kind=KIND_APP,
        id=str(app["id"]),
        name=str(app.get("label") or app["id"]),
        account=account,
        credentials=tuple(credentials),
        tags=tuple(tags),
        owner=_text(profile.get(owner_attribute)),
        agent=_text(profile.get(agent_attribute)) or made_by,
        status=_status(app.get("status")),
        aliases=(client_id,) if client_id and client_id != app["id"] else (),
    )


def apps_made_by_tokens(
    events: Iterable[dict[str, Any]], tokens: Iterable[dict[str, Any]], own_token: str | None
) -> dict[str, str]:
    """App id → the name of the API token whose request created it, from the System Log's
    ``application.lifecycle.create`` events (the console's own token is left out)."""
    names = {str(t.get("id")): str(t.get("name") or t.get("id")) for t in tokens}
    out: dict[str, str] = {}
    for event in events:
        token = _get(event, "transaction", "detail", "requestApiTokenId")
        if not token or str(token) == own_token or str(token) not in names:
            continue
        for target in event.get("target") or []:
            if isinstance(target, dict) and target.get("type") == "AppInstance":
                out[str(target.get("id"))] = names[str(token)]
    return out


def _text(value: Any) -> str | None:
    return str(value) if isinstance(value, str) and value else None


def secret_credential(secret: dict[str, Any]) -> Credential:
    """A client secret."""
    return Credential(
        id=str(secret["id"]),
        kind="client-secret",
        status=_status(secret.get("status")),
        created=parse_time(secret.get("created")),
        static=True,
    )


def jwk_credential(key: dict[str, Any]) -> Credential:
    """A public key in a JWKS (the private half signs the client's assertions)."""
    return Credential(
        id=str(key.get("kid") or key.get("id")),
        kind="jwk",
        status=_status(key.get("status")),
        created=parse_time(key.get("created")),
        static=True,
    )


def used_at(credentials: Iterable[Credential], last_use: datetime | None) -> list[Credential]:
    """Credentials with the client's last token grant as their last use.

    The System Log says when a client got a token, not with which secret or key, so every
    active credential that existed then shows that moment."""
    out = []
    for cred in credentials:
        if (
            last_use
            and cred.status == "active"
            and (cred.created is None or cred.created <= last_use)
        ):
            cred = replace(cred, last_used=last_use)
        out.append(cred)
    return out


def api_token_identity(
    token: dict[str, Any],
    account: str,
    creator: str | None,
    maker: Identity | None = None,
) -> Identity:
    """An API token; its last use is its idle expiry minus its window (Okta slides the
    expiry forward on every use). A token made by an agent's service user (``maker``)
    belongs to that agent."""
    expires = parse_time(token.get("expiresAt"))
    window = parse_window(token.get("tokenWindow"))
    last_used = expires - window if expires and window else None
    credential = Credential(
        id=str(token["id"]),
        kind="api-token",
        status="active",
        created=parse_time(token.get("created")),
        expires=expires,
        last_used=last_used,
        static=True,
    )
    tags = [
        ("created_by", creator or str(token.get("userId", ""))),
        ("token_window", str(token.get("tokenWindow", ""))),
        ("network", str(_get(token, "network", "connection") or "")),
    ]
    return Identity(
        provider="okta",
        kind=KIND_TOKEN,
        id=str(token["id"]),
        name=str(token.get("name") or token["id"]),
        account=account,
        credentials=(credential,),
        tags=tuple(tags),
        status="active",
        owner=maker.owner if maker else None,
        agent=maker.agent if maker else None,
    )


def ai_agent_identity(
    agent: dict[str, Any], account: str, owners: list[str], keys: Iterable[dict[str, Any]]
) -> Identity:
    """An AI agent: an agent by definition, named by its profile."""
    name = str(_get(agent, "profile", "name") or agent["id"])
    tags = [("app_id", str(agent.get("appId") or ""))] if agent.get("appId") else []
    return Identity(
        provider="okta",
        kind=KIND_AI_AGENT,
        id=str(agent["id"]),
        name=name,
        account=account,
        credentials=tuple(jwk_credential(k) for k in keys),
        tags=tuple(tags),
        owner=owners[0] if owners else None,
        agent=name,
        status=_status(agent.get("status")),
    )


def user_email(user: dict[str, Any]) -> str:
    """A user's email (else login, else id): the ``human:`` node name."""
    profile = user.get("profile") or {}
    return str(profile.get("email") or profile.get("login") or user.get("id", ""))


def service_user_identity(
    user: dict[str, Any], account: str, *, agent_attribute: str, owner_attribute: str
) -> Identity:
    """A user marked as an agent's service account."""
    profile = user.get("profile") or {}
    return Identity(
        provider="okta",
        kind=KIND_USER,
        id=str(user["id"]),
        name=str(profile.get("login") or user["id"]),
        account=account,
        owner=_text(profile.get(owner_attribute)),
        agent=_text(profile.get(agent_attribute)),
        status=_status(user.get("status")),
    )


def scope_grants(identity: str, grants: Iterable[dict[str, Any]]) -> list[Grant]:
    """An app's Okta API scope grants."""
    return [
        Grant(
            provider="okta",
            identity=identity,
            grant=str(g.get("scopeId")),
            kind="oauth-scope",
            risk=scope_risk(str(g.get("scopeId"))),
            detail=f"Okta API scope granted to the app (grant {g.get('id')})",
            ref=str(g.get("id")),
        )
        for g in grants
        if str(g.get("status", "ACTIVE")).upper() == "ACTIVE"
    ]


def role_grants(
    identity: str, roles: Iterable[dict[str, Any]], *, holder: str, inherited_from: str = ""
) -> list[Grant]:
    """Admin roles held by a client or user; for an API token, those of its creator."""
    out = []
    for role in roles:
        kind = str(role.get("type") or role.get("label") or "")
        if inherited_from:
            detail = f"inherited from {inherited_from}, who created the token"
            ref = ""
        else:
            detail = f"admin role held by the {holder} (assignment {role.get('id')})"
            ref = str(role.get("id"))
        out.append(
            Grant(
                provider="okta",
                identity=identity,
                grant=kind,
                kind="admin-role",
                risk=role_risk(kind),
                detail=detail,
                ref=ref,
            )
        )
    return out


def owner_edges(identity: Identity, owners: Iterable[str], why: str) -> list[Edge]:
    """``human:<owner>`` → identity."""
    return [
        Edge(
            f"human:{owner}",
            identity.id,
            EdgeKind.OWNER,
            f"{owner} owns Okta {identity.kind} {identity.name} ({why})",
            provider="okta",
            evidence=(identity.id,),
        )
        for owner in owners
    ]


def consent_edge(
    human: str,
    app: Identity,
    grants: list[dict[str, Any]],
    tokens: list[dict[str, Any]],
) -> Edge:
    """A user's consent to an agent's app: scopes granted and refresh tokens held."""
    scopes = sorted({str(g.get("scopeId")) for g in grants})
    held = f"; {len(tokens)} refresh token(s) live" if tokens else ""
    what = ", ".join(scopes) if scopes else "no scope any more"
    return Edge(
        f"human:{human}",
        app.id,
        EdgeKind.CONSENT,
        f"{human} consented to {what} for {app.name}{held}",
        provider="okta",
        evidence=tuple(str(g.get("id")) for g in grants) + tuple(str(t.get("id")) for t in tokens),
    )


def service_user_token_edge(user: Identity, token: Identity, roles: list[str]) -> Edge:
    """The agent's service user that created an API token (not a human: the token is the
    agent's, acting with all of the service user's permissions)."""
    power = f" ({', '.join(roles)})" if roles else ""
    return Edge(
        user.id,
        token.id,
        EdgeKind.OWNER,
        f"service user {user.name} of agent {user.agent} created API token {token.name}; it "
        f"acts with all of the service user's permissions{power}",
        provider="okta",
        evidence=(token.id,),
    )


def creator_edge(human: str, token: Identity, roles: list[str]) -> Edge:
    """The human who created an API token: the token acts with all of their permissions."""
    power = f" ({', '.join(roles)})" if roles else ""
    return Edge(
        f"human:{human}",
        token.id,
        EdgeKind.CONSENT,
        f"{human} created API token {token.name}; it acts with all of {human}'s permissions{power}",
        provider="okta",
        evidence=(token.id,),
    )
