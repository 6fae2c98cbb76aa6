"""Human-readable text for the CLI's data commands (JSON lives on the model objects)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from agent_ir.engine.graph import TreeNode
from agent_ir.engine.inventory import AgentView, Inventory
from agent_ir.errors import ProviderError
from agent_ir.model import Agent, Credential
from agent_ir.providers.base import CheckReport


def _age(moment: datetime | None, now: datetime) -> str:
    if moment is None:
        return "never"
    days = (now - moment).days
    return "today" if days <= 0 else f"{days}d ago"


def table(rows: list[list[str]], header: list[str]) -> str:
    """A plain left-aligned table."""
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(h.upper().ljust(w) for h, w in zip(header, widths, strict=True)).rstrip()]
    lines += [
        "  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows
    ]
    return "\n".join(lines)


def oldest_credential(agent: Agent) -> Credential | None:
    """The agent's oldest active static credential."""
    creds = [
        c for i in agent.identities for c in i.credentials if c.status == "active" and c.created
    ]
    return min(creds, key=lambda c: c.created or datetime.max) if creds else None


def inventory_text(inv: Inventory, now: datetime) -> str:
    """The agent table, then any provider errors and warnings."""
    rows = []
    for agent in inv.agents:
        oldest = oldest_credential(agent)
        count = sum(len(i.credentials) for i in agent.identities)
        rows.append(
            [
                agent.name,
                agent.owner or "(none)",
                ",".join(agent.providers),
                agent.risk.value.upper() if agent.risk else "-",
                str(count),
                _age(oldest.created, now).replace(" ago", "") if oldest else "-",
                ", ".join(sorted({f.code for f in agent.findings})) or "-",
            ]
        )
    out = [table(rows, ["agent", "owner", "providers", "risk", "creds", "oldest", "findings"])]
    out.append(f"\n{len(inv.agents)} agents")
    out.extend(problems_text(inv))
    return "\n".join(out)


def problems_text(inv: Inventory) -> list[str]:
    """Provider errors and correlation warnings, one line each."""
    lines = [f"error: {err.message}" for err in inv.errors.values()]
    lines += [f"warning: {w}" for w in inv.warnings]
    return lines


def show_text(view: AgentView, inv: Inventory, now: datetime) -> str:
    """One agent: identities with credentials, findings, grants, delegation tree."""
    agent = view.agent
    risk = agent.risk.value.upper() if agent.risk else "no findings"
    out = [f"{agent.name}   owner: {agent.owner or '(none)'}   risk: {risk}", "", "Identities"]
    for link in agent.links:
        ident = link.identity
        out.append(
            f"  {ident.provider} {ident.kind} {ident.name} ({ident.account}) [{link.source.value}]"
        )
        out.append(f"    {ident.id}")
        for cred in ident.credentials:
            out.append(
                f"    {cred.kind} {cred.id}  {cred.status}  created {_age(cred.created, now)}"
                f"  last used {_age(cred.last_used, now)}"
            )
    out += ["", "Findings"]
    out += [f"  {f.severity.value.upper():8} {f.code}: {f.message}" for f in agent.findings] or [
        "  (none)"
    ]
    out += ["", "Grants"]
    for grant, reachable in view.grants:
        mark = f"[{grant.risk.upper()}] " if grant.risk else ""
        where = inv.graph.label(grant.identity) if reachable else grant.identity.rsplit("/", 1)[-1]
        via = " (reachable)" if reachable else ""
        out.append(f"  {mark}{grant.kind} {grant.grant} on {where}{via}")
        if grant.detail:
            out.append(f"      {grant.detail}")
    out += ["", "Delegation"]
    out += tree_text(view.tree)
    out.extend(problems_text(inv))
    return "\n".join(out)


def tree_text(roots: Iterable[TreeNode]) -> list[str]:
    """Draw delegation trees with their reasons."""
    lines: list[str] = []

    def walk(node: TreeNode, prefix: str, last: bool, top: bool) -> None:
        branch = "" if top else ("└─ " if last else "├─ ")
        reason = f"   ← {node.via.kind.value}: {node.via.reason}" if node.via and not top else ""
        lines.append(f"  {prefix}{branch}{node.label}{reason}")
        child_prefix = prefix if top else prefix + ("   " if last else "│  ")
        for index, child in enumerate(node.children):
            walk(child, child_prefix, index == len(node.children) - 1, False)

    for root in roots:
        walk(root, "", True, True)
    return lines


def doctor_text(results: list[CheckReport | ProviderError], source: str) -> str:
    """What each provider said about the responder's identity."""
    out = [f"configuration: {source}"]
    for result in results:
        if isinstance(result, ProviderError):
            out.append(f"FAIL {result.message}")
            continue
        out.append(f"ok   {result.provider}: {result.caller} at {result.endpoint}")
        out += [f"       {note}" for note in result.notes]
        for check in result.permissions:
            mark = {True: "yes", False: "NO ", None: "?  "}[check.allowed]
            out.append(f"       {mark} {check.permission}  ({check.note})")
    return "\n".join(out)
