"""Containment and restore on Okta end to end: plan, revoke, read back independently
(plain HTTP as the console, the agent's own credentials through the okta SDK and plain
HTTP), restore."""

from __future__ import annotations

import ssl
from typing import Any

import aiohttp

from agent_ir.engine.executor import Status
from agent_ir.engine.incident import Who, execute, plan_for, restore
from agent_ir.lab.okta_world import app_id, client_id
from agent_ir.playbook.loader import find_playbook, load_playbook, load_playbook_text
from tests.providers.okta.helpers import FAST

WHO = Who(responder="tester", reason="okta lab test")


def contain() -> Any:
    return load_playbook(find_playbook("contain-agent", []))


def only(action: str, extra: str = "") -> Any:
    text = f"name: only-{action}\nsteps:\n  - id: {action}\n    action: {action}\n{extra}"
    return load_playbook_text(text, f"<{action}>")


def _app(world, label: str) -> Any:
    return next(a for a in world.okta.apps if a.label == label)


async def _sdk_list_users(lab, emulator, label: str) -> Any:
    """The okta SDK signing in with the agent's own key: the ``err`` of ``list_users``."""
    from okta.client import Client

    settings = lab.settings.providers.okta
    app = next(a for a in emulator.world.apps if a.label == label)
    client = Client(
        {
            "orgUrl": settings.org_url,
            "authorizationMode": "PrivateKey",
            "clientId": client_id(app),
            "scopes": ["okta.users.read"],
            "privateKey": emulator.private_key_pem(label),
            "kid": emulator.key_id(label),
        }
    )
    context = ssl.create_default_context(cafile=str(settings.ca_bundle))
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=context)) as session:
        client.get_request_executor().set_session(session)
        _, _, err = await client.list_users(limit=1)
    return err


async def test_revoke_cuts_the_agents_own_credentials_and_restore_brings_back_what_can_be(
    okta_engine, fresh_okta, okta_world, emulator, plain
) -> None:
    app = _app(okta_world, "invoice-agent")
    aid, cid = app_id(app), client_id(app)
    key, kid = emulator.private_key_pem("invoice-agent"), emulator.key_id("invoice-agent")
    issued = plain.token_response(cid, key, kid, "okta.users.read")
    assert issued.status_code == 200
    agent_token = issued.json()["access_token"]
    as_agent = {"Authorization": f"Bearer {agent_token}"}
    assert plain.http.get("/api/v1/users", headers=as_agent).status_code == 200
    assert await _sdk_list_users(fresh_okta, emulator, "invoice-agent") is None
    assert sorted(g["id"] for g in plain.get(f"/api/v1/apps/{aid}/groups")) != []

    plan = await plan_for(okta_engine, "invoice-agent", contain(), {})
    by_action: dict[str, list[Any]] = {}
    for step in plan.steps:
        by_action.setdefault(step.action, []).append(step)
    revokes = by_action["revoke-sessions"]
    assert {s.target_label for s in revokes} == {
        "refresh tokens of app invoice-agent",
        "grants of alice@corp.test to app invoice-agent",
        "grants of carol@corp.test to app invoice-agent",
    }
    assert all(s.reversible.value == "no" and s.hazards for s in revokes)
    assert by_action["disable-identity"][0].reversible.value == "side-effects"
    assert by_action["disable-identity"][0].current["status"] == "ACTIVE"
    assert any("only active JWKS key" in note for note in plan.notes)

    outcome = await execute(okta_engine, plan, WHO, tuning=FAST)
    assert {r.status for r in outcome.results} == {Status.VERIFIED}, outcome.to_json()

    assert plain.get(f"/api/v1/apps/{aid}")["status"] == "INACTIVE"
    assert plain.get(f"/api/v1/apps/{aid}/tokens") == []
    assert plain.get(f"/api/v1/apps/{aid}/groups") == []
    for user in ("alice@corp.test", "carol@corp.test"):
        uid = plain.get(f"/api/v1/users/{user}")["id"]
        assert plain.get(f"/api/v1/users/{uid}/clients/{cid}/grants") == []
        assert plain.get(f"/api/v1/users/{uid}/clients/{cid}/tokens") == []
    refused = plain.http.get("/api/v1/users", headers=as_agent)
    assert refused.status_code == 401 and refused.json()["errorCode"] == "E0000011"
    denied = plain.token_response(cid, key, kid, "okta.users.read")
    assert denied.status_code == 401 and denied.json()["error"] == "invalid_client"
    sdk_error = await _sdk_list_users(fresh_okta, emulator, "invoice-agent")
    assert sdk_error is not None and getattr(sdk_error, "status", None) == 401

    undo = await restore(okta_engine, outcome.incident, WHO, tuning=FAST)
    assert {r.status for r in undo.results} == {Status.VERIFIED}, undo.to_json()
    # the restore names what it revives, and every revocation it cannot undo
    revived = [w for w in undo.warnings if w.startswith("revives okta: app invoice-agent")]
    kept = [w for w in undo.warnings if not w.startswith("revives ")]
    assert revived
    assert len(kept) == len(revokes)
    assert all("cannot be undone: revoke-sessions" in w for w in kept)
    assert plain.get(f"/api/v1/apps/{aid}")["status"] == "ACTIVE"
    assert len(plain.get(f"/api/v1/apps/{aid}/groups")) == 2
    assert plain.token_response(cid, key, kid, "okta.users.read").status_code == 200
    assert plain.get(f"/api/v1/apps/{aid}/tokens") == []


async def test_revoking_the_shadow_agent_deletes_its_api_token_irreversibly(
    okta_engine, fresh_okta, okta_world, emulator, plain
) -> None:
    value = emulator.api_token_value("gpt-scraper-bot")
    for header in (f"SSWS {value}", f"SSWS{value}"):
        assert plain.http.get("/api/v1/users", headers={"Authorization": header}).status_code == 200

    plan = await plan_for(okta_engine, "gpt-scraper-bot", contain(), {})
    assert len(plan.steps) == 1
    step = plan.steps[0]
    assert step.action == "disable-credentials"
    assert step.target_label == "API token gpt-scraper-bot (created by bob@corp.test)"
    assert step.reversible.value == "no"
    assert any("IRREVERSIBLE" in h for h in step.hazards)
    assert any("disable-credentials deletes it" in n for n in plan.notes)

    outcome = await execute(okta_engine, plan, WHO, tuning=FAST)
    assert {r.status for r in outcome.results} == {Status.VERIFIED}, outcome.to_json()
    missing = plain.http.get(
        f"/api/v1/api-tokens/{step.target}",
        headers={"Authorization": f"Bearer {plain.responder_token()}"},
    )
    assert missing.status_code == 404 and missing.json()["errorCode"] == "E0000007"
    refused = plain.http.get("/api/v1/users", headers={"Authorization": f"SSWS {value}"})
    assert refused.status_code == 401 and refused.json()["errorCode"] == "E0000011"

    undo = await restore(okta_engine, outcome.incident, WHO, tuning=FAST)
    assert undo.results == []
    assert undo.warnings == [
        f"{step.id} ({step.target_label}) cannot be undone: disable-credentials"
    ]


async def test_disable_credentials_keeps_the_newest_secret_and_restore_reactivates(
    okta_engine, fresh_okta, okta_world, plain
) -> None:
    aid = app_id(_app(okta_world, "reporting-agent"))
    plan = await plan_for(okta_engine, "reporting-agent", only("disable-credentials"), {})
    reversible = {s.operation["kind"]: (s.target_label, s.reversible.value) for s in plan.steps}
    assert len(plan.steps) == 2 and reversible["secret"][1] == "yes"
    assert reversible["api-token"] == (
        "API token reporting-agent-ci (created by carol@corp.test)",
        "no",
    )
    assert any("stays active" in n for n in plan.notes)
    outcome = await execute(okta_engine, plan, WHO, tuning=FAST)
    assert {r.status for r in outcome.results} == {Status.VERIFIED}
    statuses = sorted(
        (s["created"], s["status"]) for s in plain.get(f"/api/v1/apps/{aid}/credentials/secrets")
    )
    assert [s for _, s in statuses] == ["INACTIVE", "ACTIVE"]
    undo = await restore(okta_engine, outcome.incident, WHO, tuning=FAST)
    assert {r.status for r in undo.results} == {Status.VERIFIED}, undo.to_json()["steps"]
    kept = [w for w in undo.warnings if not w.startswith("revives ")]
    assert len(undo.results) == 1 and len(kept) == 1
    assert "API token reporting-agent-ci" in kept[0]
    assert any(w.startswith("revives okta: client secret") for w in undo.warnings)
    secrets = plain.get(f"/api/v1/apps/{aid}/credentials/secrets")
    assert {s["status"] for s in secrets} == {"ACTIVE"}


async def test_scope_down_removes_admin_grants_and_restore_recreates_them_with_new_ids(
    okta_engine, fresh_okta, okta_world, plain
) -> None:
    app = _app(okta_world, "reporting-agent")
    aid, cid = app_id(app), client_id(app)
    before = {g["scopeId"]: g["id"] for g in plain.get(f"/api/v1/apps/{aid}/grants")}
    roles_before = {r["type"]: r["id"] for r in plain.get(f"/oauth2/v1/clients/{cid}/roles")}
    plan = await plan_for(okta_engine, "reporting-agent", only("remove-grants"), {})
    assert {s.target_label for s in plan.steps} == {
        "scope okta.users.manage of app reporting-agent",
        "admin role ORG_ADMIN of reporting-agent",
    }
    outcome = await execute(okta_engine, plan, WHO, tuning=FAST)
    assert {r.status for r in outcome.results} == {Status.VERIFIED}
    assert set(g["scopeId"] for g in plain.get(f"/api/v1/apps/{aid}/grants")) == {"okta.users.read"}
    assert [r["type"] for r in plain.get(f"/oauth2/v1/clients/{cid}/roles")] == ["READ_ONLY_ADMIN"]

    undo = await restore(okta_engine, outcome.incident, WHO, tuning=FAST)
    assert {r.status for r in undo.results} == {Status.VERIFIED}
    after = {g["scopeId"]: g["id"] for g in plain.get(f"/api/v1/apps/{aid}/grants")}
    roles_after = {r["type"]: r["id"] for r in plain.get(f"/oauth2/v1/clients/{cid}/roles")}
    assert set(after) == set(before) and set(roles_after) == set(roles_before)
    assert after["okta.users.manage"] != before["okta.users.manage"]
    assert roles_after["ORG_ADMIN"] != roles_before["ORG_ADMIN"]
    notes = [n for r in undo.results for n in r.notes]
    assert any("new grant id" in n for n in notes) and any("new assignment id" in n for n in notes)


async def test_ai_agent_and_service_user_are_disabled_and_restored(
    okta_engine, fresh_okta, plain
) -> None:
    disable = only("disable-identity")
    for agent, path, off in (
        ("helpdesk-copilot", "/workload-principals/api/v1/ai-agents", "INACTIVE"),
        ("etl-agent", "/api/v1/users", "SUSPENDED"),
    ):
        plan = await plan_for(okta_engine, agent, disable, {})
        assert len(plan.steps) == 1
        target = plan.steps[0].target
        outcome = await execute(okta_engine, plan, WHO, tuning=FAST)
        assert {r.status for r in outcome.results} == {Status.VERIFIED}, outcome.to_json()
        assert plain.get(f"{path}/{target}")["status"] == off
        undo = await restore(okta_engine, outcome.incident, WHO, tuning=FAST)
        assert {r.status for r in undo.results} == {Status.VERIFIED}, undo.to_json()
        assert plain.get(f"{path}/{target}")["status"] == "ACTIVE"


async def test_a_429_storm_during_revoke_is_ridden_out_by_waiting_not_hammering(
    okta_engine, fresh_okta, emulator
) -> None:
    faults = fresh_okta.faults["okta"]

    async def revoke(storm_s: float) -> tuple[int, dict[str, Any]]:
        plan = await plan_for(okta_engine, "invoice-agent", contain(), {})
        before, limiter_before = faults.requests, emulator.limiter.report()
        if storm_s:
            emulator.limiter.storm(storm_s)
        outcome = await execute(okta_engine, plan, WHO, tuning=FAST)
        assert {r.status for r in outcome.results} == {Status.VERIFIED}, outcome.to_json()
        report = emulator.limiter.report()
        counts = {k: report[k] - limiter_before[k] for k in ("throttled", "early_retries")}
        return faults.requests - before, counts

    calm, calm_counts = await revoke(0)
    fresh_okta.reset()
    stormy, counts = await revoke(2.0)
    print(
        f"\nrevoke of invoice-agent: {calm} requests calm; {stormy} requests in a 2 s storm "
        f"of 429s ({counts['throttled']} answered 429, {counts['early_retries']} retried early)"
    )
    assert calm_counts == {"throttled": 0, "early_retries": 0}
    assert counts["early_retries"] == 0
    assert 1 <= counts["throttled"] <= FAST.per_provider_concurrency
    assert stormy == calm + counts["throttled"]
