"""Cloud Asset Inventory v1 ``searchAllIamPolicies`` for the Google Cloud emulator.

``GET /v1/{scope}:searchAllIamPolicies`` (``cloudasset.googleapis.com``; the lab serves it
on the emulator's one port, where its path collides with no other API's). ``scope`` is
``projects/P`` (id or number) or ``organizations/0`` (the lab's one organization: every
project). The caller needs ``cloudasset.assets.searchAllIamPolicies`` on the project (on
every project for the organization), else 403 ``PERMISSION_DENIED`` as IAM words it.

Query terms, all of which a binding must match (terms separated by spaces, ``AND``
allowed; a term's values may be grouped as ``(A OR B)`` and quoted):

* ``policy:X``: a member (``serviceAccount:E``, ``principalSet://…``), the same without its
  type prefix (``E``), or a role (``roles/…``); exact, where Google also matches words;
* ``policy.role.permissions:P``: a role carrying permission ``P`` (then each result has an
  ``explanation.matchedPermissions``);
* ``memberTypes:T``: a member of that type (``user``, ``serviceAccount``, ``principalSet``…).

As Google does, a result holds only the bindings that match. ``assetTypes`` (regular
expressions, fully matched) narrows by the resource's type. Results come 100 a page by
default, at most 500, in resource order, with ``nextPageToken``.

Answered from an index (member, bare email, role, member type → policies), built on the
first search of a state and kept current by :func:`policy_changed`, which the
``setIamPolicy`` handler calls after every write: a search costs the matches, not the estate.
"""

from __future__ import annotations

import re
import shlex
import weakref
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from agent_ir.lab.gcp_call import Call, Handler, page
from agent_ir.lab.gcp_errors import ApiError, denied
from agent_ir.lab.gcp_records import Policy
from agent_ir.lab.gcp_roles import role_allows
from agent_ir.lab.gcp_state import GcpState

VERB = "searchAllIamPolicies"
PERMISSION = "cloudasset.assets.searchAllIamPolicies"
ACCOUNT_TYPE = "iam.googleapis.com/ServiceAccount"
PROJECT_TYPE = "cloudresourcemanager.googleapis.com/Project"
LAB_ORGANIZATION = "organizations/0"
_FIELDS = ("policy", "policy.role.permissions", "memberTypes")

Key = tuple[str, str]
"""A policy's place in the index: ``("project", id)`` or ``("account", email)``."""


@dataclass(slots=True)
class AssetIndex:
    """Which policies name each member, bare email, role and member type."""

    by_term: dict[str, set[Key]] = field(default_factory=dict)
    terms_of: dict[Key, set[str]] = field(default_factory=dict)

    @classmethod
    def build(cls, state: GcpState) -> AssetIndex:
        """The index of every policy of ``state`` (once per state)."""
        index = cls()
        for project in state.projects.values():
            index.update(("project", project.id), project.policy)
        for account in state.accounts.values():
            index.update(("account", account.email), account.policy)
        return index

    def update(self, key: Key, policy: Policy) -> None:
        """Re-index one policy after a write."""
        for term in self.terms_of.pop(key, set()):
            holders = self.by_term.get(term)
            if holders is not None:
                holders.discard(key)
        terms = {t for binding in policy.bindings for t in _binding_terms(binding)}
        self.terms_of[key] = terms
        for term in terms:
            self.by_term.setdefault(term, set()).add(key)

    def holders(self, term: str) -> set[Key]:
        """The policies a term appears in."""
        return self.by_term.get(term, set())

    def roles(self) -> Iterable[str]:
        """Every role some policy binds."""
        return (t[len("role=") :] for t, keys in self.by_term.items() if keys and t[:5] == "role=")


_INDEXES: weakref.WeakKeyDictionary[GcpState, AssetIndex] = weakref.WeakKeyDictionary()
"""One index per emulator state (a reset or an imported state starts a new one)."""


def index_of(state: GcpState) -> AssetIndex:
    """The state's index, built on first use."""
    found = _INDEXES.get(state)
    if found is None:
        found = _INDEXES[state] = AssetIndex.build(state)
    return found


def policy_changed(state: GcpState, resource: str, policy: Policy) -> None:
    """Keep the index current after ``setIamPolicy`` on ``projects/P`` or
    ``projects/P/serviceAccounts/EMAIL`` (nothing to do before the first search)."""
    found = _INDEXES.get(state)
    if found is None:
        return
    parts = resource.split("/")
    key: Key = ("account", parts[3]) if len(parts) >= 4 else ("project", parts[1])
    found.update(key, policy)


def _member_type(member: str) -> str:
    if member.startswith(("principal://", "principalSet://")):
        return member.partition(":")[0]
    return member.partition(":")[0] if ":" in member else member


def _binding_terms(binding: dict[str, Any]) -> set[str]:
    terms = {"role=" + str(binding["role"])}
    for member in binding.get("members", []):
        terms.add("member=" + member)
        terms.add("type=" + _member_type(member))
        if member.startswith(("serviceAccount:", "user:", "group:", "domain:")):
            terms.add("member=" + member.partition(":")[2])
    return terms


# -- queries ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Term:
    """One ``field:value`` of a query; ``values`` are alternatives."""

    field: str
    values: tuple[str, ...]


def parse_query(text: str) -> list[Term]:
    """The terms of a query (400 ``INVALID_ARGUMENT`` for what the lab cannot read)."""
    try:
        words = shlex.split(text.replace("(", " ( ").replace(")", " ) "))
    except ValueError as exc:
        raise ApiError(400, f"Invalid query: {exc}.") from None
    terms: list[Term] = []
    i = 0
    while i < len(words):
        word = words[i]
        i += 1
        if word == "AND":
            continue
        name, sep, value = word.partition(":")
        if not sep or name not in _FIELDS:
            raise ApiError(400, f"Invalid query: unsupported term {word!r}.")
        if value:
            terms.append(Term(name, (value,)))
            continue
        if i >= len(words):
            raise ApiError(400, f"Invalid query: {name}: has no value.")
        if words[i] != "(":
            terms.append(Term(name, (words[i],)))
            i += 1
            continue
        values: list[str] = []
        i += 1
        while i < len(words) and words[i] != ")":
            if words[i] != "OR":
                values.append(words[i])
            i += 1
        if i >= len(words) or not values:
            raise ApiError(400, f"Invalid query: unbalanced parentheses after {name}:.")
        i += 1
        terms.append(Term(name, tuple(values)))
    return terms


def _index_terms(term: Term, index: AssetIndex) -> list[str]:
    """The index entries a query term stands for."""
    if term.field == "memberTypes":
        return ["type=" + v for v in term.values]
    if term.field == "policy.role.permissions":
        return [
            "role=" + role
            for role in index.roles()
            if any(role_allows(role, p) for p in term.values)
        ]
    return [("role=" if v.startswith("roles/") else "member=") + v for v in term.values]


def _binding_matches(binding: dict[str, Any], term: Term) -> bool:
    terms = _binding_terms(binding)
    if term.field == "policy.role.permissions":
        return any(role_allows(str(binding["role"]), p) for p in term.values)
    if term.field == "memberTypes":
        return any("type=" + v in terms for v in term.values)
    return any(t in terms for v in term.values for t in ("role=" + v, "member=" + v))


# -- the handler ------------------------------------------------------------------------


def route(method: str, segments: list[str]) -> Handler | None:
    """The handler of ``…:searchAllIamPolicies`` (GET on a project or the organization)."""
    if method != "GET" or len(segments) != 3 or segments[0] != "v1":
        return None
    return search if segments[1] in ("projects", "organizations") else None


def search(call: Call) -> dict[str, Any]:
    """``GET v1/{scope}:searchAllIamPolicies``."""
    projects = _scope(call)
    terms = parse_query(call.param("query"))
    kinds = _asset_types(call.request.query_params.get("assetTypes", []))
    index = index_of(call.state)
    keys = _candidates(index, terms, projects, call.state)
    results = []
    for key in sorted(keys, key=_order(call.state)):
        result = _result(call.state, key, terms, kinds)
        if result is not None:
            results.append(result)
    items, token = page(results, call, 100, 500)
    out: dict[str, Any] = {}
    if items:
        out["results"] = items
    if token:
        out["nextPageToken"] = token
    return out


def _scope(call: Call) -> set[str]:
    """The project ids the scope covers, after checking the caller may search them."""
    kind, ref = call.segments[1], call.segments[2]
    state = call.state
    if kind == "organizations":
        if f"organizations/{ref}" != LAB_ORGANIZATION:
            raise denied(PERMISSION, f"organizations/{ref}")
        wanted = set(state.projects)
    else:
        project = state.project(ref)
        if project is None:
            raise denied(PERMISSION, f"projects/{ref}")
        wanted = {project.id}
    for project_id in sorted(wanted):
        if not state.allowed(call.caller, PERMISSION, project_id, None):
            raise denied(PERMISSION, f"{kind}/{ref}")
    return wanted


def _asset_types(patterns: list[str]) -> set[str]:
    known = {ACCOUNT_TYPE, PROJECT_TYPE}
    if not patterns:
        return known
    kinds: set[str] = set()
    for pattern in patterns:
        try:
            compiled = re.compile(pattern)
        except re.error:
            raise ApiError(400, f"Invalid asset type {pattern!r}.") from None
        found = {k for k in known if compiled.fullmatch(k)}
        if not found and not pattern.startswith(("compute.", "storage.", "bigquery.")):
            raise ApiError(400, f"Asset type {pattern!r} is not supported by search.")
        kinds |= found
    return kinds


def _candidates(
    index: AssetIndex, terms: list[Term], projects: set[str], state: GcpState
) -> set[Key]:
    """The policies every term appears in, within the scope's projects."""
    found: set[Key] | None = None
    for term in terms:
        holders: set[Key] = set()
        for entry in _index_terms(term, index):
            holders |= index.holders(entry)
        found = holders if found is None else found & holders
    if found is None:
        found = set(index.terms_of)
    return {k for k in found if _project_of(state, k) in projects}


def _project_of(state: GcpState, key: Key) -> str | None:
    if key[0] == "project":
        return key[1]
    account = state.accounts.get(key[1])
    return account.project if account is not None else None


def _order(state: GcpState) -> Any:
    return lambda key: (_project_of(state, key) or "", key[0] != "project", key[1])


def _result(state: GcpState, key: Key, terms: list[Term], kinds: set[str]) -> dict[str, Any] | None:
    """One result: the policy's matching bindings, or None when none match."""
    if key[0] == "project":
        project = state.projects[key[1]]
        kind, policy = PROJECT_TYPE, project.policy
        resource = f"//cloudresourcemanager.googleapis.com/projects/{project.number}"
    else:
        account = state.accounts[key[1]]
        project = state.projects[account.project]
        kind, policy = ACCOUNT_TYPE, account.policy
        resource = f"//iam.googleapis.com/projects/{project.id}/serviceAccounts/{account.unique_id}"
    if kind not in kinds:
        return None
    bindings = [b for b in policy.bindings if all(_binding_matches(b, t) for t in terms)]
    if not bindings:
        return None
    out: dict[str, Any] = {
        "resource": resource,
        "assetType": kind,
        "project": f"projects/{project.number}",
        "organization": LAB_ORGANIZATION,
        "policy": {"version": policy.version, "bindings": [dict(b) for b in bindings]},
    }
    asked = [p for t in terms if t.field == "policy.role.permissions" for p in t.values]
    if asked:
        out["explanation"] = {
            "matchedPermissions": {
                str(b["role"]): {"permissions": [p for p in asked if role_allows(b["role"], p)]}
                for b in bindings
            }
        }
    return out
