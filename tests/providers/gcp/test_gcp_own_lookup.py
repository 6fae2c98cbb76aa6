"""The GCP adapter's own lookup (``own_identities``) against labs served over real sockets:
it returns exactly the service accounts the engine's agent-scoped read gives the agent by
account id (the identity's name) or inventory email, read the same way (keys, description
tag, project grants), without listing accounts or searching Cloud Asset (counted from the
lab's request log)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agent_ir.errors import ProviderUnavailable
from agent_ir.providers.base import Discovery, OwnLookup
from agent_ir.providers.gcp.adapter import GcpProvider, own_emails
from agent_ir.settings import load_settings
from tests.providers import own_lookup as lab

WORLD = lab.generated_world(200)


@pytest.fixture(scope="module")
def default_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    yield from lab.serve_default(tmp_path_factory.mktemp("own-gcp-default"))


@pytest.fixture(scope="module")
def generated_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    yield from lab.serve_generated(tmp_path_factory.mktemp("own-gcp-generated"), WORLD)


def _listing(entry: dict[str, Any]) -> bool:
    """A request that pages or searches the estate."""
    path = str(entry["path"])
    return (
        (entry["method"] == "GET" and path.endswith("/serviceAccounts"))
        or "searchAll" in path
        or "workloadIdentityPools" in path
        or "activities" in path
    )


async def _own(config: Path, agent: str, **overrides: object) -> tuple[Discovery, Counter[str]]:
    """One own lookup on a fresh adapter, and what it asked (method and path shape)."""
    settings = load_settings(config)
    gcp_settings = settings.providers.gcp
    assert gcp_settings is not None
    gcp = GcpProvider(gcp_settings.model_copy(update=overrides), lab.containment())
    assert isinstance(gcp, OwnLookup)
    lab.clear_log(config)
    try:
        found = await gcp.own_identities(agent, lab.inventory_ids(settings, agent))
    finally:
        await gcp.aclose()
    entries = lab.logged(config, "gcp")
    listings = [e for e in entries if _listing(e)]
    assert not listings, listings
    asked = Counter(f"{e['method']} {_shape(str(e['path']))}" for e in entries)
    return found, asked


def _shape(path: str) -> str:
    """A path with the account and project named generically (for counting)."""
    parts = path.split("/")
    out = []
    for i, part in enumerate(parts):
        previous = parts[i - 1] if i else ""
        out.append("*" if previous in ("serviceAccounts", "projects") and part != "-" else part)
    return "/".join(out)


async def _same_as_scoped(config: Path, agent: str) -> tuple[Discovery, Counter[str]]:
    expected = await lab.scoped(config, agent, "gcp")
    found, asked = await _own(config, agent)
    assert lab.by_id(found) == expected.own
    # grants on the project are the account's own; grants on other accounts' policies
    # are what it can become, which the closure read finds (Cloud Asset): a subset here
    project = [g for g in expected.grants if g.kind == "project-binding"]
    assert lab.grant_keys([g for g in found.grants if g.kind == "project-binding"]) == (
        lab.grant_keys(project)
    )
    assert set(lab.grant_keys(found.grants)) <= set(lab.grant_keys(expected.grants))
    assert set(found.edges) <= set(expected.edges)
    return found, asked


async def test_default_world_story_agent_equals_the_scoped_read(default_lab: Path) -> None:
    found, asked = await _same_as_scoped(default_lab, "invoice-agent")
    account = lab.by_id(found)["invoice-agent@corp-prod.iam.gserviceaccount.com"]
    assert account.agent == "invoice-agent" and account.credentials
    assert len(found.identities) == 1
    print(f"\ninvoice-agent own lookup, GCP requests: {sum(asked.values())} {dict(asked)}")


async def test_generated_world_equals_the_scoped_read(generated_lab: Path) -> None:
    found, asked = await _same_as_scoped(generated_lab, WORLD.agent)
    projects = load_settings(generated_lab).providers.gcp.projects  # type: ignore[union-attr]
    home = next(p for p in projects if p != lab.DECOY_PROJECT)
    assert set(lab.by_id(found)) == {
        f"{WORLD.agent}@{home}{lab.SA}",
        f"{WORLD.agent}@{lab.DECOY_PROJECT}{lab.SA}",
        WORLD.by_id_account,
    }
    assert lab.by_id(found)[WORLD.by_id_account].credentials
    # one GET per configured project for the name, one per inventory email: not the estate
    assert sum(asked.values()) < 20, asked
    print(f"\n{WORLD.agent} own lookup, GCP requests: {sum(asked.values())} {dict(asked)}")


async def test_a_decoy_named_like_the_agent_keeps_its_tag(generated_lab: Path) -> None:
    decoy = f"{WORLD.agent}@{lab.DECOY_PROJECT}{lab.SA}"
    expected = await lab.scoped(generated_lab, WORLD.agent, "gcp")
    found, _ = await _own(generated_lab, WORLD.agent)
    assert lab.by_id(found)[decoy].agent == WORLD.other
    assert any(g.identity == decoy and g.grant == "roles/viewer" for g in found.grants)
    assert decoy not in expected.attributed


@pytest.mark.parametrize("agent", ["helpdesk-copilot", "no-such-agent-anywhere", "Bad_Name"])
async def test_an_agent_without_service_accounts_gives_an_empty_discovery(
    default_lab: Path, agent: str
) -> None:
    found, _ = await _own(default_lab, agent)
    assert (found.identities, found.grants, found.edges) == ([], [], [])


def test_emails_asked_follow_the_account_id_rules() -> None:
    ids = frozenset(
        {
            "arn:aws:iam::111111111111:user/x",
            "00000000-0000-0000-0000-000000000001",
            "runner@p1.iam.gserviceaccount.com",
            "12345-compute@developer.gserviceaccount.com",
        }
    )
    asked = dict(own_emails("My-Agent", ids, ["p1", "p2"]))
    assert asked == {
        "my-agent@p1.iam.gserviceaccount.com": "p1",
        "my-agent@p2.iam.gserviceaccount.com": "p2",
        "runner@p1.iam.gserviceaccount.com": "p1",
        "12345-compute@developer.gserviceaccount.com": "-",
    }
    assert dict(own_emails("ab", frozenset(), ["p1"])) == {}  # too short for an account id


async def test_a_failing_iam_is_provider_unavailable_not_absent(default_lab: Path) -> None:
    settings = load_settings(default_lab)
    assert settings.providers.gcp is not None
    gcp = GcpProvider(
        settings.providers.gcp.model_copy(update={"max_attempts": 1}), lab.containment()
    )
    try:
        await gcp.own_identities("gpt-scraper-bot", frozenset())  # signs in
        lab.set_faults(default_lab, "gcp", {"error_rate": 1.0})
        try:
            with pytest.raises(ProviderUnavailable):
                await gcp.own_identities("invoice-agent", frozenset())
        finally:
            lab.set_faults(default_lab, "gcp", {})
    finally:
        await gcp.aclose()
