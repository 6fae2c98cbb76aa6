"""The activity event model: one shape for CloudTrail, Entra, Cloud Audit Logs and Okta.

Readers (one per provider, optional: see :class:`agent_ir.providers.base.ActivityReader`)
turn their provider's audit records into :class:`ActivityEvent` at their boundary. A reader
attributes each event to one of the identities it was asked about (``identity_id``, the
inventory's id) and records the hops the provider's own record shows (``chain``); the
timeline then marks whether the identity is the agent's own or reached through its chain,
and prepends the inventory's path for the latter.

Events never carry a secret: an access key *id* is fine, a secret key, a session token or
a bearer token is not. ``raw`` keeps the provider's record for export (``-o json``) and is
never printed by the table face.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from agent_ir.model import ProviderName, iso

Outcome = Literal["success", "denied", "failure"]
OUTCOMES: tuple[Outcome, ...] = ("success", "denied", "failure")

Via = Literal["own", "chain"]
"""``own``: the event's identity is one of the agent's; ``chain``: an identity the agent
reaches (an assumed role, an impersonated account, a federated app)."""

HopSource = Literal["record", "inventory"]
"""Where a hop was seen: in the provider's own record, or in the inventory's graph."""

DEFAULT_LIMIT = 1000
"""Events kept per timeline unless the caller asks for another bound."""


@dataclass(frozen=True, slots=True)
class Hop:
    """One step of the chain an event came through.

    ``kind`` names the provider's notion: ``source-identity``, ``assumed-role``,
    ``session`` (AWS), ``delegation`` (GCP serviceAccountDelegationInfo), ``actor`` /
    ``client`` (Okta, Entra), or an edge kind (``assume-role``, ``impersonate``) for
    hops taken from the inventory.
    """

    kind: str
    principal: str
    label: str = ""
    source: HopSource = "record"

    def to_json(self) -> dict[str, Any]:
        """The documented JSON shape of a hop."""
        return {
            "kind": self.kind,
            "principal": self.principal,
            "label": self.label or self.principal,
            "source": self.source,
        }

    def text(self) -> str:
        """A short readable form (the label, else the principal)."""
        return self.label or self.principal


@dataclass(frozen=True, slots=True)
class TraceCause:
    """The agent's own span (OpenTelemetry GenAI conventions) joined to an event."""

    span_id: str
    operation: str = ""
    tool: str = ""
    tool_call_id: str = ""
    conversation_id: str = ""
    joined_by: str = ""
    """How the join was made: ``request-id``, ``session-name``, ``client-id``, ``time``."""

    def to_json(self) -> dict[str, Any]:
        """The documented JSON shape of a trace cause."""
        return {
            "span_id": self.span_id,
            "operation": self.operation or None,
            "tool": self.tool or None,
            "tool_call_id": self.tool_call_id or None,
            "conversation_id": self.conversation_id or None,
            "joined_by": self.joined_by,
        }


@dataclass(frozen=True, slots=True)
class ActivityEvent:
    """One thing an identity did, as a provider's audit log recorded it.

    ``when`` is timezone-aware UTC. ``identity_id`` is the inventory id the event is
    attributed to (an ARN, an object id, a service account email, an Okta id) and
    ``identity`` its display name. ``session`` names the short-lived session the record
    shows (an AWS role session name, a token id), used to join traces.
    """

    when: datetime
    provider: ProviderName
    identity_id: str
    identity: str
    action: str
    resource: str = ""
    outcome: Outcome = "success"
    via: Via = "own"
    chain: tuple[Hop, ...] = ()
    source_ip: str = ""
    user_agent: str = ""
    request_id: str = ""
    event_id: str = ""
    session: str = ""
    account: str = ""
    region: str = ""
    error: str = ""
    cause: TraceCause | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.when.tzinfo is None:
            raise ValueError("ActivityEvent.when must be timezone-aware")

    @property
    def key(self) -> tuple[str, str, str]:
        """What makes one event unique across readers (two identities of one agent may
        both see the same record, say a role session and its source identity)."""
        return (self.provider, self.event_id or self.request_id, self.when.isoformat())

    def to_json(self, *, raw: bool = False) -> dict[str, Any]:
        """The documented JSON shape of an event; ``raw`` adds the provider's record."""
        data: dict[str, Any] = {
            "when": iso(self.when.astimezone(UTC)),
            "provider": self.provider,
            "identity_id": self.identity_id,
            "identity": self.identity,
            "via": self.via,
            "chain": [hop.to_json() for hop in self.chain],
            "action": self.action,
            "resource": self.resource or None,
            "outcome": self.outcome,
            "error": self.error or None,
            "source_ip": self.source_ip or None,
            "user_agent": self.user_agent or None,
            "request_id": self.request_id or None,
            "event_id": self.event_id or None,
            "session": self.session or None,
            "account": self.account or None,
            "region": self.region or None,
            "cause": self.cause.to_json() if self.cause else None,
        }
        if raw:
            data["raw"] = dict(self.raw)
        return data


@dataclass(frozen=True, slots=True)
class ActivityWindow:
    """The time window and bound of one read: ``since`` ≤ when < ``until``, at most
    ``limit`` events (newest kept)."""

    since: datetime
    until: datetime
    limit: int = DEFAULT_LIMIT

    def __post_init__(self) -> None:
        if self.since.tzinfo is None or self.until.tzinfo is None:
            raise ValueError("ActivityWindow bounds must be timezone-aware")
        if self.until < self.since:
            raise ValueError("ActivityWindow: until is before since")
        if self.limit < 1:
            raise ValueError("ActivityWindow: limit must be at least 1")

    @classmethod
    def last(cls, span: timedelta, now: datetime, limit: int = DEFAULT_LIMIT) -> ActivityWindow:
        """The window ending ``now`` and reaching ``span`` back."""
        return cls(now - span, now, limit)

    def holds(self, moment: datetime) -> bool:
        """Whether ``moment`` falls in the window."""
        return self.since <= moment < self.until

    def to_json(self) -> dict[str, Any]:
        """The documented JSON shape of a window."""
        return {"since": iso(self.since), "until": iso(self.until), "limit": self.limit}


@dataclass(slots=True)
class ActivityPage:
    """What one reader returns for one read: the events (any order), whether the bound
    cut them (``truncated``), how many requests it took, and notes for the responder
    (an account or region that could not be read, say)."""

    provider: ProviderName
    events: list[ActivityEvent] = field(default_factory=list)
    truncated: bool = False
    requests: int = 0
    notes: list[str] = field(default_factory=list)

    def keep_newest(self, limit: int) -> None:
        """Sort the events newest first and keep ``limit`` of them (the page is then
        marked truncated): every reader bounds its answer the same way."""
        self.events.sort(key=lambda e: e.when, reverse=True)
        if len(self.events) > limit:
            del self.events[limit:]
            self.truncated = True
