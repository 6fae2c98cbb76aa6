"""The domain model: agents, identities, credentials, grants, edges and findings.

Plain frozen dataclasses with no provider types in them; adapters build these from
provider data at their boundary. ``to_json`` methods produce the documented JSON shapes
(fields may be added, never renamed).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

ProviderName = str
"""A provider's registered name (see :mod:`agent_ir.providers.registry`); providers are
listed in canonical order, which is the names' sorted order."""


class Severity(StrEnum):
    """How bad a finding is; ordered from least to most severe."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        """Position in severity order (low = 0)."""
        return list(Severity).index(self)


class LinkSource(StrEnum):
    """How an identity was tied to its agent."""

    INVENTORY = "inventory"
    TAG = "tag"
    INFERRED = "inferred"


class EdgeKind(StrEnum):
    """The kinds of delegation or reachability between two principals."""

    OWNER = "owner"
    CONSENT = "consent"
    ASSUME_ROLE = "assume-role"
    IMPERSONATE = "impersonate"
    FEDERATION = "federation"
    TOKEN_EXCHANGE = "token-exchange"
    MEMBER = "member"


def iso(moment: datetime | None) -> str | None:
    """ISO-8601 text for a moment, or None."""
    return moment.isoformat().replace("+00:00", "Z") if moment else None


@dataclass(frozen=True, slots=True)
class Credential:
    """Something that authenticates an identity (key, secret, certificate, token, trust)."""

    id: str
    kind: str
    status: str
    created: datetime | None = None
    expires: datetime | None = None
    last_used: datetime | None = None
    static: bool = True

    def to_json(self) -> dict[str, Any]:
        """The documented JSON shape of a credential."""
        return {
            "id": self.id,
            "kind": self.kind,
            "status": self.status,
            "created": iso(self.created),
            "expires": iso(self.expires),
            "last_used": iso(self.last_used),
            "static": self.static,
        }


@dataclass(frozen=True, slots=True)
class Identity:
    """One principal in one provider.

    ``id`` is the provider's stable id (an ARN, an object id, an email); ``account`` is the
    AWS account, Entra tenant, GCP project or Okta org it lives in.
    """

    provider: ProviderName
    kind: str
    id: str
    name: str
    account: str
    credentials: tuple[Credential, ...] = ()
    tags: tuple[tuple[str, str], ...] = ()
    owner: str | None = None
    agent: str | None = None
    status: str = "active"
    aliases: tuple[str, ...] = ()
    """Other ids this principal is known by elsewhere (a GCP service account's unique id,
    an ARN in a federation subject); edges naming an alias attach to this identity."""

    def __post_init__(self) -> None:
        # Tens of thousands of identities repeat a few accounts, kinds, owners and tag
        # keys, each parsed into a string of its own: share one copy (issue 13, memory).
        share = object.__setattr__
        for name in ("kind", "account", "status"):
            share(self, name, sys.intern(getattr(self, name)))
        if self.owner is not None:
            share(self, "owner", sys.intern(self.owner))
        if self.tags:
            share(self, "tags", tuple((sys.intern(k), sys.intern(v)) for k, v in self.tags))

    def tag(self, key: str) -> str | None:
        """The value of one tag, or None."""
        return next((value for k, value in self.tags if k == key), None)

    def to_json(self) -> dict[str, Any]:
        """The documented JSON shape of an identity."""
        return {
            "provider": self.provider,
            "kind": self.kind,
            "id": self.id,
            "name": self.name,
            "account": self.account,
            "status": self.status,
            "credentials": [c.to_json() for c in self.credentials],
        }


@dataclass(frozen=True, slots=True)
class Grant:
    """Something an identity may do: a policy, role binding, scope or admin role.

    ``risk`` is None for ordinary grants, else a short word ("admin", "wildcard").
    """

    provider: ProviderName
    identity: str
    grant: str
    kind: str
    risk: str | None = None
    detail: str = ""
    ref: str = ""
    """The provider's own reference for the grant (a policy ARN, a binding), for actions."""

    def to_json(self) -> dict[str, Any]:
        """The documented JSON shape of a grant."""
        return {
            "provider": self.provider,
            "identity": self.identity,
            "grant": self.grant,
            "kind": self.kind,
            "risk": self.risk,
        }


@dataclass(frozen=True, slots=True)
class Edge:
    """A delegation or reachability link: ``source`` can act as, or for, ``target``.

    Principals are identity ids, or ``human:<name>`` / ``external:<issuer>`` for parties
    that are not identities of a provider.
    """

    source: str
    target: str
    kind: EdgeKind
    reason: str
    provider: ProviderName | None = None
    evidence: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The documented JSON shape of an edge."""
        return {
            "from": self.source,
            "to": self.target,
            "kind": self.kind.value,
            "reason": self.reason,
            "evidence": list(self.evidence),
        }


@dataclass(frozen=True, slots=True)
class Finding:
    """A risk on an agent, with a stable code and a severity."""

    code: str
    severity: Severity
    message: str
    identity: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The documented JSON shape of a finding."""
        return {
            "code": self.code,
            "severity": self.severity.value,
            "message": self.message,
            "identity": self.identity,
        }


@dataclass(frozen=True, slots=True)
class AgentLink:
    """Why one identity belongs to an agent."""

    identity: Identity
    source: LinkSource


@dataclass(slots=True)
class Agent:
    """One logical AI agent, correlated across providers."""

    name: str
    owner: str | None
    links: list[AgentLink] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    @property
    def identities(self) -> list[Identity]:
        """The agent's own identities, in discovery order."""
        return [link.identity for link in self.links]

    @property
    def providers(self) -> list[ProviderName]:
        """The providers the agent spans, in canonical order."""
        present = {i.provider for i in self.identities}
        return sorted(present)

    @property
    def risk(self) -> Severity | None:
        """The agent's worst finding severity, or None when it has no finding."""
        if not self.findings:
            return None
        return max((f.severity for f in self.findings), key=lambda s: s.rank)

    def to_json(self) -> dict[str, Any]:
        """The documented JSON shape of an agent."""
        identities = []
        for link in self.links:
            data = link.identity.to_json()
            data["link"] = link.source.value
            identities.append(data)
        return {
            "name": self.name,
            "owner": self.owner,
            "risk": self.risk.value if self.risk else None,
            "providers": list(self.providers),
            "identities": identities,
            "findings": [f.to_json() for f in self.findings],
        }
