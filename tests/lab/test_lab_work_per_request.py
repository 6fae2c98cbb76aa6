"""The Entra, Okta and GCP emulators answer from indexes: on a generated world of a few
thousand agents, every request of an inventory (lookups, filtered listings, pages) touches
a number of stored entities bounded by its page size, not by the size of the world.

Counted, never timed: each request's ``work`` in the lab's request log is how many
entities of the store it examined (:mod:`agent_ir.lab.work`). A store that scans (a page
sorted out of the whole table, a token found by walking every token, a child listing
filtered out of every row) touches thousands per request and fails here.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

from agent_ir.engine.inventory import Engine
from agent_ir.lab.generator import generate_world_data
from agent_ir.lab.runner import Lab
from agent_ir.lab.world import world_model

AGENTS = 2000
PAGE = 25
"""The page size the adapters are set to ask for, far below the world's size."""
PER_ITEM = 6
"""Entities one listed item may touch besides itself (its owners, its application, …)."""
FIXED = 30
"""What any request may touch whatever it returns (caller, policy bindings, a lookup)."""
LOOKUP = 3
"""What a filtered Graph query may touch besides its matches."""
PAGE_PARAMS = ("$top", "limit", "pageSize")


def _settings(lab: Lab, provider: str, journal: Path) -> Any:
    """The lab's settings with ``provider`` asking for small pages."""
    section = getattr(lab.settings.providers, provider)
    small = section.model_copy(update={"page_size": PAGE})
    providers = lab.settings.providers.model_copy(update={provider: small})
    return lab.settings.model_copy(update={"journal_dir": journal, "providers": providers})


async def _inventory(settings: Any) -> Any:
    engine = Engine(settings)
    try:
        return await engine.inventory()
    finally:
        await engine.aclose()


def _logged(lab: Lab, provider: str) -> list[dict[str, Any]]:
    ca = ssl.create_default_context(cafile=str(lab.ca_path))
    reply = httpx.get(lab.control_urls[provider] + "/requests", verify=ca, timeout=60)
    reply.raise_for_status()
    entries: list[dict[str, Any]] = reply.json()["requests"]
    return entries


def _clear(lab: Lab, provider: str) -> None:
    ca = ssl.create_default_context(cafile=str(lab.ca_path))
    httpx.delete(lab.control_urls[provider] + "/requests", verify=ca, timeout=60).raise_for_status()


def _page_asked(entry: dict[str, Any]) -> int:
    """The page size a request asked for (the provider's page when it named none)."""
    query = parse_qs(entry["query"])
    for name in PAGE_PARAMS:
        if name in query:
            return int(query[name][-1])
    return PAGE


@pytest.fixture(scope="module", params=["entra", "okta", "gcp"])
def crowded(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Lab, list[dict[str, Any]], int]]:
    """A lab on a generated world of AGENTS agents of one provider, the request log of one
    inventory through the real adapter, and how many identities it found."""
    provider: str = request.param
    data = generate_world_data(AGENTS, providers=(provider,))
    if provider == "okta":  # Okta's per-minute limit would make the run wait, not work
        data["okta"]["rate_limit"] = {"limit": 1_000_000}
    world = world_model().model_validate(data)
    directory = tmp_path_factory.mktemp(f"crowded-{provider}")
    with Lab(world, directory) as lab:
        _clear(lab, provider)
        found = asyncio.run(_inventory(_settings(lab, provider, directory / "journal")))
        identities = sum(len(agent.identities) for agent in found.agents)
        yield provider, lab, _logged(lab, provider), identities


def test_every_inventory_request_touches_a_page_not_the_world(
    crowded: tuple[str, Lab, list[dict[str, Any]], int],
) -> None:
    provider, _, logged, identities = crowded
    assert identities >= AGENTS // 2, f"{provider}: the inventory found {identities} identities"
    assert len(logged) > AGENTS // PAGE, f"{provider}: too few requests to page the world"
    over = [
        (entry["method"], entry["path"], entry["query"], entry["work"])
        for entry in logged
        if entry["work"] > PER_ITEM * min(_page_asked(entry), 1000) + FIXED
    ]
    assert not over, f"{provider}: {len(over)} requests scanned the store, e.g. {over[:5]}"
    # The counter is live: the pages did touch what they listed.
    assert sum(entry["work"] for entry in logged) >= AGENTS


def test_work_is_bounded_by_the_page_asked_for(
    crowded: tuple[str, Lab, list[dict[str, Any]], int],
) -> None:
    """Per request the work is O(page): the largest any request did is far below the
    world's size, however many identities the world holds."""
    provider, _, logged, identities = crowded
    largest = max(entry["work"] for entry in logged)
    assert largest <= PER_ITEM * PAGE + FIXED < identities // 4, (provider, largest)


@pytest.mark.parametrize("crowded", ["entra"], indirect=True)
@pytest.mark.parametrize(
    ("path", "table", "field"),
    [
        ("oauth2PermissionGrants", "grants", "clientId"),
        ("roleManagement/directory/roleAssignments", "role_assignments", "principalId"),
    ],
)
def test_a_graph_equality_filter_reads_only_its_candidates(
    crowded: tuple[str, Lab, list[dict[str, Any]], int], path: str, table: str, field: str
) -> None:
    """What a revoke's verify reads (``$filter=clientId eq '…'``): the same answer as the
    filter over every row, touching the matches, not the table."""
    from agent_ir.lab.entra import EntraEmulator
    from tests.providers.entra.entra_helpers import responder_http

    _, lab, _, _ = crowded
    emulator = lab.emulators["entra"]
    assert isinstance(emulator, EntraEmulator)
    rows = getattr(emulator.directory, table).latest_values()
    wanted = str(rows[len(rows) // 2][field])
    expected = sorted(r["id"] for r in rows if str(r[field]).lower() == wanted.lower())
    section = lab.settings.providers.entra
    assert section is not None
    with responder_http(section) as http:
        _clear(lab, "entra")
        # upper case: Graph compares strings ignoring case, and so must the index
        reply = http.get(f"/v1.0/{path}", params={"$filter": f"{field} eq '{wanted.upper()}'"})
        assert reply.status_code == 200, reply.text
    assert sorted(item["id"] for item in reply.json()["value"]) == expected
    (entry,) = [e for e in _logged(lab, "entra") if e["path"].endswith(path)]
    assert entry["work"] <= len(expected) + LOOKUP < len(rows), (entry["work"], len(rows))
