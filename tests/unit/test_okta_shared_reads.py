"""Identical Okta reads in flight at once go out once; a read asked for after a write has
finished never shares an answer sent before it (a read-back must see its write)."""

from __future__ import annotations

import asyncio
from typing import Any

from agent_ir.providers.okta.client import OktaClient
from agent_ir.providers.okta.config import OktaSettings


def _client() -> tuple[OktaClient, list[tuple[str, str]], asyncio.Event]:
    client = OktaClient(OktaSettings(org_url="https://lab.example", api_token_env="X"))
    sent: list[tuple[str, str]] = []
    release = asyncio.Event()

    async def fake(what: str, method: str, *args: Any, **kwargs: Any) -> tuple[Any, Any]:
        sent.append((method, repr(args)))
        if method.startswith("list_"):
            await release.wait()
        return [{"n": len(sent)}], {}

    client._call = fake  # type: ignore[method-assign]
    return client, sent, release


def test_identical_reads_in_flight_are_sent_once() -> None:
    async def scenario() -> None:
        client, sent, release = _client()
        first = [asyncio.ensure_future(client.call("w", "list_jwk", "app1")) for _ in range(5)]
        other = asyncio.ensure_future(client.call("w", "list_jwk", "app2"))
        await asyncio.sleep(0)
        release.set()
        answers = await asyncio.gather(*first, other)
        assert sent == [("list_jwk", "('app1',)"), ("list_jwk", "('app2',)")]
        assert all(a == answers[0] for a in answers[:5])

    asyncio.run(scenario())


def test_a_read_after_a_write_is_sent_again() -> None:
    async def scenario() -> None:
        client, sent, release = _client()
        before = asyncio.ensure_future(client.call("w", "list_jwk", "app1"))
        await asyncio.sleep(0)
        await client.call("w", "deactivate_application_jwk", "app1", "k1")
        after = asyncio.ensure_future(client.call("w", "list_jwk", "app1"))
        await asyncio.sleep(0)
        release.set()
        await asyncio.gather(before, after)
        assert sorted(m for m, _ in sent) == [
            "deactivate_application_jwk",
            "list_jwk",
            "list_jwk",
        ]
        # Nothing in flight is remembered once answered.
        assert client._reads == {}

    asyncio.run(scenario())
