"""The GCP activity reader against the lab: Cloud Audit Logs recorded from the calls the
lab received and from the world's seeded history, read through Cloud Logging v2."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from google.auth.transport.requests import AuthorizedSession, Request

from agent_ir.activity.model import ActivityEvent, ActivityWindow
from agent_ir.lab.faults import FaultSpec
from agent_ir.lab.gcp import GcpEmulator
from agent_ir.lab.runner import Lab
from agent_ir.lab.world import load_world_text
from agent_ir.model import Identity
from agent_ir.providers.base import ProviderContext
from agent_ir.providers.gcp.activity import GcpActivityReader
from agent_ir.providers.gcp.adapter import GcpProvider
from agent_ir.providers.gcp.config import GcpSettings
from tests.providers.gcp.conftest import (
    AGENT,
    GCP_WORLD,
    LEDGER,
    READER,
    http_session,
    key_credentials,
)

ACTIVITY = f"""
activity:
  - provider: gcp
    identity: {AGENT}
    via: [{READER}]
    actions: [storage.objects.get, storage.objects.list]
    resources: [projects/_/buckets/finance-ledgers/objects/ledger.csv]
    count: 120
    past_days: 3
    denied: 3
    source_ip: 198.51.100.24
"""


@pytest.fixture(scope="module")
def activity_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """A GCP lab whose world seeds the invoice agent's impersonated reads."""
    world = load_world_text(GCP_WORLD + ACTIVITY, "tests/providers/gcp/test_gcp_activity.py")
    with Lab(world, tmp_path_factory.mktemp("gcp-activity")) as running:
        yield running


@pytest.fixture
def lab(activity_lab: Lab) -> Iterator[Lab]:
    yield activity_lab
    activity_lab.reset()


@pytest.fixture
def gcp(lab: Lab) -> GcpSettings:
    found = lab.settings.providers.gcp
    assert found is not None
    return found


def _identity(email: str) -> Identity:
    return Identity("gcp", "service-account", email, email.partition("@")[0], "corp-prod")


def _window(limit: int = 1000, days: float = 4) -> ActivityWindow:
    now = datetime.now(UTC) + timedelta(seconds=5)
    return ActivityWindow(now - timedelta(days=days), now, limit)


async def _read(
    settings: GcpSettings, emails: list[str], window: ActivityWindow, page_size: int = 1000
) -> tuple[list[ActivityEvent], bool, int, int]:
    adapter = GcpProvider.from_settings(settings, ProviderContext())
    try:
        reader = GcpActivityReader(await adapter.client(), settings, page_size)
        page = await reader.read([_identity(e) for e in emails], window)
        retries = (await adapter.client()).retries
    finally:
        await adapter.aclose()
    return list(page.events), page.truncated, page.requests, retries


async def test_seeded_reads_come_back_paged_with_the_impersonation_chain(
    gcp: GcpSettings,
) -> None:
    events, truncated, requests, _ = await _read(gcp, [READER], _window(), page_size=25)
    assert len(events) == 120 and not truncated and requests == 5
    whens = [e.when for e in events]
    assert whens == sorted(whens, reverse=True)
    first = events[0]
    assert [h.principal for h in first.chain] == [AGENT]
    assert sum(e.outcome == "denied" for e in events) == 3
    assert {e.source_ip for e in events} == {"198.51.100.24"}


async def test_the_bound_and_the_window(gcp: GcpSettings) -> None:
    everything, _, _, _ = await _read(gcp, [READER], _window())
    bounded, truncated, _, _ = await _read(gcp, [READER], _window(limit=30), page_size=20)
    assert truncated and [e.event_id for e in bounded] == [e.event_id for e in everything[:30]]
    now = datetime.now(UTC)
    day = ActivityWindow(now - timedelta(days=1), now, 1000)
    recent, _, _, _ = await _read(gcp, [READER], day)
    expected = [e.event_id for e in everything if day.holds(e.when)]
    assert 0 < len(recent) < len(everything)
    assert [e.event_id for e in recent] == expected


async def test_throttled_listings_are_retried(gcp: GcpSettings, lab: Lab) -> None:
    calm, _, _, _ = await _read(gcp, [READER], _window(), page_size=10)
    lab.faults["gcp"].update(FaultSpec(throttle_rate=0.4, retry_after_s=0, seed=5))
    stormy, _, _, retries = await _read(gcp, [READER], _window(), page_size=10)
    assert retries > 0
    assert [e.event_id for e in stormy] == [e.event_id for e in calm]


async def test_live_calls_denied_and_impersonated_are_logged_without_secrets(
    gcp: GcpSettings, lab: Lab, tmp_path: Path
) -> None:
    emulator = lab.emulators["gcp"]
    assert isinstance(emulator, GcpEmulator)
    key_path = emulator.key_file(AGENT, tmp_path)
    creds = key_credentials(key_path)
    session = AuthorizedSession(creds, auth_request=Request(http_session(gcp)))
    session.trust_env = False
    session.verify = str(gcp.ca_bundle)
    base = gcp.iam_url
    refused = session.post(f"{base}/v1/projects/-/serviceAccounts/{LEDGER}:disable")
    minted = session.post(
        f"{base}/v1/projects/-/serviceAccounts/{READER}:generateAccessToken",
        json={"scope": ["https://www.googleapis.com/auth/cloud-platform"]},
    )
    assert refused.status_code == 403 and minted.status_code == 200
    token = minted.json()["accessToken"]
    as_reader = http_session(gcp)
    as_reader.headers["Authorization"] = f"Bearer {token}"
    assert as_reader.get(f"{base}/v1/projects/corp-data/serviceAccounts").status_code == 403
    window = _window(days=0.05)
    agent_events, _, _, _ = await _read(gcp, [AGENT], window)
    reader_events, _, _, _ = await _read(gcp, [READER], window)
    outcomes = {e.action: e.outcome for e in agent_events}
    assert outcomes["google.iam.admin.v1.DisableServiceAccount"] == "denied"
    assert outcomes["GenerateAccessToken"] == "success"
    listed = reader_events[0]
    assert listed.action == "google.iam.admin.v1.ListServiceAccounts"
    assert listed.outcome == "denied"
    assert [h.principal for h in listed.chain] == [AGENT]
    dumped = json.dumps([e.to_json(raw=True) for e in agent_events + reader_events])
    private = json.loads(key_path.read_text())["private_key"]
    assert token not in dumped and str(creds.token) not in dumped
    assert private.splitlines()[1] not in dumped


def test_a_filter_outside_the_subset_is_refused_as_google_does(gcp: GcpSettings, lab: Lab) -> None:
    assert gcp.key_file is not None
    session = AuthorizedSession(
        key_credentials(Path(gcp.key_file)), auth_request=Request(http_session(gcp))
    )
    session.trust_env = False
    session.verify = str(gcp.ca_bundle)
    reply = session.post(
        f"{gcp.logging_url}/v2/entries:list",
        json={"resourceNames": ["projects/corp-prod"], "filter": 'severity="ERROR" OR x=1'},
    )
    assert reply.status_code == 400
    assert reply.json()["error"]["status"] == "INVALID_ARGUMENT"
