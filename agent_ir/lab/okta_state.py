"""The Okta emulator's records of users, apps and their credentials, grants, roles and
tokens, and their JSON as the management API returns it (field names, nesting and
``_links`` as Okta sends them). The org as a whole is :mod:`agent_ir.lab.okta_org`."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from agent_ir.lab.okta_world import okta_id


def stamp(moment: datetime) -> str:
    """Okta's timestamp format: ``2026-01-31T12:00:00.000Z``."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def new_id(prefix: str) -> str:
    """A fresh random Okta-style id."""
    return okta_id(prefix, secrets.token_hex(16))


@dataclass(slots=True)
class Role:
    """An admin role assignment (to a user or an OAuth client)."""

    id: str
    type: str
    created: datetime

    def to_json(self, assignee: str) -> dict[str, Any]:
        """The role assignment as Okta lists it."""
        return {
            "id": self.id,
            "label": self.type.replace("_", " ").title(),
            "type": self.type,
            "status": "ACTIVE",
            "created": stamp(self.created),
            "lastUpdated": stamp(self.created),
            "assignmentType": assignee,
        }


@dataclass(slots=True)
class User:
    """One user."""

    id: str
    login: str
    email: str
    first_name: str
    last_name: str
    status: str
    created: datetime
    last_updated: datetime
    agent: str | None = None
    owner: str | None = None
    sessions: int = 0
    roles: list[Role] = field(default_factory=list)

    def to_json(self, base: str) -> dict[str, Any]:
        """The user as ``GET /api/v1/users/{id}`` returns it."""
        profile: dict[str, Any] = {
            "login": self.login,
            "email": self.email,
            "firstName": self.first_name,
            "lastName": self.last_name,
        }
        if self.agent:
            profile["agent_ir_agent"] = self.agent
        if self.owner:
            profile["agent_ir_owner"] = self.owner
        return {
            "id": self.id,
            "status": self.status,
            "created": stamp(self.created),
            "activated": stamp(self.created),
            "statusChanged": stamp(self.last_updated),
            "lastLogin": None,
            "lastUpdated": stamp(self.last_updated),
            "passwordChanged": None,
            "type": {"id": "oty1default0000000000"},
            "profile": profile,
            "credentials": {"provider": {"type": "OKTA", "name": "OKTA"}},
            "_links": {"self": {"href": f"{base}/api/v1/users/{self.id}"}},
        }


@dataclass(slots=True)
class Secret:
    """A client secret; ``value`` is shown once, at creation."""

    id: str
    value: str
    status: str
    created: datetime
    last_updated: datetime

    def to_json(self, base: str, app_id: str, reveal: bool = False) -> dict[str, Any]:
        """The secret as listed (its value only when ``reveal``)."""
        data: dict[str, Any] = {
            "id": self.id,
            "status": self.status,
            "secret_hash": hashlib.sha256(self.value.encode()).hexdigest()[:22],
            "created": stamp(self.created),
            "lastUpdated": stamp(self.last_updated),
            "_links": self._links(f"{base}/api/v1/apps/{app_id}/credentials/secrets/{self.id}"),
        }
        if reveal:
            data["client_secret"] = self.value
        return data

    def _links(self, href: str) -> dict[str, Any]:
        """Okta links a secret to its lifecycle (OAuthClientSecretLinks has no ``self``)."""
        post = {"hints": {"allow": ["POST"]}}
        if self.status == "ACTIVE":
            return {"deactivate": {"href": f"{href}/lifecycle/deactivate", **post}}
        return {
            "activate": {"href": f"{href}/lifecycle/activate", **post},
            "delete": {"href": href, "hints": {"allow": ["DELETE"]}},
        }


@dataclass(slots=True)
class Jwk:
    """A public key in a JWKS; the lab keeps the private half for tests and the responder."""

    id: str
    kid: str
    status: str
    n: str
    e: str
    created: datetime
    last_updated: datetime

    def to_json(self) -> dict[str, Any]:
        """The key as the JWKS endpoints list it."""
        return {
            "id": self.id,
            "kid": self.kid,
            "kty": "RSA",
            "alg": "RS256",
            "use": "sig",
            "e": self.e,
            "n": self.n,
            "status": self.status,
            "created": stamp(self.created),
            "lastUpdated": stamp(self.last_updated),
        }


@dataclass(slots=True)
class ScopeGrant:
    """An Okta API scope granted to an app (admin consent)."""

    id: str
    scope_id: str
    created: datetime

    def to_json(self, base: str, app: App) -> dict[str, Any]:
        """The grant as ``GET /api/v1/apps/{id}/grants`` lists it."""
        return {
            "id": self.id,
            "status": "ACTIVE",
            "created": stamp(self.created),
            "lastUpdated": stamp(self.created),
            "issuer": base,
            "clientId": app.client_id,
            "scopeId": self.scope_id,
            "source": "ADMIN",
            "createdBy": {"id": "00uadmin0000000000", "type": "User"},
            "_links": {"self": {"href": f"{base}/api/v1/apps/{app.id}/grants/{self.id}"}},
        }


@dataclass(slots=True)
class UserGrant:
    """One scope a user consented to for one client."""

    id: str
    user_id: str
    app_id: str
    scope_id: str
    created: datetime

    def to_json(self, base: str, client_id: str) -> dict[str, Any]:
        """The grant as ``GET /api/v1/users/{id}/grants`` lists it."""
        return {
            "id": self.id,
            "status": "ACTIVE",
            "created": stamp(self.created),
            "lastUpdated": stamp(self.created),
            "issuer": base,
            "clientId": client_id,
            "userId": self.user_id,
            "scopeId": self.scope_id,
            "source": "END_USER",
            "_links": {"self": {"href": f"{base}/api/v1/users/{self.user_id}/grants/{self.id}"}},
        }


@dataclass(slots=True)
class RefreshToken:
    """A refresh token a user holds for a client."""

    id: str
    user_id: str
    app_id: str
    scopes: list[str]
    created: datetime
    expires: datetime

    def to_json(self, base: str, client_id: str) -> dict[str, Any]:
        """The token as the app and user token lists show it."""
        return {
            "id": self.id,
            "status": "ACTIVE",
            "created": stamp(self.created),
            "lastUpdated": stamp(self.created),
            "expiresAt": stamp(self.expires),
            "issuer": base,
            "clientId": client_id,
            "userId": self.user_id,
            "scopes": list(self.scopes),
            "_links": {"self": {"href": f"{base}/api/v1/users/{self.user_id}/tokens/{self.id}"}},
        }


@dataclass(slots=True)
class App:
    """An OAuth app that can act as itself (client credentials)."""

    id: str
    client_id: str
    label: str
    status: str
    created: datetime
    last_updated: datetime
    auth_method: str
    app_type: str
    agent: str | None = None
    owner: str | None = None
    dpop: bool = False
    secrets: list[Secret] = field(default_factory=list)
    jwks: list[Jwk] = field(default_factory=list)
    scope_grants: list[ScopeGrant] = field(default_factory=list)
    roles: list[Role] = field(default_factory=list)
    groups: dict[str, datetime] = field(default_factory=dict)

    @property
    def grant_types(self) -> list[str]:
        """Service apps get client credentials only; web apps also act for users."""
        if self.app_type == "service":
            return ["client_credentials"]
        return ["authorization_code", "refresh_token", "client_credentials"]

    def to_json(self, base: str) -> dict[str, Any]:
        """The app as ``GET /api/v1/apps/{id}`` returns it (an ``OPENID_CONNECT`` app)."""
        profile: dict[str, Any] = {}
        if self.agent:
            profile["agent_ir_agent"] = self.agent
        if self.owner:
            profile["agent_ir_owner"] = self.owner
        client: dict[str, Any] = {
            "application_type": self.app_type,
            "grant_types": self.grant_types,
            "response_types": ["token"] if self.app_type == "service" else ["code"],
            "dpop_bound_access_tokens": self.dpop,
            "issuer_mode": "ORG_URL",
        }
        if self.app_type != "service":
            client["redirect_uris"] = [f"https://{self.label}.example/callback"]
        if self.jwks:
            client["jwks"] = {"keys": [k.to_json() for k in self.jwks]}
        return {
            "id": self.id,
            "orn": f"orn:okta:idp:{self.id}:apps:oidc_client:{self.id}",
            "name": "oidc_client",
            "label": self.label,
            "status": self.status,
            "created": stamp(self.created),
            "lastUpdated": stamp(self.last_updated),
            "signOnMode": "OPENID_CONNECT",
            "features": [],
            "profile": profile,
            "accessibility": {"selfService": False},
            "visibility": {"autoSubmitToolbar": False, "hide": {"iOS": True, "web": True}},
            "credentials": {
                "userNameTemplate": {"template": "${source.login}", "type": "BUILT_IN"},
                "signing": {"kid": self.jwks[0].kid if self.jwks else None},
                "oauthClient": {
                    "autoKeyRotation": True,
                    "client_id": self.client_id,
                    "token_endpoint_auth_method": self.auth_method,
                },
            },
            "settings": {"notifications": {}, "oauthClient": client},
            "_links": {
                "self": {"href": f"{base}/api/v1/apps/{self.id}"},
                "deactivate" if self.status == "ACTIVE" else "activate": {
                    "href": f"{base}/api/v1/apps/{self.id}/lifecycle/"
                    + ("deactivate" if self.status == "ACTIVE" else "activate"),
                    "hints": {"allow": ["POST"]},
                },
            },
        }
