"""Reading the Okta lab independently of the adapter: plain HTTP with httpx, signing in
with a private-key JWT built with PyJWT; and an adapter factory."""

from __future__ import annotations

import ssl
import time
import uuid
from typing import Any

import httpx
import jwt

from agent_ir.engine.executor import Tuning
from agent_ir.lab.runner import Lab
from agent_ir.providers.base import ProviderContext
from agent_ir.providers.okta.adapter import OktaProvider

FAST = Tuning(backoff_s=0.05, max_backoff_s=0.2, verify_interval_s=0.02)


def make_adapter(lab: Lab, **overrides: Any) -> OktaProvider:
    """An adapter on the lab's written settings, with ``overrides``."""
    settings = lab.settings.providers.okta
    assert settings is not None
    return OktaProvider(settings.model_copy(update=overrides), ProviderContext())


def client_assertion(base: str, client_id: str, key_pem: str, kid: str, **claims: Any) -> str:
    """A private-key JWT client assertion, as RFC 7523 (and the okta SDK) builds it."""
    now = int(time.time())
    body = {
        "iss": client_id,
        "sub": client_id,
        "aud": f"{base}/oauth2/v1/token",
        "iat": now,
        "exp": now + 300,
        "jti": str(uuid.uuid4()),
        **claims,
    }
    return jwt.encode(body, key_pem, algorithm="RS256", headers={"kid": kid})


class PlainOkta:
    """Plain HTTP to the lab (httpx), independent of the adapter and of the okta SDK."""

    def __init__(self, lab: Lab) -> None:
        settings = lab.settings.providers.okta
        assert settings is not None and settings.private_key_file and settings.client_id
        self.base = settings.org_url
        context = ssl.create_default_context(cafile=str(settings.ca_bundle))
        self.http = httpx.Client(base_url=self.base, verify=context, timeout=10)
        self._key = settings.private_key_file.read_text()
        self._client_id = settings.client_id
        self._kid = settings.key_id or ""
        self._scopes = " ".join(settings.scopes)
        self._token: str | None = None

    def token_response(
        self, client_id: str, key_pem: str, kid: str, scope: str, **claims: Any
    ) -> httpx.Response:
        """``POST /oauth2/v1/token`` with a private-key JWT."""
        return self.http.post(
            "/oauth2/v1/token",
            data={
                "grant_type": "client_credentials",
                "scope": scope,
                "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                "client_assertion": client_assertion(self.base, client_id, key_pem, kid, **claims),
            },
        )

    def responder_token(self) -> str:
        """An access token of the console's own service app."""
        if self._token is None:
            reply = self.token_response(self._client_id, self._key, self._kid, self._scopes)
            reply.raise_for_status()
            self._token = str(reply.json()["access_token"])
        return self._token

    def get(self, path: str, **params: Any) -> Any:
        """GET as the responder; the JSON answer (raises on an error status)."""
        reply = self.http.get(
            path, params=params, headers={"Authorization": f"Bearer {self.responder_token()}"}
        )
        reply.raise_for_status()
        return reply.json()

    def close(self) -> None:
        """Close the connection pool."""
        self.http.close()
