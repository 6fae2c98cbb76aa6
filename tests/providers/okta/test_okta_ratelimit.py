"""The adapter's rate gate as a unit: budgets, holds after a 429, buckets (no sockets)."""

from __future__ import annotations

from email.utils import formatdate

from agent_ir.providers.okta.ratelimit import RateGate, bucket_of

NOW = 1_800_000_000.0
URL = "https://corp.okta.test/api/v1/apps/0oa1/grants"


class Clock:
    """A fake monotonic clock that sleeping advances."""

    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 3))
        self.now += seconds


def headers(remaining: int, reset_in: int, limit: int = 10) -> dict[str, str]:
    return {
        "X-Rate-Limit-Limit": str(limit),
        "X-Rate-Limit-Remaining": str(remaining),
        "X-Rate-Limit-Reset": str(int(NOW) + reset_in),
        "Date": formatdate(NOW, usegmt=True),
    }


def test_buckets_are_endpoint_families() -> None:
    assert bucket_of(URL) == "/api/v1/apps"
    assert bucket_of("https://x/oauth2/v1/token") == "/oauth2/v1/token"
    assert bucket_of("https://x/oauth2/v1/clients/c/roles") == "/oauth2/v1/clients"


async def test_a_spent_budget_waits_for_the_reset() -> None:
    clock = Clock()
    gate = RateGate(clock=clock, sleep=clock.sleep)
    await gate.wait(URL)
    assert gate.reserve(URL)
    gate.observe(URL, 200, headers(remaining=1, reset_in=7))
    assert gate.reserve(URL)
    assert not gate.reserve(URL), "the last request of the window is in flight"
    gate.observe(URL, 200, headers(remaining=0, reset_in=7))
    await gate.wait(URL)
    assert clock.slept == [7.0]
    assert gate.reserve(URL) and gate.holds == 1
    assert gate.reserve("https://corp.okta.test/api/v1/users"), "other buckets are not held"


async def test_a_429_holds_the_bucket_until_the_reset_it_names() -> None:
    clock = Clock()
    gate = RateGate(clock=clock, sleep=clock.sleep)
    assert gate.reserve(URL) and gate.reserve(URL)
    gate.observe(URL, 429, headers(remaining=0, reset_in=3))
    assert not gate.reserve(URL)
    gate.observe(URL, 200, headers(remaining=9, reset_in=60))
    assert not gate.reserve(URL), "an answer sent before the 429 does not lift the hold"
    await gate.wait(URL)
    assert clock.slept == [3.0] and gate.reserve(URL)
    assert gate.throttled == 1 and gate.requests == 2 and gate.limit_per_window() == 10
