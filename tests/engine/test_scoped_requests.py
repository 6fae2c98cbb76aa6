"""Agent-scoped discovery does not read identities outside the agent's closure: counted
from the lab's request log (every request each emulator received), on a generated world
of all four providers served by ``agent-ir lab serve``.

A request *touches* an identity when its path or its form parameters name it: its id, an
alias, its name, or one of its credentials' ids. Listings that name no identity (pages of
users, roles, accounts, apps) are not touches; making those filtered queries is the next
step (issue 13, point 1).
"""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import httpx
import pytest
import yaml

from agent_ir.data import playbook_dir
from agent_ir.engine.incident import plan_for
from agent_ir.engine.inventory import Engine, Inventory
from agent_ir.lab.generator import generate_yaml
from agent_ir.playbook.loader import load_playbook
from agent_ir.settings import load_settings
from tests.engine.test_scoped_discovery import _serve

PROVIDERS = ("aws", "entra", "gcp", "okta")


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    directory = tmp_path_factory.mktemp("scoped-requests")
    world = directory / "world.yaml"
    world.write_text(generate_yaml(60, 2, 11, PROVIDERS))
    yield from _serve(world, directory)


def _control(config: Path) -> tuple[dict[str, str], ssl.SSLContext]:
    urls = yaml.safe_load(config.read_text())["lab_control"]
    return urls, ssl.create_default_context(cafile=str(config.parent / "ca.pem"))


def _clear(config: Path) -> None:
    urls, ca = _control(config)
    for url in urls.values():
        httpx.delete(url + "/requests", verify=ca, timeout=60).raise_for_status()


def _logged(config: Path) -> dict[str, list[dict[str, Any]]]:
    urls, ca = _control(config)
    return {
        provider: httpx.get(url + "/requests", verify=ca, timeout=60).json()["requests"]
        for provider, url in urls.items()
    }


def _names(inv: Inventory) -> dict[str, str]:
    """Every token that names an identity → that identity's id (the responder's own
    identities, which sign in, are not targets)."""
    names: dict[str, str] = {}
    responders = set().union(*(d.responder_ids for d in inv.discoveries.values()))
    for ident in inv.identities.values():
        if ident.id in responders:
            continue
        for token in (ident.id, ident.name, *ident.aliases, *(c.id for c in ident.credentials)):
            if token and len(token) > 3:
                names.setdefault(token, ident.id)
    return names


def _tokens(entry: dict[str, Any]) -> list[str]:
    """What one logged request names: its path segments (a GCP ``:verb`` cut off) and the
    values of its form parameters (AWS puts ``UserName`` and ``RoleName`` there)."""
    out = []
    for segment in entry["path"].split("/"):
        out.append(unquote(segment).split(":", 1)[0] if "@" in unquote(segment) else segment)
        out.append(unquote(segment))
    out += [str(v) for k, v in entry["params"].items() if k != "Action"]
    return out


def _touched(
    logged: dict[str, list[dict[str, Any]]], names: dict[str, str]
) -> list[tuple[str, str, str]]:
    """(provider, request, identity) for every request that names an identity."""
    touches = []
    for provider, entries in logged.items():
        for entry in entries:
            what = f"{entry['method']} {entry['path']} {entry['params'].get('Action', '')}"
            for token in _tokens(entry):
                if token in names:
                    touches.append((provider, what.strip(), names[token]))
    return touches


async def _closure(config: Path, agent: str) -> tuple[set[str], dict[str, str]]:
    """The agent's identities and all they reach, from a whole-estate inventory."""
    engine = Engine(load_settings(config))
    try:
        inv = await engine.inventory()
        own = [i.id for i in inv.agent(agent).identities]
        reach = {target for target, _ in inv.graph.reach(own)}
        return {*own, *reach}, _names(inv)
    finally:
        await engine.aclose()


async def _widest(config: Path) -> list[str]:
    engine = Engine(load_settings(config))
    try:
        inv = await engine.inventory()
    finally:
        await engine.aclose()
    ranked = sorted(
        inv.agents,
        key=lambda a: (len(a.providers), len(inv.graph.reach(i.id for i in a.identities))),
    )
    return [ranked[-1].name, ranked[0].name]


async def test_scoped_plan_reads_nothing_outside_the_closure(lab: Path) -> None:
    playbook = load_playbook(playbook_dir() / "contain-agent.yaml")
    for agent in await _widest(lab):
        closure, names = await _closure(lab, agent)
        _clear(lab)
        scoped = Engine(load_settings(lab))
        try:
            await plan_for(scoped, agent, playbook, {})
        finally:
            await scoped.aclose()
        logged = _logged(lab)
        assert sum(len(e) for e in logged.values()) > 0
        touched = _touched(logged, names)
        # The closure itself is read (the test would prove nothing otherwise) ...
        assert {ident for _, _, ident in touched} & closure, agent
        # ... and nothing else is.
        outside = sorted({t for t in touched if t[2] not in closure})
        assert outside == [], f"{agent}: {len(outside)} requests outside: {outside[:10]}"
        assert _last_use_reads(logged) == [], agent
        # who may impersonate a GCP account is in that account's policy: Cloud Asset's
        # search names the few that matter instead of one getIamPolicy per account
        policy_reads = set(_gcp_account_policy_reads(logged))
        assert len(policy_reads) <= len(closure), (agent, sorted(policy_reads))
        assert any(":searchAllIamPolicies" in str(e["path"]) for e in logged["gcp"]), agent


def _gcp_account_policy_reads(logged: dict[str, list[dict[str, Any]]]) -> list[str]:
    return [
        str(entry["path"])
        for entry in logged.get("gcp", [])
        if "/serviceAccounts/" in str(entry["path"])
        and str(entry["path"]).endswith(":getIamPolicy")
    ]


LAST_USE = (
    ("aws", "GetAccessKeyLastUsed"),
    ("entra", "/reports/appCredentialSignInActivities"),
    ("gcp", "/activityTypes/serviceAccountKeyLastAuthentication"),
)
"""Reads of when credentials were last used: no containment step needs them, and two of
them page the whole estate's credentials."""


def _last_use_reads(logged: dict[str, list[dict[str, Any]]]) -> list[str]:
    return [
        f"{provider} {entry['method']} {entry['path']} {entry['params'].get('Action', '')}"
        for provider, marker in LAST_USE
        for entry in logged.get(provider, [])
        if marker == entry["params"].get("Action") or marker in str(entry["path"])
    ]


async def test_estate_read_still_asks_when_credentials_were_last_used(lab: Path) -> None:
    """The skipped last-use reads are the containment's only: ``show`` and the inventory
    still make them (their findings need them), so the check above can fail."""
    agent = (await _widest(lab))[0]
    _clear(lab)
    engine = Engine(load_settings(lab))
    try:
        await engine.agent_inventory(agent)
    finally:
        await engine.aclose()
    found = {line.split()[0] for line in _last_use_reads(_logged(lab))}
    assert {"entra", "gcp"} <= found


async def test_scoped_plan_asks_graph_who_federates_instead_of_listing_every_app(
    lab: Path,
) -> None:
    """Which applications trust the agent's outside identities is one advanced query per
    15 subjects, not a listing of every agent application's federated credentials: the
    scoped plan lists those of the agent's own applications only."""
    playbook = load_playbook(playbook_dir() / "contain-agent.yaml")
    agent = (await _widest(lab))[0]
    _clear(lab)
    estate = Engine(load_settings(lab))
    try:
        await estate.inventory()
    finally:
        await estate.aclose()
    everyone = _fic_listings(_logged(lab)["entra"])
    _clear(lab)
    scoped = Engine(load_settings(lab))
    try:
        await plan_for(scoped, agent, playbook, {})
    finally:
        await scoped.aclose()
    entra = _logged(lab)["entra"]
    asked = [e for e in entra if "federatedIdentityCredentials/any" in unquote(e["query"])]
    assert asked, "the scoped plan never asked Graph who federates into it"
    assert len(_fic_listings(entra)) <= 3 < len(everyone), (len(everyone), agent)


def _fic_listings(entries: list[dict[str, Any]]) -> list[str]:
    return [
        str(e["path"]) for e in entries if str(e["path"]).endswith("/federatedIdentityCredentials")
    ]


TENANT_LISTINGS = (
    "servicePrincipals",
    "servicePrincipals/microsoft.graph.agentIdentity",
    "applications",
    "applications/microsoft.graph.agentIdentityBlueprint",
    "oauth2PermissionGrants",
    "roleManagement/directory/roleAssignments",
)
"""Graph collections whose whole listing is the tenant's every principal, agent identity,
application, blueprint, consent or role assignment."""


def _whole_listings(entries: list[dict[str, Any]]) -> list[str]:
    """The requests that list one of :data:`TENANT_LISTINGS` without a ``$filter``."""
    out = []
    for entry in entries:
        path = str(entry["path"]).strip("/")
        collection = path.split("/", 1)[1] if "/" in path else path  # the version cut off
        if collection in TENANT_LISTINGS and "$filter" not in unquote(str(entry["query"])):
            out.append(f"{entry['method']} {path}")
    return out


async def test_scoped_plan_does_not_list_the_tenant(lab: Path) -> None:
    """An agent-scoped plan asks Graph by filter (the agent's name, its tag, ids, the
    principals in focus) for principals, agent identities, applications, consents and
    role assignments; the estate read lists them whole, so the check can fail."""
    playbook = load_playbook(playbook_dir() / "contain-agent.yaml")
    _clear(lab)
    estate = Engine(load_settings(lab))
    try:
        await estate.inventory()
    finally:
        await estate.aclose()
    assert len(set(_whole_listings(_logged(lab)["entra"]))) == len(TENANT_LISTINGS)
    for agent in await _widest(lab):
        _clear(lab)
        scoped = Engine(load_settings(lab))
        try:
            await plan_for(scoped, agent, playbook, {})
        finally:
            await scoped.aclose()
        entra = _logged(lab)["entra"]
        assert any("$filter" in unquote(str(e["query"])) for e in entra), agent
        assert _whole_listings(entra) == [], agent
