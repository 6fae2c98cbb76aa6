"""The Entra adapter against the emulator over HTTPS: identities, credentials, grants, edges."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from agent_ir.errors import AuthenticationError, PermissionDenied
from agent_ir.lab.entra import EntraEmulator
from agent_ir.lab.runner import Lab
from agent_ir.model import EdgeKind
from agent_ir.providers.entra.config import EntraSettings
from tests.providers.entra.entra_helpers import (
    AWS_ROLE,
    GCP_UNIQUE_ID,
    MI_ID,
    adapter_for,
    graph_token,
    responder_http,
)


async def test_discovery_finds_agents_credentials_grants_and_edges(
    settings: EntraSettings, emulator: EntraEmulator
) -> None:
    async with adapter_for(settings) as adapter:
        found = await adapter.discover()
    by_name = {i.name: i for i in found.identities}
    assert "Microsoft Graph" not in by_name
    agent = by_name["invoice-agent"]
    blueprint = by_name["invoice-agent-blueprint"]
    assert (agent.kind, blueprint.kind) == ("agent-identity", "agent-blueprint")
    assert by_name["mi-nightly-reports"].kind == "managed-identity"
    assert by_name["gpt-scraper-bot"].kind == "service-principal"
    assert agent.agent == "invoice-agent" and agent.owner == "alice@corp.test"
    assert agent.aliases == (emulator.client_id("invoice-agent"),)
    assert agent.credentials == ()
    kinds = sorted(c.kind for c in blueprint.credentials)
    assert kinds == [
        "certificate",
        "client-secret",
        "client-secret",
        "federated-credential",
        "federated-credential",
    ]
    secrets = {
        c.created and (datetime.now(UTC) - c.created).days: c
        for c in blueprint.credentials
        if c.kind == "client-secret"
    }
    prod, old = secrets[400], secrets[800]
    assert prod.status == "active" and prod.expires and prod.last_used
    assert datetime.now(UTC) - prod.last_used < timedelta(days=2)
    assert old.status == "expired" and old.last_used is None
    assert found.responder_ids == {emulator.directory.sp_by_client_id[settings.client_id]}
    assert found.requests > 5

    grants = {(g.identity, g.grant): g for g in found.grants}
    files = grants[(agent.id, "Files.ReadWrite.All (Microsoft Graph)")]
    assert files.kind == "delegated-scope" and files.risk == "wildcard"
    assert "alice@corp.test" in files.detail
    assert grants[(agent.id, "Mail.Read (Microsoft Graph)")].risk is None
    assert grants[(agent.id, "Invoices.ReadWrite (finance-api)")].kind == "app-role"
    scraper = by_name["gpt-scraper-bot"].id
    assert grants[(scraper, "Directory.ReadWrite.All (Microsoft Graph)")].risk == "admin"
    ops = by_name["ops-automation-agent"].id
    role = grants[(ops, "Application Administrator")]
    assert role.kind == "directory-role" and role.risk == "admin"
    assert (
        grants[(by_name["mi-nightly-reports"].id, "Sites.Read.All (Microsoft Graph)")].risk
        == "wildcard"
    )

    edges = {(e.source, e.target, e.kind) for e in found.edges}
    assert ("human:alice@corp.test", agent.id, EdgeKind.CONSENT) in edges
    assert ("human:bob@corp.test", agent.id, EdgeKind.CONSENT) in edges
    assert ("human:*@corp.test", by_name["support-agent-01"].id, EdgeKind.CONSENT) in edges
    assert ("human:alice@corp.test", agent.id, EdgeKind.OWNER) in edges
    assert ("human:alice@corp.test", blueprint.id, EdgeKind.OWNER) in edges
    assert (blueprint.id, agent.id, EdgeKind.TOKEN_EXCHANGE) in edges
    assert (AWS_ROLE, blueprint.id, EdgeKind.FEDERATION) in edges
    assert (GCP_UNIQUE_ID, blueprint.id, EdgeKind.FEDERATION) in edges
    sync = by_name["report-sync"]
    assert (MI_ID, sync.id, EdgeKind.FEDERATION) in edges, "a managed identity acts as the app"
    assert [c.kind for c in sync.credentials] == ["federated-credential"]


async def test_only_wanted_identities_get_their_federated_credentials_read(
    settings: EntraSettings,
) -> None:
    async with adapter_for(
        settings, wants=lambda i: i.name == "invoice-agent-blueprint"
    ) as adapter:
        found = await adapter.discover()
    by_name = {i.name: i for i in found.identities}
    assert by_name["invoice-agent-blueprint"].credentials
    assert by_name["gpt-scraper-bot"].credentials == ()
    assert not any(e.target == by_name["report-sync"].id for e in found.edges)


async def test_check_reports_the_responder_and_its_graph_permissions(
    settings: EntraSettings,
) -> None:
    async with adapter_for(settings) as adapter:
        report = await adapter.check([])
        narrow = await adapter.check(["Application.Read.All", "Directory.ReadWrite.All"])
    assert "agent-ir-responder" in report.caller and settings.client_id in report.caller
    checks = {c.permission: c for c in report.permissions}
    assert (
        checks["Application.Read.All"].allowed
        and "through Application.ReadWrite.All" in checks["Application.Read.All"].note
    )
    assert checks["User.RevokeSessions.All"].allowed
    assert checks["DelegatedPermissionGrant.ReadWrite.All"].allowed
    assert [c.allowed for c in narrow.permissions] == [True, False]


async def test_a_wrong_secret_is_an_authentication_error(settings: EntraSettings, tmp_path) -> None:
    wrong = tmp_path / "secret"
    wrong.write_text("not-the-secret")
    bad = settings.model_copy(update={"client_secret_file": wrong})
    async with adapter_for(bad) as adapter:
        with pytest.raises(AuthenticationError, match="AADSTS7000215"):
            await adapter.discover()


async def test_graph_refuses_a_caller_without_permissions(
    settings: EntraSettings, emulator: EntraEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ENTRA_TEST_SECRET", emulator.client_secret("catalog-reader"))
    other = settings.model_copy(
        update={
            "client_id": emulator.client_id("catalog-reader"),
            "client_secret_file": None,
            "client_secret_env": "ENTRA_TEST_SECRET",
        }
    )
    async with adapter_for(other) as adapter:
        sps = await adapter.graph.get("servicePrincipals", "listing", params={"$top": "1"})
        assert len(sps["value"]) == 1, "Application.Read.All reads service principals"
        with pytest.raises(PermissionDenied, match="Authorization_RequestDenied"):
            await adapter.discover()
        report = await adapter.check([])
    checks = {c.permission: c.allowed for c in report.permissions}
    assert checks["Application.Read.All"] and not checks["Directory.Read.All"]


def test_graph_refuses_tokens_it_did_not_issue_or_that_expired(
    settings: EntraSettings, emulator: EntraEmulator
) -> None:
    with responder_http(settings) as http:
        assert http.get("/v1.0/organization").status_code == 200
        forged = http.get(
            "/v1.0/organization",
            headers={"Authorization": "Bearer eyJhbGciOiJub25lIn0.eyJhdWQiOiJ4In0."},
        )
        assert forged.status_code == 401
        assert forged.json()["error"]["code"] == "InvalidAuthenticationToken"
        assert "request-id" in forged.json()["error"]["innerError"]
        now = int(datetime.now(UTC).timestamp())
        expired = emulator.tokens.graph_token(
            {
                "aud": "https://graph.microsoft.com",
                "exp": now - 60,
                "iat": now - 4000,
                "roles": ["Directory.Read.All"],
            }
        )
        late = http.get("/v1.0/organization", headers={"Authorization": f"Bearer {expired}"})
        assert late.status_code == 401 and "expired" in late.json()["error"]["message"]
        reader = graph_token(
            settings, emulator.client_id("catalog-reader"), emulator.client_secret("catalog-reader")
        )
        denied = http.get(
            "/v1.0/organization", headers={"Authorization": f"Bearer {reader['access_token']}"}
        )
        assert denied.status_code == 403
        assert denied.json()["error"]["code"] == "Authorization_RequestDenied"


def test_key_material_only_under_select_and_secret_text_never(
    settings: EntraSettings, emulator: EntraEmulator
) -> None:
    app_id = emulator.client_id("invoice-agent-blueprint")
    with responder_http(settings) as http:
        listed = http.get("/v1.0/applications", params={"$filter": f"appId eq '{app_id}'"}).json()[
            "value"
        ][0]
        assert listed["keyCredentials"][0]["key"] is None
        assert all(p["secretText"] is None for p in listed["passwordCredentials"])
        plain = http.get(f"/v1.0/applications(appId='{app_id}')").json()
        assert plain["keyCredentials"][0]["key"] is None
        selected = http.get(
            f"/v1.0/applications(appId='{app_id}')", params={"$select": "keyCredentials"}
        ).json()
        assert selected["keyCredentials"][0]["key"] and set(selected) == {
            "@odata.context",
            "keyCredentials",
        }


async def test_the_adapter_signs_in_with_a_certificate_or_a_federated_token_file(
    settings: EntraSettings, emulator: EntraEmulator, tmp_path: Path
) -> None:
    cert = emulator.certificate("catalog-reader", "reader")
    pem = tmp_path / "reader.pem"
    pem.write_text(cert.private_key_pem + cert.certificate_pem)
    token_file = tmp_path / "token"
    token_file.write_text(
        emulator.outside_token(
            "https://token.actions.githubusercontent.com", "repo:corp/catalog:ref:refs/heads/main"
        )
    )
    base = {"client_id": emulator.client_id("catalog-reader"), "client_secret_file": None}
    for source in ({"certificate_file": pem}, {"federated_token_file": token_file}):
        other = settings.model_copy(update={**base, **source})
        async with adapter_for(other) as adapter:
            reply = await adapter.graph.get("servicePrincipals", "listing", params={"$top": "1"})
        assert reply["value"], source


def test_the_lab_writes_secrets_only_into_private_files(lab: Lab, settings: EntraSettings) -> None:
    config = lab.config_path.read_text()
    secret = Path(str(settings.client_secret_file)).read_text().strip()
    assert secret and secret not in config and "entra-client-secret" in config
    for name in ("entra-client-secret", "entra-lab-secrets.yaml"):
        assert (lab.directory / name).stat().st_mode & 0o777 == 0o600
    agents = yaml.safe_load((lab.directory / "entra-lab-secrets.yaml").read_text())
    assert agents["invoice-agent-blueprint"]["secrets"]["prod"]
