"""The provider contract every adapter implements.

An adapter turns one provider's API into model objects and the provider's errors into
:mod:`agent_ir.errors`, at its boundary: nothing above it sees a botocore, httpx or okta
exception. Optional abilities are declared as flags on the class, never probed with
``hasattr``.

Errors every method may raise: :class:`~agent_ir.errors.ProviderUnavailable`,
:class:`~agent_ir.errors.AuthenticationError`, :class:`~agent_ir.errors.PermissionDenied`,
:class:`~agent_ir.errors.Throttled`, :class:`~agent_ir.errors.BadResponse`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import Flag, auto
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, runtime_checkable

from agent_ir.activity.model import ActivityPage, ActivityWindow
from agent_ir.model import Edge, Grant, Identity, ProviderName

if TYPE_CHECKING:
    pass


class Ability(Flag):
    """What an adapter can do beyond reading."""

    NONE = 0
    DISCOVER = auto()
    CONTAIN = auto()
    RESTORE = auto()
    CHECK_PERMISSIONS = auto()
    READ_PERMISSIONS = auto()
    """Declares ``read_permissions``: what discovery itself needs (for ``permissions``)."""
    READ_ACTIVITY = auto()
    """Reads the provider's own audit log of what an identity did."""


ProgressFn = Callable[[str, int, int | None], None]
"""Progress callback: (what is being fetched, done so far, total or None when unknown)."""


def utcnow() -> datetime:
    """The current moment, timezone-aware (UTC)."""
    return datetime.now(UTC)


@dataclass(slots=True)
class ProviderContext:
    """What the engine hands to every adapter it builds."""

    clock: Callable[[], datetime] = utcnow
    progress: ProgressFn | None = None
    wants: Callable[[Identity], bool] | None = None
    """Which identities deserve the expensive reads (credentials); None means all."""
    wants_edges: Callable[[Identity], bool] | None = None
    """Whose per-identity reads that name *other* principals (Entra federated credentials:
    who may act as this app) are needed; None means the same as ``wants``. Agent-scoped
    discovery narrows ``wants`` to one agent's closure but keeps these, since an edge
    out of the agent may be recorded on an identity that is not the agent's."""
    focus: Callable[[], Callable[[Identity], bool] | None] | None = None
    """The focus of the agent-scoped read in progress, if any: which identities it covers.
    Reads about an identity outside it (its owners, its creator, who was assigned to it)
    are left out, since they name principals the containment never touches."""

    focus_name: Callable[[], str | None] | None = None
    """The name of the agent the scoped read in progress is for, if any: providers whose
    listings take a search (Okta's ``q`` and ``search``) ask for it instead of paging all."""

    focus_ids: Callable[[], frozenset[str]] | None = None
    """The ids the scoped read in progress already holds in focus (listed in the explicit
    inventory, or reached by the agent): providers that ask by filter fetch them by id."""

    containment: Callable[[], bool] | None = None
    """Whether the read in progress is for a containment (a plan, a revoke): then reads no
    step needs, such as credential last-use lookups, are skipped, since they sit before the
    first cut and some (Entra's sign-in report, GCP's key activity) page the whole estate."""

    def for_containment(self) -> bool:
        """Whether the read in progress only feeds a containment plan."""
        return self.containment is not None and self.containment()

    def focus_agent(self) -> str | None:
        """The agent an agent-scoped read is for (None for an estate read)."""
        return self.focus_name() if self.focus_name is not None and self.scoped() else None

    def focus_id_set(self) -> frozenset[str]:
        """The ids :attr:`focus_ids` gives (none for an estate read)."""
        return self.focus_ids() if self.focus_ids is not None and self.scoped() else frozenset()

    def scoped(self) -> bool:
        """Whether the read in progress is agent-scoped."""
        return self.focus is not None and self.focus() is not None

    def in_focus(self, identity: Identity) -> bool:
        """Whether the read in progress covers ``identity`` (always, for an estate read)."""
        holds = self.focus() if self.focus is not None else None
        return holds is None or holds(identity)

    def wanted(self, identity: Identity) -> bool:
        """Whether the engine wants the full detail of ``identity``."""
        return self.wants is None or self.wants(identity)

    def wanted_edges(self, identity: Identity) -> bool:
        """Whether the engine needs the edge-bearing reads of ``identity``."""
        if self.wants_edges is None:
            return self.wanted(identity)
        return self.wants_edges(identity)

    def report(self, what: str, done: int, total: int | None = None) -> None:
        """Forward progress, if anyone listens."""
        if self.progress is not None:
            self.progress(what, done, total)


@dataclass(slots=True)
class Discovery:
    """Everything one discovery pass of one provider found."""

    provider: ProviderName
    identities: list[Identity] = field(default_factory=list)
    grants: list[Grant] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)
    requests: int = 0
    responder_ids: set[str] = field(default_factory=set)
    """The console's own identities here (never correlated into agents)."""
    notes: list[str] = field(default_factory=list)
    """What a scoped read could not bound and read whole instead (for the plan's scope)."""

    def grants_of(self, identity_id: str) -> list[Grant]:
        """The grants one identity holds."""
        return [g for g in self.grants if g.identity == identity_id]


@dataclass(slots=True)
class PermissionCheck:
    """One permission the responder's identity needs, and whether the provider allows it."""

    permission: str
    allowed: bool | None
    note: str = ""


@dataclass(slots=True)
class CheckReport:
    """What ``doctor`` learns from one provider: who we are there and what we may do."""

    provider: ProviderName
    caller: str
    account: str
    endpoint: str
    permissions: list[PermissionCheck] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@runtime_checkable
class Provider(Protocol):
    """The contract of a provider adapter: discovery, a self-check, and its actions."""

    name: ClassVar[ProviderName]
    abilities: ClassVar[Ability]
    read_permissions: ClassVar[tuple[str, ...]]
    """What discovery needs; meaningful when ``abilities`` has ``READ_PERMISSIONS``."""

    @classmethod
    def from_settings(cls, section: Any, context: ProviderContext) -> Provider:
        """Build the adapter from its settings section (no network traffic yet)."""
        ...

    async def discover(self) -> Discovery:
        """Identities with credentials, tags and owners, their grants and edges (paged)."""
        ...

    async def check(self, permissions: list[str]) -> CheckReport:
        """Who the responder is in this provider and which of ``permissions`` it holds."""
        ...

    def plan_facts(self) -> object:
        """What the last discovery learnt that the actions plan from, as an instance of the
        type the provider's plugin names in ``facts`` (empty before any discovery)."""
        ...

    async def aclose(self) -> None:
        """Release connections and threads."""
        ...


@runtime_checkable
class ActivityReader(Protocol):
    """The optional ability to read what identities did, from the provider's audit log.

    An adapter that implements it sets :attr:`Ability.READ_ACTIVITY`. Read-only, paged and
    rate-limited like discovery; bounded by ``window.limit`` (newest kept, ``truncated``
    set when the bound cut). Each event is attributed to one of ``identities`` (its id)
    with the hops the record shows; no secret ever reaches an event. Raises the same
    errors as the rest of the contract.
    """

    async def read_activity(
        self, identities: Sequence[Identity], window: ActivityWindow
    ) -> ActivityPage:
        """Events of ``identities`` within ``window``."""
        ...


def activity_reader(provider: Provider) -> ActivityReader | None:
    """The adapter as an activity reader, when it declares the ability."""
    if Ability.READ_ACTIVITY in provider.abilities and isinstance(provider, ActivityReader):
        return provider
    return None


@runtime_checkable
class FederationLookup(Protocol):
    """The optional ability to find, by a filtered query, which of the provider's
    principals admit outside identities through workload identity federation (an Entra
    application's federated credentials naming an AWS role or a Google service account).

    Agent-scoped discovery asks it with the identities of the agent's closure so far,
    instead of reading every principal's trust to find the few that name them.
    """

    async def federated_into(self, identities: Sequence[Identity]) -> list[Edge]:
        """FEDERATION edges from ``identities`` into the provider's principals."""
        ...


@runtime_checkable
class OwnLookup(Protocol):
    """The optional ability to read an agent's certain own principals directly, by name
    and id, without listing the estate: what a kill switch cuts first.

    A revoke cuts the credentials these hold while the rest of the agent's closure (the
    principals tagged with it under other names, what it can become) is still being read;
    so the lookup must find only principals the whole read would also give the agent:
    ids the explicit inventory lists, and principals named exactly like the agent
    (case-insensitive) whose own tag does not name another agent.
    """

    async def own_identities(self, agent: str, ids: frozenset[str]) -> Discovery:
        """The principals of this provider whose id is in ``ids`` or whose name is
        ``agent``, each read as the scoped discovery reads a principal in full (its
        credentials, grants and agent tag), in one Discovery; nothing else is listed.
        A principal that does not exist is simply absent."""
        ...


def opens_slowly(adapter: object) -> bool:
    """Whether opening the adapter costs seconds of interpreter time before its first
    request (the okta SDK's import): a kill switch then looks it up only once the other
    providers' first cut has landed, so that cost is not paid on their critical path."""
    return bool(getattr(adapter, "opens_slowly", False))
