"""The Entra activity reader against the lab: sign-ins and directory audits recorded from
what the lab received and from the world's seeded history, read back through Graph."""

from __future__ import annotations

import json
import ssl
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from agent_ir.activity.model import ActivityWindow
from agent_ir.lab.entra import EntraEmulator
from agent_ir.lab.runner import Lab
from agent_ir.lab.world import load_world_text
from agent_ir.model import Identity
from agent_ir.providers.entra.activity import EntraActivityReader
from agent_ir.providers.entra.config import EntraSettings
from tests.providers.entra.entra_helpers import WORLD, adapter_for

ACTIVITY = """
activity:
  - provider: entra
    identity: invoice-agent
    actions: [signIn]
    resources: [Microsoft Graph]
    count: 230
    past_days: 2
    denied: 5
    source_ip: 198.51.100.24
  - provider: entra
    identity: invoice-agent
    actions: [Add app role assignment to service principal]
    resources: [finance-api]
    count: 7
    past_days: 2
"""


@pytest.fixture(scope="module")
def activity_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """An Entra lab whose world seeds the invoice agent's history."""
    world = load_world_text(WORLD + ACTIVITY, "tests/providers/entra/test_entra_activity.py")
    with Lab(world, tmp_path_factory.mktemp("entra-activity")) as running:
        yield running


@pytest.fixture
def lab(activity_lab: Lab) -> Iterator[Lab]:
    """The lab, reset (logs, limits and faults) after the test."""
    yield activity_lab
    activity_lab.reset()


@pytest.fixture
def settings(lab: Lab) -> EntraSettings:
    section = lab.settings.providers.entra
    assert section is not None
    return section.model_copy(update={"retry_backoff_s": 0.02})


@pytest.fixture
def emulator(lab: Lab) -> EntraEmulator:
    found = lab.emulators["entra"]
    assert isinstance(found, EntraEmulator)
    return found


def _window(limit: int = 1000, days: float = 3) -> ActivityWindow:
    now = datetime.now(UTC) + timedelta(seconds=5)
    return ActivityWindow(now - timedelta(days=days), now, limit)


async def _identities(settings: EntraSettings) -> dict[str, Identity]:
    async with adapter_for(settings) as adapter:
        found = await adapter.discover()
    return {i.name: i for i in found.identities}


async def test_seeded_history_is_read_in_pages_newest_first(settings: EntraSettings) -> None:
    agent = (await _identities(settings))["invoice-agent"]
    async with adapter_for(settings) as adapter:
        page = await EntraActivityReader(adapter.graph, page_size=50).read([agent], _window())
    sign_ins = [e for e in page.events if e.action == "signIn"]
    audits = [e for e in page.events if e.action != "signIn"]
    assert len(sign_ins) == 230 and len(audits) == 7
    assert page.requests >= 5 + 1 and not page.truncated
    assert [e.when for e in page.events] == sorted((e.when for e in page.events), reverse=True)
    assert sum(e.outcome == "denied" for e in sign_ins) == 5
    assert all(e.identity_id == agent.id and e.source_ip == "198.51.100.24" for e in sign_ins)
    blueprint = [h for h in sign_ins[0].chain if h.kind == "actor"]
    assert blueprint and sign_ins[0].chain[0].principal == agent.aliases[0]
    assert {e.resource for e in audits} == {"finance-api"}


async def test_the_bound_keeps_the_newest_and_says_it_cut(settings: EntraSettings) -> None:
    agent = (await _identities(settings))["invoice-agent"]
    async with adapter_for(settings) as adapter:
        everything = await EntraActivityReader(adapter.graph).read([agent], _window())
        bounded = await EntraActivityReader(adapter.graph, page_size=40).read(
            [agent], _window(limit=100)
        )
    assert bounded.truncated and len(bounded.events) == 100
    assert [e.event_id for e in bounded.events] == [e.event_id for e in everything.events[:100]]


async def test_the_time_window_is_honoured(settings: EntraSettings) -> None:
    agent = (await _identities(settings))["invoice-agent"]
    now = datetime.now(UTC)
    window = ActivityWindow(now - timedelta(days=1), now, 1000)
    async with adapter_for(settings) as adapter:
        whole = await EntraActivityReader(adapter.graph).read([agent], _window())
        recent = await EntraActivityReader(adapter.graph).read([agent], window)
    expected = [e.event_id for e in whole.events if window.holds(e.when)]
    assert 0 < len(recent.events) < len(whole.events)
    assert [e.event_id for e in recent.events] == expected


async def test_graphs_throttling_is_ridden_out(
    settings: EntraSettings, emulator: EntraEmulator
) -> None:
    agent = (await _identities(settings))["invoice-agent"]
    async with adapter_for(settings) as adapter:
        calm = await EntraActivityReader(adapter.graph, page_size=25).read([agent], _window())
    emulator.set_limits(read_ru_per_10s=3)
    async with adapter_for(settings) as adapter:
        stormy = await EntraActivityReader(adapter.graph, page_size=25).read([agent], _window())
        throttled = adapter.graph.throttled
    assert throttled > 0
    assert [e.event_id for e in stormy.events] == [e.event_id for e in calm.events]


async def test_a_refused_token_request_is_read_back_as_denied_without_the_secret(
    settings: EntraSettings, emulator: EntraEmulator, lab: Lab
) -> None:
    blueprint = (await _identities(settings))["invoice-agent-blueprint"]
    secret = emulator.client_secret("invoice-agent-blueprint")
    token_url = f"{settings.authority}/oauth2/v2.0/token"
    form = {
        "grant_type": "client_credentials",
        "client_id": emulator.client_id("invoice-agent-blueprint"),
        "scope": "https://graph.microsoft.com/.default",
    }
    with httpx.Client(verify=ssl.create_default_context(cafile=str(lab.ca_path))) as http:
        granted = http.post(token_url, data={**form, "client_secret": secret})
        refused = http.post(token_url, data={**form, "client_secret": secret[:-2] + "xx"})
    assert granted.status_code == 200 and refused.status_code == 401
    async with adapter_for(settings) as adapter:
        page = await EntraActivityReader(adapter.graph).read([blueprint], _window(days=0.1))
    assert [e.outcome for e in page.events] == ["denied", "success"]
    assert page.events[0].error.startswith("AADSTS7000215")
    dumped = json.dumps([e.to_json(raw=True) for e in page.events])
    assert secret not in dumped and secret[:-2] not in dumped
    assert granted.json()["access_token"] not in dumped


async def test_the_responders_own_calls_are_not_logged(
    settings: EntraSettings, emulator: EntraEmulator
) -> None:
    before = len(emulator.directory.sign_in_log)
    await _identities(settings)
    assert len(emulator.directory.sign_in_log) == before
