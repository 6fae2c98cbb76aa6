"""Respecting Okta's rate limits: never send what the bucket cannot take, and after a 429
wait for the reset.

Okta counts requests per endpoint family and says where a caller stands on every answer:
``X-Rate-Limit-Limit``, ``X-Rate-Limit-Remaining`` and ``X-Rate-Limit-Reset`` (epoch
seconds, read against the answer's ``Date``). The gate keeps, per bucket, the budget the
latest answer reported minus the requests still in flight; when it is spent, further
requests wait until the reset instead of drawing 429s. After a 429 every request to that
bucket waits for the reset the 429 named. (The okta SDK itself sleeps
``reset - Date + 1`` s before retrying a 429, and its retry passes this gate too.)
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit


def bucket_of(url: str) -> str:
    """The rate-limit bucket of a request: its endpoint family (first three path segments)."""
    parts = [p for p in urlsplit(url).path.split("/") if p]
    if parts[:3] == ["oauth2", "v1", "token"]:
        return "/oauth2/v1/token"
    return "/" + "/".join(parts[:3])


@dataclass(slots=True)
class _Bucket:
    remaining: float | None = None
    reset_at: float = 0.0
    blocked_until: float = 0.0
    in_flight: int = 0


@dataclass(slots=True)
class RateGate:
    """Per-bucket budgets learnt from Okta's rate-limit headers.

    Use :meth:`wait` (it may sleep) and then, holding a concurrency slot, :meth:`reserve`
    (it never sleeps); start over when ``reserve`` says no."""

    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    requests: int = 0
    throttled: int = 0
    holds: int = 0
    limits: dict[str, int] = field(default_factory=dict)
    _buckets: dict[str, _Bucket] = field(default_factory=dict)

    async def wait(self, url: str) -> None:
        """Return once ``url``'s bucket looks open: not held after a 429, budget left."""
        bucket = self._bucket(url)
        while True:
            delay = self._closed_for(bucket)
            if delay <= 0:
                return
            self.holds += 1
            await self.sleep(delay)

    def reserve(self, url: str) -> bool:
        """Take one request from the bucket's budget, if it is open; never waits."""
        bucket = self._bucket(url)
        if self._closed_for(bucket) > 0:
            return False
        if bucket.remaining is not None:
            bucket.remaining -= 1
        bucket.in_flight += 1
        return True

    def _closed_for(self, bucket: _Bucket) -> float:
        now = self.clock()
        if now < bucket.blocked_until:
            return bucket.blocked_until - now
        if now >= bucket.reset_at:
            bucket.remaining = None
        if bucket.remaining is not None and bucket.remaining <= 0:
            return bucket.reset_at - now
        return 0.0

    def _bucket(self, url: str) -> _Bucket:
        return self._buckets.setdefault(bucket_of(url), _Bucket())

    def observe(self, url: str, status: int | None, headers: Mapping[str, str]) -> None:
        """Learn from one answer (``status`` None: no answer came)."""
        self.requests += 1
        bucket = self._bucket(url)
        bucket.in_flight = max(0, bucket.in_flight - 1)
        if status is None:
            return
        limit = _number(headers.get("X-Rate-Limit-Limit"))
        if limit is not None:
            self.limits[bucket_of(url)] = int(limit)
        remaining = _number(headers.get("X-Rate-Limit-Remaining"))
        reset = _number(headers.get("X-Rate-Limit-Reset"))
        if reset is None:
            return
        now_there = _date(headers.get("Date")) or time.time()
        reset_at = self.clock() + max(0.0, reset - now_there)
        if status == 429:
            self.throttled += 1
            bucket.blocked_until = max(bucket.blocked_until, reset_at)
            bucket.remaining = None
        elif remaining is not None and (bucket.remaining is None or reset_at >= bucket.reset_at):
            bucket.reset_at = reset_at
            bucket.remaining = max(0.0, remaining - bucket.in_flight)

    def limit_per_window(self) -> int | None:
        """The smallest ``X-Rate-Limit-Limit`` seen (requests per minute at Okta)."""
        return min(self.limits.values()) if self.limits else None


def _number(text: str | None) -> float | None:
    try:
        return float(text) if text is not None else None
    except ValueError:
        return None


def _date(text: str | None) -> float | None:
    if not text:
        return None
    try:
        return parsedate_to_datetime(text).timestamp()
    except (TypeError, ValueError):
        return None
