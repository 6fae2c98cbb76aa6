"""The GCP emulator through official clients: google-auth's token flow, paging, error bodies,
etags, delegation chains, propagation, revived tokens, quotas and fault shapes."""

from __future__ import annotations

import json
import time
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from google.auth.exceptions import RefreshError

from agent_ir.lab.faults import FaultSpec
from agent_ir.lab.gcp_world import QuotaSpec
from tests.providers.gcp.conftest import AGENT, LEDGER, READER, fetch_token, http_session

GENERATE = "v1/projects/-/serviceAccounts/{}:generateAccessToken"


def _bearer(session, url, token, body=None, method="POST"):
    return session.request(method, url, json=body, headers={"Authorization": f"Bearer {token}"})


def test_google_auth_gets_a_token_and_pages_through_accounts(settings, official) -> None:
    assert fetch_token(settings, settings.key_file).startswith("ya29.")
    emails, pages, token = [], 0, ""
    while True:
        params = {"pageSize": 2, **({"pageToken": token} if token else {})}
        reply = official.get("v1/projects/corp-prod/serviceAccounts", **params).json()
        pages += 1
        emails += [a["email"] for a in reply["accounts"]]
        token = reply.get("nextPageToken", "")
        if not token:
            break
    assert pages == 4 and len(emails) == len(set(emails)) == 7
    account = official.account(AGENT)
    assert account["uniqueId"].isdigit() and len(account["uniqueId"]) == 21
    assert account["oauth2ClientId"] == account["uniqueId"]
    bad = official.get("v1/projects/corp-prod/serviceAccounts", pageToken="nonsense!")
    assert bad.status_code == 400 and bad.json()["error"]["status"] == "INVALID_ARGUMENT"


def test_keys_are_unpaged_and_filterable(official) -> None:
    everything = official.get(f"v1/projects/-/serviceAccounts/{AGENT}/keys").json()["keys"]
    assert "nextPageToken" not in everything and len(everything) == 4
    assert {k["keyType"] for k in everything} == {"USER_MANAGED", "SYSTEM_MANAGED"}
    assert all("privateKeyData" not in k for k in everything)
    disabled = [k for k in everything if k.get("disabled")]
    assert len(disabled) == 1
    system = next(k for k in everything if k["keyType"] == "SYSTEM_MANAGED")
    refused = official.post(f"v1/{system['name']}:disable")
    assert refused.status_code == 400


def test_error_bodies_have_googles_shape(official, settings) -> None:
    missing = official.get(
        "v1/projects/corp-prod/serviceAccounts/nobody-here@corp-prod.iam.gserviceaccount.com"
    )
    error = missing.json()["error"]
    assert missing.status_code == 404 and set(error) == {"code", "message", "status", "details"}
    assert error["status"] == "NOT_FOUND" and error["code"] == 404
    anonymous = http_session(settings).get(
        f"{settings.iam_url}/v1/projects/corp-prod/serviceAccounts"
    )
    assert anonymous.status_code == 401
    assert anonymous.json()["error"]["status"] == "UNAUTHENTICATED"


def test_token_endpoint_refuses_what_google_refuses(
    fresh_gcp, settings, official, agent_key, tmp_path
) -> None:
    path = agent_key(AGENT)
    assert fetch_token(settings, path)
    forged = json.loads(path.read_text())
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged["private_key"] = other.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    forged_path = tmp_path / "forged.json"
    forged_path.write_text(json.dumps(forged))
    with pytest.raises(RefreshError, match="Invalid JWT Signature"):
        fetch_token(settings, forged_path)
    # the audience is Google's whatever token_uri says: another one is refused
    info = json.loads(path.read_text())
    now = int(time.time())
    claims = {"iss": AGENT, "aud": info["token_uri"], "iat": now, "exp": now + 600, "scope": "x"}
    assertion = jwt.encode(
        claims, info["private_key"], "RS256", headers={"kid": info["private_key_id"]}
    )
    reply = http_session(settings).post(
        info["token_uri"],
        data={"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": assertion},
    )
    assert reply.status_code == 400 and "audience" in reply.json()["error_description"]
    key_name = f"v1/projects/-/serviceAccounts/{AGENT}/keys/{info['private_key_id']}"
    assert official.post(f"{key_name}:disable").status_code == 200
    with pytest.raises(RefreshError, match="invalid_grant"):
        fetch_token(settings, path)
    assert official.post(f"{key_name}:enable").status_code == 200
    assert fetch_token(settings, path)
    assert official.session.delete(f"{official.base}/{key_name}").status_code == 200
    with pytest.raises(RefreshError, match="Invalid JWT Signature"):
        fetch_token(settings, path)


def test_reenabling_an_account_revives_its_old_tokens(
    fresh_gcp, settings, official, agent_key
) -> None:
    token = fetch_token(settings, agent_key(AGENT))
    session = http_session(settings)
    url = f"{settings.iam_url}/v1/projects/corp-prod/serviceAccounts"
    assert _bearer(session, url, token, method="GET").status_code == 200
    assert official.post(f"v1/projects/-/serviceAccounts/{AGENT}:disable").json() == {}
    assert official.account(AGENT)["disabled"] is True
    assert _bearer(session, url, token, method="GET").status_code == 401
    with pytest.raises(RefreshError, match="disabled"):
        fetch_token(settings, agent_key(AGENT))
    assert official.post(f"v1/projects/-/serviceAccounts/{AGENT}:enable").status_code == 200
    assert _bearer(session, url, token, method="GET").status_code == 200


def test_delegation_chain_needs_token_creator_at_every_hop(fresh_gcp, settings, agent_key) -> None:
    token = fetch_token(settings, agent_key(AGENT))
    session = http_session(settings)
    base = settings.credentials_url
    body = {"scope": ["https://www.googleapis.com/auth/cloud-platform"], "lifetime": "600s"}
    direct = _bearer(session, f"{base}/{GENERATE.format(READER)}", token, body)
    assert direct.status_code == 200 and direct.json()["accessToken"].startswith("ya29.")
    chained = _bearer(
        session,
        f"{base}/{GENERATE.format(LEDGER)}",
        token,
        {**body, "delegates": [f"projects/-/serviceAccounts/{READER}"]},
    )
    assert chained.status_code == 200
    # without the middle hop the agent has no token creator on the ledger account
    skipped = _bearer(session, f"{base}/{GENERATE.format(LEDGER)}", token, body)
    assert skipped.status_code == 403
    assert skipped.json()["error"]["details"][0]["reason"] == "IAM_PERMISSION_DENIED"
    too_long = _bearer(
        session, f"{base}/{GENERATE.format(READER)}", token, {**body, "lifetime": "7200s"}
    )
    assert too_long.status_code == 400


def test_stale_etag_is_aborted_and_writes_wait_for_propagation(
    fresh_gcp, settings, official, agent_key, emulator
) -> None:
    policy = official.account_policy(READER)
    kept = [b for b in policy["bindings"] if b["role"] != "roles/iam.serviceAccountTokenCreator"]
    write = {
        "policy": {"version": 3, "etag": policy["etag"], "bindings": kept},
        "updateMask": "bindings,etag",
    }
    with emulator.api.lock:
        emulator.state.propagation_s = 30
    first = official.post(f"v1/projects/-/serviceAccounts/{READER}:setIamPolicy", write)
    assert first.status_code == 200 and first.json()["etag"] != policy["etag"]
    stale = official.post(f"v1/projects/-/serviceAccounts/{READER}:setIamPolicy", write)
    assert stale.status_code == 409 and stale.json()["error"]["status"] == "ABORTED"
    # read-back shows the change at once, but enforcement trails it
    assert "roles/iam.serviceAccountTokenCreator" not in json.dumps(official.account_policy(READER))
    token = fetch_token(settings, agent_key(AGENT))
    body = {"scope": ["https://www.googleapis.com/auth/cloud-platform"]}
    url = f"{settings.credentials_url}/{GENERATE.format(READER)}"
    assert _bearer(http_session(settings), url, token, body).status_code == 200
    with emulator.api.lock:
        emulator.state.settle()
    assert _bearer(http_session(settings), url, token, body).status_code == 403


def test_conditions_need_version_3(official) -> None:
    v1 = official.project_policy("corp-prod")
    assert v1["version"] == 3
    old = official.post(
        "v3/projects/corp-prod:getIamPolicy", {"options": {"requestedPolicyVersion": 1}}
    )
    assert any("withheld" in m for b in old.json()["bindings"] for m in b["members"])
    refused = official.post(
        "v3/projects/corp-prod:setIamPolicy",
        {"policy": {"version": 1, "etag": v1["etag"], "bindings": v1["bindings"]}},
    )
    assert refused.status_code == 400


def test_faults_and_quotas_answer_in_googles_shape(official, gcp_lab, emulator) -> None:
    faults = gcp_lab.faults["gcp"]
    assert official.get("v1/projects/corp-prod/serviceAccounts").status_code == 200
    try:
        faults.update(FaultSpec(throttle_rate=1.0, retry_after_s=2))
        throttled = official.get("v1/projects/corp-prod/serviceAccounts")
        faults.update(FaultSpec(error_rate=1.0))
        failed = official.get("v1/projects/corp-prod/serviceAccounts")
    finally:
        faults.update(FaultSpec())
    assert throttled.status_code == 429
    error = throttled.json()["error"]
    assert error["status"] == "RESOURCE_EXHAUSTED"
    assert {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "2s"} in error[
        "details"
    ]
    assert failed.status_code == 503 and failed.json()["error"]["status"] == "UNAVAILABLE"
    emulator.api.quota = QuotaSpec(reads_per_minute=3)
    try:
        statuses = [
            official.get("v1/projects/corp-prod/serviceAccounts").status_code for _ in range(5)
        ]
    finally:
        emulator.api.quota = None
    assert statuses[:3] == [200, 200, 200] and statuses[3] == 429


def test_lab_key_files_are_private(agent_key) -> None:
    path: Path = agent_key(AGENT)
    assert path.stat().st_mode & 0o777 == 0o600
    assert json.loads(path.read_text())["client_email"] == AGENT
