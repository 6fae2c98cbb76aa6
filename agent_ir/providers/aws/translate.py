"""Pure translation of IAM authorization details into identities, grants and edges.

No network here: the adapter fetches, this module reads. Kept pure so it can be tested
on plain dicts and reused by the planner.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import Any

from agent_ir.model import Edge, EdgeKind, Grant, Identity
from agent_ir.providers.aws import policy
from agent_ir.providers.aws.policy import PolicyDoc

AGENT_TAG = "agent-ir:agent"
OWNER_TAG = "agent-ir:owner"


@dataclass(slots=True)
class PolicyRef:
    """One policy as it applies to a principal."""

    kind: str  # inline-policy | managed-policy | group-policy | permissions-boundary
    name: str
    document: PolicyDoc
    arn: str = ""


@dataclass(slots=True)
class Principal:
    """A user or role with everything needed to reason about it."""

    arn: str
    name: str
    kind: str  # iam-user | iam-role
    account: str
    tags: dict[str, str]
    policies: list[PolicyRef] = field(default_factory=list)
    boundary: PolicyRef | None = None
    trust: PolicyDoc | None = None

    def identity(self) -> Identity:
        """The model identity (without credentials)."""
        return Identity(
            provider="aws",
            kind=self.kind,
            id=self.arn,
            name=self.name,
            account=self.account,
            tags=tuple(sorted(self.tags.items())),
            owner=self.tags.get(OWNER_TAG),
            agent=self.tags.get(AGENT_TAG),
        )

    def grants(self) -> list[Grant]:
        """Every policy as a grant, with its risk."""
        out = [
            Grant(
                provider="aws",
                identity=self.arn,
                grant=ref.name,
                kind=ref.kind,
                risk=policy.risk(ref.document),
                detail=policy.summary(ref.document),
                ref=ref.arn,
            )
            for ref in self.policies
        ]
        if self.boundary is not None:
            out.append(
                Grant(
                    provider="aws",
                    identity=self.arn,
                    grant=self.boundary.name,
                    kind="permissions-boundary",
                    risk=None,
                    detail="limits: " + policy.summary(self.boundary.document),
                )
            )
        return out

    def allows(self, action: str, resource: str) -> PolicyRef | None:
        """The identity policy that lets this principal do ``action`` on ``resource``."""
        if any(policy.denying(ref.document, action, resource) for ref in self.policies):
            return None
        if self.boundary and not policy.allowing(self.boundary.document, action, resource):
            return None
        return next(
            (ref for ref in self.policies if policy.allowing(ref.document, action, resource)), None
        )


def _tags(raw: Iterable[dict[str, str]] | None) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in raw or ()}


def _default_version(managed: dict[str, Any]) -> PolicyDoc:
    for version in managed.get("PolicyVersionList", []):
        if version.get("IsDefaultVersion"):
            return policy.parse_document(version["Document"])
    return {"Statement": []}


def principals_from_details(
    account: str,
    details: dict[str, list[dict[str, Any]]],
    managed_docs: dict[str, PolicyDoc],
) -> list[Principal]:
    """Build principals from ``get_account_authorization_details`` pages merged together.

    ``managed_docs`` maps every attached managed policy ARN to its default document
    (customer policies come from the details; AWS managed ones are fetched separately).
    """
    groups = {g["GroupName"]: g for g in details.get("GroupDetailList", [])}

    def attached(entries: Iterable[dict[str, str]], kind: str) -> list[PolicyRef]:
        return [
            PolicyRef(
                kind,
                e["PolicyName"],
                managed_docs.get(e["PolicyArn"], {"Statement": []}),
                e["PolicyArn"],
            )
            for e in entries
        ]

    def inline(entries: Iterable[dict[str, Any]], kind: str) -> list[PolicyRef]:
        return [
            PolicyRef(kind, e["PolicyName"], policy.parse_document(e["PolicyDocument"]))
            for e in entries
        ]

    def boundary(entry: dict[str, Any]) -> PolicyRef | None:
        raw = entry.get("PermissionsBoundary")
        if not raw:
            return None
        arn = raw["PermissionsBoundaryArn"]
        return PolicyRef(
            "permissions-boundary", arn.rsplit("/", 1)[-1], managed_docs.get(arn, {"Statement": []})
        )

    out: list[Principal] = []
    for user in details.get("UserDetailList", []):
        refs = inline(user.get("UserPolicyList", []), "inline-policy")
        refs += attached(user.get("AttachedManagedPolicies", []), "managed-policy")
        for group_name in user.get("GroupList", []):
            group = groups.get(group_name, {})
            refs += inline(group.get("GroupPolicyList", []), "group-policy")
            refs += attached(group.get("AttachedManagedPolicies", []), "group-policy")
        out.append(
            Principal(
                arn=user["Arn"],
                name=user["UserName"],
                kind="iam-user",
                account=account,
                tags=_tags(user.get("Tags")),
                policies=refs,
                boundary=boundary(user),
            )
        )
    for role in details.get("RoleDetailList", []):
        refs = inline(role.get("RolePolicyList", []), "inline-policy")
        refs += attached(role.get("AttachedManagedPolicies", []), "managed-policy")
        out.append(
            Principal(
                arn=role["Arn"],
                name=role["RoleName"],
                kind="iam-role",
                account=account,
                tags=_tags(role.get("Tags")),
                policies=refs,
                boundary=boundary(role),
                trust=policy.parse_document(role.get("AssumeRolePolicyDocument") or {}),
            )
        )
    return out


def managed_policy_docs(details: dict[str, list[dict[str, Any]]]) -> dict[str, PolicyDoc]:
    """Default documents of the managed policies included in authorization details."""
    return {p["Arn"]: _default_version(p) for p in details.get("Policies", [])}


def attached_policy_arns(details: dict[str, list[dict[str, Any]]]) -> set[str]:
    """Every managed policy ARN attached anywhere (including boundaries)."""
    arns: set[str] = set()
    for key in ("UserDetailList", "RoleDetailList", "GroupDetailList"):
        for entry in details.get(key, []):
            arns.update(p["PolicyArn"] for p in entry.get("AttachedManagedPolicies", []))
            boundary = entry.get("PermissionsBoundary")
            if boundary:
                arns.add(boundary["PermissionsBoundaryArn"])
    return arns


def _account_of(principal: str) -> str | None:
    if principal.isdigit() and len(principal) == 12:
        return principal
    parts = principal.split(":")
    return parts[4] if len(parts) > 5 and parts[0] == "arn" else None


def assume_role_edges(
    principals: list[Principal],
    unread: Collection[str] = (),
    accounts: Collection[str] = (),
) -> list[Edge]:
    """Who can assume which role: trust policies combined with identity policies.

    An agent-scoped read passes the principals it listed but did not read (``unread``)
    and the accounts it listed (``accounts``): a trust naming them names someone known
    whose policies were not read, not an outsider; the edge from them says so."""
    by_arn = {p.arn: p for p in principals}
    by_account: dict[str, list[Principal]] = {a: [] for a in accounts}
    for p in principals:
        by_account.setdefault(p.account, []).append(p)
    skipped = set(unread)
    edges: list[Edge] = []
    for role in principals:
        if role.trust is None:
            continue
        for kind, trusted, action, conditional in policy.trusted_principals(role.trust):
            cond = " (with conditions)" if conditional else ""
            if kind == "Federated":
                edges.append(
                    Edge(
                        f"external:{trusted}",
                        role.arn,
                        EdgeKind.FEDERATION,
                        f"trust policy of {role.name} lets identities from {trusted} "
                        f"call {action}{cond}",
                        provider="aws",
                        evidence=(f"{role.arn} AssumeRolePolicyDocument",),
                    )
                )
                continue
            if kind == "Service":
                edges.append(
                    Edge(
                        f"service:{trusted}",
                        role.arn,
                        EdgeKind.ASSUME_ROLE,
                        f"trust policy of {role.name} lets the service {trusted} assume it{cond}",
                        provider="aws",
                    )
                )
                continue
            if trusted in skipped:
                # someone the read listed but did not read: the trust names them, so the
                # role's other users are known (a revoke's collateral), though whether
                # their own policies let them call AssumeRole was not read
                edges.append(
                    Edge(
                        trusted,
                        role.arn,
                        EdgeKind.ASSUME_ROLE,
                        f"trust policy of {role.name} names it{cond} (its own policies were "
                        "not read: agent-scoped)",
                        provider="aws",
                        evidence=(f"{role.arn} AssumeRolePolicyDocument",),
                    )
                )
                continue
            edges.extend(_aws_principal_edges(role, trusted, action, cond, by_arn, by_account))
    return edges


def _aws_principal_edges(
    role: Principal,
    trusted: str,
    action: str,
    cond: str,
    by_arn: dict[str, Principal],
    by_account: dict[str, list[Principal]],
) -> list[Edge]:
    evidence = f"{role.arn} AssumeRolePolicyDocument"
    named = by_arn.get(trusted)
    if named is not None:
        same_account = named.account == role.account
        ref = named.allows(action, role.arn)
        if ref is None and not same_account:
            return []
        why = f"trust policy of {role.name} names {named.name}"
        if ref is not None:
            why += f"; {ref.kind} '{ref.name}' of {named.name} allows {action} on it"
        cross = f" (account {named.account} → {role.account})" if not same_account else ""
        return [
            Edge(
                named.arn,
                role.arn,
                EdgeKind.ASSUME_ROLE,
                why + cross + cond,
                provider="aws",
                evidence=(evidence,),
            )
        ]
    account = "*" if trusted == "*" else _account_of(trusted)
    whole_account = trusted == "*" or trusted.isdigit() or trusted.endswith(":root")
    if account is None or not whole_account:
        return [
            Edge(
                f"external:{trusted}",
                role.arn,
                EdgeKind.ASSUME_ROLE,
                f"trust policy of {role.name} names {trusted}, which is outside the known "
                f"accounts{cond}",
                provider="aws",
                evidence=(evidence,),
            )
        ]
    candidates = (
        [p for ps in by_account.values() for p in ps]
        if account == "*"
        else by_account.get(account, [])
    )
    edges = []
    for candidate in candidates:
        if candidate.arn == role.arn:
            continue
        ref = candidate.allows(action, role.arn)
        if ref is None:
            continue
        scope = "any principal" if account == "*" else f"account {account}"
        edges.append(
            Edge(
                candidate.arn,
                role.arn,
                EdgeKind.ASSUME_ROLE,
                f"trust policy of {role.name} trusts {scope}; {ref.kind} '{ref.name}' of "
                f"{candidate.name} allows {action} on it{cond}",
                provider="aws",
                evidence=(evidence,),
            )
        )
    if account not in by_account and account != "*":
        edges.append(
            Edge(
                f"external:arn:aws:iam::{account}:root",
                role.arn,
                EdgeKind.ASSUME_ROLE,
                f"trust policy of {role.name} trusts account {account}, which is not inventoried{cond}",
                provider="aws",
                evidence=(evidence,),
            )
        )
    return edges
