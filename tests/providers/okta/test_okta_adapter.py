"""The Okta adapter against the lab over real sockets: discovery, sign-in modes, errors."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta

import pytest

from agent_ir.errors import AuthenticationError, ProviderUnavailable
from agent_ir.lab.okta_seed import RESPONDER_ID
from agent_ir.lab.okta_world import api_token_id, app_id
from agent_ir.model import EdgeKind
from tests.providers.okta.helpers import make_adapter


def _ids(world, label: str) -> str:
    return app_id(next(a for a in world.okta.apps if a.label == label))


async def test_discovery_finds_apps_tokens_agents_users_grants_and_edges(
    okta_lab, okta_world
) -> None:
    okta = make_adapter(okta_lab)
    try:
        found = await okta.discover()
    finally:
        await okta.aclose()
    by_name = {(i.kind, i.name): i for i in found.identities}
    invoice = by_name[("service-app", "invoice-agent")]
    assert invoice.agent == "invoice-agent" and invoice.owner == "alice@corp.test"
    assert invoice.account == "corp"
    assert [c.kind for c in invoice.credentials] == ["jwk"]
    key = invoice.credentials[0]
    assert round((okta_lab.now - key.created) / timedelta(days=1)) == 400
    assert key.last_used is not None
    assert round((okta_lab.now - key.last_used) / timedelta(days=1)) == 2

    token = by_name[("api-token", "gpt-scraper-bot")]
    assert token.owner is None and token.agent is None
    assert dict(token.tags)["created_by"] == "bob@corp.test"
    cred = token.credentials[0]
    assert cred.kind == "api-token" and cred.last_used is not None
    assert timedelta(hours=12) < okta_lab.now - cred.last_used < timedelta(days=2)

    copilot = by_name[("ai-agent", "helpdesk-copilot")]
    assert copilot.agent == "helpdesk-copilot" and copilot.owner == "carol@corp.test"
    etl = by_name[("service-user", "svc-etl@corp.test")]
    assert etl.agent == "etl-agent" and etl.owner == "carol@corp.test"
    assert ("service-app", "hr-sync") in by_name

    grants = {(g.identity, g.grant): g for g in found.grants}
    reporting = _ids(okta_world, "reporting-agent")
    assert grants[(reporting, "ORG_ADMIN")].risk == "admin"
    assert grants[(reporting, "READ_ONLY_ADMIN")].risk is None
    assert grants[(reporting, "okta.users.manage")].risk == "admin"
    assert grants[(invoice.id, "okta.users.read")].kind == "oauth-scope"
    inherited = grants[(token.id, "SUPER_ADMIN")]
    assert inherited.risk == "admin" and "bob@corp.test" in inherited.detail

    edges = {(e.source, e.target, e.kind): e for e in found.edges}
    consent = edges[("human:alice@corp.test", invoice.id, EdgeKind.CONSENT)]
    assert "okta.users.read" in consent.reason and "2 refresh token" in consent.reason
    assert ("human:carol@corp.test", invoice.id, EdgeKind.CONSENT) in edges
    creator = edges[("human:bob@corp.test", token.id, EdgeKind.CONSENT)]
    assert "SUPER_ADMIN" in creator.reason
    assert ("human:carol@corp.test", copilot.id, EdgeKind.OWNER) in edges
    assert RESPONDER_ID in found.responder_ids
    assert found.requests > 10


async def test_discovery_fetches_details_only_for_wanted_identities(okta_lab) -> None:
    from agent_ir.providers.base import ProviderContext
    from agent_ir.providers.okta.adapter import OktaProvider

    settings = okta_lab.settings.providers.okta
    everything = OktaProvider(settings, ProviderContext())
    agents_only = OktaProvider(settings, ProviderContext(wants=lambda i: bool(i.agent)))
    try:
        full = await everything.discover()
        lean = await agents_only.discover()
    finally:
        await everything.aclose()
        await agents_only.aclose()
    assert lean.requests < full.requests
    hr = next(i for i in lean.identities if i.name == "hr-sync")
    assert hr.credentials == () and not lean.grants_of(hr.id)


async def test_api_token_mode_reads_the_token_from_the_environment(
    okta_lab, emulator, monkeypatch
) -> None:
    token_id, value = emulator.mint_api_token("bob@corp.test", "agent-ir-console")
    monkeypatch.setenv("LAB_OKTA_TOKEN", value)
    okta = make_adapter(
        okta_lab,
        client_id=None,
        private_key_file=None,
        key_id=None,
        api_token_env="LAB_OKTA_TOKEN",
        api_token_id=token_id,
    )
    try:
        found = await okta.discover()
        report = await okta.check([])
    finally:
        await okta.aclose()
        with emulator.state.lock:
            emulator.state.api_tokens.pop(token_id, None)
    assert token_id in found.responder_ids
    assert any(i.name == "gpt-scraper-bot" for i in found.identities)
    assert report.caller == f"API token {token_id}"


async def test_check_reports_the_service_app_and_its_scopes(okta_lab) -> None:
    okta = make_adapter(okta_lab)
    try:
        report = await okta.check(["okta.apps.manage", "okta.policies.manage"])
    finally:
        await okta.aclose()
    assert report.caller == f"service app agent-ir-responder ({RESPONDER_ID})"
    assert report.account == "corp"
    allowed = {p.permission: p.allowed for p in report.permissions}
    assert allowed == {"okta.apps.manage": True, "okta.policies.manage": False}
    assert any("SUPER_ADMIN" in note for note in report.notes)


async def test_a_key_the_org_does_not_know_is_an_authentication_error(
    okta_lab, emulator, tmp_path
) -> None:
    other = tmp_path / "other.pem"
    other.write_text(emulator.private_key_pem("invoice-agent"))
    okta = make_adapter(okta_lab, private_key_file=other)
    try:
        with pytest.raises(AuthenticationError, match="invalid_client"):
            await okta.discover()
    finally:
        await okta.aclose()


async def test_an_unreachable_org_is_provider_unavailable_not_attribute_error(okta_lab) -> None:
    okta = make_adapter(okta_lab, org_url="https://127.0.0.1:9", timeout_s=2)
    try:
        with pytest.raises(ProviderUnavailable, match="no answer"):
            await okta.discover()
    finally:
        await okta.aclose()


async def test_missing_token_variable_is_an_authentication_error(okta_lab, monkeypatch) -> None:
    monkeypatch.delenv("NO_SUCH_OKTA_TOKEN", raising=False)
    okta = make_adapter(
        okta_lab,
        client_id=None,
        private_key_file=None,
        api_token_env="NO_SUCH_OKTA_TOKEN",
    )
    try:
        with pytest.raises(AuthenticationError, match="NO_SUCH_OKTA_TOKEN"):
            await okta.discover()
    finally:
        await okta.aclose()


def test_importing_the_adapter_does_not_import_the_sdk() -> None:
    code = (
        "import sys\n"
        "import agent_ir.providers.okta.adapter, agent_ir.providers.okta.actions\n"
        "print(sorted(m for m in sys.modules if m == 'okta' or m.startswith('okta.')))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


def test_world_ids_are_the_ids_the_adapter_reports(okta_world) -> None:
    ids = okta_world.okta.identity_ids()
    assert _ids(okta_world, "invoice-agent") in ids
    assert api_token_id(okta_world.okta.api_tokens[0]) in ids


async def test_dpop_bound_tokens_work_through_the_adapter(okta_lab) -> None:
    # Only a few calls: the SDK re-reads its RSA-3072 DPoP key for every proof (~0.1 s CPU).
    okta = make_adapter(okta_lab, dpop=True)
    try:
        report = await okta.check(["okta.apps.read"])
    finally:
        await okta.aclose()
    assert [p.allowed for p in report.permissions] == [True]
    assert any("DPoP" in note for note in report.notes)


async def test_data_the_sdk_models_reject_is_a_bad_response(okta_lab, emulator, fresh_okta) -> None:
    from agent_ir.errors import BadResponse

    with emulator.state.lock:
        app = next(a for a in emulator.state.apps.values() if a.label == "hr-sync")
        app.client_id = "abc"  # Okta never sends one this short; the SDK's model refuses it
    okta = make_adapter(fresh_okta)
    try:
        with pytest.raises(BadResponse, match="client_id"):
            await okta.discover()
    finally:
        await okta.aclose()
