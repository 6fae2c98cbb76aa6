"""Okta's own lookup (the kill switch's first cut): the apps, AI agents and service users
named like the agent and the principals listed for it, found by search and read in full,
equal what the agent-scoped read gives the agent, without paging the org's apps; on the
default world and a generated one served by ``agent-ir lab serve``, and on the module's
Okta lab for an app tagged for another agent."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs

import pytest

from agent_ir.engine.inventory import Engine
from agent_ir.lab.generator import generate_yaml
from agent_ir.lab.okta import OktaEmulator
from agent_ir.model import Identity
from agent_ir.providers.base import OwnLookup
from agent_ir.providers.okta.discovery import AI_AGENTS
from agent_ir.settings import load_settings
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

SEARCHES = {
    "/api/v1/apps": ("q", "filter"),
    "/api/v1/users": ("search", "q", "filter"),
    AI_AGENTS: ("search",),
}
"""Listings that page the org unless one of these narrows them."""


@pytest.fixture(scope="module")
def default_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    yield from _serve(None, tmp_path_factory.mktemp("own-okta-default"))


@pytest.fixture(scope="module")
def generated_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    directory = tmp_path_factory.mktemp("own-okta-generated")
    world = directory / "world.yaml"
    world.write_text(generate_yaml(200, 2, 13, ("okta",)))
    yield from _serve(world, directory)


def _findable(want: list[Identity], ids: frozenset[str]) -> list[Identity]:
    """API tokens are found by id only: Okta's token list takes no search."""
    return [i for i in want if i.kind != "api-token" or i.id in ids]


async def _check(config: Path, agent: str) -> None:
    ids = listed_ids(config, agent)
    inv = await scoped(config, agent)
    lookup = await own(config, "okta", agent)
    want = _findable(expected(inv, "okta", agent, ids), ids)
    assert want, f"{agent} has an Okta principal named like it"
    assert certain(lookup.found, agent, ids) == want
    mine = {i.id for i in want}
    grants = sorted((g for g in inv.discoveries["okta"].grants if g.identity in mine), key=repr)
    assert sorted((g for g in lookup.found.grants if g.identity in mine), key=repr) == grants
    paged = [
        (r["path"], r["query"])
        for r in lookup.requests
        if r["method"] == "GET"
        and r["path"] in SEARCHES
        and not set(parse_qs(r["query"])) & set(SEARCHES[r["path"]])
    ]
    assert paged == []
    assert not [r for r in lookup.requests if r["path"] == "/api/v1/api-tokens"]
    assert not [r for r in lookup.requests if "application.lifecycle.create" in r["query"]]


async def test_the_story_agent_own_principals_equal_the_scoped_read(default_lab: Path) -> None:
    await _check(default_lab, "invoice-agent")


async def test_on_a_generated_world_without_paging_the_org(generated_lab: Path) -> None:
    inv = await estate(generated_lab)
    agents = named_agents(inv, "okta")
    assert len(agents) >= 3
    for agent in agents[:: max(1, len(agents) // 4)]:
        await _check(generated_lab, agent)


async def test_an_agent_without_okta_principals_gets_nothing(default_lab: Path) -> None:
    inv = await estate(default_lab)
    for agent in [*absent_agents(inv, "okta")[:1], "nobody-by-this-name"]:
        lookup = await own(default_lab, "okta", agent)
        assert lookup.found.identities == [] and lookup.found.grants == []


async def test_listed_ids_are_read_by_id_and_other_providers_ids_ignored(
    default_lab: Path,
) -> None:
    inv = await scoped(default_lab, "gpt-scraper-bot")
    tokens = [i for i in inv.agent("gpt-scraper-bot").identities if i.provider == "okta"]
    assert [i.kind for i in tokens] == ["api-token"]
    engine = Engine(load_settings(default_lab))
    try:
        adapter = engine.providers()["okta"]
        assert isinstance(adapter, OwnLookup)
        ids = frozenset({tokens[0].id, "arn:aws:iam::111111111111:user/invoice-agent"})
        found = await adapter.own_identities("nobody-by-this-name", ids)
    finally:
        await engine.aclose()
    assert found.identities == tokens


async def test_an_app_named_like_the_agent_keeps_another_agents_tag(
    okta_engine: Engine, emulator: OktaEmulator
) -> None:
    app = next(a for a in emulator.state.apps.values() if a.label == "invoice-agent")
    app.agent = "someone-else"
    adapter = okta_engine.providers()["okta"]
    assert isinstance(adapter, OwnLookup)
    found = await adapter.own_identities("Invoice-Agent", frozenset())
    assert [(i.id, i.agent) for i in found.identities] == [(app.id, "someone-else")]
    assert found.identities[0].credentials
    assert certain(found, "invoice-agent", frozenset()) == []
