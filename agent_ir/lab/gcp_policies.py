"""Allow-policy endpoints of the Google Cloud emulator (projects and service accounts),
Resource Manager's project read, and IAM Credentials' ``generateAccessToken``.

* ``getIamPolicy``: a service account takes ``options.requestedPolicyVersion`` as a query
  parameter, a project in the body; conditional bindings need version 3 to be shown.
* ``setIamPolicy``: a stale ``etag`` is refused with 409 ``ABORTED``; every write gets a
  new etag; conditions need version 3; bindings of one role and condition are merged.
* ``generateAccessToken``: each hop of ``delegates`` needs ``implicitDelegation`` (token
  creator) on the next, the last hop ``getAccessToken`` on the target; by the policies in
  force, which trail writes by the world's ``propagation_s`` (a federated caller from the
  Security Token Service matches its ``principal://`` subject and ``principalSet://``
  attribute and pool members); a denial reads as IAM
  Credentials words it (the resource is not named). The caller's own token is refused
  while its account is disabled (a 401 before this runs), a disabled target or hop with
  ``FAILED_PRECONDITION``; the token it issues stops working while the target is disabled.
"""

from __future__ import annotations

import re
from typing import Any

from agent_ir.lab import gcp_asset
from agent_ir.lab.gcp_auth import expire_time
from agent_ir.lab.gcp_call import Call
from agent_ir.lab.gcp_errors import ApiError, not_found
from agent_ir.lab.gcp_records import Policy, ServiceAccount, binding_key
from agent_ir.lab.gcp_roles import role_allows

_ROLE = re.compile(
    r"^(roles/[A-Za-z0-9_.]+|(projects|organizations)/[a-z0-9-]+/roles/[A-Za-z0-9_.]+)$"
)
_MEMBER = re.compile(
    r"^(allUsers|allAuthenticatedUsers|(user|serviceAccount|group|domain|deleted):.+|principal(Set)?://.+)$"
)
_LIFETIME = re.compile(r"^(\d+)(\.\d+)?s$")


def _requested_version(raw: Any) -> int:
    try:
        version = int(raw or 0)
    except (TypeError, ValueError):
        raise ApiError(400, f"Invalid requested policy version: {raw!r}") from None
    if version not in (0, 1, 3):
        raise ApiError(400, f"Invalid requested policy version: {version}")
    return version


def _resource(call: Call, permission: str) -> tuple[Policy, str, ServiceAccount | None]:
    """The policy a ``…:VERB`` call addresses, after checking ``permission`` on it."""
    if call.segments[0] in ("v1", "v3") and len(call.segments) == 3:
        project = call.project_of(
            call.segments[2], permission.replace("*", "resourcemanager.projects")
        )
        call.require(permission.replace("*", "resourcemanager.projects"), project)
        return call.state.projects[project].policy, f"projects/{project}", None
    account = call.account_of(
        call.segments[2], call.segments[4], permission.replace("*", "iam.serviceAccounts")
    )
    return account.policy, account.name(), account


def get_policy(call: Call) -> dict[str, Any]:
    """``:getIamPolicy`` on a project (version in the body) or an account (in the query)."""
    policy, _, account = _resource(call, "*.getIamPolicy")
    if account is not None:
        version = _requested_version(call.param("options.requestedPolicyVersion", "0"))
    else:
        options = call.body().get("options") or {}
        version = _requested_version(
            options.get("requestedPolicyVersion") if isinstance(options, dict) else None
        )
    return policy.to_json(version)


def set_policy(call: Call) -> dict[str, Any]:
    """``:setIamPolicy``: read-modify-write guarded by the etag."""
    policy, name, _ = _resource(call, "*.setIamPolicy")
    body = call.body()
    new = body.get("policy")
    if not isinstance(new, dict):
        raise ApiError(400, "Invalid JSON payload: 'policy' is required.")
    mask = str(body.get("updateMask") or "bindings,etag")
    if "bindings" not in {part.strip() for part in mask.split(",")}:
        return policy.to_json(3)
    etag = new.get("etag")
    if etag and etag != policy.etag:
        raise ApiError(
            409,
            "There were concurrent policy changes. Please retry the whole read-modify-write "
            "with exponential backoff.",
            reason="ETAG_MISMATCH",
            metadata={"resource": name},
        )
    bindings = _clean_bindings(new.get("bindings") or [], _policy_version(new.get("version")))
    policy.replace(bindings, call.state.propagation_s)
    gcp_asset.policy_changed(call.state, name, policy)
    return policy.to_json(3)


def _policy_version(raw: Any) -> int:
    try:
        version = int(raw or 1)
    except (TypeError, ValueError):
        raise ApiError(400, f"Invalid policy version: {raw!r}") from None
    if version not in (1, 3):
        raise ApiError(400, f"Invalid policy version: {version}")
    return version


def _clean_bindings(raw: Any, version: int) -> list[dict[str, Any]]:
    if not isinstance(raw, list):
        raise ApiError(400, "Invalid JSON payload: 'bindings' must be a list.")
    merged: dict[str, dict[str, Any]] = {}
    for item in raw:
        if not isinstance(item, dict) or not isinstance(item.get("role"), str):
            raise ApiError(400, "Invalid binding: each binding needs a role.")
        role = item["role"]
        if not _ROLE.match(role):
            raise ApiError(400, f"Role {role} is not supported for this resource.")
        members = item.get("members") or []
        if not isinstance(members, list) or not all(isinstance(m, str) for m in members):
            raise ApiError(400, "Invalid binding: 'members' must be a list of strings.")
        for member in members:
            if not _MEMBER.match(member):
                raise ApiError(400, f"Invalid member {member!r}.")
        binding: dict[str, Any] = {"role": role, "members": []}
        condition = item.get("condition")
        if condition is not None:
            if version < 3:
                raise ApiError(400, "Conditional role bindings require policy version 3.")
            if not isinstance(condition, dict) or not condition.get("expression"):
                raise ApiError(400, "Invalid condition: 'expression' is required.")
            binding["condition"] = condition
        kept = merged.setdefault(binding_key(binding), binding)
        kept["members"].extend(m for m in members if m not in kept["members"])
    return [b for b in merged.values() if b["members"]]


def test_permissions(call: Call) -> dict[str, Any]:
    """``:testIamPermissions``: the asked permissions the caller holds there."""
    body = call.body()
    asked = body.get("permissions") or []
    if not isinstance(asked, list) or not all(isinstance(p, str) for p in asked):
        raise ApiError(400, "Invalid JSON payload: 'permissions' must be a list of strings.")
    if call.segments[0] in ("v1", "v3") and len(call.segments) == 3:
        project = call.state.project(call.segments[2])
        if project is None:
            return {}
        held = [p for p in asked if call.state.allowed(call.caller, p, project.id, None)]
    else:
        account = call.state.account(call.segments[4])
        if account is None:
            raise not_found(f"Service account {call.segments[4]}")
        held = [
            p for p in asked if call.state.allowed(call.caller, p, account.project, account.email)
        ]
    return {"permissions": held} if held else {}


def get_project(call: Call) -> dict[str, Any]:
    """``GET v3/projects/P``."""
    project_id = call.project_of(call.segments[2], "resourcemanager.projects.get")
    call.require("resourcemanager.projects.get", project_id)
    project = call.state.projects[project_id]
    return {
        "name": f"projects/{project.number}",
        "parent": "organizations/0",
        "projectId": project.id,
        "state": "ACTIVE",
        "displayName": project.id,
        "etag": project.policy.etag,
    }


def generate_access_token(call: Call) -> dict[str, Any]:
    """``POST v1/projects/-/serviceAccounts/SA:generateAccessToken`` with ``delegates``."""
    state = call.state
    body = call.body()
    scopes = body.get("scope") or []
    if not isinstance(scopes, list) or not scopes or not all(isinstance(s, str) for s in scopes):
        raise ApiError(400, "Scope required.")
    lifetime = _lifetime(body.get("lifetime"))
    delegates = body.get("delegates") or []
    if not isinstance(delegates, list) or not all(isinstance(d, str) for d in delegates):
        raise ApiError(400, "Invalid delegates.")
    chain = [_chain_account(call, ref) for ref in delegates]
    target = _chain_account(call, call.segments[4])
    actor = call.caller
    for hop, account in enumerate([*chain, target]):
        permission = (
            "iam.serviceAccounts.getAccessToken"
            if hop == len(chain)
            else "iam.serviceAccounts.implicitDelegation"
        )
        if not _holds(call, actor, permission, account):
            raise ApiError(
                403,
                f"Permission '{permission}' denied on resource (or it may not exist).",
                reason="IAM_PERMISSION_DENIED",
                metadata={"permission": permission},
            )
        if account.disabled:
            raise ApiError(
                400,
                f"Service account {account.email} is disabled.",
                status="FAILED_PRECONDITION",
                reason="SERVICE_ACCOUNT_DISABLED",
            )
        actor = account.email
    delegation = (
        *state.delegation_of(call.request.header("Authorization") or ""),
        call.caller,
        *(a.email for a in chain),
    )
    token, expires = state.mint(target.email, tuple(scopes), lifetime, delegation)
    return {"accessToken": token, "expireTime": expire_time(expires)}


def _holds(call: Call, actor: str, permission: str, account: ServiceAccount) -> bool:
    members = call.state.members_of(actor)
    policies = (call.state.projects[account.project].policy, account.policy)
    return any(
        role_allows(role, permission) for policy in policies for role in policy.roles_of(members)
    )


def _chain_account(call: Call, ref: str) -> ServiceAccount:
    email = ref.rsplit("/", 1)[-1]
    account = call.state.account(email)
    if account is None:
        raise ApiError(404, f"Requested entity was not found: {ref}", reason="NOT_FOUND")
    return account


def _lifetime(raw: Any) -> int:
    if raw in (None, ""):
        return 3600
    match = _LIFETIME.match(str(raw))
    if not match:
        raise ApiError(400, f"Invalid value at 'lifetime' ({raw!r})")
    seconds = int(match.group(1))
    if seconds < 1 or seconds > 3600:
        raise ApiError(
            400,
            "The lifetime must be at most 3600 seconds (longer lifetimes need the "
            "constraints/iam.allowServiceAccountCredentialLifetimeExtension policy).",
        )
    return seconds
