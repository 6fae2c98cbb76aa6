"""contain-agent on the Entra lab: MSAL before and after, the whole Graph state restored
(except what cannot be), and the other Entra actions end to end."""

from __future__ import annotations

import time
from typing import Any

from agent_ir.actions.base import Reversibility
from agent_ir.engine import journal as jr
from agent_ir.engine.executor import Status
from agent_ir.engine.incident import Who, execute, journal_dir, plan_for, restore
from agent_ir.engine.inventory import Engine
from agent_ir.lab.entra import EntraEmulator
from agent_ir.playbook.loader import find_playbook, load_playbook
from agent_ir.providers.entra.config import EntraSettings
from tests.providers.entra.entra_helpers import (
    AWS_ISSUER,
    AWS_ROLE,
    FAST,
    graph_state,
    graph_token,
    msal_app,
    responder_http,
)

AGENT = "invoice-agent"
BLUEPRINT = "invoice-agent-blueprint"
EXCHANGE = ["api://AzureADTokenExchange/.default"]
WHO = Who(responder="tester", reason="entra lab test")


def playbook(name: str) -> Any:
    return load_playbook(find_playbook(name, []))


def agent_token(
    settings: EntraSettings, emulator: EntraEmulator, credential: Any
) -> dict[str, Any]:
    """The two-step agent identity flow: blueprint → exchange token → agent identity token."""
    blueprint = msal_app(settings, emulator.client_id(BLUEPRINT), credential)
    first: dict[str, Any] = blueprint.acquire_token_for_client(
        EXCHANGE, fmi_path=emulator.client_id(AGENT)
    )
    if "error" in first:
        return first
    assertion = first["access_token"]
    return graph_token(settings, emulator.client_id(AGENT), {"client_assertion": lambda: assertion})


def test_msal_gets_tokens_from_the_lab_with_every_kind_of_credential(
    settings: EntraSettings, emulator: EntraEmulator
) -> None:
    blueprint = emulator.client_id(BLUEPRINT)
    secret = emulator.client_secret(BLUEPRINT, "prod")
    assert "access_token" in graph_token(settings, blueprint, secret)
    assert "access_token" in agent_token(settings, emulator, secret)
    cert = emulator.certificate(BLUEPRINT, "signing")
    by_cert = graph_token(
        settings,
        blueprint,
        {"private_key": cert.private_key_pem, "thumbprint": cert.thumbprint_hex},
    )
    assert "access_token" in by_cert, by_cert
    outside = emulator.outside_token(AWS_ISSUER, AWS_ROLE)
    assert "access_token" in graph_token(settings, blueprint, {"client_assertion": lambda: outside})
    stranger = emulator.outside_token(AWS_ISSUER, "arn:aws:iam::999999999999:role/other")
    refused = graph_token(settings, blueprint, {"client_assertion": lambda: stranger})
    assert refused["error"] == "invalid_client" and "AADSTS70021" in refused["error_description"]
    expired = graph_token(settings, blueprint, emulator.client_secret(BLUEPRINT, "old"))
    assert "AADSTS7000222" in expired["error_description"]
    wrong = graph_token(settings, blueprint, "x" * 40)
    assert wrong["error"] == "invalid_client" and "AADSTS7000215" in wrong["error_description"]


async def test_contain_then_restore_returns_graph_to_where_it_was(
    engine: Engine, settings: EntraSettings, emulator: EntraEmulator
) -> None:
    secret = emulator.client_secret(BLUEPRINT, "prod")
    cert = emulator.certificate(BLUEPRINT, "signing")
    by_cert = {"private_key": cert.private_key_pem, "thumbprint": cert.thumbprint_hex}
    issued = agent_token(settings, emulator, secret)["access_token"]
    with responder_http(settings) as http:
        before = graph_state(http)

    plan = await plan_for(
        engine, AGENT, playbook("contain-agent"), {"revoke_delegating_user_sessions": True}
    )
    irreversible = {s.target_label for s in plan.steps if s.reversible is Reversibility.NO}
    irreversible |= {
        s.target_label for s in plan.steps if any("IRREVERSIBLE" in h for h in s.hazards)
    }
    assert irreversible == {
        f"client secret prod of {BLUEPRINT}",
        f"sessions of alice@corp.test (consented to {AGENT})",
        f"sessions of bob@corp.test (consented to {AGENT})",
    }
    outcome = await execute(engine, plan, WHO, tuning=FAST)
    assert {r.status for r in outcome.results} == {Status.VERIFIED}, outcome.to_json()

    # An independent client can no longer get a token with the agent's secret or cert.
    refused = agent_token(settings, emulator, secret)
    assert refused["error"] == "invalid_client" and "AADSTS7000215" in refused["error_description"]
    assert (
        "AADSTS700027"
        in graph_token(settings, emulator.client_id(BLUEPRINT), by_cert)["error_description"]
    )
    with responder_http(settings) as http:
        contained = graph_state(http)
        # a token issued before the revoke still authenticates (it has no Graph role)
        assert (
            http.get(
                "/v1.0/organization", headers={"Authorization": f"Bearer {issued}"}
            ).status_code
            == 403
        )
    assert contained["enabled"][AGENT] is False and contained["enabled"][BLUEPRINT] is False
    assert not [c for c in contained["consents"] if c.startswith(AGENT)]
    assert not [r for r in contained["app_roles"] if r.startswith(AGENT)]
    assert contained["applications"][BLUEPRINT]["federated"] == {}
    assert contained["applications"][BLUEPRINT]["certificates"] == {}
    assert contained["sessions"]["alice@corp.test"] > before["sessions"]["alice@corp.test"]

    undo = await restore(engine, outcome.incident, WHO, tuning=FAST)
    by_status: dict[Status, list[str]] = {}
    for result in undo.results:
        by_status.setdefault(result.status, []).append(result.step.target_label)
    # The removed secret is left out of the undo plan with a warning; the rest verifies.
    assert set(by_status) == {Status.VERIFIED}
    assert not any("client secret" in label for label in by_status[Status.VERIFIED])
    assert any("cannot be undone" in w and "client secret" in w for w in undo.warnings)
    new_ids = [n for r in undo.results for n in r.notes if "new id" in n]
    assert len(new_ids) == 5, new_ids  # 2 FICs, 2 consents, 1 app role assignment

    with responder_http(settings) as http:
        after = graph_state(http)
    removed = before["applications"][BLUEPRINT]["secrets"]
    assert len(after["applications"][BLUEPRINT]["secrets"]) == len(removed) - 1
    for state in (before, after):
        state["applications"][BLUEPRINT]["secrets"] = []
        state["sessions"].pop("alice@corp.test")
        state["sessions"].pop("bob@corp.test")
    assert after == before
    assert "access_token" in graph_token(settings, emulator.client_id(BLUEPRINT), by_cert)
    outside = emulator.outside_token(AWS_ISSUER, AWS_ROLE)
    assert "access_token" in graph_token(
        settings, emulator.client_id(BLUEPRINT), {"client_assertion": lambda: outside}
    )
    for incident in (outcome.incident, undo.incident):
        assert jr.verify(jr.incident_path(journal_dir(engine), incident)).ok


async def test_scope_down_narrows_a_consent_and_restore_widens_it_again(
    engine: Engine, settings: EntraSettings
) -> None:
    with responder_http(settings) as http:
        before = graph_state(http)
    plan = await plan_for(engine, AGENT, playbook("scope-down"), {})
    assert [s.predicted for s in plan.steps] == [{"present": True, "scopes": ["Mail.Read"]}]
    outcome = await execute(engine, plan, WHO, tuning=FAST)
    assert [r.status for r in outcome.results] == [Status.VERIFIED]
    with responder_http(settings) as http:
        narrowed = graph_state(http)
    key = f"{AGENT} for alice@corp.test on Microsoft Graph"
    assert narrowed["consents"][key] == ["Mail.Read"]
    undo = await restore(engine, outcome.incident, WHO, tuning=FAST)
    assert [r.status for r in undo.results] == [Status.VERIFIED]
    assert not any(n for r in undo.results for n in r.notes), "the same consent was patched back"
    with responder_http(settings) as http:
        assert graph_state(http) == before


async def test_cut_delegation_removes_one_humans_consent_only(
    engine: Engine, settings: EntraSettings
) -> None:
    plan = await plan_for(
        engine, AGENT, playbook("cut-delegation"), {"from": "alice@corp.test", "to": AGENT}
    )
    assert [s.target_label for s in plan.steps] == [
        f"consent of alice@corp.test to {AGENT} on Microsoft Graph (all scopes)"
    ]
    outcome = await execute(engine, plan, WHO, tuning=FAST)
    assert [r.status for r in outcome.results] == [Status.VERIFIED]
    with responder_http(settings) as http:
        consents = graph_state(http)["consents"]
    assert f"{AGENT} for alice@corp.test on Microsoft Graph" not in consents
    assert f"{AGENT} for bob@corp.test on finance-api" in consents
    undo = await restore(engine, outcome.incident, WHO, tuning=FAST)
    assert [r.status for r in undo.results] == [Status.VERIFIED]
    assert "new id" in undo.results[0].notes[0]


async def test_cut_delegation_removes_a_federation_from_an_aws_role(
    engine: Engine, settings: EntraSettings
) -> None:
    plan = await plan_for(
        engine, AGENT, playbook("cut-delegation"), {"from": AWS_ROLE, "to": AGENT}
    )
    assert [s.target_label for s in plan.steps] == [
        f"federated credential aws-invoice-processor of {BLUEPRINT}"
    ]
    outcome = await execute(engine, plan, WHO, tuning=FAST)
    assert [r.status for r in outcome.results] == [Status.VERIFIED]
    with responder_http(settings) as http:
        federated = graph_state(http)["applications"][BLUEPRINT]["federated"]
    assert list(federated) == ["gcp-invoice-agent"]


async def test_a_managed_identity_is_contained_by_removing_its_grants(
    engine: Engine, settings: EntraSettings, emulator: EntraEmulator
) -> None:
    plan = await plan_for(engine, "nightly-reports-agent", playbook("contain-agent"), {})
    assert any("cannot be disabled" in n for n in plan.notes)
    assert [(s.action, s.operation["op"]) for s in plan.steps] == [
        ("deny-all", "app-role"),
        ("disable-identity", "app-role"),
    ]
    outcome = await execute(engine, plan, WHO, tuning=FAST)
    assert [r.status for r in outcome.results] == [Status.VERIFIED, Status.ALREADY]
    with responder_http(settings) as http:
        mi = emulator.directory.sp_by_client_id[
            emulator.world.managed_app_id(emulator.world.managed_identities[0])
        ]
        refused = http.patch(f"/v1.0/servicePrincipals/{mi}", json={"accountEnabled": False})
        assert (
            refused.status_code == 400 and "managed identity" in refused.json()["error"]["message"]
        )
        assert not [r for r in graph_state(http)["app_roles"] if r.startswith("mi-nightly-reports")]


def test_graph_hazards_the_emulator_reproduces(
    settings: EntraSettings, emulator: EntraEmulator
) -> None:
    agent = emulator.directory.sp_by_client_id[emulator.client_id(AGENT)]
    with responder_http(settings) as http:
        revoked = http.post("/v1.0/users/alice@corp.test/revokeSignInSessions")
        assert revoked.status_code == 200 and revoked.json()["value"] is True
        v1 = http.patch(f"/v1.0/servicePrincipals/{agent}", json={"accountEnabled": False})
        assert v1.status_code == 400
        beta = http.patch(
            f"/beta/servicePrincipals/{agent}",
            json={"@odata.type": "#microsoft.graph.agentIdentity", "accountEnabled": False},
        )
        assert beta.status_code == 204 and beta.content == b""
        refused: dict[str, Any] = {}
        for _ in range(50):  # the token endpoint sees the change after the replication delay
            refused = agent_token(settings, emulator, emulator.client_secret(BLUEPRINT, "prod"))
            if "error" in refused:
                break
            time.sleep(0.02)
        assert (
            refused["error"] == "unauthorized_client"
            and "AADSTS7000112" in refused["error_description"]
        )
        grants = http.get(
            "/v1.0/oauth2PermissionGrants", params={"$filter": f"clientId eq '{agent}'"}
        ).json()["value"]
        first = grants[0]
        assert http.delete(f"/v1.0/oauth2PermissionGrants/{first['id']}").status_code == 204
        body = {
            k: first[k] for k in ("clientId", "consentType", "principalId", "resourceId", "scope")
        }
        again = http.post("/v1.0/oauth2PermissionGrants", json=body)
        assert again.status_code == 201 and again.json()["id"] != first["id"]
        assert http.post("/v1.0/oauth2PermissionGrants", json=body).status_code == 409
        app = f"applications(appId='{emulator.client_id(BLUEPRINT)}')"
        listed = http.get(f"/v1.0/{app}").json()["keyCredentials"]
        no_key = http.patch(f"/v1.0/{app}", json={"keyCredentials": listed})
        assert no_key.status_code == 400 and "key" in no_key.json()["error"]["message"]
        added = http.post(
            f"/v1.0/{app}/addPassword", json={"passwordCredential": {"displayName": "new"}}
        )
        assert added.status_code == 200 and added.json()["secretText"]
        shown: list[dict[str, Any]] = []
        for _ in range(50):  # replicas see the write after the lab's replication delay
            listed = http.get(f"/v1.0/{app}").json()["passwordCredentials"]
            shown = [p for p in listed if p["displayName"] == "new"]
            if shown:
                break
            time.sleep(0.02)
        assert shown[0]["secretText"] is None and shown[0]["hint"] == added.json()["secretText"][:3]
