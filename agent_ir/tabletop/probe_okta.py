"""The Okta part of the probe: private-key-JWT token requests (RFC 7523) with the keys of
the agent's service apps (and of apps the attacker creates), token requests for each Okta
API scope the attacker granted an app, and SSWS calls with API tokens the agent runs on.

A key path asks for the app's scopes of the world (``okta.users.read`` for an app the
attacker made); a scope path (``… → token with scope X``) asks for that scope alone, so it
works only while the grant exists, the app is active and the key is valid. A working key
or scope path makes the attacker the app: its client id is the path's ``principal``."""

from __future__ import annotations

import ssl
import time
import uuid
from dataclasses import dataclass
from typing import Any, cast

import httpx
import jwt

from agent_ir.engine.inventory import Inventory
from agent_ir.errors import LabError
from agent_ir.lab.runner import Lab
from agent_ir.tabletop.probe import PathResult

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


@dataclass(frozen=True, slots=True)
class AppKey:
    """A service app's private key the attacker holds."""

    label: str
    client_id: str
    kid: str
    pem: str  # the attacker's copy; never printed
    scope: str


@dataclass(frozen=True, slots=True)
class ApiToken:
    """An API token the attacker holds (sent after ``SSWS``)."""

    name: str
    value: str  # the attacker's copy; never printed


def request_token(
    http: httpx.Client, base: str, client_id: str, kid: str | None, pem: str, scope: str
) -> httpx.Response:
    """A client-credentials token request with a private-key JWT (RFC 7523), as any
    outside client makes it; ``http`` is based at the org URL ``base``."""
    now = int(time.time())
    claims = {
        "iss": client_id,
        "sub": client_id,
        "aud": f"{base}/oauth2/v1/token",
        "iat": now,
        "exp": now + 300,
        "jti": str(uuid.uuid4()),
    }
    headers = {"kid": kid} if kid else None
    assertion = jwt.encode(claims, pem, algorithm="RS256", headers=headers)
    return http.post(
        "/oauth2/v1/token",
        data={
            "grant_type": "client_credentials",
            "scope": scope,
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": assertion,
        },
    )


class OktaProbe:
    """Private keys of the agent's Okta service apps, and API tokens it uses."""

    def __init__(self, lab: Lab) -> None:
        settings = lab.settings.providers.okta
        if settings is None:
            raise LabError("the lab has no Okta org")
        self.emulator = cast(Any, lab.emulators["okta"])
        self.base = str(settings.org_url).rstrip("/")
        self.ca = str(settings.ca_bundle)
        self.keys: list[AppKey] = []
        self.scoped: list[AppKey] = []
        self.tokens: list[ApiToken] = []

    def arm(self, inventory: Inventory, agent: str) -> None:
        """Take the private key of each of the agent's service apps that signs with one, and
        the value of each API token the agent runs on (lab-only helpers)."""
        apps = {a.label: a for a in self.emulator.world.apps}
        for identity in inventory.agent(agent).identities:
            if identity.provider == "okta" and identity.kind == "api-token":
                self.add_api_token(identity.name, self.emulator.api_token_value(identity.name))
            if identity.provider != "okta" or identity.kind != "service-app":
                continue
            app = apps.get(identity.name)
            if app is None or not any(c.kind == "jwk" for c in identity.credentials):
                continue
            scope = " ".join(app.scopes)
            pem = self.emulator.private_key_pem(identity.name)
            kid = self.emulator.key_id(identity.name)
            self.keys.append(AppKey(identity.name, identity.id, kid, pem, scope))

    def add_api_token(self, name: str, value: str) -> None:
        """Hold one API token by its value."""
        self.tokens.append(ApiToken(name, value))

    def add_key(self, key: AppKey) -> None:
        """Hold one more app key (an app the attacker created for itself)."""
        self.keys.append(key)

    def add_scope(self, key: AppKey) -> None:
        """Ask, with ``key``, for a token carrying ``key.scope`` alone from now on."""
        self.scoped.append(key)

    def key_for(self, client_id: str) -> AppKey | None:
        """The key the attacker holds for a client, if any."""
        return next((k for k in self.keys if k.client_id == client_id), None)

    def check(self, reached: set[str]) -> list[PathResult]:
        """A token request with each key, an SSWS read with each API token."""
        context = ssl.create_default_context(cafile=self.ca)
        with httpx.Client(base_url=self.base, verify=context, timeout=10) as http:
            out = [self._key(http, key, "access token") for key in self.keys]
            out += [self._key(http, key, f"token with scope {key.scope}") for key in self.scoped]
            out += [self._token(http, token) for token in self.tokens]
        return out

    def _key(self, http: httpx.Client, key: AppKey, what: str) -> PathResult:
        path = f"private key {key.kid} of service app {key.label} → {what}"
        try:
            reply = request_token(http, self.base, key.client_id, key.kid, key.pem, key.scope)
        except httpx.HTTPError as exc:
            return PathResult("okta", path, False, "behaviour", f"refused: {type(exc).__name__}")
        if reply.status_code == 200 and "access_token" in reply.json():
            return PathResult(
                "okta",
                path,
                True,
                "behaviour",
                "token endpoint issued a token",
                principal=key.client_id,
            )
        return PathResult("okta", path, False, "behaviour", f"refused: {_error(reply)}")

    def _token(self, http: httpx.Client, token: ApiToken) -> PathResult:
        path = f"API token {token.name} → SSWS /api/v1/users"
        try:
            reply = http.get(
                "/api/v1/users",
                params={"limit": 1},
                headers={"Authorization": f"SSWS {token.value}"},
            )
        except httpx.HTTPError as exc:
            return PathResult("okta", path, False, "behaviour", f"refused: {type(exc).__name__}")
        if reply.status_code == 200:
            return PathResult("okta", path, True, "behaviour", "the API answered")
        return PathResult("okta", path, False, "behaviour", f"refused: {_error(reply)}")


def _error(reply: httpx.Response) -> str:
    try:
        body = reply.json()
    except ValueError:
        return f"HTTP {reply.status_code}"
    if isinstance(body, dict):
        code = body.get("error") or body.get("errorCode") or ""
        return f"HTTP {reply.status_code} {code}".strip()
    return f"HTTP {reply.status_code}"
