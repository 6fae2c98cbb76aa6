"""An agent-scoped Entra read asks Graph by filter instead of listing the tenant, and
still finds what the agent reaches: here a principal's application that the agent's
blueprint principal owns (so it can add credentials to it), found through
``…/ownedObjects``, on the lab over real sockets."""

from __future__ import annotations

from agent_ir.engine.inventory import Engine, view
from agent_ir.lab.entra import EntraEmulator
from agent_ir.model import EdgeKind

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
