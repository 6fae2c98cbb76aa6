"""The delegation graph: who can act as, or for, whom, across providers.

Nodes are identity ids plus ``human:…``, ``external:…`` and ``service:…`` parties; every
edge keeps the reason a responder reads. The graph answers what an agent can reach
(following assume-role, impersonation and federation edges) and who delegated to it.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field

from agent_ir.model import Agent, Edge, EdgeKind

# Edges an agent can travel along to become someone else.
TRAVERSABLE = {
    EdgeKind.ASSUME_ROLE,
    EdgeKind.IMPERSONATE,
    EdgeKind.FEDERATION,
    EdgeKind.TOKEN_EXCHANGE,
}
# Edges that bring authority into an agent from a human.
DELEGATING = {EdgeKind.OWNER, EdgeKind.CONSENT}


@dataclass(slots=True)
class TreeNode:
    """One node of a delegation tree, with the edge that led to it (None at a root)."""

    principal: str
    label: str
    via: Edge | None = None
    children: list[TreeNode] = field(default_factory=list)


class Graph:
    """An index over edges for reachability and delegation questions."""

    def __init__(self, edges: Iterable[Edge], labels: dict[str, str] | None = None) -> None:
        self.edges = list(edges)
        self.labels = labels or {}
        self._out: dict[str, list[Edge]] = {}
        self._in: dict[str, list[Edge]] = {}
        for edge in self.edges:
            self._out.setdefault(edge.source, []).append(edge)
            self._in.setdefault(edge.target, []).append(edge)

    def label(self, principal: str) -> str:
        """A short readable name for a principal."""
        return self.labels.get(principal, principal)

    def outgoing(self, principal: str) -> list[Edge]:
        """Edges leaving a principal."""
        return self._out.get(principal, [])

    def incoming(self, principal: str) -> list[Edge]:
        """Edges arriving at a principal."""
        return self._in.get(principal, [])

    def reach(self, starts: Iterable[str]) -> list[tuple[str, list[Edge]]]:
        """Every principal reachable from ``starts`` by traversable edges, with the
        shortest path of edges to it (breadth first; starts themselves excluded)."""
        start_set = set(starts)
        seen = set(start_set)
        queue: deque[tuple[str, list[Edge]]] = deque((s, []) for s in start_set)
        found: list[tuple[str, list[Edge]]] = []
        while queue:
            node, path = queue.popleft()
            for edge in self.outgoing(node):
                if edge.kind not in TRAVERSABLE or edge.target in seen:
                    continue
                seen.add(edge.target)
                route = [*path, edge]
                found.append((edge.target, route))
                queue.append((edge.target, route))
        return found

    def delegation_tree(self, agent: Agent) -> list[TreeNode]:
        """Humans → agent → identities → what they can reach, with each edge's reason.

        Returns the roots: one per delegating human, and an ``(no owner)`` root when
        nobody delegated to the agent.
        """
        agent_node = TreeNode(f"agent:{agent.name}", f"agent {agent.name}")
        own = [i.id for i in agent.identities]
        # An own identity that another own identity can become is shown in that chain.
        reached_from_own = {
            target for start in own for target, _ in self.reach([start]) if target != start
        }
        for principal in own:
            if principal in reached_from_own:
                continue
            child = TreeNode(principal, self.label(principal))
            self._grow(child, {principal})
            agent_node.children.append(child)
        humans: dict[str, Edge] = {}
        for identity in agent.identities:
            for edge in self.incoming(identity.id):
                if edge.kind in DELEGATING and edge.source not in humans:
                    humans[edge.source] = edge
        for edge in self.incoming(f"agent:{agent.name}"):
            if edge.kind in DELEGATING and edge.source not in humans:
                humans[edge.source] = edge
        if not humans:
            return [TreeNode("human:?", "(no owner)", children=[agent_node])]
        roots = []
        for human, edge in humans.items():
            # each root gets its own agent node, so each carries its own reason
            mine = TreeNode(agent_node.principal, agent_node.label, edge, agent_node.children)
            roots.append(TreeNode(human, self.label(human), children=[mine]))
        return roots

    def _grow(self, node: TreeNode, path: set[str], budget: list[int] | None = None) -> None:
        """Add what ``node`` can become, avoiding cycles along the path; ``budget`` caps
        the size of one tree so a dense graph cannot explode it."""
        budget = budget if budget is not None else [500]
        for edge in self.outgoing(node.principal):
            if edge.kind not in TRAVERSABLE or edge.target in path or budget[0] <= 0:
                continue
            budget[0] -= 1
            child = TreeNode(edge.target, self.label(edge.target), via=edge)
            node.children.append(child)
            self._grow(child, path | {edge.target}, budget)
