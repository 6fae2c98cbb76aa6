"""Okta changes an attacker makes during an exercise, through the management API over the
lab's sockets:

* a new consent: ``POST /api/v1/apps/{appId}/grants`` grants an Okta API scope to a service
  app that signs in with a private key; the probe then asks for a token carrying that
  scope with the key the attacker holds for the app (the lab's copy of the app's key when
  the attacker made no key of its own for it, as when the probe is armed);
* a spawned sub-agent: ``POST /api/v1/apps`` creates an OAuth 2.0 service app
  (client credentials, ``private_key_jwt``) with the public half of a key pair the
  attacker generates, activates it and grants it ``okta.users.read``; the probe holds the
  private key.

Both are made with the API token the agent runs on when the probe holds one (a shadow
agent acts with its creator's power), else as the lab's responder (standing in for the
attacker's own power). An app made through an API token is attributed by discovery to
that token's agent (the System Log names the token that created it). When Okta refuses the
attacker's API token (401 or 403: the responders revoked it), the change is not made and
the timeline line says so; nothing is handed to the probe.
"""

from __future__ import annotations

import ssl
import uuid
from dataclasses import dataclass
from typing import Any, cast

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from agent_ir.engine.inventory import Inventory
from agent_ir.errors import LabError
from agent_ir.lab.runner import Lab
from agent_ir.tabletop.inject import ChangeRefused
from agent_ir.tabletop.model import Change, NewConsent, SpawnSubAgent
from agent_ir.tabletop.probe_okta import AppKey, OktaProbe, request_token

SPAWNED_SCOPE = "okta.users.read"
"""The scope a spawned service app is granted."""


@dataclass(frozen=True, slots=True)
class _Actor:
    """Who makes the change: its ``Authorization`` header and a name for the timeline."""

    header: str  # a credential; never printed
    name: str
    attacker: bool
    """True for a credential the attacker holds (its refusal is part of the exercise)."""


class _Refused(Exception):
    """Okta refused the attacker's own credential."""


def apply(lab: Lab, inventory: Inventory, part: OktaProbe, change: Change) -> str:
    """Make one Okta change; the probe holds what it opens."""
    if isinstance(change, NewConsent):
        text = change.text or f"the attacker grants {change.scope} to {change.app}"
        with _session(part) as http:
            actor = _actor(lab, part, http)
            try:
                key = new_consent(http, actor, part, change.app, change.scope)
            except _Refused as exc:
                raise ChangeRefused(f"Okta no longer accepts {actor.name} ({exc})") from None
        part.add_scope(key)
        return f"{text} ({change.scope} granted to {key.label} by {actor.name})"
    if isinstance(change, SpawnSubAgent):
        text = change.text or f"the attacker creates the Okta service app {change.name}"
        with _session(part) as http:
            actor = _actor(lab, part, http)
            try:
                key = spawn_app(http, actor, part.base, change.name)
            except _Refused as exc:
                raise ChangeRefused(f"Okta no longer accepts {actor.name} ({exc})") from None
        part.add_key(key)
        return f"{text} (client id {key.client_id}, key {key.kid}, by {actor.name})"
    raise LabError(f"the change {change.change} cannot be made in Okta")


def _session(part: OktaProbe) -> httpx.Client:
    context = ssl.create_default_context(cafile=part.ca)
    return httpx.Client(base_url=part.base, verify=context, timeout=10)


def _actor(lab: Lab, part: OktaProbe, http: httpx.Client) -> _Actor:
    if part.tokens:
        token = part.tokens[0]
        return _Actor(f"SSWS {token.value}", f"API token {token.name}", attacker=True)
    settings = lab.settings.providers.okta
    if settings is None or settings.client_id is None or settings.private_key_file is None:
        raise LabError("the lab's Okta responder signs in with no private key")
    try:
        pem = settings.private_key_file.read_text(encoding="utf-8")
    except OSError as exc:
        raise LabError(f"cannot read the responder's key: {exc}") from exc
    reply = request_token(
        http, part.base, settings.client_id, settings.key_id, pem, " ".join(settings.scopes)
    )
    if reply.status_code != 200:
        raise LabError(f"the responder got no Okta token: {_error(reply)}")
    return _Actor(f"Bearer {reply.json()['access_token']}", "the responder", attacker=False)


def _call(
    http: httpx.Client, actor: _Actor, method: str, path: str, what: str, **kwargs: Any
) -> Any:
    try:
        reply = http.request(method, path, headers={"Authorization": actor.header}, **kwargs)
    except httpx.HTTPError as exc:
        raise LabError(f"cannot {what}: {type(exc).__name__}") from exc
    if reply.status_code in (401, 403) and actor.attacker:
        raise _Refused(_error(reply))
    if reply.status_code >= 300:
        raise LabError(f"cannot {what}: {_error(reply)}")
    return reply.json() if reply.content else None


def _error(reply: httpx.Response) -> str:
    try:
        body = reply.json()
    except ValueError:
        return f"HTTP {reply.status_code}"
    if not isinstance(body, dict):
        return f"HTTP {reply.status_code}"
    summary = body.get("errorSummary") or body.get("error_description") or body.get("error")
    causes = [str(c.get("errorSummary")) for c in body.get("errorCauses") or []]
    return f"HTTP {reply.status_code} {summary or ''} {'; '.join(causes)}".strip()


def _find_app(http: httpx.Client, actor: _Actor, label: str) -> dict[str, Any] | None:
    found = _call(
        http, actor, "GET", "/api/v1/apps", f"look up the app {label}", params={"q": label}
    )
    return next((a for a in found or [] if isinstance(a, dict) and a.get("label") == label), None)


def new_consent(
    http: httpx.Client, actor: _Actor, part: OktaProbe, label: str, scope: str
) -> AppKey:
    """Grant ``scope`` to the private-key service app labelled ``label``; the key the probe
    asks with."""
    app = _find_app(http, actor, label)
    if app is None:
        raise LabError(f"no Okta app is labelled {label!r}")
    oauth = (app.get("credentials") or {}).get("oauthClient") or {}
    client_id = str(oauth.get("client_id") or app["id"])
    if oauth.get("token_endpoint_auth_method") != "private_key_jwt":
        raise LabError(f"the Okta app {label} does not sign in with a private key")
    held = part.key_for(client_id)
    if held is None:
        emulator = cast(Any, part.emulator)
        if not any(a.label == label and a.keys for a in emulator.world.apps):
            raise LabError(f"neither the attacker nor the lab holds a private key of {label}")
        held = AppKey(
            label, client_id, emulator.key_id(label), emulator.private_key_pem(label), scope
        )
    _call(
        http,
        actor,
        "POST",
        f"/api/v1/apps/{app['id']}/grants",
        f"grant {scope} to {label}",
        json={"issuer": part.base, "scopeId": scope},
    )
    return AppKey(label, client_id, held.kid, held.pem, scope)


def spawn_app(http: httpx.Client, actor: _Actor, base: str, name: str) -> AppKey:
    """Create, activate and grant ``okta.users.read`` to the service app ``name``, signing
    in with a key pair made here; an app with that label already is refused."""
    if _find_app(http, actor, name) is not None:
        raise LabError(f"an Okta app labelled {name!r} exists already")
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    kid = f"{name}-{uuid.uuid4().hex[:12]}"
    jwk = {**RSAAlgorithm.to_jwk(private.public_key(), as_dict=True), "kid": kid}
    body = {
        "name": "oidc_client",
        "label": name,
        "signOnMode": "OPENID_CONNECT",
        "credentials": {"oauthClient": {"token_endpoint_auth_method": "private_key_jwt"}},
        "settings": {
            "oauthClient": {
                "application_type": "service",
                "grant_types": ["client_credentials"],
                "response_types": ["token"],
                "jwks": {"keys": [jwk]},
            }
        },
    }
    made = _call(
        http,
        actor,
        "POST",
        "/api/v1/apps",
        f"create the app {name}",
        params={"activate": "false"},
        json=body,
    )
    app_id = str(made["id"])
    client_id = str(made["credentials"]["oauthClient"]["client_id"])
    _call(http, actor, "POST", f"/api/v1/apps/{app_id}/lifecycle/activate", f"activate {name}")
    _call(
        http,
        actor,
        "POST",
        f"/api/v1/apps/{app_id}/grants",
        f"grant {SPAWNED_SCOPE} to {name}",
        json={"issuer": base, "scopeId": SPAWNED_SCOPE},
    )
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return AppKey(name, client_id, kid, pem, SPAWNED_SCOPE)
