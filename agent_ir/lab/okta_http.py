"""The Okta emulator's wire habits: error bodies, ``Link`` paging, and rate limits.

* Errors are Okta's ``{errorCode, errorSummary, errorLink, errorId, errorCauses}``.
* Lists page with an opaque ``after`` cursor; the ``self`` link is sent before ``next``
  as two ``Link`` headers (the okta SDK keeps only the last one it sees).
* Every answer carries ``X-Rate-Limit-Limit``, ``-Remaining`` and ``-Reset`` (epoch
  seconds) for its bucket, and a ``Date``. Buckets are endpoint families: the first three
  path segments (``/api/v1/apps``, ``/api/v1/users``, ``/oauth2/v1/clients``,
  ``/workload-principals/api/v1`` …). Over the limit, or during a storm, the answer is 429
  ``E0000047`` with the reset at least a second ahead, so a client waits rather than
  hammers. A retry (``X-Okta-Retry-For`` names the 429's ``X-Okta-Request-Id``) that
  comes before the reset that 429 named is counted as an ``early_retry``.
"""

from __future__ import annotations

import itertools
import math
import secrets
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from email.utils import formatdate
from typing import Any, TypeVar
from urllib.parse import urlencode

from agent_ir.lab.faults import FaultSpec
from agent_ir.lab.okta_world import RateLimitSpec
from agent_ir.lab.server import FaultShapes, LabRequest, LabResponse
from agent_ir.lab.work import touch

T = TypeVar("T")

_SUMMARIES = {
    "E0000001": "Api validation failed",
    "E0000006": "You do not have permission to perform the requested action",
    "E0000007": "Not found: Resource not found",
    "E0000009": "Internal Server Error",
    "E0000011": "Invalid token provided",
    "E0000022": "The endpoint does not support the provided HTTP method",
    "E0000047": "API call exceeded rate limit due to too many requests.",
}


def okta_error(
    status: int,
    code: str,
    summary: str | None = None,
    causes: Sequence[str] = (),
    headers: list[tuple[str, str]] | None = None,
) -> LabResponse:
    """An Okta error body."""
    body = {
        "errorCode": code,
        "errorSummary": summary or _SUMMARIES.get(code, "Error"),
        "errorLink": code,
        "errorId": "oae" + secrets.token_urlsafe(16)[:22],
        "errorCauses": [{"errorSummary": c} for c in causes],
    }
    return LabResponse.from_json(status, body, headers)


def not_found(what: str) -> LabResponse:
    """404 E0000007 naming the missing resource."""
    return okta_error(404, "E0000007", f"Not found: Resource not found: {what}")


def invalid(summary: str, *causes: str) -> LabResponse:
    """400 E0000001 with its causes."""
    return okta_error(400, "E0000001", f"Api validation failed: {summary}", causes)


def bucket_of(path: str) -> str:
    """The rate-limit bucket of a request path (its first three segments)."""
    parts = [p for p in path.split("/") if p]
    if parts[:3] == ["oauth2", "v1", "token"]:
        return "/oauth2/v1/token"
    return "/" + "/".join(parts[:3])


def page(
    request: LabRequest,
    base: str,
    items: list[T] | Callable[[str | None], Iterator[T]],
    key: Callable[[T], str],
    *,
    default_limit: int = 200,
    max_limit: int = 200,
) -> tuple[list[T], list[tuple[str, str]]]:
    """One page of ``items`` (ordered by ``key``) after the request's cursor, with ``Link``
    headers: ``self`` first, then ``next`` when more remain. ``items`` may be read lazily
    from an index (the items after a cursor, in ``key`` order), so a page reads a page."""
    params = {k: v[0] for k, v in request.query_params.items() if v}
    try:
        limit = int(params.get("limit", default_limit))
    except ValueError:
        limit = default_limit
    limit = max(1, min(limit, max_limit))
    after = params.get("after")
    if callable(items):
        taken = list(itertools.islice(items(after or None), limit + 1))
    else:
        touch(len(items))
        ordered = sorted(items, key=key)
        if after:
            ordered = [item for item in ordered if key(item) > after]
        taken = ordered[: limit + 1]
    chunk = taken[:limit]
    links = [("Link", f'<{base}{request.path}?{urlencode(params)}>; rel="self"')]
    if len(taken) > limit:
        following = {**params, "after": key(chunk[-1]), "limit": str(limit)}
        links.append(("Link", f'<{base}{request.path}?{urlencode(following)}>; rel="next"'))
    return chunk, links


@dataclass(slots=True)
class _Bucket:
    window_start: float = 0.0
    count: int = 0
    requests: int = 0
    throttled: int = 0
    early_retries: int = 0


@dataclass(slots=True)
class Verdict:
    """What the limiter says about one request: its headers, and whether to refuse it."""

    headers: list[tuple[str, str]]
    throttled: bool


@dataclass(slots=True)
class RateLimiter:
    """Per-bucket fixed windows, Okta style; thread-safe; reconfigurable while running."""

    spec: RateLimitSpec
    clock: Callable[[], float] = time.time
    _buckets: dict[str, _Bucket] = field(default_factory=dict)
    _storm_until: float = 0.0
    _resets: dict[str, int] = field(default_factory=dict)
    """Request id of each 429 answered → the reset it named."""
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def configure(self, limit: int | None = None, window_s: int | None = None) -> None:
        """Change the limit or window (e.g. a small limit for a test)."""
        with self._lock:
            self.spec = RateLimitSpec(
                limit=limit if limit is not None else self.spec.limit,
                window_s=window_s if window_s is not None else self.spec.window_s,
            )

    def storm(self, seconds: float) -> None:
        """Exhaust every bucket for ``seconds``: each request meanwhile gets a 429."""
        with self._lock:
            self._storm_until = self.clock() + seconds

    def reset(self, spec: RateLimitSpec) -> None:
        """Forget all counts and storms; use ``spec`` from now on."""
        with self._lock:
            self.spec = spec
            self._buckets.clear()
            self._resets.clear()
            self._storm_until = 0.0

    def report(self) -> dict[str, Any]:
        """Requests, 429s and early retries, in total and per bucket."""
        with self._lock:
            per = {
                name: {
                    "requests": b.requests,
                    "throttled": b.throttled,
                    "early_retries": b.early_retries,
                }
                for name, b in sorted(self._buckets.items())
            }
        return {
            "limit": self.spec.limit,
            "window_s": self.spec.window_s,
            "requests": sum(b["requests"] for b in per.values()),
            "throttled": sum(b["throttled"] for b in per.values()),
            "early_retries": sum(b["early_retries"] for b in per.values()),
            "buckets": per,
        }

    def check(self, request: LabRequest) -> Verdict:
        """Count one request against its bucket."""
        now = self.clock()
        with self._lock:
            bucket = self._bucket(request, now)
            window = self.spec.window_s
            if now >= bucket.window_start + window:
                bucket.window_start = math.floor(now / window) * window
                bucket.count = 0
            bucket.count += 1
            reset = int(bucket.window_start + window)
            over = bucket.count > self.spec.limit or now < self._storm_until
            if over:
                reset = max(reset if bucket.count > self.spec.limit else 0, self._storm_reset(now))
            remaining = 0 if over else max(0, self.spec.limit - bucket.count)
            headers = _rate_headers(self.spec.limit, remaining, reset, now)
            if over:
                self._refuse(bucket, reset, headers)
            return Verdict(headers, over)

    def throttle(self, request: LabRequest, ahead_s: float) -> list[tuple[str, str]]:
        """Headers of an injected 429 whose reset lies ``ahead_s`` (at least 1 s) ahead."""
        now = self.clock()
        reset = math.floor(now) + max(1, math.ceil(ahead_s))
        headers = _rate_headers(self.spec.limit, 0, reset, now)
        with self._lock:
            self._refuse(self._bucket(request, now), reset, headers)
        return headers

    def headers(self, request: LabRequest) -> list[tuple[str, str]]:
        """Rate-limit headers for an answer that does not count (an injected 5xx)."""
        now = self.clock()
        with self._lock:
            bucket = self._bucket(request, now)
            reset = int(bucket.window_start + self.spec.window_s) or math.ceil(now)
            remaining = max(0, self.spec.limit - bucket.count)
        return _rate_headers(self.spec.limit, remaining, reset, now)

    def _bucket(self, request: LabRequest, now: float) -> _Bucket:
        bucket = self._buckets.setdefault(bucket_of(request.path), _Bucket())
        bucket.requests += 1
        told = self._resets.get(request.header("X-Okta-Retry-For") or "")
        if told is not None and now < told:
            bucket.early_retries += 1
        return bucket

    def _storm_reset(self, now: float) -> int:
        if now < self._storm_until:
            return max(math.ceil(self._storm_until), math.floor(now) + 1)
        return math.floor(now) + 1

    def _refuse(self, bucket: _Bucket, reset: int, headers: list[tuple[str, str]]) -> None:
        bucket.throttled += 1
        request_id = dict(headers)["X-Okta-Request-Id"]
        if len(self._resets) > 100_000:
            self._resets.clear()
        self._resets[request_id] = reset


def _rate_headers(limit: int, remaining: int, reset: int, now: float) -> list[tuple[str, str]]:
    return [
        ("Date", formatdate(now, usegmt=True)),
        ("X-Rate-Limit-Limit", str(limit)),
        ("X-Rate-Limit-Remaining", str(remaining)),
        ("X-Rate-Limit-Reset", str(reset)),
        ("X-Okta-Request-Id", secrets.token_urlsafe(18)),
    ]


def too_many(headers: list[tuple[str, str]]) -> LabResponse:
    """The 429 Okta sends over a rate limit."""
    return okta_error(429, "E0000047", headers=headers)


def fault_shapes(limiter: RateLimiter) -> FaultShapes:
    """Okta's answers to injected faults: 503 ``E0000009`` and 429 ``E0000047``, both with
    ``Date`` and rate-limit headers (the SDK refuses to retry without them)."""

    def error(request: LabRequest) -> LabResponse:
        return okta_error(
            503, "E0000009", "Service unavailable (lab fault)", headers=limiter.headers(request)
        )

    def throttle(request: LabRequest, spec: FaultSpec) -> LabResponse:
        return too_many(limiter.throttle(request, spec.retry_after_s))

    return FaultShapes(error=error, throttle=throttle)
