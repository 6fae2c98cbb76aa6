"""Correlate identities from every provider into agents.

Three sources, strongest first: the explicit inventory, the ``agent-ir:agent`` tag (or
its provider's equivalent, set by the adapter as ``Identity.agent``), and names, which
are only ever *inferred* links and are marked as such.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from agent_ir.inventory_spec import InventoryAgent
from agent_ir.model import Agent, AgentLink, Edge, EdgeKind, Identity, LinkSource

_AGENTISH = re.compile(r"(^|[-_.@ ])(agent|bot|gpt|llm|copilot|assistant|ai)([-_.@ ]|\d|$)", re.I)
HUMAN_PREFIX = "human:"


def looks_like_agent(name: str) -> bool:
    """Whether a name suggests an AI agent (used only for inferred links)."""
    return _AGENTISH.search(name) is not None


def wants_detail(inventory: Iterable[InventoryAgent]) -> set[str]:
    """The identity ids the inventory names (they always get full detail)."""
    return {ident.id for agent in inventory for ident in agent.identities}


def correlate(
    identities: Iterable[Identity], inventory: Iterable[InventoryAgent]
) -> tuple[list[Agent], list[str]]:
    """Group identities into agents; returns the agents and warnings for the responder."""
    by_id = {i.id: i for i in identities}
    agents: dict[str, Agent] = {}
    linked: set[str] = set()
    warnings: list[str] = []

    for entry in inventory:
        agent = agents.setdefault(entry.name, Agent(entry.name, entry.owner))
        for ref in entry.identities:
            identity = by_id.get(ref.id)
            if identity is None:
                warnings.append(
                    f"inventory: {ref.provider} identity {ref.id} of agent {entry.name} was not found"
                )
                continue
            agent.links.append(AgentLink(identity, LinkSource.INVENTORY))
            linked.add(identity.id)

    for identity in by_id.values():
        if identity.id in linked or not identity.agent:
            continue
        agent = agents.setdefault(identity.agent, Agent(identity.agent, None))
        agent.links.append(AgentLink(identity, LinkSource.TAG))
        linked.add(identity.id)

    names = _NameIndex(agents)
    for identity in by_id.values():
        if identity.id in linked:
            continue
        match = names.longest_match(identity.name)
        if match is None and looks_like_agent(identity.name):
            match = identity.name
        if match is None:
            continue
        agent = agents.setdefault(match, Agent(match, None))
        agent.links.append(AgentLink(identity, LinkSource.INFERRED))
        linked.add(identity.id)

    for agent in agents.values():
        if agent.owner is None:
            agent.owner = next((i.owner for i in agent.identities if i.owner), None)
    ordered = sorted(agents.values(), key=lambda a: a.name)
    return ordered, warnings


def name_matches(identity_name: str, agent_name: str) -> bool:
    """Whether an identity's name ties it to an agent: the same name, or the agent's name
    followed by ``-`` or ``_``."""
    lower, target = identity_name.lower(), agent_name.lower()
    return lower == target or lower.startswith(target + "-") or lower.startswith(target + "_")


class _NameIndex:
    """The agent names an identity's name can tie it to, by lower-cased name, so that
    matching one identity costs a few dictionary look-ups instead of a scan of every agent
    (the scan was quadratic: seconds on a 1,000-agent estate, on every scoped round)."""

    def __init__(self, names: Iterable[str]) -> None:
        self._by_lower: dict[str, str] = {}
        # Longest first, as the scan did; among names equal but for case the first wins.
        for name in sorted(names, key=len, reverse=True):
            self._by_lower.setdefault(name.lower(), name)

    def longest_match(self, identity_name: str) -> str | None:
        """The longest agent name :func:`name_matches` ties ``identity_name`` to, or None."""
        lower = identity_name.lower()
        if lower in self._by_lower:
            return self._by_lower[lower]
        for end in range(len(lower) - 1, -1, -1):
            if lower[end] in "-_" and lower[:end] in self._by_lower:
                return self._by_lower[lower[:end]]
        return None


def owner_edges(agents: Iterable[Agent]) -> list[Edge]:
    """Human → agent edges from owners, with where the owner came from."""
    edges = []
    for agent in agents:
        if not agent.owner:
            continue
        sources = [
            f"{link.identity.provider} {link.identity.kind} {link.identity.name}"
            for link in agent.links
            if link.identity.owner == agent.owner
        ]
        reason = f"{agent.owner} is the owner of agent {agent.name} " + (
            f"(tag agent-ir:owner on {', '.join(sources)})" if sources else "(inventory)"
        )
        edges.append(
            Edge(
                f"{HUMAN_PREFIX}{agent.owner}",
                f"agent:{agent.name}",
                EdgeKind.OWNER,
                reason,
                evidence=tuple(sources),
            )
        )
    return edges
