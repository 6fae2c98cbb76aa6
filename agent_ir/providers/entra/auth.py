"""Tokens for Graph through MSAL (a confidential client), run in a thread.

MSAL is built with ``instance_discovery=False`` and its own ``requests.Session`` that ignores
the environment's proxy and CA variables (``trust_env = False``) and trusts the configured
CA bundle, so the lab goes through exactly the code path production does. MSAL reports a
refusal as a dict with an ``error`` key, not an exception: that key is always checked.
"""

from __future__ import annotations

import asyncio
import os
import time
from typing import Any

import msal  # type: ignore[import-untyped]
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding

from agent_ir.errors import AuthenticationError, ProviderUnavailable
from agent_ir.providers.entra.boundary import PROVIDER, msal_errors, token_failure
from agent_ir.providers.entra.config import EntraSettings

_REFRESH_MARGIN_S = 300
_TRANSIENT_WAIT_FACTORS = (4, 8, 16)
"""Waits before retrying a failed sign-in, in units of ``retry_backoff_s`` (1, 2, 4 s)."""


class TokenSource:
    """Hands out a valid Graph access token, asking MSAL only when it is due."""

    def __init__(self, settings: EntraSettings) -> None:
        self.settings = settings
        self.scope = f"{settings.graph_base}/.default"
        self._app: msal.ConfidentialClientApplication | None = None
        self._session: requests.Session | None = None
        self._token: str | None = None
        self._expires = 0.0
        self._lock = asyncio.Lock()
        self.requests = 0

    async def token(self) -> str:
        """A token valid for at least a few more minutes."""
        if self._token is not None and time.monotonic() < self._expires:
            return self._token
        async with self._lock:
            if self._token is None or time.monotonic() >= self._expires:
                await self._refresh()
            if self._token is None:
                raise AuthenticationError(PROVIDER, "no token was issued")
            return self._token

    def invalidate(self, token: str) -> None:
        """Forget ``token`` (Graph refused it), so the next call asks MSAL afresh."""
        if self._token == token:
            self._token = None
            self._expires = 0.0

    async def _refresh(self) -> None:
        waits = [self.settings.retry_backoff_s * f for f in _TRANSIENT_WAIT_FACTORS]
        for wait in (*waits, None):
            try:
                token, lifetime = await asyncio.to_thread(self._acquire)
            except ProviderUnavailable:
                if wait is None:
                    raise
                await asyncio.sleep(wait)
                continue
            self._token = token
            self._expires = time.monotonic() + max(60.0, lifetime - _REFRESH_MARGIN_S)
            return

    def _acquire(self) -> tuple[str, float]:
        with msal_errors("signing in"):
            app = self._application()
            if self._token is not None or self._expires:
                app.remove_tokens_for_client()
            self.requests += 1
            result: dict[str, Any] = app.acquire_token_for_client([self.scope])
        if "error" in result or "access_token" not in result:
            raise token_failure(result, "signing in")
        return str(result["access_token"]), float(result.get("expires_in") or 3600)

    def _application(self) -> msal.ConfidentialClientApplication:
        if self._app is None:
            session = requests.Session()
            session.trust_env = False
            session.verify = str(self.settings.ca_bundle) if self.settings.ca_bundle else True
            self._session = session
            self._app = msal.ConfidentialClientApplication(
                self.settings.client_id,
                client_credential=self._credential(),
                authority=self.settings.authority_url,
                instance_discovery=False,
                http_client=session,
                timeout=self.settings.timeout_s,
            )
        return self._app

    def _credential(self) -> Any:
        s = self.settings
        if s.client_secret_env:
            value = os.environ.get(s.client_secret_env)
            if not value:
                raise AuthenticationError(
                    PROVIDER, f"environment variable {s.client_secret_env} is not set or empty"
                )
            return value
        if s.client_secret_file:
            return _read(s.client_secret_file).strip()
        if s.federated_token_file:
            path = s.federated_token_file
            return {"client_assertion": lambda: _read(path).strip()}
        if s.certificate_file:
            return _certificate(s)
        raise AuthenticationError(PROVIDER, "no credential source is configured")

    def close(self) -> None:
        """Release the HTTP session."""
        if self._session is not None:
            self._session.close()


def _read(path: os.PathLike[str]) -> str:
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except OSError as exc:
        raise AuthenticationError(PROVIDER, f"cannot read {path}: {exc.strerror}") from None


def _certificate(s: EntraSettings) -> dict[str, str]:
    if s.certificate_file is None:
        raise AuthenticationError(PROVIDER, "no certificate file is configured")
    pem = _read(s.certificate_file)
    try:
        cert = x509.load_pem_x509_certificate(pem.encode())
    except ValueError:
        raise AuthenticationError(
            PROVIDER, f"{s.certificate_file} holds no PEM certificate next to its key"
        ) from None
    credential = {
        "private_key": pem,
        "thumbprint": cert.fingerprint(hashes.SHA1()).hex().upper(),
        "public_certificate": cert.public_bytes(Encoding.PEM).decode(),
    }
    if s.certificate_password_env:
        credential["passphrase"] = os.environ.get(s.certificate_password_env, "")
    return credential
