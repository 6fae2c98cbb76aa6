"""Entra's own lookup (the kill switch's first cut): the principals named like the agent
or listed for it, read in full by filters only, equal what the agent-scoped read gives
the agent; on the default world and a generated one served by ``agent-ir lab serve``,
and on the module's Entra lab for a principal tagged for another agent."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs

import pytest

from agent_ir.engine.inventory import Engine
from agent_ir.lab.entra import EntraEmulator
from agent_ir.lab.generator import generate_yaml
from agent_ir.providers.base import OwnLookup
from agent_ir.providers.entra.adapter import EntraProvider
from tests.engine.test_scoped_discovery import _serve
from tests.providers.own_lookup_directory import (
    absent_agents,
    certain,
    estate,
    expected,
    listed_ids,
    named_agents,
    own,
    scoped,
)

COLLECTIONS = {
    "/v1.0/servicePrincipals",
    "/v1.0/applications",
    "/beta/servicePrincipals/microsoft.graph.agentIdentity",
    "/beta/applications/microsoft.graph.agentIdentityBlueprint",
    "/v1.0/oauth2PermissionGrants",
    "/v1.0/roleManagement/directory/roleAssignments",
}
"""Collections of principals and what they hold: never asked for without a filter."""


@pytest.fixture(scope="module")
def default_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    yield from _serve(None, tmp_path_factory.mktemp("own-entra-default"))


@pytest.fixture(scope="module")
def generated_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    directory = tmp_path_factory.mktemp("own-entra-generated")
    world = directory / "world.yaml"
    world.write_text(generate_yaml(200, 2, 13, ("entra",)))
    yield from _serve(world, directory)


async def _check(config: Path, agent: str) -> None:
    ids = listed_ids(config, agent)
    inv = await scoped(config, agent)
    lookup = await own(config, "entra", agent)
    want = expected(inv, "entra", agent, ids)
    assert want, f"{agent} has an Entra principal named like it"
    assert certain(lookup.found, agent, ids) == want
    mine = {i.id for i in want}
    grants = sorted((g for g in inv.discoveries["entra"].grants if g.identity in mine), key=repr)
    assert sorted((g for g in lookup.found.grants if g.identity in mine), key=repr) == grants
    assert grants, "the principals hold grants"
    unfiltered = [
        (r["path"], r["query"])
        for r in lookup.requests
        if r["path"] in COLLECTIONS and "$filter" not in parse_qs(r["query"])
    ]
    assert unfiltered == []


async def test_the_story_agent_own_principals_equal_the_scoped_read(default_lab: Path) -> None:
    await _check(default_lab, "invoice-agent")


async def test_on_a_generated_world_without_listing_the_tenant(generated_lab: Path) -> None:
    inv = await estate(generated_lab)
    agents = named_agents(inv, "entra")
    assert len(agents) >= 3
    for agent in agents[:: max(1, len(agents) // 4)]:
        await _check(generated_lab, agent)


async def test_an_agent_without_entra_principals_gets_nothing(default_lab: Path) -> None:
    inv = await estate(default_lab)
    for agent in [*absent_agents(inv, "entra")[:1], "nobody-by-this-name"]:
        lookup = await own(default_lab, "entra", agent)
        assert lookup.found.identities == [] and lookup.found.grants == []
        assert lookup.found.edges == []


async def test_a_principal_named_like_the_agent_keeps_another_agents_tag(
    engine: Engine, emulator: EntraEmulator
) -> None:
    d = emulator.directory
    sp = d.service_principals.get(d.sp_by_client_id[emulator.client_id("gpt-scraper-bot")])
    assert sp is not None
    before = list(sp.get("tags") or [])
    sp["tags"] = [*before, "agent-ir:agent=someone-else"]
    try:
        adapter = engine.providers()["entra"]
        assert isinstance(adapter, EntraProvider) and isinstance(adapter, OwnLookup)
        found = await adapter.own_identities("GPT-Scraper-Bot", frozenset({"arn:aws:iam::1:x"}))
    finally:
        sp["tags"] = before
        await engine.aclose()
    assert [(i.id, i.agent) for i in found.identities] == [(sp["id"], "someone-else")]
    assert [c.kind for c in found.identities[0].credentials] == ["client-secret"]
    assert certain(found, "gpt-scraper-bot", frozenset()) == []
