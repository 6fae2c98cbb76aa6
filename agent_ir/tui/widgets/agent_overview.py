"""AgentOverview: who the agent is, where it lives, and what is wrong with it.

A summary (owner, risk in words, providers, identities with how each was linked) and
the findings, worst first, each led by its severity in capitals.

Bindings: those of a scrolling container (arrows, page keys). Reactive state: ``agent``
(the name shown).
"""

from __future__ import annotations

from datetime import datetime

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.reactive import reactive
from textual.widgets import Static

from agent_ir.engine.inventory import AgentView
from agent_ir.model import Severity
from agent_ir.tui.format import agent_status, risk_text
from agent_ir.tui.safe import clean

_SEVERITY_STYLE = {
    Severity.CRITICAL: "bold red",
    Severity.HIGH: "bold yellow",
    Severity.MEDIUM: "yellow",
    Severity.LOW: "",
}


class AgentOverview(VerticalScroll, can_focus=True):
    """The Overview tab: summary and findings."""

    DEFAULT_CSS = """
    AgentOverview { padding: 0 1; }
    """

    agent: reactive[str] = reactive("")

    def compose(self) -> ComposeResult:
        yield Static("", id="overview-text")

    def show(self, view: AgentView, now: datetime) -> None:
        """Render one agent."""
        agent = view.agent
        self.agent = agent.name
        text = Text()
        text.append(agent.name, style="bold")
        text.append("\nowner      ")
        text.append(agent.owner or "(no owner)", style="" if agent.owner else "bold red")
        text.append("\nrisk       ")
        text.append(
            risk_text(agent.risk), style=_SEVERITY_STYLE.get(agent.risk, "") if agent.risk else ""
        )
        text.append(f"\nproviders  {', '.join(agent.providers) or '-'}")
        text.append(f"\nstatus     {agent_status(agent)}")
        text.append(f"\n\nIdentities ({len(agent.links)})\n", style="bold")
        for link in agent.links:
            ident = link.identity
            text.append(f"  {ident.provider} {ident.kind} {ident.name} ({ident.account})\n")
            text.append(f"      linked by {link.source.value} · {ident.status}\n", style="dim")
        ordered = sorted(agent.findings, key=lambda f: -f.severity.rank)
        text.append(f"\nFindings ({len(ordered)})\n", style="bold")
        if not ordered:
            text.append("  none\n")
        for finding in ordered:
            text.append("  ")
            text.append(
                f"{finding.severity.value.upper():<8}", style=_SEVERITY_STYLE[finding.severity]
            )
            text.append(f" {finding.code}: {finding.message}\n")
        self.query_one("#overview-text", Static).update(clean(text))
