"""Agent-scoped discovery: which identities one agent's containment must read in full.

A containment needs the agent's own identities and whatever they can become (assume a
role, impersonate an account, federate into an app), not the estate. The focus starts
from what can name an identity as the agent's without reading its detail (the explicit
inventory, the agent tag, the name) and grows breadth first with what the agent reaches.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from agent_ir.engine.correlate import name_matches
from agent_ir.model import Agent, Identity

if TYPE_CHECKING:
    from agent_ir.engine.inventory import Inventory
    from agent_ir.inventory_spec import InventoryAgent

MAX_ROUNDS = 8
"""How many times the focus may widen: a chain longer than this is read in one go anyway,
since every round reads every identity reached so far."""


@dataclass(slots=True)
class Focus:
    """The identities to read in full for one agent: its own candidates, then what it reaches."""

    name: str
    listed: frozenset[str] = frozenset()
    extra: set[str] = field(default_factory=set)

    @classmethod
    def of(cls, name: str, inventory: Iterable[InventoryAgent]) -> Focus:
        """The focus of agent ``name``, with the ids the explicit inventory gives it."""
        listed = {
            ref.id
            for entry in inventory
            if entry.name.lower() == name.lower()
            for ref in entry.identities
        }
        return cls(name, frozenset(listed))

    def holds(self, identity: Identity) -> bool:
        """Whether ``identity`` may be the agent's own or is reached by it. Generous on
        names (a longer agent name may claim the identity in the end): reading one more
        identity in full costs a request, missing one would change the answer."""
        if identity.id in self.listed or identity.id in self.extra:
            return True
        if identity.agent is not None and identity.agent.lower() == self.name.lower():
            return True
        return name_matches(identity.name, self.name)

    def describe(self, agent: Agent) -> str:
        """How the scope was found, for the responder."""
        how = sorted({link.source.value for link in agent.links})
        reached = len(self.extra)
        return (
            f"agent-scoped: {agent.name} found by {', '.join(how) or 'nothing'} "
            f"({len(agent.links)} identities"
            + (f", {reached} more reached" if reached else "")
            + "); other identities were listed, not read in full"
        )


def unread_reach(
    inv: Inventory,
    agent: Agent,
    focus: Focus,
    worthy: Callable[[Identity], bool],
) -> set[str]:
    """Identities of the agent's closure that an estate inventory reads in full but this
    scoped read has not yet: its own (say, linked through a blueprint's tag) and those it
    can become."""
    own = [link.identity for link in agent.links]
    wanted = list(own)
    for target, _ in inv.graph.reach(i.id for i in own):
        ident = inv.identities.get(target)
        if ident is not None:
            wanted.append(ident)
    return {i.id for i in wanted if worthy(i) and not focus.holds(i)}

