"""Who is calling the emulated Okta API, and the org authorization server's token endpoint.

API calls carry ``Authorization: SSWS <api token>`` (also ``SSWS<token>``, as the okta SDK
sends it) or ``Bearer <access token>`` (also ``Bearer<token>``), or ``DPoP <token>`` with a
``DPoP`` proof for DPoP-bound tokens. An API token is refused (401 ``E0000011``) once
deleted, idle past its window, or when its user is not ACTIVE; it carries its user's
admin roles. An access token is refused once expired or when its app is no longer
ACTIVE, and only allows the scopes it was issued with.

``POST /oauth2/v1/token`` takes ``grant_type=client_credentials`` with a private-key JWT
client assertion (RS256, checked against the app's active JWKS, ``aud`` =
``{orgUrl}/oauth2/v1/token``) or a client secret (basic or post), as the app's
``token_endpoint_auth_method`` says. Deactivated apps and secrets are refused. Apps that
require DPoP get a ``use_dpop_nonce`` challenge first, then a DPoP-bound token.
"""

from __future__ import annotations

import base64
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

from agent_ir.lab.okta_http import okta_error
from agent_ir.lab.okta_keys import (
    ASSERTION_TYPE,
    JwtRefused,
    unverified,
    verify_assertion,
    verify_dpop,
)
from agent_ir.lab.okta_org import AccessToken, LogEvent, OrgState
from agent_ir.lab.okta_state import App
from agent_ir.lab.okta_syslog import client_ip, token_refused
from agent_ir.lab.server import LabRequest, LabResponse

TOKEN_LIFETIME = timedelta(hours=1)
_NO_STORE = [("Cache-Control", "no-store"), ("Pragma", "no-cache")]


@dataclass(frozen=True, slots=True)
class Caller:
    """An authenticated caller: an API token (all of its user's power) or an OAuth client."""

    kind: str
    scopes: frozenset[str] | None
    user_id: str | None = None
    app_id: str | None = None
    token_id: str | None = None

    def allows(self, scope: str) -> bool:
        """Whether the caller may use ``scope`` (``.manage`` implies ``.read``)."""
        if self.scopes is None:
            return True
        if scope in self.scopes:
            return True
        return scope.endswith(".read") and scope[: -len(".read")] + ".manage" in self.scopes


def _scheme(header: str) -> tuple[str, str]:
    for scheme in ("SSWS", "Bearer", "DPoP"):
        if header[: len(scheme)].lower() == scheme.lower():
            return scheme, header[len(scheme) :].strip()
    return "", ""


def _unauthorized(scheme: str = "Bearer") -> LabResponse:
    return okta_error(
        401,
        "E0000011",
        "Invalid token provided",
        headers=[("WWW-Authenticate", f'{scheme} realm="IdpMyAccountAPI", error="invalid_token"')],
    )


def authenticate(
    request: LabRequest, state: OrgState, now: datetime, url: str
) -> Caller | LabResponse:
    """The caller of one management API request, or the 401/403 refusing it."""
    scheme, value = _scheme(request.header("Authorization") or "")
    if not value:
        return _unauthorized()
    if scheme == "SSWS":
        return _api_token(value, state, now)
    token = state.access_tokens.get(value)
    if token is None or token.expires <= now:
        return _unauthorized(scheme)
    app = state.apps.get(token.app_id)
    if app is None or app.status != "ACTIVE":
        return _unauthorized(scheme)
    if token.jkt is not None:
        proof = request.header("DPoP")
        if scheme != "DPoP" or not proof:
            return _unauthorized("DPoP")
        try:
            checked = verify_dpop(proof, request.method, url, now.timestamp(), value)
        except JwtRefused:
            return _unauthorized("DPoP")
        if checked.jkt != token.jkt:
            return _unauthorized("DPoP")
    elif scheme == "DPoP":
        return _unauthorized("DPoP")
    return Caller("oauth", token.scopes, app_id=app.id)


def _api_token(value: str, state: OrgState, now: datetime) -> Caller | LabResponse:
    token = state.api_tokens.find("value", lambda t: t.value, value)
    if token is not None and not hmac.compare_digest(token.value, value):
        token = None
    if token is None or token.last_used + token.token_window <= now:
        return _unauthorized("SSWS")
    user = state.users.get(token.user_id)
    if user is None or user.status != "ACTIVE":
        return _unauthorized("SSWS")
    if not user.roles:
        return okta_error(403, "E0000006")
    token.last_used = now
    return Caller("api-token", None, user_id=user.id, token_id=token.id)


def _oauth_error(status: int, error: str, description: str, **headers: str) -> LabResponse:
    extra = [(name.replace("_", "-"), value) for name, value in headers.items()]
    return LabResponse.from_json(
        status, {"error": error, "error_description": description}, [*_NO_STORE, *extra]
    )


@dataclass(slots=True)
class TokenEndpoint:
    """``POST /oauth2/v1/token`` for client credentials (see the module docstring)."""

    nonce: str = ""

    def __post_init__(self) -> None:
        self.nonce = secrets.token_urlsafe(24)

    def __call__(
        self, request: LabRequest, state: OrgState, now: datetime, base: str
    ) -> LabResponse:
        if request.method != "POST":
            return okta_error(405, "E0000022")
        form = {k: v[0] for k, v in parse_qs(request.body.decode("utf-8", "replace")).items()}
        if form.get("grant_type") != "client_credentials":
            return _oauth_error(
                400, "unsupported_grant_type", "The authorization server does not support it."
            )
        app = self._client(request, form, state, now, f"{base}/oauth2/v1/token")
        if isinstance(app, LabResponse):
            token_refused(state, request, now, _asked_client(request, form), "invalid_client")
            return app
        requested = form.get("scope", "").split()
        if not requested:
            return _oauth_error(400, "invalid_scope", "The 'scope' parameter is required.")
        granted = {g.scope_id for g in app.scope_grants}
        refused = [s for s in requested if s not in granted]
        if refused:
            token_refused(state, request, now, app.client_id, "invalid_scope")
            return _oauth_error(
                400, "invalid_scope", f"The following scopes are not allowed: {refused}"
            )
        jkt = None
        proof = request.header("DPoP")
        if app.dpop or proof:
            if not proof:
                return _oauth_error(400, "invalid_dpop_proof", "The DPoP proof is missing.")
            try:
                checked = verify_dpop(proof, "POST", f"{base}/oauth2/v1/token", now.timestamp())
            except JwtRefused as exc:
                return _oauth_error(400, exc.error, exc.message)
            if checked.nonce != self.nonce:
                return _oauth_error(
                    400,
                    "use_dpop_nonce",
                    "Authorization server requires nonce in DPoP proof.",
                    DPoP_Nonce=self.nonce,
                )
            jkt = checked.jkt
        value = "lab." + secrets.token_urlsafe(40)
        state.access_tokens[value] = AccessToken(
            app.id, frozenset(requested), now + TOKEN_LIFETIME, jkt
        )
        state.log.append(
            LogEvent(
                secrets.token_hex(18),
                now,
                app.client_id,
                app.label,
                ip=client_ip(request),
                user_agent=request.header("User-Agent") or "",
            )
        )
        body: dict[str, Any] = {
            "token_type": "DPoP" if jkt else "Bearer",
            "expires_in": int(TOKEN_LIFETIME.total_seconds()),
            "access_token": value,
            "scope": " ".join(requested),
        }
        return LabResponse.from_json(200, body, list(_NO_STORE))

    def _client(
        self, request: LabRequest, form: dict[str, str], state: OrgState, now: datetime, aud: str
    ) -> App | LabResponse:
        failed = _oauth_error(
            401,
            "invalid_client",
            "Client authentication failed. Either the client or the client credentials are "
            "invalid.",
        )
        if form.get("client_assertion_type") == ASSERTION_TYPE:
            assertion = form.get("client_assertion", "")
            try:
                _, claims = unverified(assertion)
            except JwtRefused as exc:
                return _oauth_error(401, "invalid_client", exc.message)
            client_id = str(claims.get("sub") or "")
            app = state.app_by_client(client_id)
            if app is None or app.status != "ACTIVE" or app.auth_method != "private_key_jwt":
                return failed
            if claims.get("iss") != client_id or form.get("client_id", client_id) != client_id:
                return _oauth_error(401, "invalid_client", "The client_assertion iss/sub differ.")
            jwks = [k.to_json() for k in app.jwks if k.status == "ACTIVE"]
            try:
                verify_assertion(assertion, jwks, aud, now.timestamp())
            except JwtRefused as exc:
                return _oauth_error(401, exc.error, exc.message)
            jti = str(claims.get("jti") or "")
            if not jti or jti in state.used_jti:
                return _oauth_error(
                    401, "invalid_client", "The client_assertion token has already been used."
                )
            state.used_jti.add(jti)
            return app
        client_id, secret, method = _secret_credentials(request, form)
        app = state.app_by_client(client_id) if client_id else None
        if app is None or app.status != "ACTIVE" or app.auth_method != method:
            return failed
        if not any(
            s.status == "ACTIVE" and hmac.compare_digest(s.value, secret) for s in app.secrets
        ):
            return failed
        return app


def _asked_client(request: LabRequest, form: dict[str, str]) -> str:
    """The client id a token request named (its assertion's subject, or its secret's id)."""
    if form.get("client_assertion_type") == ASSERTION_TYPE:
        try:
            _, claims = unverified(form.get("client_assertion", ""))
        except JwtRefused:
            return form.get("client_id", "")
        return str(claims.get("sub") or form.get("client_id", ""))
    return _secret_credentials(request, form)[0]


def _secret_credentials(request: LabRequest, form: dict[str, str]) -> tuple[str, str, str]:
    header = request.header("Authorization") or ""
    if header[:6].lower() == "basic ":
        try:
            decoded = base64.b64decode(header[6:].strip()).decode()
        except (ValueError, UnicodeDecodeError):
            return "", "", "client_secret_basic"
        client_id, _, secret = decoded.partition(":")
        return client_id, secret, "client_secret_basic"
    return form.get("client_id", ""), form.get("client_secret", ""), "client_secret_post"
