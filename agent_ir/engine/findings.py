"""Findings: the risks on an agent, each with a stable code and a severity.

| code                     | severity | when                                                    |
|--------------------------|----------|---------------------------------------------------------|
| admin-grant              | critical | the agent, or an identity it can become, holds admin    |
| wildcard-grant           | high     | …holds a wildcard grant (``s3:*``, ``*`` on a service)  |
| stale-static-credential  | high     | an active static credential older than 90 days          |
| unused-credential        | medium   | an active credential never used, or unused for 30 days  |
| no-owner                 | high     | no human owns the agent                                 |
| cross-account-chain      | high     | a chain of roles/impersonation leaves the agent's account |
| inferred-identity        | low      | an identity is tied to the agent by its name only       |
"""

from __future__ import annotations

from datetime import datetime, timedelta

from agent_ir.engine.graph import Graph
from agent_ir.model import Agent, Edge, Finding, Grant, Identity, LinkSource, Severity

STALE_AFTER = timedelta(days=90)
UNUSED_AFTER = timedelta(days=30)


def assess(
    agent: Agent,
    grants: dict[str, list[Grant]],
    identities: dict[str, Identity],
    graph: Graph,
    now: datetime,
) -> list[Finding]:
    """Every finding on one agent, worst first."""
    found: list[Finding] = []
    own = agent.identities
    found.extend(_credential_findings(own, now))
    reach = graph.reach(i.id for i in own)
    found.extend(_grant_findings(own, reach, grants, graph))
    if not agent.owner:
        found.append(Finding("no-owner", Severity.HIGH, f"no human owns agent {agent.name}"))
    # an identity tied by its name only does not make its account the agent's home
    confirmed = [link.identity for link in agent.links if link.source is not LinkSource.INFERRED]
    found.extend(_chain_findings(confirmed or own, reach, identities, graph))
    for link in agent.links:
        if link.source is LinkSource.INFERRED:
            found.append(
                Finding(
                    "inferred-identity",
                    Severity.LOW,
                    f"{link.identity.provider} {link.identity.kind} {link.identity.name} is tied "
                    f"to {agent.name} by its name only; confirm it",
                    link.identity.id,
                )
            )
    found.sort(key=lambda f: (-f.severity.rank, f.code, f.identity or ""))
    return found


def _credential_findings(own: list[Identity], now: datetime) -> list[Finding]:
    found = []
    for identity in own:
        for cred in identity.credentials:
            if cred.status != "active":
                continue
            label = f"{cred.kind} {cred.id} of {identity.name}"
            if cred.static and cred.created and now - cred.created > STALE_AFTER:
                days = (now - cred.created).days
                found.append(
                    Finding(
                        "stale-static-credential",
                        Severity.HIGH,
                        f"{label} is {days} days old (limit {STALE_AFTER.days})",
                        identity.id,
                    )
                )
            if cred.last_used is None:
                found.append(
                    Finding(
                        "unused-credential", Severity.MEDIUM, f"{label} was never used", identity.id
                    )
                )
            elif now - cred.last_used > UNUSED_AFTER:
                days = (now - cred.last_used).days
                found.append(
                    Finding(
                        "unused-credential",
                        Severity.MEDIUM,
                        f"{label} has not been used for {days} days",
                        identity.id,
                    )
                )
    return found


def _grant_findings(
    own: list[Identity],
    reach: list[tuple[str, list[Edge]]],
    grants: dict[str, list[Grant]],
    graph: Graph,
) -> list[Finding]:
    found = []
    holders = [(i.id, "") for i in own] + [
        (target, f" (reachable through {len(path)} hop{'s' if len(path) > 1 else ''})")
        for target, path in reach
    ]
    for holder, via in holders:
        for grant in grants.get(holder, []):
            if grant.risk == "admin":
                code, severity = "admin-grant", Severity.CRITICAL
            elif grant.risk == "wildcard":
                code, severity = "wildcard-grant", Severity.HIGH
            else:
                continue
            found.append(
                Finding(
                    code,
                    severity,
                    f"{graph.label(holder)} holds {grant.kind} {grant.grant}: {grant.detail}{via}",
                    holder,
                )
            )
    return found


def _chain_findings(
    home_identities: list[Identity],
    reach: list[tuple[str, list[Edge]]],
    identities: dict[str, Identity],
    graph: Graph,
) -> list[Finding]:
    home = {i.account for i in home_identities}
    found = []
    for target, path in reach:
        reached = identities.get(target)
        if reached is None or reached.account in home:
            continue
        names = [graph.label(path[0].source), *(graph.label(e.target) for e in path)]
        found.append(
            Finding(
                "cross-account-chain",
                Severity.HIGH,
                f"{' → '.join(names)} leaves {', '.join(sorted(home))} for {reached.account}",
                target,
            )
        )
    return found
