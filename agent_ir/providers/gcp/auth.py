"""google-auth credentials over the adapter's one async httpx client.

google-auth has no httpx transport, so :class:`HttpxRequest` is a
``google.auth.transport.Request`` whose calls run on the adapter's ``httpx.AsyncClient``
(the same connection pool as every API call) with ``auth=None``, so a token request never
re-enters :class:`GoogleAuth` (no recursion). Refreshes are synchronous in google-auth:
:class:`TokenSource` runs them in a worker thread behind an ``asyncio.Lock`` and re-checks
validity after taking the lock, so many concurrent calls trigger one token request.

Credentials, first that applies (see :mod:`agent_ir.providers.gcp.config`): a service
account key file (``token_uri`` overrides the file's), a workload identity federation
file (``external_account``), else Application Default Credentials.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncGenerator, Mapping
from typing import Any

import google.auth
import httpx
from google.auth import aws, identity_pool, pluggable, transport
from google.auth import exceptions as gx
from google.auth.credentials import Credentials
from google.oauth2 import service_account

from agent_ir.errors import AuthenticationError
from agent_ir.providers.gcp.config import GcpSettings

AWS_SUBJECT_TOKEN_TYPE = "urn:ietf:params:aws:token-type:aws4_request"
_FAILING_HOLD_S = 10.0


def load_credentials(settings: GcpSettings) -> tuple[Credentials, str]:
    """The responder's credentials and a description of where they came from."""
    if settings.key_file is not None:
        try:
            info = json.loads(settings.key_file.read_text(encoding="utf-8"))
        except OSError as exc:
            raise AuthenticationError(
                "gcp", f"cannot read the key file {settings.key_file}: {exc.strerror}"
            ) from None
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise AuthenticationError(
                "gcp", f"the key file {settings.key_file} is not JSON"
            ) from None
        if not isinstance(info, dict) or info.get("type") != "service_account":
            raise AuthenticationError(
                "gcp", f"{settings.key_file} is not a service account key file"
            )
        try:
            creds = service_account.Credentials.from_service_account_info(  # type: ignore[no-untyped-call]
                info, scopes=settings.scopes
            )
        except (ValueError, KeyError) as exc:
            # the message names missing fields only, never the key itself
            raise AuthenticationError(
                "gcp", f"{settings.key_file} is not a usable key file ({type(exc).__name__})"
            ) from None
        if settings.token_uri:
            creds = creds.with_token_uri(settings.token_uri)
        return creds, f"key file {settings.key_file.name}"
    if settings.external_account_file is not None:
        return _external_account(settings)
    try:
        found, _ = google.auth.default(scopes=settings.scopes)
    except gx.DefaultCredentialsError as exc:
        raise AuthenticationError("gcp", f"no usable Google credentials: {exc}") from None
    return found, "application default credentials"


def _external_account(settings: GcpSettings) -> tuple[Credentials, str]:
    """Workload identity federation credentials, built from the configuration alone
    (``google.auth.load_credentials_from_file`` would call out to find a project)."""
    path = settings.external_account_file
    if path is None:
        raise AuthenticationError("gcp", "no workload identity federation file is configured")
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise AuthenticationError("gcp", f"cannot read {path}: {type(exc).__name__}") from None
    if not isinstance(info, dict) or info.get("type") != "external_account":
        raise AuthenticationError("gcp", f"{path} is not an external_account configuration")
    source = info.get("credential_source") or {}
    try:
        if info.get("subject_token_type") == AWS_SUBJECT_TOKEN_TYPE:
            found = aws.Credentials.from_info(info, scopes=settings.scopes)  # type: ignore[no-untyped-call]
        elif isinstance(source, dict) and source.get("executable") is not None:
            found = pluggable.Credentials.from_info(info, scopes=settings.scopes)  # type: ignore[no-untyped-call]
        else:
            found = identity_pool.Credentials.from_info(info, scopes=settings.scopes)  # type: ignore[no-untyped-call]
    except (ValueError, gx.GoogleAuthError) as exc:
        raise AuthenticationError("gcp", f"{path}: unusable configuration ({exc})") from None
    return found, f"workload identity federation ({path.name})"


def caller_email(creds: Credentials) -> str | None:
    """The service account the credentials act as, when they say."""
    email = getattr(creds, "service_account_email", None)
    return email if isinstance(email, str) and "@" in email else None


class _Response(transport.Response):
    def __init__(self, response: httpx.Response) -> None:
        self._response = response

    @property
    def status(self) -> int:
        return self._response.status_code

    @property
    def headers(self) -> Mapping[str, str]:
        return self._response.headers

    @property
    def data(self) -> bytes:
        return self._response.content


class HttpxRequest(transport.Request):
    """google-auth's transport on the adapter's async client, callable from a worker thread."""

    def __init__(
        self, client: httpx.AsyncClient, loop: asyncio.AbstractEventLoop, timeout_s: float
    ) -> None:
        self._client = client
        self._loop = loop
        self._timeout_s = timeout_s

    def __call__(
        self,
        url: str,
        method: str = "GET",
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
        **kwargs: Any,
    ) -> _Response:
        """Send one request (from a worker thread) and wait for its answer."""
        call = self._client.request(
            method,
            url,
            content=body,
            headers=dict(headers or {}),
            timeout=timeout or self._timeout_s,
            auth=None,
        )
        future = asyncio.run_coroutine_threadsafe(call, self._loop)
        try:
            return _Response(future.result(timeout=(timeout or self._timeout_s) + 5))
        except (httpx.HTTPError, TimeoutError) as exc:
            raise gx.TransportError(f"{type(exc).__name__}: {exc}") from exc  # type: ignore[no-untyped-call]


class TokenSource:
    """Access tokens for the adapter's calls: refreshed once for many waiters."""

    def __init__(self, creds: Credentials, client: httpx.AsyncClient, timeout_s: float) -> None:
        self.creds = creds
        self._client = client
        self._timeout_s = timeout_s
        self._lock = asyncio.Lock()
        self.refreshes = 0
        self._failed: tuple[float, str] | None = None

    async def token(self, stale: str | None = None) -> str:
        """A valid access token; ``stale`` names one the server refused (refresh past it)."""
        if self._usable(stale):
            return str(self.creds.token)
        async with self._lock:
            if not self._usable(stale):
                self._refuse_while_failing()
                request = HttpxRequest(self._client, asyncio.get_running_loop(), self._timeout_s)
                try:
                    await asyncio.to_thread(self.creds.refresh, request)
                except (gx.RefreshError, gx.TransportError) as exc:
                    if isinstance(exc, gx.TransportError) or getattr(exc, "retryable", False):
                        reason = str(exc.args[0]) if exc.args else type(exc).__name__
                        self._failed = (time.monotonic(), reason[:200])
                    raise
                self._failed = None
                self.refreshes += 1
            return str(self.creds.token)

    def _refuse_while_failing(self) -> None:
        """google-auth already retries a failing token endpoint with backoff; asking again
        for every call of a discovery multiplies that wait (minutes when Google is down).
        For a short while after such a failure, fail at once with the same reason."""
        if self._failed is None:
            return
        when, reason = self._failed
        if time.monotonic() - when < _FAILING_HOLD_S:
            raise gx.RefreshError(f"the token endpoint failed just now: {reason}", retryable=True)  # type: ignore[no-untyped-call]

    def _usable(self, stale: str | None) -> bool:
        return bool(self.creds.valid) and (stale is None or self.creds.token != stale)


class GoogleAuth(httpx.Auth):
    """Bearer tokens from a :class:`TokenSource`; one refresh and resend on a 401."""

    def __init__(self, tokens: TokenSource) -> None:
        self.tokens = tokens

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        """Add the bearer; after a 401, refresh once past the refused token and resend."""
        token = await self.tokens.token()
        request.headers["Authorization"] = f"Bearer {token}"
        response = yield request
        if response.status_code == 401:
            token = await self.tokens.token(stale=token)
            request.headers["Authorization"] = f"Bearer {token}"
            yield request
