"""Agent-scoped reading of IAM: the focus principals and the roles they can become.

The estate path pages ``GetAccountAuthorizationDetails`` over every account, which at
ten thousand agents is tens of seconds before anything can be cut. A containment needs
only the agent's principals and what they reach, so this reads each of them by name
(``GetUser``/``GetRole``, their inline and attached policies, their groups' policies)
and follows the ``sts:AssumeRole`` resources of their policies breadth first to the
roles named there. Which principals exist comes from ``ListUsers``/``ListRoles``: pages
of names, whose role entries carry the trust policy, so roles that trust a focus
principal by name are found without another request.

Where a policy allows ``sts:AssumeRole`` on a wildcard resource the closure has no
bound: that account is read whole (the estate listing), and the scope says so.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from agent_ir.providers.aws import policy, translate
from agent_ir.providers.aws.policy import PolicyDoc

Fetch = Callable[[str, str, Callable[[Any], Any]], Awaitable[Any]]
"""Run one sync IAM call in an account: (account, what, fn(iam)) → its result."""

LIST_PAGE = 1000
ASSUME = "sts:AssumeRole"
_NAME = re.compile(r"^[\w+=,.@-]{1,64}$", re.ASCII)
"""What IAM accepts as a user or role name (a name it refuses cannot be one)."""
_PRINCIPAL_ARN = re.compile(r"^arn:aws[\w-]*:iam::(\d{12}):(user|role)/(?:[^/]+/)*([^/]+)$")


@dataclass(slots=True)
class Listed:
    """One principal as the listing gives it: enough to decide whether to read it."""

    arn: str
    name: str
    kind: str  # iam-user | iam-role
    account: str
    trust: PolicyDoc | None = None

    def principal(self) -> translate.Principal:
        """A principal with nothing read about it (no tags, no policies)."""
        return translate.Principal(self.arn, self.name, self.kind, self.account, {})


@dataclass(slots=True)
class ScopedRead:
    """What one scoped read found."""

    principals: list[translate.Principal] = field(default_factory=list)
    """Principals read in full: the focus and what it reaches."""
    listed: dict[str, Listed] = field(default_factory=dict)
    """Every principal the listings named, by ARN."""
    unbounded: set[str] = field(default_factory=set)
    """Accounts read whole because a policy allows AssumeRole on a wildcard resource."""


def assume_targets(principal: translate.Principal) -> tuple[set[str], set[str]]:
    """Role ARNs the identity policies of ``principal`` allow it to assume, and the
    accounts ("*" for any) where they allow it on a wildcard resource."""
    roles: set[str] = set()
    wild: set[str] = set()
    for ref in principal.policies:
        for s in policy.statements(ref.document):
            if s.effect != "Allow":
                continue
            acts = any(policy.matches(a, ASSUME) for a in s.actions) or (
                bool(s.not_actions) and not any(policy.matches(a, ASSUME) for a in s.not_actions)
            )
            if not acts:
                continue
            if s.not_resources:
                wild.add("*")
            for resource in s.resources:
                if "*" in resource or "?" in resource:
                    parts = resource.split(":")
                    account = parts[4] if len(parts) > 5 and parts[4].isdigit() else "*"
                    wild.add(account)
                else:
                    roles.add(resource)
    return roles, wild


async def listing(account: str, fetch: Fetch) -> list[Listed]:
    """Users and roles of one account (names, ARNs, role trust policies), page by page."""

    def pages(method: str, key: str) -> Callable[[Any], list[dict[str, Any]]]:
        def run(iam: Any) -> list[dict[str, Any]]:
            paginator = iam.get_paginator(method)
            config = {"PageSize": LIST_PAGE}
            return [e for page in paginator.paginate(PaginationConfig=config) for e in page[key]]

        return run

    users, roles = await asyncio.gather(
        fetch(account, f"listing users of {account}", pages("list_users", "Users")),
        fetch(account, f"listing roles of {account}", pages("list_roles", "Roles")),
    )
    out = [Listed(u["Arn"], u["UserName"], "iam-user", account) for u in users]
    out += [
        Listed(
            r["Arn"],
            r["RoleName"],
            "iam-role",
            account,
            policy.parse_document(r.get("AssumeRolePolicyDocument") or {}),
        )
        for r in roles
    ]
    return out


def own_entries(agent: str, ids: frozenset[str], accounts: Iterable[str]) -> list[Listed]:
    """The principals an own lookup reads by name (``GetUser``/``GetRole``), without any
    listing: a user and a role named ``agent`` in every account, and each user or role
    whose ARN is in ``ids`` and lies in a configured account (ids of other providers, and
    principals in accounts the read cannot reach, are not AWS principals it could read).
    A name-only entry carries no ARN: the read learns it."""
    known = list(accounts)
    out: dict[tuple[str, str, str], Listed] = {}
    if _NAME.match(agent):
        for account in known:
            for kind in ("iam-user", "iam-role"):
                out[(account, kind, agent)] = Listed("", agent, kind, account)
    for ref in sorted(ids):
        match = _PRINCIPAL_ARN.match(ref)
        if match is None or match.group(1) not in known:
            continue
        account, kind, name = match.group(1), f"iam-{match.group(2)}", match.group(3)
        out.setdefault((account, kind, name), Listed(ref, name, kind, account))
    return list(out.values())


def trusting(listed: Iterable[Listed], arns: set[str]) -> set[str]:
    """Roles whose trust policy names one of ``arns`` explicitly."""
    out = set()
    for entry in listed:
        if entry.trust is None:
            continue
        if any(
            kind == "AWS" and who in arns
            for kind, who, _, _ in policy.trusted_principals(entry.trust)
        ):
            out.add(entry.arn)
    return out


def detail(entry: Listed, iam: Any) -> dict[str, list[dict[str, Any]]]:
    """One principal's authorization details, shaped as ``GetAccountAuthorizationDetails``
    gives them, read by name (sync: runs on the adapter's pool). The independent calls go
    out side by side (boto3 clients are thread-safe): three dependent rounds instead of
    one per call, on a kill switch's path to its first cut."""
    with ThreadPoolExecutor(max_workers=6, thread_name_prefix="iam-detail") as pool:
        if entry.kind == "iam-user":
            return _user_detail(entry.name, iam, pool)
        return _role_detail(entry.name, iam, pool)


def _inline(
    pool: ThreadPoolExecutor, names: list[str], get: Callable[[str], dict[str, Any]]
) -> list[dict[str, Any]]:
    """Inline policies by name, fetched side by side, in the listing's order."""
    docs = list(pool.map(lambda n: get(n)["PolicyDocument"], names))
    return [{"PolicyName": n, "PolicyDocument": d} for n, d in zip(names, docs, strict=True)]


def _user_detail(name: str, iam: Any, pool: ThreadPoolExecutor) -> dict[str, list[dict[str, Any]]]:
    user_f = pool.submit(iam.get_user, UserName=name)
    names_f = pool.submit(iam.list_user_policies, UserName=name)
    attached_f = pool.submit(iam.list_attached_user_policies, UserName=name)
    groups_f = pool.submit(iam.list_groups_for_user, UserName=name)
    user = user_f.result()["User"]
    groups = groups_f.result()["Groups"]
    group_details = [pool.submit(_group, g, iam) for g in groups]
    inline = _inline(
        pool,
        names_f.result()["PolicyNames"],
        lambda n: iam.get_user_policy(UserName=name, PolicyName=n),
    )
    row = {
        "UserName": name,
        "Arn": user["Arn"],
        "Tags": user.get("Tags", []),
        "UserPolicyList": inline,
        "AttachedManagedPolicies": attached_f.result()["AttachedPolicies"],
        "GroupList": [g["GroupName"] for g in groups],
    }
    if user.get("PermissionsBoundary"):
        row["PermissionsBoundary"] = user["PermissionsBoundary"]
    return {"UserDetailList": [row], "GroupDetailList": [f.result() for f in group_details]}


def _role_detail(name: str, iam: Any, pool: ThreadPoolExecutor) -> dict[str, list[dict[str, Any]]]:
    role_f = pool.submit(iam.get_role, RoleName=name)
    names_f = pool.submit(iam.list_role_policies, RoleName=name)
    attached_f = pool.submit(iam.list_attached_role_policies, RoleName=name)
    role = role_f.result()["Role"]
    inline = _inline(
        pool,
        names_f.result()["PolicyNames"],
        lambda n: iam.get_role_policy(RoleName=name, PolicyName=n),
    )
    row = {
        "RoleName": name,
        "Arn": role["Arn"],
        "Tags": role.get("Tags", []),
        "AssumeRolePolicyDocument": role.get("AssumeRolePolicyDocument"),
        "RolePolicyList": inline,
        "AttachedManagedPolicies": attached_f.result()["AttachedPolicies"],
    }
    if role.get("PermissionsBoundary"):
        row["PermissionsBoundary"] = role["PermissionsBoundary"]
    return {"RoleDetailList": [row]}


def _group(group: dict[str, Any], iam: Any) -> dict[str, Any]:
    name = group["GroupName"]
    inline = [
        {
            "PolicyName": n,
            "PolicyDocument": iam.get_group_policy(GroupName=name, PolicyName=n)["PolicyDocument"],
        }
        for n in iam.list_group_policies(GroupName=name)["PolicyNames"]
    ]
    attached = iam.list_attached_group_policies(GroupName=name)["AttachedPolicies"]
    return {"GroupName": name, "GroupPolicyList": inline, "AttachedManagedPolicies": attached}
