"""How the emulated token endpoint checks a client's credential, and how it refuses.

Refusals carry Entra's OAuth error body: ``error``, ``error_description`` starting with
the AADSTS code, ``error_codes``, trace and correlation ids.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import jwt
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa

from agent_ir.lab.entra_catalog import EXCHANGE_AUDIENCE
from agent_ir.lab.entra_keys import rsa_key
from agent_ir.lab.entra_store import Directory, Obj
from agent_ir.lab.server import LabResponse


@dataclass(frozen=True, slots=True)
class Signer:
    """An RSA key that signs tokens, with its key id."""

    key: rsa.RSAPrivateKey
    kid: str

    @classmethod
    def new(cls, kid: str) -> Signer:
        """A fresh signing key."""
        return cls(rsa_key(), kid)

    def sign(self, claims: dict[str, Any], headers: dict[str, Any] | None = None) -> str:
        """An RS256 JWT."""
        return jwt.encode(
            claims, self.key, algorithm="RS256", headers={"kid": self.kid, **(headers or {})}
        )

    def jwk(self) -> dict[str, Any]:
        """The public key as a JWK."""
        numbers = self.key.public_key().public_numbers()

        def b64(n: int) -> str:
            raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
            return base64.urlsafe_b64encode(raw).decode().rstrip("=")

        return {
            "kty": "RSA",
            "use": "sig",
            "kid": self.kid,
            "n": b64(numbers.n),
            "e": b64(numbers.e),
        }


class TokenRefused(Exception):
    """Entra refuses a token request; carries the OAuth error body."""

    def __init__(self, status: int, error: str, code: int, text: str) -> None:
        super().__init__(text)
        self.status = status
        self.error = error
        self.code = code
        self.text = text

    def response(self) -> LabResponse:
        """The OAuth error response."""
        trace = str(uuid.uuid4())
        now = datetime.now(UTC)
        return LabResponse.from_json(
            self.status,
            {
                "error": self.error,
                "error_description": f"AADSTS{self.code}: {self.text} Trace ID: {trace} "
                f"Correlation ID: {trace} Timestamp: {now.strftime('%Y-%m-%d %H:%M:%SZ')}",
                "error_codes": [self.code],
                "timestamp": now.strftime("%Y-%m-%d %H:%M:%SZ"),
                "trace_id": trace,
                "correlation_id": trace,
                "error_uri": "https://login.microsoftonline.com/error?code=" + str(self.code),
            },
        )


def check_secret(secret: str, app: Obj | None, client_id: str) -> tuple[str, str]:
    """The key id of the live, unexpired client secret that matches; else Entra's refusal."""
    live = {p["keyId"]: p for p in (app or {}).get("passwordCredentials", [])}
    for key_id, value in (app or {}).get("_secrets", {}).items():
        if key_id in live and _same(value, secret):
            if _expired(live[key_id].get("endDateTime")):
                raise TokenRefused(
                    401,
                    "invalid_client",
                    7000222,
                    f"The provided client secret keys for app '{client_id}' are expired.",
                )
            return key_id, "clientSecret"
    raise TokenRefused(
        401,
        "invalid_client",
        7000215,
        "Invalid client secret provided. Ensure the secret being sent in the request is "
        f"the client secret value, not the client secret ID, for a secret added to app "
        f"'{client_id}'.",
    )


def check_certificate(
    assertion: str, header: dict[str, Any], app: Obj | None, client_id: str, endpoint: str
) -> tuple[str, str]:
    """The key id of the registered certificate that signed the client assertion (MSAL's ``x5t``)."""
    wanted = header.get("x5t") or ""
    sha1, sha256 = _b64_bytes(wanted), _b64_bytes(header.get("x5t#S256") or "")
    for cred in (app or {}).get("keyCredentials", []):
        thumb = base64.b64decode(cred.get("customKeyIdentifier") or "")
        if thumb != sha1 and _sha256_of(cred) != sha256:
            continue
        if _expired(cred.get("endDateTime")):
            raise assertion_refused("The certificate used to sign the assertion is expired.")
        cert = x509.load_der_x509_certificate(base64.b64decode(cred["key"]))
        try:
            claims = jwt.decode(
                assertion,
                cert.public_key(),  # type: ignore[arg-type]
                algorithms=["RS256", "PS256"],
                audience=[endpoint, endpoint.replace("/v2.0/", "/")],
                options={"require": ["exp", "aud", "iss", "sub"]},
            )
        except jwt.ExpiredSignatureError:
            raise TokenRefused(
                401,
                "invalid_client",
                700024,
                "Client assertion is not within its valid time range.",
            ) from None
        except jwt.PyJWTError as exc:
            raise assertion_refused(f"Client assertion failed validation ({exc}).") from None
        if claims.get("iss", "").lower() != client_id or claims.get("sub", "").lower() != client_id:
            raise assertion_refused("The assertion's issuer and subject must be the client id.")
        return str(cred["keyId"]), "certificate"
    raise TokenRefused(
        401,
        "invalid_client",
        700027,
        "The certificate with identifier used to sign the client assertion is not "
        f"registered on application. [Reason - The key was not found., Thumbprint of key "
        f"used by client: '{wanted}', Please visit the Azure Portal to upload the "
        f"certificate for app '{client_id}'.]",
    )


def check_exchange(assertion: str, sp: Obj, key: rsa.RSAPublicKey) -> None:
    """An agent identity's assertion must be the exchange token its own blueprint obtained."""
    try:
        claims = jwt.decode(
            assertion,
            key,
            algorithms=["RS256"],
            audience=EXCHANGE_AUDIENCE,
        )
    except jwt.PyJWTError as exc:
        raise assertion_refused(f"The exchange assertion is not valid ({exc}).") from None
    if sp.get("_kind") != "agent" or claims.get("sub") != sp["appId"]:
        raise assertion_refused("The exchange assertion was not issued for this client.")
    if claims.get("azp") != sp.get("agentIdentityBlueprintId"):
        raise assertion_refused("The assertion was issued by another blueprint.")


def check_federated(
    assertion: str, claims: dict[str, Any], app: Obj | None, d: Directory, key: rsa.RSAPublicKey
) -> tuple[str, str]:
    """The federated credential matching the outside assertion's issuer, subject and audience."""
    issuer, subject = str(claims.get("iss", "")), str(claims.get("sub", ""))
    audiences = claims.get("aud")
    audiences = audiences if isinstance(audiences, list) else [audiences]
    fics = d.fics.where("_app", app["id"]) if app is not None else []
    for fic in fics:
        if fic["issuer"] != issuer or fic["subject"] != subject:
            continue
        if not set(audiences) & set(fic["audiences"]):
            continue
        try:
            jwt.decode(
                assertion,
                key,
                algorithms=["RS256"],
                audience=fic["audiences"],
            )
        except jwt.ExpiredSignatureError:
            raise TokenRefused(
                400,
                "invalid_client",
                700024,
                "Client assertion is not within its valid time range.",
            ) from None
        except jwt.PyJWTError as exc:
            raise assertion_refused(f"The federated assertion is not valid ({exc}).") from None
        return str(fic["id"]), "federatedIdentityCredential"
    raise TokenRefused(
        400,
        "invalid_client",
        70021,
        "No matching federated identity record found for presented assertion. Assertion "
        f"Issuer: '{issuer}'. Assertion Subject: '{subject}'. Assertion Audience: "
        f"'{','.join(str(a) for a in audiences)}'.",
    )


def assertion_refused(text: str) -> TokenRefused:
    """Entra's refusal of a client assertion."""
    return TokenRefused(401, "invalid_client", 700027, text)


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def _expired(end: str | None) -> bool:
    if not end:
        return False
    return datetime.fromisoformat(end.replace("Z", "+00:00")) <= datetime.now(UTC)


def _b64_bytes(text: str) -> bytes:
    """Bytes of a base64 or base64url value, padded or not (clients differ)."""
    cleaned = text.replace("-", "+").replace("_", "/")
    try:
        return base64.b64decode(cleaned + "=" * (-len(cleaned) % 4))
    except ValueError:
        return b""


def _sha256_of(cred: Obj) -> bytes:
    return hashlib.sha256(base64.b64decode(cred.get("key") or "")).digest()
