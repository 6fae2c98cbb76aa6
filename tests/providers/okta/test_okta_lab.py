"""The Okta emulator's wire behaviour, seen by plain HTTP and by the okta SDK itself:
paging, rate-limit headers, error bodies, auth spellings, token endpoint checks, secret
rules, AI-agent lifecycle, DPoP."""

from __future__ import annotations

import ssl
import time
from email.utils import parsedate_to_datetime
from typing import Any

import aiohttp
import pytest

from agent_ir.lab.faults import FaultSpec
from agent_ir.lab.okta_world import app_id, client_id
from agent_ir.providers.okta.ratelimit import bucket_of
from tests.providers.okta.helpers import client_assertion

RATE_HEADERS = ("X-Rate-Limit-Limit", "X-Rate-Limit-Remaining", "X-Rate-Limit-Reset", "Date")


def _app(world, label: str) -> Any:
    return next(a for a in world.okta.apps if a.label == label)


def test_lists_page_with_self_before_next_and_rate_headers_everywhere(plain) -> None:
    auth = {"Authorization": f"Bearer {plain.responder_token()}"}
    seen: list[str] = []
    url: str | None = "/api/v1/users?limit=2"
    while url:
        reply = plain.http.get(url, headers=auth)
        assert reply.status_code == 200
        links = reply.headers.get_list("Link")
        assert 'rel="self"' in links[0]
        assert all(h in reply.headers for h in RATE_HEADERS)
        seen += [u["profile"]["login"] for u in reply.json()]
        url = reply.links.get("next", {}).get("url")
        if url:
            assert len(links) == 2 and 'rel="next"' in links[1]
    assert len(seen) == len(set(seen)) == 4
    missing = plain.http.get("/api/v1/users/nobody@corp.test", headers=auth)
    assert missing.status_code == 404 and all(h in missing.headers for h in RATE_HEADERS)
    body = missing.json()
    assert set(body) == {"errorCode", "errorSummary", "errorLink", "errorId", "errorCauses"}
    assert body["errorCode"] == "E0000007"


def test_auth_spellings_and_refusals(plain, emulator, fresh_okta) -> None:
    token = plain.responder_token()
    for header in (f"Bearer {token}", f"Bearer{token}"):
        assert plain.http.get("/api/v1/org", headers={"Authorization": header}).status_code == 200
    value = emulator.api_token_value("okta-terraform")
    for header in (f"SSWS {value}", f"SSWS{value}"):
        assert plain.http.get("/api/v1/org", headers={"Authorization": header}).status_code == 200
    unknown = plain.http.get("/api/v1/org", headers={"Authorization": "SSWS 00nope"})
    assert unknown.status_code == 401 and unknown.json()["errorCode"] == "E0000011"
    carol = plain.get("/api/v1/users/carol@corp.test")["id"]
    auth = {"Authorization": f"Bearer {token}"}
    assert (
        plain.http.post(f"/api/v1/users/{carol}/lifecycle/suspend", headers=auth).status_code == 200
    )
    refused = plain.http.get("/api/v1/org", headers={"Authorization": f"SSWS {value}"})
    assert refused.status_code == 401 and refused.json()["errorCode"] == "E0000011"


def test_token_endpoint_checks_the_assertion_and_scopes(plain, okta_world, emulator) -> None:
    app = _app(okta_world, "invoice-agent")
    cid = client_id(app)
    key, kid = emulator.private_key_pem("invoice-agent"), emulator.key_id("invoice-agent")
    assert plain.token_response(cid, key, kid, "okta.users.read").status_code == 200
    wrong_aud = plain.token_response(cid, key, kid, "okta.users.read", aud="https://elsewhere")
    assert wrong_aud.status_code == 401 and wrong_aud.json()["error"] == "invalid_client"
    other_key = emulator.private_key_pem("dpop-agent")
    forged = plain.token_response(cid, other_key, kid, "okta.users.read")
    assert forged.status_code == 401
    too_much = plain.token_response(cid, key, kid, "okta.users.manage")
    assert too_much.status_code == 400 and too_much.json()["error"] == "invalid_scope"
    assertion = client_assertion(plain.base, cid, key, kid)
    form = {
        "grant_type": "client_credentials",
        "scope": "okta.users.read",
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_assertion": assertion,
    }
    assert plain.http.post("/oauth2/v1/token", data=form).status_code == 200
    replay = plain.http.post("/oauth2/v1/token", data=form)
    assert replay.status_code == 401 and "already been used" in replay.json()["error_description"]


def test_secret_apps_and_the_only_active_secret_rule(
    plain, okta_world, emulator, fresh_okta
) -> None:
    app = _app(okta_world, "hr-sync")
    aid, cid = app_id(app), client_id(app)
    secret = emulator.client_secret("hr-sync")
    form = {"grant_type": "client_credentials", "scope": "okta.users.read"}
    ok = plain.http.post(
        "/oauth2/v1/token", data={**form, "client_id": cid, "client_secret": secret}
    )
    assert ok.status_code == 200
    basic = plain.http.post("/oauth2/v1/token", data=form, auth=(cid, secret))
    assert basic.status_code == 401, "hr-sync authenticates with client_secret_post only"
    only = plain.get(f"/api/v1/apps/{aid}/credentials/secrets")[0]["id"]
    auth = {"Authorization": f"Bearer {plain.responder_token()}"}
    path = f"/api/v1/apps/{aid}/credentials/secrets/{only}/lifecycle/deactivate"
    refused = plain.http.post(path, headers=auth)
    assert refused.status_code == 400 and refused.json()["errorCode"] == "E0000001"
    assert "only active client secret" in refused.json()["errorCauses"][0]["errorSummary"]


def test_ai_agent_lifecycle_answers_202_with_a_location_to_poll(plain, fresh_okta) -> None:
    agents = plain.get("/workload-principals/api/v1/ai-agents", limit=200)
    agent = agents[0]["id"]
    auth = {"Authorization": f"Bearer {plain.responder_token()}"}
    path = f"/workload-principals/api/v1/ai-agents/{agent}/lifecycle/deactivate"
    reply = plain.http.post(path, headers=auth)
    assert reply.status_code == 202
    location = reply.headers["Location"]
    assert "/workload-principals/api/v1/operations/" in location
    for _ in range(50):
        if plain.get(location.split(plain.base, 1)[1])["status"] == "COMPLETED":
            break
        time.sleep(0.05)
    assert plain.get(f"/workload-principals/api/v1/ai-agents/{agent}")["status"] == "INACTIVE"


def test_limit_exhaustion_and_injected_throttles_carry_okta_429s(
    plain, emulator, fresh_okta
) -> None:
    auth = {"Authorization": f"Bearer {plain.responder_token()}"}
    emulator.limiter.configure(limit=2, window_s=60)
    answers = [plain.http.get("/api/v1/org", headers=auth) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert answers[1].headers["X-Rate-Limit-Remaining"] == "0"
    throttled = answers[2]
    assert throttled.json()["errorCode"] == "E0000047"
    date = parsedate_to_datetime(throttled.headers["Date"]).timestamp()
    assert int(throttled.headers["X-Rate-Limit-Reset"]) > date
    assert bucket_of(plain.base + "/api/v1/apps/x/grants") == "/api/v1/apps"
    emulator.limiter.reset(emulator.world.rate_limit)
    fresh_okta.faults["okta"].update(FaultSpec(throttle_rate=1.0, retry_after_s=3))
    injected = plain.http.get("/api/v1/org", headers=auth)
    fresh_okta.faults["okta"].update(FaultSpec())
    assert injected.status_code == 429 and injected.json()["errorCode"] == "E0000047"
    date = parsedate_to_datetime(injected.headers["Date"]).timestamp()
    assert int(injected.headers["X-Rate-Limit-Reset"]) - date >= 3


async def _sdk_client(lab, emulator, label: str, **extra: Any) -> tuple[Any, Any]:
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
            **extra,
        }
    )
    context = ssl.create_default_context(cafile=str(settings.ca_bundle))
    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=context))
    client.get_request_executor().set_session(session)
    return client, session


@pytest.mark.parametrize("dpop", [True, False])
async def test_dpop_bound_apps_need_proofs_the_sdk_can_give(okta_lab, emulator, dpop) -> None:
    client, session = await _sdk_client(okta_lab, emulator, "dpop-agent", dpopEnabled=dpop)
    try:
        users, _, err = await client.list_users(limit=1)
    finally:
        await session.close()
    if dpop:
        assert err is None and len(users) == 1
    else:
        assert err is not None and "DPoP" in str(err)


async def test_the_sdk_pages_through_every_app_with_one_app_per_page(okta_lab, emulator) -> None:
    from okta.pagination import PaginationHelper

    client, session = await _sdk_client(
        okta_lab, emulator, "invoice-agent", scopes=["okta.apps.read"]
    )
    try:
        labels = await _labels(client, PaginationHelper)
    finally:
        await session.close()
    assert labels == sorted(a.label for a in emulator.state.apps.values())


async def _labels(client: Any, helper: Any) -> list[str]:
    labels: list[str] = []
    after = None
    while True:
        apps, resp, err = await client.list_applications(limit=1, after=after)
        assert err is None
        labels += [a.label for a in apps]
        after = helper.extract_next_cursor(resp.headers)
        if not after:
            return sorted(labels)


def test_current_revokes_the_calling_token_and_the_adapter_never_calls_it(
    plain, emulator, fresh_okta
) -> None:
    import asyncio

    from agent_ir.errors import RefusedError
    from agent_ir.providers.okta import operations as ops
    from tests.providers.okta.helpers import make_adapter

    token_id, value = emulator.mint_api_token("bob@corp.test", "short-lived")
    auth = {"Authorization": f"SSWS {value}"}
    assert plain.http.delete("/api/v1/api-tokens/current", headers=auth).status_code == 204
    assert plain.http.get("/api/v1/org", headers=auth).status_code == 401
    okta = make_adapter(fresh_okta)
    for own in ("current", "00Town"):
        with pytest.raises(RefusedError, match="console's own"):
            asyncio.run(ops.revoke_api_token(okta.client, own, {"00Town"}))
    assert token_id not in emulator.state.api_tokens
