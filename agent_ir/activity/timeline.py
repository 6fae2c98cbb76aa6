"""One activity timeline for one agent, across every configured provider.

The agent's identities and those it reaches (assumed roles, impersonated accounts,
federated apps) come from agent-scoped discovery; each provider that can read its audit
log is asked about its share of them, concurrently; the answers are linked to the agent
(``own`` or ``chain``, with the inventory's path prepended to a chain event's hops),
de-duplicated, sorted newest first and bounded. A provider that cannot answer is named
with its reason, never dropped: the timeline is then *partial* (exit 6).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal

from agent_ir.activity.model import ActivityEvent, ActivityPage, ActivityWindow, Hop
from agent_ir.errors import AgentIRError, ProviderError, ProviderUnavailable, unexpected
from agent_ir.model import Agent, Edge, Identity, ProviderName
from agent_ir.providers.base import activity_reader

if TYPE_CHECKING:
    from agent_ir.engine.inventory import Engine, Inventory

READ_DEADLINE_S = 120.0
"""How long one provider's audit-log read may take before it counts as not answering."""

State = Literal["answered", "unavailable", "unsupported", "idle"]


@dataclass(slots=True)
class ProviderStatus:
    """How one provider answered: ``answered``; ``unavailable`` (failed; the timeline is
    partial); ``unsupported`` (its adapter reads no audit log); ``idle`` (the agent has no
    identity there)."""

    provider: ProviderName
    state: State
    reason: str = ""
    events: int = 0
    requests: int = 0
    truncated: bool = False
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The documented JSON shape of a provider's status."""
        return {
            "provider": self.provider,
            "state": self.state,
            "reason": self.reason or None,
            "events": self.events,
            "requests": self.requests,
            "truncated": self.truncated,
            "notes": list(self.notes),
        }


@dataclass(slots=True)
class Subject:
    """One identity whose activity is read, and how the agent comes to it."""

    identity: Identity
    path: tuple[Edge, ...] = ()
    """The inventory's path from one of the agent's own identities (empty: its own)."""


@dataclass(slots=True)
class Timeline:
    """The agent's activity within a window, newest first, with each provider's status."""

    agent: str
    window: ActivityWindow
    events: list[ActivityEvent]
    statuses: list[ProviderStatus]
    truncated: bool = False
    scope: str | None = None

    @property
    def partial(self) -> bool:
        """Whether a provider that should have answered did not."""
        return any(s.state == "unavailable" for s in self.statuses)

    @property
    def unavailable(self) -> list[ProviderStatus]:
        """The providers that did not answer, with their reasons."""
        return [s for s in self.statuses if s.state == "unavailable"]

    def to_json(self, *, raw: bool = False) -> dict[str, Any]:
        """The documented JSON shape of ``activity``."""
        return {
            "agent": self.agent,
            "window": self.window.to_json(),
            "truncated": self.truncated,
            "partial": self.partial,
            "providers": [s.to_json() for s in self.statuses],
            "events": [e.to_json(raw=raw) for e in self.events],
        }


def subjects(inv: Inventory, agent: Agent) -> list[Subject]:
    """The agent's own identities, then every identity it reaches, with the path."""
    own = [Subject(i) for i in agent.identities]
    seen = {s.identity.id for s in own}
    reached = []
    for target, path in inv.graph.reach(seen):
        ident = inv.identities.get(target)
        if ident is not None and ident.id not in seen:
            seen.add(ident.id)
            reached.append(Subject(ident, tuple(path)))
    return own + reached


def link(
    events: Iterable[ActivityEvent], by_id: dict[str, Subject], labels: dict[str, str]
) -> list[ActivityEvent]:
    """Mark each event ``own`` or ``chain``; a chain event gets the inventory's path
    (from the agent's own identity to the event's) ahead of the record's hops."""
    out = []
    for event in events:
        subject = by_id.get(event.identity_id)
        if subject is None or not subject.path:
            out.append(replace(event, via="own"))
            continue
        path = tuple(
            Hop(edge.kind.value, edge.target, labels.get(edge.target, edge.target), "inventory")
            for edge in subject.path
        )
        start = subject.path[0].source
        head = Hop("own", start, labels.get(start, start), "inventory")
        out.append(replace(event, via="chain", chain=(head, *path, *event.chain)))
    return out


def merge(pages: Iterable[ActivityPage], limit: int) -> tuple[list[ActivityEvent], bool]:
    """All pages' events, de-duplicated, newest first, cut to ``limit``."""
    seen: set[tuple[str, str, str]] = set()
    events = []
    for page in pages:
        for event in page.events:
            key = event.key
            if key[1] and key in seen:
                continue
            seen.add(key)
            events.append(event)
    events.sort(key=lambda e: e.when, reverse=True)
    return events[:limit], len(events) > limit


def assemble(
    name: str,
    window: ActivityWindow,
    subjects_: Sequence[Subject],
    results: dict[ProviderName, ActivityPage | ProviderStatus],
    labels: dict[str, str],
) -> Timeline:
    """The timeline from each provider's page (or status), linked and bounded."""
    by_id = {s.identity.id: s for s in subjects_}
    pages = [r for r in results.values() if isinstance(r, ActivityPage)]
    statuses = []
    for provider, result in results.items():
        if isinstance(result, ProviderStatus):
            statuses.append(result)
        else:
            statuses.append(
                ProviderStatus(
                    provider,
                    "answered",
                    events=len(result.events),
                    requests=result.requests,
                    truncated=result.truncated,
                    notes=list(result.notes),
                )
            )
    linked = [replace(p, events=link(p.events, by_id, labels)) for p in pages]
    events, cut = merge(linked, window.limit)
    cut = cut or any(p.truncated for p in pages)
    return Timeline(name, window, events, statuses, truncated=cut)


async def read_one(
    provider: ProviderName,
    adapter: Any,
    identities: Sequence[Identity],
    window: ActivityWindow,
    deadline_s: float = READ_DEADLINE_S,
) -> ActivityPage | ProviderStatus:
    """One provider's read, every failure turned into a named status."""
    if not identities:
        return ProviderStatus(provider, "idle", "the agent has no identity here")
    reader = activity_reader(adapter)
    if reader is None:
        return ProviderStatus(provider, "unsupported", "this adapter reads no audit log")
    try:
        async with asyncio.timeout(deadline_s):
            return await reader.read_activity(identities, window)
    except ProviderError as exc:
        return ProviderStatus(provider, "unavailable", exc.message)
    except AgentIRError as exc:
        return ProviderStatus(provider, "unavailable", exc.message)
    except TimeoutError:
        error = ProviderUnavailable(provider, f"did not answer within {deadline_s:g}s")
        return ProviderStatus(provider, "unavailable", error.message)
    except Exception as exc:  # noqa: BLE001 - a defect must not hide the other providers
        return ProviderStatus(provider, "unavailable", unexpected(provider, exc).message)


async def build_timeline(
    engine: Engine,
    name: str,
    window: ActivityWindow,
    only: Iterable[ProviderName] | None = None,
    *,
    deadline_s: float = READ_DEADLINE_S,
) -> Timeline:
    """The activity of agent ``name`` (and of what it reaches) within ``window``."""
    inv = await engine.agent_inventory(name)
    agent = inv.agent(name)
    subs = subjects(inv, agent)
    chosen = set(only) if only is not None else None
    adapters = engine.providers()
    names = [n for n in engine.configured() if chosen is None or n in chosen]
    results: dict[ProviderName, ActivityPage | ProviderStatus] = {}
    pending = {}
    for provider in names:
        if provider in inv.errors:
            results[provider] = ProviderStatus(
                provider, "unavailable", f"discovery failed: {inv.errors[provider].message}"
            )
            continue
        mine = [s.identity for s in subs if s.identity.provider == provider]
        pending[provider] = read_one(provider, adapters[provider], mine, window, deadline_s)
    answers = await asyncio.gather(*pending.values())
    results.update(zip(pending, answers, strict=True))
    ordered = {n: results[n] for n in names}
    timeline = assemble(agent.name, window, subs, ordered, inv.graph.labels)
    timeline.scope = inv.scope
    return timeline
