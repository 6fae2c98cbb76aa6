"""The tabletop's Okta changes end to end on an Okta-only lab: each change is made through
the management API, the probe sees the path it opens work, the okta SDK signing in with
the same key agrees, contain-agent runs through the engine against the suspect, and the
probe (and the SDK) see the path closed. Also: the lab's app creation refuses what Okta
refuses."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import pytest

from agent_ir.engine.incident import Who, execute, plan_for
from agent_ir.engine.inventory import Engine, Inventory
from agent_ir.errors import LabError
from agent_ir.lab.runner import Lab
from agent_ir.playbook.loader import find_playbook, load_playbook
from agent_ir.providers.base import utcnow
from agent_ir.tabletop.inject import apply_change
from agent_ir.tabletop.model import NewConsent, SpawnSubAgent
from agent_ir.tabletop.probe import PathResult, Probe
from agent_ir.tabletop.probe_okta import OktaProbe
from agent_ir.tabletop.run import apply_inject
from tests.providers.okta.helpers import FAST, PlainOkta
from tests.tabletop.section_lab import section_world

WHO = Who(responder="tester", reason="okta tabletop test")


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """A running lab with the Okta emulator only."""
    with Lab(section_world("okta"), tmp_path_factory.mktemp("okta-tabletop")) as running:
        yield running


@pytest.fixture
def fresh(lab: Lab) -> Iterator[Lab]:
    """The lab, reset to the world as seeded once the test is done."""
    yield lab
    lab.reset()


@pytest.fixture
async def engine(fresh: Lab, tmp_path: Path) -> AsyncIterator[Engine]:
    """An engine on the lab, journaling into the test's own folder."""
    settings = fresh.settings.model_copy(update={"journal_dir": tmp_path / "journal"})
    made = Engine(settings, clock=utcnow)
    yield made
    await made.aclose()


@pytest.fixture
def plain(lab: Lab) -> Iterator[PlainOkta]:
    """Plain HTTP to the lab as the responder."""
    client = PlainOkta(lab)
    yield client
    client.close()


def _consent(app: str, scope: str) -> NewConsent:
    return NewConsent(
        kind="change", at=60.0, change="new-consent", provider="okta", app=app, scope=scope
    )


def _spawn(name: str) -> SpawnSubAgent:
    return SpawnSubAgent(
        kind="change", at=30.0, change="spawn-sub-agent", provider="okta", name=name
    )


def _one(results: list[PathResult], needle: str) -> PathResult:
    found = [r for r in results if r.provider == "okta" and needle in r.path]
    assert len(found) == 1, [r.path for r in results]
    return found[0]


async def _sdk_reads_users(lab: Lab, config: dict[str, Any]) -> bool:
    """The okta SDK (private key or API token): does ``list_users`` answer?"""
    from okta.client import Client

    settings = lab.settings.providers.okta
    assert settings is not None
    client = Client({"orgUrl": settings.org_url, **config})
    context = ssl.create_default_context(cafile=str(settings.ca_bundle))
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=context)) as session:
        client.get_request_executor().set_session(session)
        _, _, err = await client.list_users(limit=1)
    return err is None


def _key_config(part: OktaProbe, label: str, scope: str) -> dict[str, Any]:
    key = next(k for k in [*part.keys, *part.scoped] if k.label == label)
    return {
        "authorizationMode": "PrivateKey",
        "clientId": key.client_id,
        "scopes": [scope],
        "privateKey": key.pem,
        "kid": key.kid,
    }


async def _contain(engine: Engine, agent: str) -> None:
    plan = await plan_for(engine, agent, load_playbook(find_playbook("contain-agent", [])), {})
    outcome = await execute(engine, plan, WHO, tuning=FAST)
    assert outcome.incident


async def test_a_new_consent_opens_a_scope_path_that_contain_agent_closes(
    fresh: Lab, engine: Engine, tmp_path: Path
) -> None:
    inventory, probe = await _armed(engine, fresh, tmp_path, "invoice-agent")
    part = probe.parts["okta"]
    assert isinstance(part, OktaProbe)
    manage = _key_config(part, "invoice-agent", "okta.users.manage")
    assert not await _sdk_reads_users(fresh, manage)

    line = apply_change(fresh, inventory, probe, _consent("invoice-agent", "okta.users.manage"))
    assert line.endswith("(okta.users.manage granted to invoice-agent by the responder)")
    assert part.scoped[0].pem.split("\n")[1] not in line

    path = _one(probe.check(), "invoice-agent → token with scope okta.users.manage")
    assert path.works and path.decided_by == "behaviour"
    assert path.principal == manage["clientId"]
    assert await _sdk_reads_users(fresh, manage)

    await _contain(engine, "invoice-agent")
    after = probe.check()
    assert not _one(after, "→ token with scope okta.users.manage").works
    assert not _one(after, "→ access token").works
    assert not await _sdk_reads_users(fresh, manage)


async def test_b_a_spawned_app_made_with_the_bots_api_token_is_found_and_cut(
    fresh: Lab, engine: Engine, tmp_path: Path
) -> None:
    inventory = await engine.inventory()
    assert not any(i.name == "nightly-sync" for i in inventory.identities.values())
    probe = Probe(fresh, tmp_path)
    probe.arm(inventory, "gpt-scraper-bot")
    part = probe.parts["okta"]
    assert isinstance(part, OktaProbe)
    token = {"token": part.tokens[0].value}

    line = apply_change(fresh, inventory, probe, _spawn("nightly-sync"))
    assert "by API token gpt-scraper-bot)" in line
    assert part.tokens[0].value not in line
    spawned = _one(probe.check(), "nightly-sync → access token")
    assert spawned.works and spawned.principal == part.keys[0].client_id
    assert await _sdk_reads_users(fresh, _key_config(part, "nightly-sync", "okta.users.read"))

    line = apply_change(fresh, inventory, probe, _consent("nightly-sync", "okta.users.manage"))
    assert line.endswith("(okta.users.manage granted to nightly-sync by API token gpt-scraper-bot)")
    manage = _key_config(part, "nightly-sync", "okta.users.manage")
    results = probe.check()
    assert _one(results, "nightly-sync → token with scope okta.users.manage").works
    assert _one(results, "API token gpt-scraper-bot").works
    assert await _sdk_reads_users(fresh, manage)
    assert await _sdk_reads_users(fresh, token)

    # The System Log names the token that created the app: discovery gives it to the bot.
    found = (await engine.inventory()).agent("gpt-scraper-bot")
    app = next(i for i in found.identities if i.name == "nightly-sync")
    assert app.kind == "service-app" and app.agent == "gpt-scraper-bot"
    assert ("created_by_api_token", "gpt-scraper-bot") in app.tags

    await _contain(engine, "gpt-scraper-bot")
    after = probe.check()
    assert [r.path for r in after if r.works] == []
    assert len(after) == 3
    assert not await _sdk_reads_users(fresh, manage)
    assert not await _sdk_reads_users(fresh, token)


async def test_c_the_changes_refuse_what_cannot_be_made(
    fresh: Lab, engine: Engine, tmp_path: Path
) -> None:
    inventory, probe = await _armed(engine, fresh, tmp_path, "invoice-agent")
    with pytest.raises(LabError, match="no Okta app is labelled 'nope'"):
        apply_change(fresh, inventory, probe, _consent("nope", "okta.users.manage"))
    with pytest.raises(LabError, match="does not sign in with a private key"):
        apply_change(fresh, inventory, probe, _consent("hr-sync", "okta.users.manage"))
    with pytest.raises(LabError, match="already granted"):
        apply_change(fresh, inventory, probe, _consent("invoice-agent", "okta.users.read"))
    with pytest.raises(LabError, match="exists already"):
        apply_change(fresh, inventory, probe, _spawn("invoice-agent"))
    assert probe.parts["okta"].scoped == []  # type: ignore[attr-defined]


async def _armed(engine: Engine, lab: Lab, work: Path, agent: str) -> tuple[Inventory, Probe]:
    """The inventory now, and a probe armed with ``agent``'s credentials."""
    inventory = await engine.inventory()
    probe = Probe(lab, work)
    probe.arm(inventory, agent)
    return inventory, probe


def _service(**oauth: Any) -> dict[str, Any]:
    return {
        "name": "oidc_client",
        "label": "svc",
        "signOnMode": "OPENID_CONNECT",
        "credentials": {"oauthClient": {"token_endpoint_auth_method": "client_secret_basic"}},
        "settings": {
            "oauthClient": {"application_type": "service", "grant_types": ["client_credentials"]}
            | oauth
        },
    }


def test_d_the_lab_creates_apps_as_okta_does(fresh: Lab, plain: PlainOkta) -> None:
    headers = {"Authorization": f"Bearer {plain.responder_token()}"}

    def create(body: dict[str, Any], **params: str) -> httpx.Response:
        return plain.http.post("/api/v1/apps", json=body, params=params, headers=headers)

    refused = [
        {**_service(), "label": ""},
        {**_service(), "signOnMode": None},
        _service(grant_types=[]),
        _service(grant_types=["authorization_code"]),
        _service(application_type="spaceship"),
        {
            **_service(),
            "credentials": {"oauthClient": {"token_endpoint_auth_method": "private_key_jwt"}},
        },
        _service(application_type="web", grant_types=["authorization_code"]),
    ]
    for body in refused:
        reply = create(body)
        assert reply.status_code == 400, body
        assert reply.json()["errorCode"] == "E0000001"
        assert reply.json()["errorCauses"], body

    made = create(_service(), activate="false")
    assert made.status_code == 200
    app = made.json()
    assert app["status"] == "INACTIVE"
    assert app["credentials"]["oauthClient"]["client_id"] == app["id"]
    secret = app["credentials"]["oauthClient"]["client_secret"]
    listed = plain.http.get(f"/api/v1/apps/{app['id']}", headers=headers).json()
    assert "client_secret" not in listed["credentials"]["oauthClient"]
    assert listed["settings"]["oauthClient"]["grant_types"] == ["client_credentials"]
    again = create({**_service(), "credentials": {"oauthClient": {"client_id": app["id"]}}})
    assert again.status_code == 400

    # INACTIVE: no token; active and granted: a token with the secret it was given.
    def token() -> int:
        return plain.http.post(
            "/oauth2/v1/token",
            data={"grant_type": "client_credentials", "scope": "okta.users.read"},
            auth=(app["id"], secret),
        ).status_code

    assert token() == 401
    plain.http.post(f"/api/v1/apps/{app['id']}/lifecycle/activate", headers=headers)
    grant = {"issuer": plain.base, "scopeId": "okta.users.read"}
    plain.http.post(f"/api/v1/apps/{app['id']}/grants", json=grant, headers=headers)
    assert token() == 200


async def test_e_a_sub_agent_named_after_its_agent_is_linked_by_name_and_cut(
    fresh: Lab, engine: Engine, tmp_path: Path
) -> None:
    inventory, probe = await _armed(engine, fresh, tmp_path, "invoice-agent")
    part = probe.parts["okta"]
    assert isinstance(part, OktaProbe)

    line = apply_change(fresh, inventory, probe, _spawn("invoice-agent-helper"))
    assert line.endswith("by the responder)")
    path = _one(probe.check(), "invoice-agent-helper → access token")
    assert path.works and path.principal == part.keys[-1].client_id
    config = _key_config(part, "invoice-agent-helper", "okta.users.read")
    assert await _sdk_reads_users(fresh, config)

    # No API token made it: the name links it to invoice-agent, as an inferred link.
    agent = (await engine.inventory()).agent("invoice-agent")
    link = next(k for k in agent.links if k.identity.name == "invoice-agent-helper")
    assert link.source.value == "inferred" and link.identity.agent is None

    await _contain(engine, "invoice-agent")
    assert [r.path for r in probe.check() if r.works] == []
    assert not await _sdk_reads_users(fresh, config)


async def test_f_a_change_after_containment_is_refused_with_the_revoked_token(
    fresh: Lab, engine: Engine, tmp_path: Path
) -> None:
    inventory, probe = await _armed(engine, fresh, tmp_path, "gpt-scraper-bot")
    await _contain(engine, "gpt-scraper-bot")

    event = apply_inject(fresh, inventory, probe, _spawn("late-worker"))
    assert event.kind == "change" and event.text.startswith("refused: ")
    assert "(Okta no longer accepts API token gpt-scraper-bot (HTTP 401" in event.text
    assert probe.parts["okta"].keys == []  # type: ignore[attr-defined]
    assert [r.path for r in probe.check() if r.works] == []
