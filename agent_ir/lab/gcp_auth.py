"""Authentication in the Google Cloud emulator: key material, key files, the OAuth token
endpoint for service-account JWT assertions, and bearer checks on every API call.

The token endpoint accepts what google-auth sends (RFC 7523 JWT-bearer grant): an RS256
assertion whose ``kid`` names one of the account's keys, ``iss`` the account's email and
``aud`` always ``https://oauth2.googleapis.com/token`` (google-auth fixes it whatever the
key file's ``token_uri`` says). The signature is checked against that key's public key;
deleted, disabled or expired keys and disabled accounts are refused as Google refuses them.
APIs also take self-signed JWTs as bearers (google-auth's ``always_use_jwt_access``).

Key material is made only when a key file is asked for (RSA generation is slow and most
seeded keys never sign anything); a key without material can sign nothing.
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from agent_ir.lab.gcp_records import Key
from agent_ir.lab.gcp_state import GcpState
from agent_ir.lab.server import LabRequest, LabResponse

GOOGLE_TOKEN_AUDIENCE = "https://oauth2.googleapis.com/token"
JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
TOKEN_LIFETIME_S = 3599
_MAX_ASSERTION_LIFETIME_S = 3600
_LEEWAY_S = 60


class KeyVault:
    """Private keys of service account keys, made on demand and kept across resets."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._keys: dict[str, rsa.RSAPrivateKey] = {}

    def adopt(self, other: KeyVault) -> None:
        """Hold ``other``'s keys instead of this vault's (a saved lab state coming back)."""
        with self._lock:
            self._keys = dict(other._keys)

    def private_key(self, key: Key) -> rsa.RSAPrivateKey:
        """The key's private key, generated the first time it is asked for."""
        with self._lock:
            found = self._keys.get(key.name())
            if found is None:
                found = rsa.generate_private_key(public_exponent=65537, key_size=2048)
                self._keys[key.name()] = found
            return found

    def public_key(self, key: Key) -> rsa.RSAPublicKey | None:
        """The key's public key, or None when no material was ever made for it."""
        with self._lock:
            found = self._keys.get(key.name())
        return found.public_key() if found is not None else None

    def key_file(self, state: GcpState, key: Key, token_uri: str) -> dict[str, Any]:
        """The JSON key file of ``key`` (what ``keys.create`` hands out, once, in real GCP)."""
        account = state.accounts[key.email]
        pem = self.private_key(key).private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        return {
            "type": "service_account",
            "project_id": account.project,
            "private_key_id": key.id,
            "private_key": pem.decode(),
            "client_email": account.email,
            "client_id": account.unique_id,
            "auth_uri": "https://accounts.google.com/o/oauth2/auth",
            "token_uri": token_uri,
            "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
            "client_x509_cert_url": "https://www.googleapis.com/robot/v1/metadata/x509/"
            + account.email.replace("@", "%40"),
            "universe_domain": "googleapis.com",
        }


def _oauth_error(status: int, error: str, description: str) -> LabResponse:
    return LabResponse.from_json(status, {"error": error, "error_description": description})


def token_endpoint(state: GcpState, vault: KeyVault, request: LabRequest) -> LabResponse:
    """``POST /token``: trade a signed JWT assertion for an access token."""
    if request.method != "POST":
        return _oauth_error(405, "invalid_request", "the token endpoint takes POST")
    form = parse_qs(request.body.decode("utf-8", "replace"), keep_blank_values=True)
    grant = (form.get("grant_type") or [""])[0]
    assertion = (form.get("assertion") or [""])[0]
    if grant != JWT_GRANT:
        return _oauth_error(400, "unsupported_grant_type", f"Invalid grant_type: {grant}")
    claims, why = verify_jwt(state, vault, assertion, GOOGLE_TOKEN_AUDIENCE)
    if claims is None:
        return _oauth_error(400, "invalid_grant", why)
    scopes = tuple(str(claims.get("scope", "")).split())
    if not scopes:
        return _oauth_error(
            400, "invalid_scope", "Invalid OAuth scope or ID token audience provided."
        )
    account = state.account(str(claims["iss"]))
    if account is not None:
        used = account.keys.get(str(jwt.get_unverified_header(assertion).get("kid", "")))
        if used is not None:
            used.last_used = datetime.now(UTC)
            state.key_used(used)
    token, _ = state.mint(str(claims["iss"]), scopes, TOKEN_LIFETIME_S)
    return LabResponse.from_json(
        200, {"access_token": token, "expires_in": TOKEN_LIFETIME_S, "token_type": "Bearer"}
    )


def verify_jwt(
    state: GcpState, vault: KeyVault, assertion: str, audience: str | None
) -> tuple[dict[str, Any] | None, str]:
    """Check a service account's RS256 JWT; returns its claims, or None and why not.

    ``audience`` None accepts any ``https://`` audience or a ``scope`` claim (self-signed
    JWTs used as bearers).
    """
    try:
        header = jwt.get_unverified_header(assertion)
        unverified = jwt.decode(assertion, options={"verify_signature": False})
    except jwt.PyJWTError:
        return None, "Invalid JWT: malformed."
    if header.get("alg") != "RS256":
        return None, "Invalid JWT: only RS256 is accepted."
    email = str(unverified.get("iss", ""))
    account = state.account(email)
    if account is None:
        return None, "Invalid grant: account not found"
    if account.disabled:
        return None, "Invalid grant: account disabled"
    key = account.keys.get(str(header.get("kid", "")))
    now = datetime.now(UTC)
    public = vault.public_key(key) if key is not None else None
    if key is None or public is None or not key.usable(now):
        return None, "Invalid JWT Signature."
    try:
        claims: dict[str, Any] = jwt.decode(
            assertion,
            public,
            algorithms=["RS256"],
            audience=audience,
            leeway=_LEEWAY_S,
            options={"require": ["exp", "iat", "iss"], "verify_aud": audience is not None},
        )
    except jwt.InvalidSignatureError:
        return None, "Invalid JWT Signature."
    except jwt.InvalidAudienceError:
        return None, "Invalid JWT: Failed audience check."
    except jwt.PyJWTError:
        return (
            None,
            "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe.",
        )
    if int(claims["exp"]) - int(claims["iat"]) > _MAX_ASSERTION_LIFETIME_S:
        return (
            None,
            "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe.",
        )
    if audience is None:
        aud = claims.get("aud")
        if not (isinstance(aud, str) and aud.startswith("https://")) and not claims.get("scope"):
            return None, "Invalid JWT: no audience or scope."
    return claims, ""


def bearer_caller(state: GcpState, vault: KeyVault, request: LabRequest) -> tuple[str | None, str]:
    """The service account a request authenticates as, or None with why not."""
    header = request.header("Authorization") or ""
    scheme, _, credential = header.partition(" ")
    if scheme.lower() != "bearer" or not credential.strip():
        return None, "missing credentials"
    credential = credential.strip()
    if credential.count(".") == 2 and not credential.startswith("ya29."):
        claims, why = verify_jwt(state, vault, credential, None)
        if claims is None:
            return None, why
        return str(claims["iss"]), ""
    return state.token_owner(credential)


def expire_time(epoch: float) -> str:
    """RFC 3339 text for an epoch instant."""
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def key_file_text(data: dict[str, Any]) -> str:
    """A key file as Google writes it."""
    return json.dumps(data, indent=2) + "\n"
