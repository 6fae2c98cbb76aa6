"""Collateral: the principals other than the agent that a step also affects.

A deny-older-sessions policy on a role ends the sessions of everyone who assumed it; a
disabled service account stops every workload that impersonates it. The graph says who
else can become the step's identity; the plan names them as a hazard of the step.
"""

from __future__ import annotations

from dataclasses import replace

from agent_ir.actions.base import PlannedStep
from agent_ir.engine.graph import Graph
from agent_ir.model import Agent, EdgeKind

AFFECTS_OTHERS = frozenset({"revoke-sessions", "lock-trust", "disable-identity", "deny-all"})
"""Actions on an identity that every principal able to become it feels."""

_BECOMES = (EdgeKind.ASSUME_ROLE, EdgeKind.IMPERSONATE, EdgeKind.FEDERATION)


def others(agent: Agent, graph: Graph, identity: str) -> list[str]:
    """Principals outside the agent's reach that can become ``identity``."""
    own = [i.id for i in agent.identities]
    mine = set(own) | {target for target, _ in graph.reach(own)}
    return sorted(
        {e.source for e in graph.incoming(identity) if e.kind in _BECOMES and e.source not in mine}
    )


def name_collateral(steps: list[PlannedStep], agent: Agent, graph: Graph) -> list[PlannedStep]:
    """Each step that affects other principals, with a hazard naming them."""
    out = []
    for step in steps:
        found = others(agent, graph, step.identity) if step.action in AFFECTS_OTHERS else []
        if found:
            names = ", ".join(graph.label(p) for p in found)
            hazard = f"also affects {names}: they can become {graph.label(step.identity)} too"
            step = replace(step, hazards=(*step.hazards, hazard))
        out.append(step)
    return out
