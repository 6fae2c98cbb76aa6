"""Microsoft Graph over one ``httpx.AsyncClient``: bounded concurrency, paging, throttling.

* At most ``max_concurrency`` requests are in flight (one connection pool).
* A 429 (or a 503 with ``Retry-After``) pauses *every* request of this client for the time
  Graph asked (capped by ``max_retry_after_s``), then the request is retried; without
  ``Retry-After`` the wait grows exponentially from ``retry_backoff_s``. At most
  ``max_attempts`` tries.
* Connection failures and 5xx answers are retried only for idempotent calls; a failed
  POST is left to the caller, which reads the state again before deciding to repeat it.
* A 401 drops the cached token once and tries again with a fresh one.
* ``pages`` follows ``@odata.nextLink`` (only ever to the configured Graph host).
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx

from agent_ir.errors import BadResponse, ConfigError, ProviderError, ProviderUnavailable, Throttled
from agent_ir.providers.entra.auth import TokenSource
from agent_ir.providers.entra.boundary import PROVIDER, graph_failure, http_errors, retry_after
from agent_ir.providers.entra.config import EntraSettings

_IDEMPOTENT = {"GET", "PUT", "PATCH", "DELETE", "HEAD"}


def ssl_context(settings: EntraSettings) -> ssl.SSLContext | bool:
    """An SSL context trusting the configured CA bundle, or True for the system's."""
    if settings.ca_bundle is None:
        return True
    try:
        return ssl.create_default_context(cafile=str(settings.ca_bundle))
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(
            f"providers.entra.ca_bundle: cannot load {settings.ca_bundle}: {exc}"
        ) from None


class GraphClient:
    """Calls Graph with the responder's token; see the module docstring."""

    def __init__(self, settings: EntraSettings, tokens: TokenSource) -> None:
        self.settings = settings
        self.tokens = tokens
        self.base = settings.graph_base
        limit = settings.max_concurrency
        self._http = httpx.AsyncClient(
            base_url=self.base,
            verify=ssl_context(settings),
            trust_env=settings.ca_bundle is None,
            timeout=httpx.Timeout(settings.timeout_s),
            limits=httpx.Limits(max_connections=limit, max_keepalive_connections=limit),
            headers={"User-Agent": "agent-ir", "Accept": "application/json"},
        )
        self._gate = asyncio.Semaphore(limit)
        self._not_before = 0.0
        self.requests = 0
        self.throttled = 0
        self.resource_units = 0

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    def url(self, path: str, version: str = "v1.0") -> str:
        """The absolute URL of a Graph path (a nextLink is checked and kept as is)."""
        if path.startswith("https://") or path.startswith("http://"):
            if not path.startswith(self.base + "/"):
                raise BadResponse(PROVIDER, f"Graph pointed at another host: {path.split('?')[0]}")
            return path
        return f"{self.base}/{version}/{path.lstrip('/')}"

    async def call(
        self,
        method: str,
        path: str,
        what: str,
        *,
        version: str = "v1.0",
        params: dict[str, str] | None = None,
        body: Any = None,
        idempotent: bool | None = None,
        headers: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """One Graph call with retries; the JSON answer (``{}`` for 204). ``headers`` are
        sent besides the token (``ConsistencyLevel`` for an advanced query)."""
        url = self.url(path, version)
        retry_any = method in _IDEMPOTENT if idempotent is None else idempotent
        refreshed = False
        backoff = self.settings.retry_backoff_s
        last: ProviderError | None = None
        for attempt in range(1, self.settings.max_attempts + 1):
            token = await self.tokens.token()
            try:
                async with self._gate:
                    # Checked inside the gate, so a pause set by any 429 holds back every
                    # request not yet sent, not only those that arrive later.
                    await self._wait_turn()
                    with http_errors(what):
                        response = await self._http.request(
                            method,
                            url,
                            params=params,
                            json=body,
                            headers={**(headers or {}), "Authorization": f"Bearer {token}"},
                        )
            except ProviderUnavailable as exc:
                if not retry_any or attempt == self.settings.max_attempts:
                    raise
                last = exc
                await asyncio.sleep(backoff)
                backoff *= 2
                continue
            self._count(response)
            status = response.status_code
            if status < 400:
                return self._json(response, what)
            failure = graph_failure(status, response.text, response.headers, what)
            if status == 401 and not refreshed:
                self.tokens.invalidate(token)
                refreshed = True
                continue
            wait = retry_after(response.headers)
            if status == 429 or (status == 503 and wait is not None):
                self.throttled += 1
                pause = min(wait if wait is not None else backoff, self.settings.max_retry_after_s)
                self._not_before = max(self._not_before, time.monotonic() + pause)
                backoff *= 2
                last = failure
                continue
            if status >= 500 and retry_any and attempt < self.settings.max_attempts:
                last = failure
                await asyncio.sleep(backoff)
                backoff *= 2
                continue
            raise failure
        if isinstance(last, Throttled | ProviderUnavailable):
            raise last
        raise ProviderUnavailable(PROVIDER, f"Graph kept failing while {what}")

    async def get(
        self,
        path: str,
        what: str,
        *,
        version: str = "v1.0",
        params: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """A GET returning the JSON object."""
        return await self.call("GET", path, what, version=version, params=params, headers=headers)

    async def pages(
        self,
        path: str,
        what: str,
        *,
        version: str = "v1.0",
        params: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> AsyncIterator[list[dict[str, Any]]]:
        """Each page's ``value`` of a collection, following ``@odata.nextLink``."""
        data = await self.get(path, what, version=version, params=params, headers=headers)
        while True:
            values = data.get("value")
            if not isinstance(values, list):
                raise BadResponse(PROVIDER, f"{what}: the answer has no 'value' list")
            yield values
            link = data.get("@odata.nextLink")
            if not link:
                return
            data = await self.get(str(link), what, headers=headers)

    async def collect(
        self,
        path: str,
        what: str,
        *,
        version: str = "v1.0",
        params: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> list[dict[str, Any]]:
        """Every item of a collection, all pages."""
        out: list[dict[str, Any]] = []
        async for values in self.pages(path, what, version=version, params=params, headers=headers):
            out.extend(values)
        return out

    async def _wait_turn(self) -> None:
        delay = self._not_before - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)

    def _count(self, response: httpx.Response) -> None:
        self.requests += 1
        units = response.headers.get("x-ms-resource-unit")
        if units and units.isdigit():
            self.resource_units += int(units)

    @staticmethod
    def _json(response: httpx.Response, what: str) -> dict[str, Any]:
        if response.status_code == 204 or not response.content:
            return {}
        with http_errors(what):
            data = response.json()
        if not isinstance(data, dict):
            raise BadResponse(PROVIDER, f"{what}: expected a JSON object")
        return data
