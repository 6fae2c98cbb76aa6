"""Pure translation of IAM data into identities, credentials, grants and edges (no I/O).

**Agent convention.** A service account's ``description`` may carry ``key=value`` words;
``agent-ir:agent=<name>`` ties it to an agent and ``agent-ir:owner=<email>`` names the human
who owns it (service accounts have no labels; the description is what IAM offers). The
explicit inventory, by email, always wins over the description.

**Identity.** id = the account's email; ``aliases`` = its numeric ``uniqueId`` and
``serviceAccount:<email>`` (how policies name it); account = its project id.

**Grants.** Project bindings naming the account; ``roles/owner`` and ``roles/editor`` are
``admin``, as are project-wide IAM-administration and impersonation roles (whoever holds
them can become any account of the project); ``roles/viewer`` and whole-service
``roles/<service>.admin`` roles are ``wildcard``.

**Edges** come from bindings on an account's own policy (and project bindings, which every
account of the project inherits): token creator, service account user, workload identity
user, owner and editor let their members act as the account (``impersonate``); a federated
principal (``principal://`` / ``principalSet://`` of a workload identity pool) reaches it by
``federation``. AWS workloads are named by their role ARN, humans as ``human:<email>``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from agent_ir.model import Credential, Edge, EdgeKind, Grant, Identity

AGENT_KEY = "agent-ir:agent"
OWNER_KEY = "agent-ir:owner"
KIND = "service-account"
NO_EXPIRY_YEAR = 9999

TOKEN_CREATOR = "roles/iam.serviceAccountTokenCreator"
ACCOUNT_USER = "roles/iam.serviceAccountUser"
WORKLOAD_USER = "roles/iam.workloadIdentityUser"

ADMIN_ROLES = {
    "roles/owner": "every permission on the project, including granting any role",
    "roles/editor": "change nearly every resource of the project and act as any of its "
    "service accounts (iam.serviceAccounts.actAs)",
    "roles/iam.securityAdmin": "set any IAM policy of the project (grant itself anything)",
    "roles/resourcemanager.projectIamAdmin": "set the project's IAM policy (grant itself anything)",
    "roles/iam.serviceAccountAdmin": "set the IAM policy of every service account of the project",
    "roles/iam.serviceAccountKeyAdmin": "create keys for every service account of the project",
    TOKEN_CREATOR: "mint tokens for every service account of the project",
    ACCOUNT_USER: "act as every service account of the project",
    WORKLOAD_USER: "impersonate every service account of the project",
}
_VIEWER = "read nearly everything in the project"
# Roles on an account's policy that let a member act as that account, and how.
ACTING_ROLES = {
    TOKEN_CREATOR: "can mint its access and ID tokens (generateAccessToken), also as one hop "
    "of a delegates chain",
    ACCOUNT_USER: "can act as it (run workloads as it: iam.serviceAccounts.actAs)",
    WORKLOAD_USER: "can obtain its tokens through workload identity",
    "roles/owner": "owns it (can grant itself any role on it)",
    "roles/editor": "can act as it (iam.serviceAccounts.actAs)",
    "roles/iam.serviceAccountAdmin": "controls its IAM policy (can grant itself token creator)",
}
PROJECT_WIDE_ACTING = (TOKEN_CREATOR, ACCOUNT_USER, WORKLOAD_USER)
_POOL = re.compile(
    r"^principal(Set)?://iam\.googleapis\.com/projects/(\d+)/locations/global/"
    r"workloadIdentityPools/([^/]+)/(.*)$"
)
_ASSUMED = re.compile(r"^arn:aws:sts::(\d{12}):assumed-role/([^/]+)")


def description_tags(description: str) -> tuple[tuple[str, str], ...]:
    """The ``key=value`` words of a description, in order."""
    pairs = []
    for word in re.split(r"[\s,;]+", description or ""):
        key, sep, value = word.partition("=")
        if sep and key and value:
            pairs.append((key, value))
    return tuple(pairs)


def parse_time(text: Any) -> datetime | None:
    """An RFC 3339 timestamp, or None."""
    if not isinstance(text, str) or not text:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def credential(key: dict[str, Any], now: datetime, last_used: datetime | None) -> Credential:
    """One key as a credential: user-managed keys are static, Google-managed ones rotate."""
    key_id = str(key["name"]).rsplit("/", 1)[-1]
    user_managed = key.get("keyType", "USER_MANAGED") == "USER_MANAGED"
    before = parse_time(key.get("validBeforeTime"))
    expires = before if before is not None and before.year < NO_EXPIRY_YEAR else None
    status = "active"
    if key.get("disabled"):
        status = "disabled"
    elif expires is not None and expires <= now:
        status = "expired"
    return Credential(
        id=key_id,
        kind="user-managed-key" if user_managed else "system-managed-key",
        status=status,
        created=parse_time(key.get("validAfterTime")),
        expires=expires,
        last_used=last_used,
        static=user_managed,
    )


def identity(account: dict[str, Any], credentials: tuple[Credential, ...] = ()) -> Identity:
    """A service account as a model identity."""
    email = str(account["email"])
    tags = description_tags(str(account.get("description", "")))
    found = dict(tags)
    return Identity(
        provider="gcp",
        kind=KIND,
        id=email,
        name=email.partition("@")[0],
        account=str(account.get("projectId") or email.partition("@")[2].split(".")[0]),
        credentials=credentials,
        tags=tags,
        owner=found.get(OWNER_KEY),
        agent=found.get(AGENT_KEY),
        status="disabled" if account.get("disabled") else "active",
        aliases=(str(account.get("uniqueId", "")), f"serviceAccount:{email}"),
    )


def role_risk(role: str) -> tuple[str | None, str]:
    """The risk of holding ``role`` on a project, and why."""
    if role in ADMIN_ROLES:
        return "admin", ADMIN_ROLES[role]
    if role == "roles/viewer":
        return "wildcard", _VIEWER
    if role.startswith("roles/") and role.endswith(".admin"):
        service = role[len("roles/") : -len(".admin")]
        return "wildcard", f"every permission of {service}"
    return None, ""


def condition_text(binding: dict[str, Any]) -> str:
    """`` (if TITLE)`` for a conditional binding, else ''."""
    condition = binding.get("condition")
    if not isinstance(condition, dict):
        return ""
    return f" (if {condition.get('title') or condition.get('expression', 'a condition')})"


def project_grants(project: str, policy: dict[str, Any], accounts: set[str]) -> list[Grant]:
    """Grants the project policy gives to known service accounts."""
    grants = []
    for binding in policy.get("bindings", []):
        role = str(binding["role"])
        risk, why = role_risk(role)
        for member in binding.get("members", []):
            email = member.partition(":")[2] if member.startswith("serviceAccount:") else ""
            if email not in accounts:
                continue
            detail = f"on project {project}{condition_text(binding)}" + (f": {why}" if why else "")
            grants.append(
                Grant(
                    provider="gcp",
                    identity=email,
                    grant=role,
                    kind="project-binding",
                    risk=risk,
                    detail=detail,
                    ref=f"projects/{project}",
                )
            )
    return grants


@dataclass(slots=True)
class PoolIndex:
    """Workload identity pools by ``(project number, pool id)``: their providers' kinds."""

    providers: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)
    disabled: set[tuple[str, str]] = field(default_factory=set)

    def describe(self, number: str, pool: str) -> str:
        """A short text on what a pool trusts."""
        found = self.providers.get((number, pool))
        if found is None:
            return f"workload identity pool {pool} (not found in the projects read)"
        kinds = []
        for provider in found:
            if provider.get("disabled"):
                continue
            if "aws" in provider:
                kinds.append(f"AWS account {provider['aws'].get('accountId')}")
            elif "oidc" in provider:
                kinds.append(f"OIDC issuer {provider['oidc'].get('issuerUri')}")
        trusts = ", ".join(kinds) or "no enabled provider"
        off = " (disabled)" if (number, pool) in self.disabled else ""
        return f"workload identity pool {pool}{off} trusting {trusts}"


def principal_of(member: str) -> tuple[str, bool] | None:
    """The graph node a policy member stands for, and whether it is federated; None for
    members that reach nothing (``deleted:…``)."""
    if member.startswith("serviceAccount:"):
        email = member.partition(":")[2]
        if ".svc.id.goog[" in email:
            return f"external:kubernetes:{email}", True
        return email, False
    if member.startswith("user:"):
        return f"human:{member.partition(':')[2]}", False
    if member in ("allUsers", "allAuthenticatedUsers"):
        return f"external:{member}", False
    if member.startswith(("group:", "domain:")):
        return f"external:{member}", False
    match = _POOL.match(member)
    if match:
        rest = match.group(4)
        for prefix in ("attribute.aws_role/", "subject/"):
            if rest.startswith(prefix):
                value = rest[len(prefix) :]
                aws = _ASSUMED.match(value)
                if aws:
                    return f"arn:aws:iam::{aws.group(1)}:role/{aws.group(2)}", True
                if prefix == "subject/":
                    return value, True
        return f"external:{member}", True
    return None


def member_label(member: str, principal: str) -> str:
    """A short name for a policy member in a reason."""
    if member.startswith(("serviceAccount:", "user:")):
        return member.partition(":")[2]
    if principal.startswith("arn:aws:iam::"):
        return f"AWS role {principal}"
    return member


def _pool_of(member: str) -> tuple[str, str] | None:
    match = _POOL.match(member)
    return (match.group(2), match.group(3)) if match else None


def acting_edges(
    target: str,
    resource: str,
    policy: dict[str, Any],
    pools: PoolIndex,
    *,
    inherited_from: str | None = None,
) -> list[Edge]:
    """Who can act as ``target`` by the bindings of ``policy`` (the account's own, or its
    project's when ``inherited_from`` names the project)."""
    roles = PROJECT_WIDE_ACTING if inherited_from else tuple(ACTING_ROLES)
    edges = []
    for binding in policy.get("bindings", []):
        role = str(binding["role"])
        if role not in roles:
            continue
        for member in binding.get("members", []):
            found = principal_of(member)
            if found is None or found[0] == target:
                continue
            source, federated = found
            how = ACTING_ROLES[role]
            where = (
                f"on project {inherited_from}, inherited by {target}"
                if inherited_from
                else f"on {target}"
            )
            pool = _pool_of(member)
            who = member_label(member, source)
            reason = f"{who} holds {role} {where}: {how}{condition_text(binding)}"
            if pool is not None:
                reason += f"; via {pools.describe(*pool)}"
            edges.append(
                Edge(
                    source,
                    target,
                    EdgeKind.FEDERATION if federated else EdgeKind.IMPERSONATE,
                    reason,
                    provider="gcp",
                    evidence=(f"{resource} getIamPolicy: {role} → {member}",),
                )
            )
    return edges


MINTING_ROLES = frozenset({TOKEN_CREATOR, WORKLOAD_USER, "roles/owner"})
"""Acting roles whose holders can call ``generateAccessToken`` for the account."""


def edge_role(edge: Edge) -> str | None:
    """The role an acting edge of this module rests on (from its evidence), or None."""
    for line in edge.evidence:
        _, sep, rest = line.partition(" getIamPolicy: ")
        if sep:
            return rest.partition(" → ")[0]
    return None


def members_for(policy: dict[str, Any], principal: str, roles: set[str] | None = None) -> list[str]:
    """The members of ``policy`` that stand for ``principal`` (optionally in ``roles``)."""
    found: list[str] = []
    for binding in policy.get("bindings", []):
        if roles is not None and binding["role"] not in roles:
            continue
        for member in binding.get("members", []):
            resolved = principal_of(member)
            if resolved is not None and resolved[0] == principal and member not in found:
                found.append(member)
    return found


def account_grants(policies: dict[str, dict[str, Any]], accounts: set[str]) -> list[Grant]:
    """What known accounts hold on other accounts (by those accounts' policies), as grants."""
    grants = []
    for target, policy in policies.items():
        for binding in policy.get("bindings", []):
            role = str(binding["role"])
            for member in binding.get("members", []):
                email = member.partition(":")[2] if member.startswith("serviceAccount:") else ""
                if email not in accounts or email == target:
                    continue
                grants.append(
                    Grant(
                        provider="gcp",
                        identity=email,
                        grant=role,
                        kind="service-account-binding",
                        detail=f"on service account {target}{condition_text(binding)}",
                        ref=f"serviceAccounts/{target}",
                    )
                )
    return grants


def all_edges(
    projects: list[tuple[str, dict[str, Any]]],
    accounts: dict[str, dict[str, Any]],
    policies: dict[str, dict[str, Any]],
    pools: PoolIndex,
) -> list[Edge]:
    """Every acting edge: from each account's own policy, and from each project's policy
    onto every account of that project."""
    edges: list[Edge] = []
    for email, policy in policies.items():
        edges += acting_edges(email, f"serviceAccounts/{email}", policy, pools)
    for project, policy in projects:
        for account in accounts.values():
            if account.get("projectId") == project:
                edges += acting_edges(
                    str(account["email"]),
                    f"projects/{project}",
                    policy,
                    pools,
                    inherited_from=project,
                )
    return edges
