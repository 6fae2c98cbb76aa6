"""Residual access: every path by which an agent can still act, and which step cuts it.

Computed from state (the inventory's identities, credentials and graph) and the plan's
steps, never from step statuses alone: a kill switch is judged by what still works after
it. Three classes of path are followed:

* **static credentials** of the agent's own identities (keys, secrets, API tokens):
  cut by disabling the credential or the identity (or, for an AWS user, denying it all);
* **held sessions and tokens** of every identity the agent owns or can reach (AWS role
  sessions, Entra, GCP and Okta access tokens), minted before the revoke: cut only where
  the provider can end them (``AWSRevokeOlderSessions`` on a role, a disabled GCP service
  account or Okta app); otherwise they stay usable until they expire;
* **federation** out of every AWS role the agent can reach into another provider: a held
  session of the role still signs ``GetCallerIdentity`` (no IAM policy denies it), so it
  can be exchanged for new tokens until the binding, the federated credential or the
  target identity is cut (``cut-federation`` removes the binding, from every role the
  agent reaches, not only its own).

Each :class:`AccessPath` names the steps that would cut it; a path none of whose steps
took effect is **residual**, with its latest expiry (``until``) or none (open).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from agent_ir.actions.base import PlannedStep
from agent_ir.model import Agent, Edge, EdgeKind, Identity, iso

AWS_ROLE_SESSION_MAX_S = 12 * 3600
"""A role session lives at most ``MaxSessionDuration`` (at most 12 h)."""
AWS_CHAINED_SESSION_MAX_S = 3600
"""A session obtained by role chaining lives at most 1 h."""
ENTRA_TOKEN_MAX_S = 90 * 60
"""An app-only access token lives 60 to 90 minutes (CAE-capable ones up to 24 h, but those
are refused once the service principal is disabled)."""
GCP_TOKEN_MAX_S = 3600
"""generateAccessToken and the token endpoint issue tokens for at most 1 h (12 h only
under an organisation constraint the agent's project would have to set)."""
OKTA_TOKEN_MAX_S = 3600
"""An org authorization server's access token lives 1 h."""

HELD_TOKEN_LIFETIME_S: dict[tuple[str, str], int] = {
    ("aws", "iam-role"): AWS_ROLE_SESSION_MAX_S,
    ("entra", "service-principal"): ENTRA_TOKEN_MAX_S,
    ("entra", "application"): ENTRA_TOKEN_MAX_S,
    ("entra", "agent-identity"): ENTRA_TOKEN_MAX_S,
    ("entra", "agent-blueprint"): ENTRA_TOKEN_MAX_S,
    ("gcp", "service-account"): GCP_TOKEN_MAX_S,
    ("okta", "service-app"): OKTA_TOKEN_MAX_S,
}
"""How long a token or session an identity was issued can outlive the revoke, by
(provider, identity kind). Kinds absent here hold no bearer tokens of their own."""

SESSION_ENDERS: dict[tuple[str, str], frozenset[str]] = {
    ("aws", "iam-role"): frozenset({"revoke-sessions"}),
    ("gcp", "service-account"): frozenset({"disable-identity"}),
    ("okta", "service-app"): frozenset({"disable-identity"}),
}
"""The actions that end tokens already issued, where the provider can: an
``AWSRevokeOlderSessions`` policy, a disabled GCP service account (its live tokens are
refused at once), a deactivated Okta app. Entra app-only tokens cannot be ended."""

TAKES_EFFECT = frozenset({"verified", "already"})
"""Step statuses after which a cut is proven (``applied-unverified`` is not)."""


@dataclass(frozen=True, slots=True)
class AccessPath:
    """One way the agent can still act, and the steps of which any one cuts it."""

    provider: str
    path: str
    reason: str
    cut_by: tuple[str, ...] = ()
    lifetime_s: int | None = None
    """Seconds the path outlives the moment it stops being refreshable (a held token's
    lifetime); None with ``expires`` None: it never ends by itself."""
    expires: datetime | None = None
    """A fixed end (a credential's own expiry)."""

    def until(self, cut_at: datetime) -> datetime | None:
        """The latest moment the path still works when it is left open at ``cut_at``."""
        if self.expires is not None:
            return self.expires
        if self.lifetime_s is None:
            return None
        end = cut_at + timedelta(seconds=self.lifetime_s)
        # whole seconds, rounded up: the verdict never ends before the token does
        return end.replace(microsecond=0) + timedelta(seconds=1 if end.microsecond else 0)

    def to_json(self) -> dict[str, Any]:
        """The journaled shape (with the steps that cut it)."""
        return {
            "provider": self.provider,
            "path": self.path,
            "reason": self.reason,
            "cut_by": list(self.cut_by),
            "lifetime_s": self.lifetime_s,
            "expires": iso(self.expires),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AccessPath:
        """The inverse of :meth:`to_json`."""
        expires = data.get("expires")
        return cls(
            provider=str(data["provider"]),
            path=str(data["path"]),
            reason=str(data["reason"]),
            cut_by=tuple(data.get("cut_by") or ()),
            lifetime_s=data.get("lifetime_s"),
            expires=datetime.fromisoformat(expires.replace("Z", "+00:00")) if expires else None,
        )


@dataclass(frozen=True, slots=True)
class Residual:
    """A path left open: the documented ``{"path", "reason", "until"}`` shape."""

    provider: str
    path: str
    reason: str
    until: datetime | None

    def to_json(self) -> dict[str, Any]:
        """The documented JSON shape of one residual path."""
        return {
            "provider": self.provider,
            "path": self.path,
            "reason": self.reason,
            "until": iso(self.until),
        }


def residual(paths: Iterable[AccessPath], effective: set[str], cut_at: datetime) -> list[Residual]:
    """The paths none of whose cutting steps took effect (``effective``: step ids)."""
    return [
        Residual(p.provider, p.path, p.reason, p.until(cut_at))
        for p in paths
        if not effective.intersection(p.cut_by)
    ]


# -- finding the paths --------------------------------------------------------------------


@dataclass(slots=True)
class _Steps:
    """The plan's steps, looked up by the identity they act on."""

    steps: list[PlannedStep]
    by_identity: dict[str, list[PlannedStep]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for step in self.steps:
            self.by_identity.setdefault(step.identity, []).append(step)
            if step.target != step.identity:
                self.by_identity.setdefault(step.target, []).append(step)

    def on(self, identity: str, actions: Iterable[str]) -> list[str]:
        """Ids of the steps acting on ``identity`` with one of ``actions``."""
        wanted = set(actions)
        return [s.id for s in self.by_identity.get(identity, []) if s.action in wanted]

    def mentioning(self, identity: str, text: str, actions: Iterable[str]) -> list[str]:
        """Steps on ``identity`` whose target names ``text`` (a binding, a credential)."""
        wanted = set(actions)
        return [
            s.id
            for s in self.by_identity.get(identity, [])
            if s.action in wanted and (text in s.target or text in s.target_label)
        ]


def access_paths(
    agent: Agent, identities: dict[str, Identity], edges: list[Edge], steps: list[PlannedStep]
) -> list[AccessPath]:
    """Every path by which ``agent`` can act, each with the plan steps that cut it."""
    index = _Steps(steps)
    own = {i.id: i for i in agent.identities}
    out: list[AccessPath] = []
    for ident in agent.identities:
        out.extend(_credential_paths(ident, index))
    reach = _reach(own, edges)
    known = [(own[i], list[Edge]()) for i in own] + [
        (identities[i], route) for i, route in reach.items() if i in identities
    ]
    for found, route in known:
        out.extend(_held_paths(found, route, index))
    for found, route in known:
        if found.provider == "aws" and found.kind == "iam-role":
            out.extend(_federation_paths(found, route, identities, edges, index))
    return out


def _reach(own: dict[str, Identity], edges: list[Edge]) -> dict[str, list[Edge]]:
    """Identities reachable from the agent's own by assume-role, impersonation and
    federation, each with its shortest route (own identities excluded)."""
    out_edges: dict[str, list[Edge]] = {}
    for edge in edges:
        if edge.kind in (EdgeKind.ASSUME_ROLE, EdgeKind.IMPERSONATE, EdgeKind.FEDERATION):
            out_edges.setdefault(edge.source, []).append(edge)
    routes: dict[str, list[Edge]] = {}
    frontier = [(i, list[Edge]()) for i in own]
    seen = set(own)
    while frontier:
        node, route = frontier.pop(0)
        for edge in out_edges.get(node, []):
            if edge.target in seen:
                continue
            seen.add(edge.target)
            routes[edge.target] = [*route, edge]
            frontier.append((edge.target, routes[edge.target]))
    return routes


def _label(ident: Identity) -> str:
    return f"{ident.kind} {ident.name}"


def _credential_paths(ident: Identity, index: _Steps) -> list[AccessPath]:
    """A static credential (or federated trust) of an own identity signs in anew."""
    out = []
    identity_cut = index.on(ident.id, ["disable-identity"])
    if ident.provider == "aws" and ident.kind == "iam-user":
        identity_cut += index.on(ident.id, ["deny-all"])
    for cred in ident.credentials:
        if cred.status != "active":
            continue
        short = cred.id if len(cred.id) <= 16 else f"{cred.id[:8]}…{cred.id[-4:]}"
        cut = index.mentioning(ident.id, cred.id, ["disable-credentials", "remove-delegation"])
        how = "disable it or the identity"
        out.append(
            AccessPath(
                provider=ident.provider,
                path=f"{cred.kind} {short} of {_label(ident)} → new tokens",
                reason=f"an active {cred.kind} signs in as {ident.name}; {how}",
                cut_by=tuple(cut + identity_cut),
                expires=cred.expires,
            )
        )
    return out


def _held_paths(ident: Identity, route: list[Edge], index: _Steps) -> list[AccessPath]:
    """Tokens or sessions of ``ident`` the agent may hold from before the revoke."""
    lifetime = HELD_TOKEN_LIFETIME_S.get((ident.provider, ident.kind))
    if lifetime is None:
        return []
    if ident.provider == "aws" and _from_role(route):
        lifetime = AWS_CHAINED_SESSION_MAX_S
    enders = SESSION_ENDERS.get((ident.provider, ident.kind), frozenset())
    cut = index.on(ident.id, enders)
    via = f" (reached by {' → '.join(e.kind.value for e in route)})" if route else ""
    what = "session" if ident.provider == "aws" else "access token"
    article = "a" if ident.provider == "aws" else "an"
    if enders:
        how = f"{' or '.join(sorted(enders))} on it ends them"
    else:
        how = "the provider cannot revoke them; they expire"
    return [
        AccessPath(
            provider=ident.provider,
            path=f"held {what} of {_label(ident)}{via}",
            reason=f"{article} {what} issued before the revoke works until it expires; {how}",
            cut_by=tuple(cut),
            lifetime_s=lifetime,
        )
    ]


def _from_role(route: list[Edge]) -> bool:
    """Whether the last hop assumed a role from another role (role chaining: 1 h)."""
    return bool(route) and route[-1].kind is EdgeKind.ASSUME_ROLE and ":role/" in route[-1].source


def _federation_paths(
    role: Identity,
    route: list[Edge],
    identities: dict[str, Identity],
    edges: list[Edge],
    index: _Steps,
) -> list[AccessPath]:
    """A held session of ``role`` exchanged through a federation into another provider."""
    session_s = AWS_CHAINED_SESSION_MAX_S if _from_role(route) else AWS_ROLE_SESSION_MAX_S
    out = []
    for edge in edges:
        if edge.source != role.id or edge.kind is not EdgeKind.FEDERATION:
            continue
        target = identities.get(edge.target)
        if target is None:
            continue
        cut = (
            index.on(target.id, ["disable-identity"])
            + index.mentioning(role.id, target.id, ["deny-all", "remove-delegation"])
            + index.mentioning(
                target.id, role.name, ["disable-credentials", "remove-delegation", "cut-federation"]
            )
            + _fic_cut(target, role, index)
        )
        token_s = HELD_TOKEN_LIFETIME_S.get((target.provider, target.kind), 3600)
        out.append(
            AccessPath(
                provider=target.provider,
                path=f"held session of role {role.name} → federation → {_label(target)}",
                reason=(
                    f"a session of {role.name} held from before still signs GetCallerIdentity "
                    f"(no IAM policy denies it) and is exchanged for tokens of {target.name}; "
                    "remove the binding or federated credential, or disable the target"
                ),
                cut_by=tuple(dict.fromkeys(cut)),
                lifetime_s=session_s + token_s,
            )
        )
    return out


def _fic_cut(target: Identity, role: Identity, index: _Steps) -> list[str]:
    """Steps that disable the federated credential of ``target`` trusting ``role``."""
    return [
        sid
        for sid in index.on(target.id, ["disable-credentials"])
        if any(
            s.id == sid and "federated" in s.target_label
            for s in index.by_identity.get(target.id, [])
        )
    ]
