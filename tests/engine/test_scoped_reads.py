"""AWS agent-scoped discovery reads the agent's principals by name and follows their
``sts:AssumeRole`` resources, never paging the account's authorization details; for the
agent's closure it gives exactly the identities, grants and edges the estate read gives.
Against the lab (moto's IAM over a real socket), default world and a generated one."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pytest

from agent_ir.engine.inventory import Engine, Inventory
from agent_ir.lab.generator import generate_yaml
from agent_ir.settings import load_settings
from tests.engine.test_scoped_discovery import _serve
from tests.engine.test_scoped_requests import _clear, _logged


@pytest.fixture(scope="module")
def default_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    yield from _serve(None, tmp_path_factory.mktemp("aws-scoped-default"))


@pytest.fixture(scope="module")
def generated_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    directory = tmp_path_factory.mktemp("aws-scoped-generated")
    world = directory / "world.yaml"
    world.write_text(generate_yaml(60, 2, 11, ("aws", "entra", "gcp", "okta")))
    yield from _serve(world, directory)


async def _both(config: Path, agent: str) -> tuple[Inventory, Inventory, set[str]]:
    """The estate inventory, the agent-scoped one, and the agent's AWS closure (from the
    estate: its own principals and every AWS principal they reach)."""
    estate = Engine(load_settings(config))
    try:
        full = await estate.inventory()
    finally:
        await estate.aclose()
    _clear(config)
    engine = Engine(load_settings(config))
    try:
        scoped = await engine.agent_inventory(agent)
    finally:
        await engine.aclose()
    own = [i.id for i in full.agent(agent).identities]
    reach = {t for t, _ in full.graph.reach(own)}
    closure = {i for i in {*own, *reach} if i in full.identities}
    return full, scoped, {i for i in closure if full.identities[i].provider == "aws"}


def _closure_view(inv: Inventory, closure: set[str]) -> dict[str, Any]:
    aws = inv.discoveries["aws"]
    return {
        "identities": {i.id: i for i in aws.identities if i.id in closure},
        "grants": sorted(
            (repr(g) for g in aws.grants if g.identity in closure),
        ),
        "edges": sorted(repr(e) for e in aws.edges if e.source in closure),
    }


def _query(entry: dict[str, Any]) -> dict[str, str]:
    return dict(parse_qsl(str(entry.get("query") or "")))


def _actions(config: Path) -> list[str]:
    return [str(e["params"].get("Action", "")) for e in _logged(config)["aws"]]


async def _check(config: Path, agent: str) -> dict[str, Any]:
    full, scoped, closure = await _both(config, agent)
    actions = _actions(config)
    assert "GetAccountAuthorizationDetails" not in actions
    assert {"GetUser", "ListAccessKeys", "ListUserPolicies"} <= set(actions)
    want = _closure_view(full, closure)
    got = _closure_view(scoped, closure)
    assert got["identities"] == want["identities"]
    assert got["grants"] == want["grants"]
    assert got["edges"] == want["edges"]
    # Only the closure was read in full: everyone else holds no grant here.
    held = {g.identity for g in scoped.discoveries["aws"].grants}
    assert held <= closure
    assert len(held) < len({g.identity for g in full.discoveries["aws"].grants})
    return want


async def test_invoice_agent_closure_equals_the_estate_read(default_lab: Path) -> None:
    want = await _check(default_lab, "invoice-agent")
    # The chain reaches the cross-account role through invoice-processor.
    assert "arn:aws:iam::222222222222:role/finance-data-reader" in want["identities"]
    assert any("finance-data-reader" in e for e in want["edges"])


async def test_generated_agent_closure_equals_the_estate_read(generated_lab: Path) -> None:
    engine = Engine(load_settings(generated_lab))
    try:
        inv = await engine.inventory()
    finally:
        await engine.aclose()
    with_role = [
        a.name
        for a in inv.agents
        if any(i.kind == "iam-user" for i in a.identities)
        and any(
            inv.identities[t].kind == "iam-role"
            for t, _ in inv.graph.reach(i.id for i in a.identities)
            if t in inv.identities
        )
    ]
    assert with_role
    want = await _check(generated_lab, with_role[0])
    assert any(":role/" in i for i in want["identities"])


async def test_okta_asks_for_the_agents_users_by_name_and_reads_only_its_apps(
    generated_lab: Path,
) -> None:
    """Okta's scoped read searches for the agent's service users (``search ... eq``) and
    lists apps whole (Okta's ``q`` matches only names and labels, and an app is tied to
    its agent by a profile attribute or the token that made it), reading in detail only
    the agent's apps; the agent's apps come out as the estate read finds them."""
    estate = Engine(load_settings(generated_lab))
    try:
        _clear(generated_lab)
        full = await estate.inventory()
        whole = len(_logged(generated_lab)["okta"])
    finally:
        await estate.aclose()
    agent = next(
        a.name
        for a in full.agents
        if any(i.provider == "okta" and i.kind == "service-app" for i in a.identities)
    )
    _clear(generated_lab)
    engine = Engine(load_settings(generated_lab))
    try:
        scoped = await engine.agent_inventory(agent)
    finally:
        await engine.aclose()
    logged = _logged(generated_lab)["okta"]
    listings = [_query(e) for e in logged if e["method"] == "GET" and e["path"] == "/api/v1/apps"]
    assert listings and not any("q" in q for q in listings)
    users = [_query(e) for e in logged if e["method"] == "GET" and e["path"] == "/api/v1/users"]
    assert users and all(f'eq "{agent}"' in q.get("search", "") for q in users)
    assert len(logged) < whole / 2, (len(logged), whole)
    apps = [i for i in full.agent(agent).identities if i.provider == "okta"]
    for ident in apps:
        assert scoped.identities[ident.id] == ident
        assert sorted(map(repr, scoped.grants.get(ident.id, []))) == sorted(
            map(repr, full.grants.get(ident.id, []))
        )
