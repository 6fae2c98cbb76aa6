"""Key material and JWT checks for the Okta emulator: RSA key pairs for app JWKS, the
private-key-JWT client assertion check, and DPoP proof checks (RFC 9449)."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
_MAX_SKEW_S = 300


def b64url(data: bytes) -> str:
    """Unpadded base64url text."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _int_b64(value: int) -> str:
    return b64url(value.to_bytes((value.bit_length() + 7) // 8, "big"))


class KeyStore:
    """RSA key pairs and secret values by name, made once and kept across resets."""

    def __init__(self) -> None:
        self._keys: dict[str, rsa.RSAPrivateKey] = {}
        self._values: dict[str, str] = {}
        self._lock = threading.Lock()

    def adopt(self, other: KeyStore) -> None:
        """Hold ``other``'s keys and values instead of these (a saved lab state coming back)."""
        with self._lock:
            self._keys = dict(other._keys)
            self._values = dict(other._values)

    def secret(self, name: str, prefix: str = "") -> str:
        """A random secret value called ``name`` (made once, the same after every reset)."""
        with self._lock:
            value = self._values.get(name)
            if value is None:
                value = prefix + secrets.token_urlsafe(30)
                self._values[name] = value
            return value

    def get(self, name: str) -> rsa.RSAPrivateKey:
        """The key pair called ``name`` (generated on first use)."""
        with self._lock:
            key = self._keys.get(name)
            if key is None:
                key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
                self._keys[name] = key
            return key

    def public_numbers(self, name: str) -> tuple[str, str]:
        """``(n, e)`` of a key pair, base64url as in a JWK."""
        numbers = self.get(name).public_key().public_numbers()
        return _int_b64(numbers.n), _int_b64(numbers.e)

    def private_pem(self, name: str) -> str:
        """The private key as PKCS#8 PEM text."""
        return (
            self.get(name)
            .private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
            .decode()
        )


class JwtRefused(Exception):
    """A client assertion or DPoP proof was refused; ``message`` is the OAuth description."""

    def __init__(self, message: str, error: str = "invalid_client") -> None:
        super().__init__(message)
        self.message = message
        self.error = error


def unverified(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The header and claims of a JWT, before checking anything."""
    try:
        return jwt.get_unverified_header(token), jwt.decode(
            token, options={"verify_signature": False}
        )
    except jwt.PyJWTError as exc:
        raise JwtRefused(f"The client_assertion is not a valid JWT: {exc}") from None


def verify_assertion(token: str, jwks: list[dict[str, Any]], audience: str, now: float) -> None:
    """Check an RS256 client assertion against a client's active JWKS and audience."""
    header, _ = unverified(token)
    kid = header.get("kid")
    candidates = [k for k in jwks if kid is None or k.get("kid") == kid]
    if not candidates:
        raise JwtRefused("The client_assertion signature is invalid (no matching key).")
    for key in candidates:
        public = jwt.PyJWK.from_dict({"kty": "RSA", "n": key["n"], "e": key["e"]}).key
        try:
            jwt.decode(
                token,
                public,
                algorithms=["RS256"],
                audience=audience,
                leeway=_MAX_SKEW_S,
                options={"require": ["exp", "iat", "iss", "sub", "aud"]},
            )
        except jwt.InvalidSignatureError:
            continue
        except jwt.InvalidAudienceError:
            raise JwtRefused(f"The audience of the client_assertion must be {audience}.") from None
        except jwt.PyJWTError as exc:
            raise JwtRefused(f"The client_assertion is invalid: {exc}") from None
        return
    raise JwtRefused("The client_assertion signature is invalid.")


def thumbprint(jwk: dict[str, Any]) -> str:
    """The RFC 7638 SHA-256 thumbprint of an RSA or EC public JWK."""
    if jwk.get("kty") == "RSA":
        members = {"e": jwk["e"], "kty": "RSA", "n": jwk["n"]}
    else:
        members = {"crv": jwk["crv"], "kty": jwk["kty"], "x": jwk["x"], "y": jwk["y"]}
    canonical = json.dumps(members, separators=(",", ":"), sort_keys=True).encode()
    return b64url(hashlib.sha256(canonical).digest())


@dataclass(frozen=True, slots=True)
class DpopProof:
    """A checked DPoP proof: the key's thumbprint and the nonce it carried."""

    jkt: str
    nonce: str | None


def verify_dpop(
    proof: str, method: str, url: str, now: float, access_token: str | None = None
) -> DpopProof:
    """Check a DPoP proof's signature (by its embedded key), method, URL, age and ``ath``."""
    try:
        header = jwt.get_unverified_header(proof)
    except jwt.PyJWTError as exc:
        raise JwtRefused(f"Invalid DPoP proof: {exc}", "invalid_dpop_proof") from None
    jwk = header.get("jwk")
    if header.get("typ") != "dpop+jwt" or not isinstance(jwk, dict):
        raise JwtRefused("The DPoP proof header is invalid.", "invalid_dpop_proof")
    try:
        key = jwt.PyJWK.from_dict(jwk).key
        claims = jwt.decode(
            proof,
            key,
            algorithms=[str(header.get("alg", "RS256"))],
            options={"verify_aud": False, "require": ["iat", "jti", "htm", "htu"]},
        )
    except jwt.PyJWTError as exc:
        raise JwtRefused(f"Invalid DPoP proof: {exc}", "invalid_dpop_proof") from None
    if claims["htm"] != method or claims["htu"].split("?")[0] != url.split("?")[0]:
        raise JwtRefused("The DPoP proof does not match this request.", "invalid_dpop_proof")
    if abs(now - float(claims["iat"])) > _MAX_SKEW_S:
        raise JwtRefused("The DPoP proof is too old.", "invalid_dpop_proof")
    if access_token is not None:
        expected = b64url(hashlib.sha256(access_token.encode()).digest())
        if claims.get("ath") != expected:
            raise JwtRefused("The DPoP proof 'ath' is wrong.", "invalid_dpop_proof")
    return DpopProof(thumbprint(jwk), claims.get("nonce"))
