"""The adapter's HTTP client: one async connection pool, bounded concurrency, a client-side
rate limit per kind of call, retries of throttled and failing calls, and paging.

Google's quotas count per minute against the caller's project (IAM v1: 6,000 reads and
600 writes), so every read shares one budget whatever project it reads. Throttled (429)
and failing (500/502/503/504) calls, resets and timeouts are retried with exponential
backoff, honouring ``google.rpc.RetryInfo`` and ``Retry-After``; 409 conflicts are not
retried here (a read-modify-write retries as a whole, see ``policies.py``).
"""

from __future__ import annotations

import asyncio
import random
import ssl
import time
from collections.abc import Callable
from typing import Any

import httpx

from agent_ir import errors
from agent_ir.providers.gcp.auth import GoogleAuth, TokenSource
from agent_ir.providers.gcp.boundary import (
    RETRYABLE_STATUS,
    GcpThrottled,
    GcpUnavailable,
    api_error,
    gcp_errors,
    retry_after,
)
from agent_ir.providers.gcp.config import GcpSettings

_BACKOFF_S = 0.2
_MAX_BACKOFF_S = 8.0


class RateLimiter:
    """A token bucket: ``per_minute`` calls a minute, bursts of up to ``burst``."""

    def __init__(
        self, per_minute: int, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = per_minute / 60.0
        self.capacity = float(max(1, burst))
        self._tokens = self.capacity
        self._clock = clock
        self._stamp = clock()
        self._lock = asyncio.Lock()
        self.waited_s = 0.0

    async def acquire(self) -> None:
        """Wait until one call may go."""
        async with self._lock:
            while True:
                now = self._clock()
                self._tokens = min(self.capacity, self._tokens + (now - self._stamp) * self.rate)
                self._stamp = now
                if self._tokens >= 1:
                    self._tokens -= 1
                    return
                wait = (1 - self._tokens) / self.rate
                self.waited_s += wait
                await asyncio.sleep(wait)


class GcpClient:
    """Google REST calls with errors mapped; see the module docstring."""

    def __init__(
        self, settings: GcpSettings, tokens_for: Callable[[httpx.AsyncClient], TokenSource]
    ) -> None:
        self.settings = settings
        verify: ssl.SSLContext | bool = True
        if settings.ca_bundle is not None:
            try:
                verify = ssl.create_default_context(cafile=str(settings.ca_bundle))
            except (OSError, ssl.SSLError) as exc:
                raise errors.ProviderUnavailable(
                    "gcp", f"cannot load the CA bundle {settings.ca_bundle}: {exc}"
                ) from None
        self.http = httpx.AsyncClient(
            verify=verify,
            timeout=settings.timeout_s,
            limits=httpx.Limits(
                max_connections=settings.max_concurrency,
                max_keepalive_connections=settings.max_concurrency,
            ),
            trust_env=settings.ca_bundle is None,
            headers={"User-Agent": "agent-ir", "x-goog-api-client": "agent-ir"},
        )
        self.tokens = tokens_for(self.http)
        self._auth = GoogleAuth(self.tokens)
        self._gate = asyncio.Semaphore(settings.max_concurrency)
        burst = max(1, settings.max_concurrency * 2)
        self.reads = RateLimiter(settings.reads_per_minute, burst)
        self.writes = RateLimiter(settings.writes_per_minute, max(1, burst // 4))
        self.requests = 0
        self.retries = 0

    async def call(
        self,
        method: str,
        url: str,
        what: str,
        *,
        body: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
        write: bool = False,
    ) -> dict[str, Any]:
        """One API call, retried while throttled or failing; the JSON reply."""
        limiter = self.writes if write else self.reads
        delay = _BACKOFF_S
        for attempt in range(1, self.settings.max_attempts + 1):
            await limiter.acquire()
            try:
                async with self._gate:
                    self.requests += 1
                    with gcp_errors(what):
                        response = await self.http.request(
                            method, url, json=body, params=params, auth=self._auth
                        )
            except GcpUnavailable as exc:
                # google-auth has retried a failing token endpoint already.
                if attempt == self.settings.max_attempts or exc.detail == "token":
                    raise
                await self._pause(delay, exc.retry_after)
                delay *= 2
                continue
            if response.status_code in RETRYABLE_STATUS and attempt < self.settings.max_attempts:
                await self._pause(delay, retry_after(response))
                delay *= 2
                continue
            if response.is_success:
                with gcp_errors(what):
                    data = response.json() if response.content else {}
                if not isinstance(data, dict):
                    raise errors.BadResponse("gcp", f"{what}: expected a JSON object")
                return data
            raise api_error(response, what)
        raise GcpThrottled(f"{what}: no attempt left", detail=None, retry_after=None)

    async def _pause(self, delay: float, asked: float | None) -> None:
        self.retries += 1
        wait = asked if asked is not None else delay * (0.5 + random.random())
        await asyncio.sleep(min(wait, _MAX_BACKOFF_S))

    async def pages(
        self, url: str, key: str, what: str, params: dict[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        """Every item of a listing, following ``nextPageToken`` (pages are sequential)."""
        items: list[dict[str, Any]] = []
        query = dict(params or {})
        while True:
            reply = await self.call("GET", url, what, params=query)
            found = reply.get(key, [])
            if not isinstance(found, list):
                raise errors.BadResponse("gcp", f"{what}: '{key}' is not a list")
            items.extend(found)
            token = reply.get("nextPageToken")
            if not token:
                return items
            query["pageToken"] = token

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self.http.aclose()
