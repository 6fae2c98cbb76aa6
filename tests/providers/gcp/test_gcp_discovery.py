"""The GCP adapter against the emulator: identities, keys, grants, edges, paging, check()."""

from __future__ import annotations

import json
from collections import Counter

from agent_ir.errors import AuthenticationError
from agent_ir.lab.faults import FaultSpec
from agent_ir.model import EdgeKind
from agent_ir.providers.base import ProviderContext
from agent_ir.providers.gcp.adapter import GcpProvider
from agent_ir.providers.registry import load
from tests.providers.gcp.conftest import AGENT, LEDGER, POOL_MEMBER, READER


async def _discover(settings, **context):
    adapter = GcpProvider.from_settings(settings, ProviderContext(**context))
    try:
        return adapter, await adapter.discover()
    finally:
        await adapter.aclose()


async def test_registered_under_its_entry_point() -> None:
    assert load("gcp") is GcpProvider


async def test_service_accounts_keys_and_the_description_convention(settings) -> None:
    adapter, found = await _discover(settings)
    by_id = {i.id: i for i in found.identities}
    agent = by_id[AGENT]
    assert (agent.kind, agent.name, agent.account) == (
        "service-account",
        "invoice-agent",
        "corp-prod",
    )
    assert (agent.agent, agent.owner, agent.status) == (
        "invoice-agent",
        "alice@corp.test",
        "active",
    )
    assert agent.aliases[0].isdigit() and agent.aliases[1] == f"serviceAccount:{AGENT}"
    kinds = Counter((c.kind, c.status) for c in agent.credentials)
    assert kinds == {
        ("user-managed-key", "active"): 2,
        ("user-managed-key", "disabled"): 1,
        ("system-managed-key", "active"): 1,
    }
    old = max((c for c in agent.credentials if c.static), key=lambda c: -c.created.timestamp())
    assert old.static and old.last_used is not None and old.expires is None
    assert any(c.expires is not None for c in agent.credentials)
    assert next(c for c in agent.credentials if not c.static).kind == "system-managed-key"
    assert by_id[f"helper-agent-03@{AGENT.partition('@')[2]}"].status == "disabled"
    responder = next(iter(found.responder_ids))
    assert responder.startswith("agent-ir-responder@") and responder in by_id
    assert LEDGER in by_id and by_id[LEDGER].account == "corp-data"
    assert found.requests > 0 and adapter.caller == responder


async def test_grants_carry_risk_and_conditions(settings) -> None:
    _, found = await _discover(settings)
    mine = {g.grant: g for g in found.grants_of(AGENT)}
    assert mine["roles/editor"].risk == "admin" and mine["roles/editor"].kind == "project-binding"
    assert mine["roles/viewer"].risk == "wildcard" and "until-2030" in mine["roles/viewer"].detail
    assert mine["roles/logging.logWriter"].risk is None
    creator = mine["roles/iam.serviceAccountTokenCreator"]
    assert creator.kind == "service-account-binding" and READER in creator.detail
    scraper = {
        g.grant: g.risk for g in found.grants_of(f"gpt-scraper-bot@{AGENT.partition('@')[2]}")
    }
    assert scraper == {"roles/storage.admin": "wildcard"}
    assert {g.grant for g in found.grants_of(READER)} == {
        "roles/bigquery.dataViewer",
        "roles/iam.serviceAccountTokenCreator",
    }


async def test_impersonation_federation_and_human_edges(settings) -> None:
    _, found = await _discover(settings)
    edges = {(e.source, e.target, e.kind) for e in found.edges}
    assert (AGENT, READER, EdgeKind.IMPERSONATE) in edges
    assert (READER, LEDGER, EdgeKind.IMPERSONATE) in edges
    assert ("human:alice@corp.test", AGENT, EdgeKind.IMPERSONATE) in edges
    assert ("external:group:finance-ops@corp.test", READER, EdgeKind.IMPERSONATE) in edges
    role = "arn:aws:iam::111111111111:role/invoice-processor"
    assert (role, READER, EdgeKind.FEDERATION) in edges
    federation = next(e for e in found.edges if e.source == role)
    assert "aws-corp" in federation.reason and "111111111111" in federation.reason
    assert POOL_MEMBER in federation.evidence[0]
    chain = next(e for e in found.edges if e.source == AGENT and e.target == READER)
    assert "serviceAccountTokenCreator" in chain.reason and "delegates" in chain.reason


async def test_listing_follows_next_page_tokens(settings, emulator) -> None:
    emulator.api.calls.clear()
    _, found = await _discover(settings.model_copy(update={"page_size": 2}))
    lists = Counter(
        path
        for method, path, status in emulator.api.calls
        if method == "GET" and path.endswith("/serviceAccounts") and status == 200
    )
    assert lists == {
        "/v1/projects/corp-prod/serviceAccounts": 4,
        "/v1/projects/corp-data/serviceAccounts": 1,
    }
    assert len(found.identities) == 8


async def test_only_wanted_accounts_get_their_keys_read(settings, emulator) -> None:
    emulator.api.calls.clear()
    _, found = await _discover(settings, wants=lambda ident: ident.id == AGENT)
    key_lists = [p for m, p, _ in emulator.api.calls if p.endswith("/keys")]
    assert key_lists == [f"/v1/projects/-/serviceAccounts/{AGENT}/keys"]
    assert all(not i.credentials for i in found.identities if i.id != AGENT)


async def test_discovery_survives_throttling_and_errors(settings, gcp_lab) -> None:
    faults = gcp_lab.faults["gcp"]
    faults.update(FaultSpec(throttle_rate=0.2, error_rate=0.1, retry_after_s=0, seed=5))
    try:
        _, found = await _discover(settings.model_copy(update={"max_attempts": 8}))
    finally:
        counts = dict(faults.counts)
        faults.update(FaultSpec())
    assert sum(v for k, v in counts.items() if k.value != "none") >= 3
    assert len(found.identities) == 8 and len(found.edges) == len(
        (await _discover(settings))[1].edges
    )


async def test_check_reports_the_responder_and_its_permissions(settings) -> None:
    adapter = GcpProvider.from_settings(settings, ProviderContext())
    try:
        report = await adapter.check([])
        partial = await adapter.check(
            ["iam.serviceAccounts.disable", "resourcemanager.projects.delete"]
        )
    finally:
        await adapter.aclose()
    assert report.caller.startswith("agent-ir-responder@") and report.account == "corp-prod"
    assert all(p.allowed for p in report.permissions), [
        p for p in report.permissions if not p.allowed
    ]
    assert "iam.serviceAccounts.setIamPolicy" in {p.permission for p in report.permissions}
    assert [p.allowed for p in partial.permissions] == [True, False]
    assert any("key file" in note for note in report.notes)


async def test_a_refused_key_is_an_authentication_error(settings, tmp_path) -> None:
    bad = tmp_path / "not-a-key.json"
    bad.write_text('{"type": "authorized_user"}')
    adapter = GcpProvider.from_settings(
        settings.model_copy(update={"key_file": bad}), ProviderContext()
    )
    try:
        await adapter.discover()
    except AuthenticationError as exc:
        assert "not a service account key file" in exc.message
    else:
        raise AssertionError("a bad key file was accepted")
    finally:
        await adapter.aclose()


def test_workload_identity_federation_credentials_load_without_a_call(settings, tmp_path) -> None:
    from agent_ir.providers.gcp.auth import caller_email, load_credentials

    token = tmp_path / "token"
    token.write_text("header.payload.signature")
    config = tmp_path / "wif.json"
    config.write_text(
        json.dumps(
            {
                "type": "external_account",
                "audience": "//iam.googleapis.com/projects/482913570126/locations/global/"
                "workloadIdentityPools/aws-corp/providers/oidc",
                "subject_token_type": "urn:ietf:params:oauth:token-type:jwt",
                "token_url": "https://sts.googleapis.com/v1/token",
                "credential_source": {"file": str(token)},
                "service_account_impersonation_url": "https://iamcredentials.googleapis.com/v1/"
                f"projects/-/serviceAccounts/{READER}:generateAccessToken",
            }
        )
    )
    wif = settings.model_copy(update={"key_file": None, "external_account_file": config})
    creds, via = load_credentials(wif)
    assert caller_email(creds) == READER and "workload identity federation" in via
    key_creds, key_via = load_credentials(settings)
    assert caller_email(key_creds).startswith("agent-ir-responder@") and "key file" in key_via
