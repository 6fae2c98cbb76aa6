"""Routes of the Google Cloud emulator, and the IAM v1 handlers for service accounts,
keys, workload identity pools and key activity (Policy Analyzer).

``POST …/serviceAccounts`` creates an account (``accountId`` and ``serviceAccount``'s
display name and description) and ``POST …/serviceAccounts/SA/keys`` a user-managed key,
returned once with its key file as ``privateKeyData`` (base64), as IAM does."""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime
from typing import Any

from agent_ir.lab import gcp_asset
from agent_ir.lab import gcp_policies as policies
from agent_ir.lab.gcp_auth import key_file_text
from agent_ir.lab.gcp_call import Call, Handler, page
from agent_ir.lab.gcp_cel import AWS_ROLE_MAPPING
from agent_ir.lab.gcp_errors import ApiError, not_found
from agent_ir.lab.gcp_records import Key, ServiceAccount, rfc3339
from agent_ir.lab.gcp_world import WifPoolSpec, WifProviderSpec

KEY_ACTIVITY = "serviceAccountKeyLastAuthentication"
_ACCOUNT_ID = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])$")
MAX_USER_KEYS = 10
"""IAM's limit of user-managed keys per service account."""


def route(method: str, segments: list[str], verb: str) -> Handler | None:
    """The handler of one request, or None (404)."""
    if verb == gcp_asset.VERB:
        return gcp_asset.route(method, segments)
    n = len(segments)
    version = segments[0] if segments else ""
    if n < 3 or segments[1] != "projects" or version not in ("v1", "v3"):
        return None
    if n == 3:
        if method == "GET" and not verb and version == "v3":
            return policies.get_project
        if method == "POST":
            return {
                "getIamPolicy": policies.get_policy,
                "setIamPolicy": policies.set_policy,
                "testIamPermissions": policies.test_permissions,
            }.get(verb)
        return None
    if version != "v1":
        return None
    if segments[3] == "serviceAccounts":
        return _account_route(method, segments, verb)
    if (
        n >= 6
        and segments[3:6] == ["locations", "global", "workloadIdentityPools"]
        and method == "GET"
    ):
        if n == 6:
            return list_pools
        if n == 8 and segments[7] == "providers":
            return list_providers
    if segments[3:] == ["locations", "global", "activityTypes", KEY_ACTIVITY, "activities"]:
        return query_key_activity if method == "GET" and verb == "query" else None
    return None


def _account_route(method: str, segments: list[str], verb: str) -> Handler | None:
    n = len(segments)
    if n == 4:
        if verb:
            return None
        return list_accounts if method == "GET" else create_account if method == "POST" else None
    if n == 5:
        if method == "GET" and not verb:
            return get_account
        if method == "POST":
            return {
                "disable": disable_account,
                "enable": enable_account,
                "getIamPolicy": policies.get_policy,
                "setIamPolicy": policies.set_policy,
                "testIamPermissions": policies.test_permissions,
                "generateAccessToken": policies.generate_access_token,
            }.get(verb)
        return None
    if segments[5] != "keys":
        return None
    if n == 6:
        if verb:
            return None
        return list_keys if method == "GET" else create_key if method == "POST" else None
    if n == 7:
        if method == "GET" and not verb:
            return get_key
        if method == "DELETE" and not verb:
            return delete_key
        if method == "POST" and verb in ("disable", "enable"):
            return disable_key if verb == "disable" else enable_key
    return None


# -- service accounts -------------------------------------------------------------------


def list_accounts(call: Call) -> dict[str, Any]:
    """``GET v1/projects/P/serviceAccounts`` (20 a page by default, at most 100)."""
    project = call.project_of(call.segments[2], "iam.serviceAccounts.list")
    call.require("iam.serviceAccounts.list", project)
    emails = call.state.emails_by_project.get(project, [])
    chosen, token = page(emails, call, 20, 100)
    items = [call.state.accounts[email] for email in chosen]
    out: dict[str, Any] = {}
    if items:
        out["accounts"] = [a.to_json() for a in items]
    if token:
        out["nextPageToken"] = token
    return out


def create_account(call: Call) -> dict[str, Any]:
    """``POST v1/projects/P/serviceAccounts`` with ``accountId`` (6-30 characters)."""
    project_id = call.project_of(call.segments[2], "iam.serviceAccounts.create")
    call.require("iam.serviceAccounts.create", project_id)
    body = call.body()
    account_id = str(body.get("accountId") or "")
    if not (6 <= len(account_id) <= 30 and _ACCOUNT_ID.match(account_id)):
        raise ApiError(
            400,
            f"Invalid account id {account_id!r}: it must be 6-30 lowercase letters, digits "
            "or dashes, start with a letter and not end with a dash.",
        )
    details = body.get("serviceAccount") or {}
    if not isinstance(details, dict):
        raise ApiError(400, "Invalid JSON payload: 'serviceAccount' must be an object.")
    project = call.state.projects[project_id]
    email = f"{account_id}@{project_id}.iam.gserviceaccount.com"
    if email in call.state.accounts:
        raise ApiError(
            409,
            f"Service account {account_id} already exists within project projects/{project_id}.",
            reason="ALREADY_EXISTS",
            status="ALREADY_EXISTS",
        )
    account = call.state.create_account(
        project,
        account_id,
        str(details.get("displayName") or "")[:100],
        str(details.get("description") or "")[:256],
    )
    return account.to_json()


def get_account(call: Call) -> dict[str, Any]:
    """``GET v1/projects/P/serviceAccounts/SA``."""
    return call.account_of(call.segments[2], call.segments[4], "iam.serviceAccounts.get").to_json()


def disable_account(call: Call) -> dict[str, Any]:
    """``:disable``: its tokens stop working at once (until it is enabled again)."""
    account = call.account_of(call.segments[2], call.segments[4], "iam.serviceAccounts.disable")
    account.disabled = True
    return {}


def enable_account(call: Call) -> dict[str, Any]:
    """``:enable``: unexpired tokens issued before the disable work again."""
    account = call.account_of(call.segments[2], call.segments[4], "iam.serviceAccounts.enable")
    account.disabled = False
    return {}


# -- keys -------------------------------------------------------------------------------


def list_keys(call: Call) -> dict[str, Any]:
    """``GET …/keys[?keyTypes=USER_MANAGED]`` (not paged)."""
    account = call.account_of(call.segments[2], call.segments[4], "iam.serviceAccountKeys.list")
    wanted = set(call.request.query_params.get("keyTypes", []))
    if wanted - {"USER_MANAGED", "SYSTEM_MANAGED", "KEY_TYPE_UNSPECIFIED"}:
        raise ApiError(400, f"Invalid value at 'key_types': {sorted(wanted)}")
    keys = [
        k
        for k in account.keys.values()
        if not wanted - {"KEY_TYPE_UNSPECIFIED"} or k.type in wanted
    ]
    keys.sort(key=lambda k: (k.valid_after, k.id))
    return {"keys": [k.to_json() for k in keys]} if keys else {}


def create_key(call: Call) -> dict[str, Any]:
    """``POST …/keys``: a new user-managed key and, this once, its key file."""
    account = call.account_of(call.segments[2], call.segments[4], "iam.serviceAccountKeys.create")
    body = call.body()
    kind = str(body.get("privateKeyType") or "TYPE_GOOGLE_CREDENTIALS_FILE")
    if kind != "TYPE_GOOGLE_CREDENTIALS_FILE":
        raise ApiError(400, f"Private key type {kind} is not supported.")
    if sum(1 for k in account.keys.values() if k.type == "USER_MANAGED") >= MAX_USER_KEYS:
        raise ApiError(
            400,
            "Precondition check failed.",
            status="FAILED_PRECONDITION",
            reason="KEY_LIMIT_REACHED",
        )
    key = call.state.create_key(account)
    host = call.request.header("Host") or "127.0.0.1"
    data = call.api.vault.key_file(call.state, key, f"https://{host}/token")
    out = key.to_json()
    out["privateKeyType"] = kind
    out["privateKeyData"] = base64.b64encode(key_file_text(data).encode()).decode()
    return out


def _key(call: Call, permission: str) -> tuple[ServiceAccount, Key]:
    account = call.account_of(call.segments[2], call.segments[4], permission)
    key = account.keys.get(call.segments[6])
    if key is None:
        raise not_found(f"Service account key {call.segments[6]}")
    return account, key


def get_key(call: Call) -> dict[str, Any]:
    """``GET …/keys/K``."""
    return _key(call, "iam.serviceAccountKeys.get")[1].to_json()


def disable_key(call: Call) -> dict[str, Any]:
    """``…/keys/K:disable``; Google-managed keys cannot be disabled."""
    key = _key(call, "iam.serviceAccountKeys.disable")[1]
    if key.type != "USER_MANAGED":
        raise ApiError(400, "System managed keys cannot be disabled.")
    key.disabled = True
    return {}


def enable_key(call: Call) -> dict[str, Any]:
    """``…/keys/K:enable``."""
    key = _key(call, "iam.serviceAccountKeys.enable")[1]
    key.disabled = False
    return {}


def delete_key(call: Call) -> dict[str, Any]:
    """``DELETE …/keys/K``: gone for good (a new key would get a new id)."""
    account, key = _key(call, "iam.serviceAccountKeys.delete")
    if key.type != "USER_MANAGED":
        raise ApiError(400, "System managed keys cannot be deleted.")
    del account.keys[key.id]
    call.state.key_deleted(key)
    return {}


# -- workload identity federation -------------------------------------------------------


def _pool_name(number: str, pool: WifPoolSpec) -> str:
    return f"projects/{number}/locations/global/workloadIdentityPools/{pool.id}"


def list_pools(call: Call) -> dict[str, Any]:
    """``GET v1/projects/P/locations/global/workloadIdentityPools``."""
    project_id = call.project_of(call.segments[2], "iam.workloadIdentityPools.list")
    call.require("iam.workloadIdentityPools.list", project_id)
    project = call.state.projects[project_id]
    items, token = page(project.pools, call, 50, 500)
    out: dict[str, Any] = {}
    if items:
        out["workloadIdentityPools"] = [
            {
                "name": _pool_name(project.number, pool),
                "displayName": pool.display_name,
                "description": pool.description,
                "state": "ACTIVE",
                "disabled": pool.disabled,
            }
            for pool in items
        ]
    if token:
        out["nextPageToken"] = token
    return out


def list_providers(call: Call) -> dict[str, Any]:
    """``GET …/workloadIdentityPools/POOL/providers``."""
    project_id = call.project_of(call.segments[2], "iam.workloadIdentityPoolProviders.list")
    call.require("iam.workloadIdentityPoolProviders.list", project_id)
    project = call.state.projects[project_id]
    pool = next((p for p in project.pools if p.id == call.segments[6]), None)
    if pool is None:
        raise not_found(f"Workload identity pool {call.segments[6]}")
    items, token = page(pool.providers, call, 50, 500)
    out: dict[str, Any] = {}
    if items:
        out["workloadIdentityPoolProviders"] = [
            _provider_json(_pool_name(project.number, pool), p) for p in items
        ]
    if token:
        out["nextPageToken"] = token
    return out


def _provider_json(pool_name: str, provider: WifProviderSpec) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": f"{pool_name}/providers/{provider.id}",
        "displayName": provider.display_name,
        "state": "ACTIVE",
        "disabled": provider.disabled,
    }
    if provider.aws is not None:
        out["aws"] = {"accountId": provider.aws.account_id}
        mapping = {"google.subject": "assertion.arn", "attribute.aws_role": AWS_ROLE_MAPPING}
    else:
        oidc = provider.oidc
        out["oidc"] = {
            "issuerUri": oidc.issuer_uri if oidc else "",
            "allowedAudiences": list(oidc.allowed_audiences) if oidc else [],
        }
        mapping = {"google.subject": "assertion.sub"}
    out["attributeMapping"] = provider.attribute_mapping or mapping
    if provider.attribute_condition:
        out["attributeCondition"] = provider.attribute_condition
    return out


# -- key activity -------------------------------------------------------------------------


def query_key_activity(call: Call) -> dict[str, Any]:
    """Policy Analyzer's last authentication of every key of a project that was used."""
    permission = "policyanalyzer.serviceAccountKeyLastAuthenticationActivities.query"
    project_id = call.project_of(call.segments[2], permission)
    call.require(permission, project_id)
    state = call.state
    project = state.projects[project_id]
    names, token = page(state.used_keys.get(project_id, []), call, 100, 1000)
    now = rfc3339(datetime.now(UTC))
    activities = []
    for name in names:
        email, key_id = state.used_key[name]
        account = state.accounts[email]
        key = account.keys[key_id]
        resource = f"//iam.googleapis.com/projects/{project_id}/serviceAccounts/{account.unique_id}/keys/{key.id}"
        activities.append(
            {
                "fullResourceName": resource,
                "activityType": KEY_ACTIVITY,
                "observationPeriod": {"startTime": now, "endTime": now},
                "activity": {
                    "lastAuthenticatedTime": rfc3339(key.last_used) if key.last_used else None,
                    "serviceAccountKey": {
                        "serviceAccountId": account.unique_id,
                        "projectNumber": project.number,
                        "fullResourceName": resource,
                    },
                },
            }
        )
    out: dict[str, Any] = {"activities": activities} if activities else {}
    if token:
        out["nextPageToken"] = token
    return out
