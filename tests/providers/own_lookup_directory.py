"""Shared by the Entra and Okta own-lookup tests: an agent's certain own principals read
directly (:class:`~agent_ir.providers.base.OwnLookup`) against what the agent-scoped read
attributes to the agent, and the requests the lookup made, from the lab's request log of
a world served by ``agent-ir lab serve``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agent_ir.engine import scope
from agent_ir.engine.inventory import Engine, Inventory
from agent_ir.model import Identity, ProviderName
from agent_ir.providers.base import Discovery, OwnLookup
from agent_ir.settings import load_settings
from tests.engine.test_scoped_requests import _clear, _logged


@dataclass
class Lookup:
    """One own lookup and what it asked the provider's emulator."""

    found: Discovery
    requests: list[dict[str, Any]]


def listed_ids(config: Path, agent: str) -> frozenset[str]:
    """The ids the explicit inventory gives ``agent`` (every provider's)."""
    return scope.Focus.of(agent, load_settings(config).inventory).listed


async def scoped(config: Path, agent: str) -> Inventory:
    """The agent-scoped read a revoke makes."""
    engine = Engine(load_settings(config))
    try:
        return await engine.agent_inventory(agent, containment=True)
    finally:
        await engine.aclose()


async def estate(config: Path) -> Inventory:
    """The whole estate (to choose agents to look up)."""
    engine = Engine(load_settings(config))
    try:
        return await engine.inventory()
    finally:
        await engine.aclose()


async def own(config: Path, provider: ProviderName, agent: str) -> Lookup:
    """The own lookup of ``agent`` on a fresh adapter (so signing in is counted), with the
    requests its emulator received meanwhile."""
    engine = Engine(load_settings(config))
    try:
        adapter = engine.providers()[provider]
        assert isinstance(adapter, OwnLookup)
        _clear(config)
        found = await adapter.own_identities(agent, listed_ids(config, agent))
        return Lookup(found, _logged(config)[provider])
    finally:
        await engine.aclose()


def expected(
    inv: Inventory, provider: ProviderName, agent: str, ids: frozenset[str]
) -> list[Identity]:
    """What the scoped read attributes to ``agent`` in ``provider`` among the principals
    named like it or listed for it."""
    return sorted(
        (
            i
            for i in inv.agent(agent).identities
            if i.provider == provider and (i.name.lower() == agent.lower() or i.id in ids)
        ),
        key=lambda i: i.id,
    )


def certain(found: Discovery, agent: str, ids: frozenset[str]) -> list[Identity]:
    """What the lookup found that the engine may cut at once: listed for the agent, or
    named like it with no tag naming another agent (the responder's own never)."""
    return sorted(
        (
            i
            for i in found.identities
            if i.id not in found.responder_ids
            and (i.id in ids or i.agent is None or i.agent.lower() == agent.lower())
        ),
        key=lambda i: i.id,
    )


def named_agents(inv: Inventory, provider: ProviderName) -> list[str]:
    """Agents with a principal in ``provider`` named exactly like them."""
    return sorted(
        a.name
        for a in inv.agents
        if any(i.provider == provider and i.name.lower() == a.name.lower() for i in a.identities)
    )


def absent_agents(inv: Inventory, provider: ProviderName) -> list[str]:
    """Agents with no principal in ``provider``."""
    return sorted(a.name for a in inv.agents if all(i.provider != provider for i in a.identities))
