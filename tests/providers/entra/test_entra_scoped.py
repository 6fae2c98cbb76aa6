"""An agent-scoped Entra read asks Graph by filter instead of listing the tenant, and
still finds what the agent reaches: here a principal's application that the agent's
blueprint principal owns (so it can add credentials to it), found through
``…/ownedObjects``, on the lab over real sockets."""

from __future__ import annotations

from typing import Any

import pytest

from agent_ir.engine.inventory import Engine, view
from agent_ir.errors import ProviderError
from agent_ir.lab.entra import EntraEmulator
from agent_ir.model import EdgeKind
from agent_ir.providers.entra.adapter import EntraProvider

AGENT = "invoice-agent"
OWNED = "catalog-reader"


async def test_scoped_read_reaches_what_the_agent_owns(
    engine: Engine, emulator: EntraEmulator
) -> None:
    d = emulator.directory
    owner = d.sp_by_client_id[emulator.client_id("invoice-agent-blueprint")]
    app = d.app_by_client_id[emulator.client_id(OWNED)]
    seeded = d.applications.get(app)
    assert seeded is not None
    before = list(seeded.get("_owners", []))
    seeded["_owners"] = [*before, owner]
    try:
        estate = await engine.inventory()
        scoped = await engine.agent_inventory(AGENT)
    finally:
        seeded["_owners"] = before
        await engine.aclose()
    target = d.sp_by_client_id[emulator.client_id(OWNED)]
    edge = [e for e in estate.graph.outgoing(owner) if e.target == target]
    assert [e.kind for e in edge] == [EdgeKind.IMPERSONATE]
    assert target in {t for t, _ in scoped.graph.reach([owner])}
    shown = view(scoped, scoped.agent(AGENT)).to_json()
    assert shown["edges"] == view(estate, estate.agent(AGENT)).to_json()["edges"]
    assert any(
        e["to"] == target and e["kind"] == EdgeKind.IMPERSONATE.value for e in shown["edges"]
    )


async def test_a_refused_blueprint_filter_falls_back_to_listing_agent_identities(
    engine: Engine, emulator: EntraEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    blueprint = emulator.client_id("invoice-agent-blueprint")
    adapter = engine.providers()["entra"]
    assert isinstance(adapter, EntraProvider)
    try:
        filtered = await adapter._agents_of_blueprints([blueprint])
        original = EntraProvider._any_of
        refused: list[str] = []

        async def refusing(self: EntraProvider, path: str, field: str, *args: Any) -> Any:
            if field == "agentIdentityBlueprintId":
                refused.append(path)
                raise ProviderError("entra", "listing: HTTP 400", detail="Request_UnsupportedQuery")
            return await original(self, path, field, *args)

        monkeypatch.setattr(EntraProvider, "_any_of", refusing)
        listed = await adapter._agents_of_blueprints([blueprint])
    finally:
        await engine.aclose()
    assert refused
    assert filtered, "the default world's blueprint has agent identities"
    assert sorted(a["id"] for a in listed) == sorted(a["id"] for a in filtered)
