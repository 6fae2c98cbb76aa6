"""The Okta activity reader against the lab: System Log events recorded from what the lab
received and from the world's seeded history, read back with ``since``/``until``, a
filter and ``Link`` paging."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from agent_ir.activity.model import ActivityPage, ActivityWindow
from agent_ir.lab.okta import OktaEmulator
from agent_ir.lab.runner import Lab
from agent_ir.lab.world import load_world_text
from agent_ir.model import Identity
from agent_ir.providers.okta.activity import OktaActivityReader
from tests.providers.okta.conftest import OKTA_WORLD
from tests.providers.okta.helpers import PlainOkta, make_adapter

ACTIVITY = """
activity:
  - provider: okta
    identity: invoice-agent
    actions: [app.oauth2.as.token.grant.access_token, user.lifecycle.update]
    resources: [alice@corp.test]
    count: 140
    past_days: 3
    denied: 4
    source_ip: 198.51.100.24
"""


@pytest.fixture(scope="module")
def activity_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """An Okta lab whose world seeds the invoice agent's history."""
    world = load_world_text(OKTA_WORLD + ACTIVITY, "tests/providers/okta/test_okta_activity.py")
    with Lab(world, tmp_path_factory.mktemp("okta-activity")) as running:
        yield running


@pytest.fixture
def lab(activity_lab: Lab) -> Iterator[Lab]:
    yield activity_lab
    activity_lab.reset()


@pytest.fixture
def emulator(lab: Lab) -> OktaEmulator:
    found = lab.emulators["okta"]
    assert isinstance(found, OktaEmulator)
    return found


def _app(emulator: OktaEmulator, label: str) -> Identity:
    with emulator.state.lock:
        app = next(a for a in emulator.state.apps.values() if a.label == label)
    return Identity(
        "okta", "service-app", app.id, label, "corp", tags=(("client_id", app.client_id),)
    )


def _window(limit: int = 1000, days: float = 4) -> ActivityWindow:
    now = datetime.now(UTC) + timedelta(seconds=5)
    return ActivityWindow(now - timedelta(days=days), now, limit)


async def _read(
    lab: Lab, identity: Identity, window: ActivityWindow, page_size: int = 1000
) -> ActivityPage:
    adapter = make_adapter(lab)
    try:
        return await OktaActivityReader(adapter.client, page_size).read([identity], window)
    finally:
        await adapter.aclose()


async def test_seeded_history_is_paged_by_link_newest_first(
    lab: Lab, emulator: OktaEmulator
) -> None:
    agent = _app(emulator, "invoice-agent")
    page = await _read(lab, agent, _window(), page_size=30)
    seeded = [e for e in page.events if e.source_ip == "198.51.100.24"]
    assert len(seeded) == 140 and not page.truncated
    assert page.requests >= 5
    assert [e.when for e in page.events] == sorted((e.when for e in page.events), reverse=True)
    assert sum(e.outcome == "denied" for e in seeded) == 4
    assert all(
        e.chain[0].kind == "actor" and e.chain[0].principal == agent.tag("client_id")
        for e in page.events
    )


async def test_the_bound_and_the_window(lab: Lab, emulator: OktaEmulator) -> None:
    agent = _app(emulator, "invoice-agent")
    everything = await _read(lab, agent, _window())
    bounded = await _read(lab, agent, _window(limit=50), page_size=20)
    assert bounded.truncated and len(bounded.events) == 50
    assert [e.event_id for e in bounded.events] == [e.event_id for e in everything.events[:50]]
    now = datetime.now(UTC)
    day = ActivityWindow(now - timedelta(days=1), now, 1000)
    recent = await _read(lab, agent, day)
    expected = [e.event_id for e in everything.events if day.holds(e.when)]
    assert 0 < len(recent.events) < len(everything.events)
    assert [e.event_id for e in recent.events] == expected


async def test_a_rate_limited_log_is_waited_for_not_hammered(
    lab: Lab, emulator: OktaEmulator
) -> None:
    agent = _app(emulator, "invoice-agent")
    calm = await _read(lab, agent, _window(), page_size=30)
    before = emulator.limiter.report()
    emulator.limiter.storm(1.0)
    stormy = await _read(lab, agent, _window(), page_size=30)
    after = emulator.limiter.report()
    assert after["throttled"] > before["throttled"]
    assert after["early_retries"] == before["early_retries"]
    assert [e.event_id for e in stormy.events] == [e.event_id for e in calm.events]


async def test_a_refused_token_request_and_a_denied_write_read_back_as_denied(
    lab: Lab, emulator: OktaEmulator
) -> None:
    plain = PlainOkta(lab)
    try:
        agent = _app(emulator, "invoice-agent")
        client_id = agent.tag("client_id") or ""
        pem, kid = emulator.private_key_pem("invoice-agent"), emulator.key_id("invoice-agent")
        granted = plain.token_response(client_id, pem, kid, "okta.users.read")
        scoped = plain.token_response(client_id, pem, kid, "okta.users.manage")
        token = granted.json()["access_token"]
        alice = plain.get("/api/v1/users", search='profile.login eq "alice@corp.test"')[0]
        write = plain.http.post(
            f"/api/v1/users/{alice['id']}/lifecycle/suspend",
            headers={"Authorization": f"Bearer {token}"},
        )
    finally:
        plain.close()
    assert granted.status_code == 200 and scoped.status_code == 400 and write.status_code == 403
    page = await _read(lab, agent, _window(days=0.05))
    live = [e for e in page.events if e.source_ip != "198.51.100.24"]
    outcomes = [(e.action, e.outcome) for e in live]
    assert outcomes == [
        ("user.lifecycle.suspend", "denied"),
        ("app.oauth2.as.token.grant.access_token", "denied"),
        ("app.oauth2.as.token.grant.access_token", "success"),
    ]
    dumped = json.dumps([e.to_json(raw=True) for e in page.events])
    assert token not in dumped and pem.splitlines()[1] not in dumped


def test_the_reader_module_does_not_import_the_okta_sdk() -> None:
    probe = (
        "import sys, agent_ir.providers.okta.activity, agent_ir.providers.okta.adapter;"
        "print('okta' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
