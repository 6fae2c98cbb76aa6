"""Shared rate budgets: every step of a run against one provider scope draws from one bucket.

A mass containment sends thousands of calls to the same provider; the providers limit them
per account (AWS), tenant (Entra), project (GCP) and org (Okta). The adapters already pace
their own clients (Okta's ``X-Rate-Limit-*`` gate, Graph's pause on ``Retry-After``, GCP's
per-minute limiter); what the executor adds is the part only it can see:

* a **pause shared by the scope**: when one step is told to wait (Graph ``Retry-After``,
  GCP 429 ``RESOURCE_EXHAUSTED`` with RetryInfo, Okta ``X-Rate-Limit-Reset``, AWS
  ``Throttling``), every other step of the same scope waits too, instead of each finding
  out with a 429 of its own;
* an optional **token bucket** per scope (calls per second, with a burst), for limits the
  responder knows (``Tuning.rates``), so a run stays under them instead of bouncing off.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from agent_ir.actions.base import PlannedStep

MAX_PAUSE_S = 120.0
"""The longest shared pause one answer can impose (a bad header must not stall a run)."""


def scope_of(step: PlannedStep) -> tuple[str, str]:
    """The provider and the account/tenant/project/org a step's calls are counted in."""
    ident = step.identity or step.target
    if step.provider == "aws" and ident.startswith("arn:"):
        parts = ident.split(":")
        return step.provider, parts[4] if len(parts) > 4 else ""
    if step.provider == "gcp" and "@" in ident:
        domain = ident.rsplit("@", 1)[1]
        return step.provider, domain.split(".", 1)[0]
    # Entra and Okta: one tenant / org per configured provider.
    return step.provider, ""


@dataclass(slots=True)
class _Bucket:
    rate: float | None
    burst: float
    tokens: float
    stamp: float
    paused_until: float = 0.0
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


@dataclass(slots=True)
class RateBudget:
    """Buckets per (provider, scope); ``rates`` maps a provider to calls per second."""

    rates: dict[str, float] = field(default_factory=dict)
    burst_s: float = 1.0
    """How many seconds of calls a quiet bucket may send at once."""
    _buckets: dict[tuple[str, str], _Bucket] = field(default_factory=dict)
    waits: int = 0
    """How many calls waited for a token or a pause (for reports and tests)."""

    def _bucket(self, key: tuple[str, str]) -> _Bucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            rate = self.rates.get(key[0])
            burst = max(1.0, (rate or 1.0) * self.burst_s)
            now = asyncio.get_running_loop().time()
            bucket = _Bucket(rate, burst, burst, now)
            self._buckets[key] = bucket
        return bucket

    async def take(self, step: PlannedStep) -> None:
        """Wait until the step's scope may send one more call."""
        bucket = self._bucket(scope_of(step))
        loop = asyncio.get_running_loop()
        async with bucket.lock:
            waited = False
            while True:
                now = loop.time()
                if bucket.paused_until > now:
                    waited = True
                    await asyncio.sleep(bucket.paused_until - now)
                    continue
                if bucket.rate is None:
                    break
                bucket.tokens = min(
                    bucket.burst, bucket.tokens + (now - bucket.stamp) * bucket.rate
                )
                bucket.stamp = now
                if bucket.tokens >= 1.0:
                    bucket.tokens -= 1.0
                    break
                waited = True
                await asyncio.sleep((1.0 - bucket.tokens) / bucket.rate)
            if waited:
                self.waits += 1

    def pause(self, step: PlannedStep, seconds: float) -> None:
        """The provider asked one call to wait: hold the whole scope for that long."""
        bucket = self._bucket(scope_of(step))
        until = asyncio.get_running_loop().time() + min(max(seconds, 0.0), MAX_PAUSE_S)
        bucket.paused_until = max(bucket.paused_until, until)
