"""PlanView: a plan, before anything runs.

Steps are grouped by provider and phase; each shows its action and target, the live
state now → the state predicted after it, whether it can be undone, and its hazards.
The header gives the blast radius against the playbook's limit; a plan beyond the limit
is marked ``REFUSED`` with the reason, in words.

Bindings: those of a scrolling container. Reactive state: ``steps`` (how many steps the
plan has).
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.reactive import reactive
from textual.widgets import Static

from agent_ir.actions.base import Reversibility
from agent_ir.actions.catalog import PHASES
from agent_ir.tui.format import brief
from agent_ir.tui.safe import clean, plain
from agent_ir.tui.session import ReadyPlan

_REVERSIBLE_STYLE = {
    Reversibility.YES: "green",
    Reversibility.SIDE_EFFECTS: "yellow",
    Reversibility.NO: "bold red",
}


class PlanView(VerticalScroll, can_focus=True):
    """The steps of one plan, grouped by provider, with the blast radius."""

    DEFAULT_CSS = """
    PlanView { padding: 0 1; }
    """

    steps: reactive[int] = reactive(0)

    def compose(self) -> ComposeResult:
        yield Static("reading the live state of every target…", id="plan-text")

    def message(self, text: str) -> None:
        """Show a message instead of a plan (planning failed, or is under way)."""
        self.query_one("#plan-text", Static).update(plain(text))

    def show(self, ready: ReadyPlan) -> None:
        """Render a plan."""
        plan = ready.plan
        self.steps = len(plan.steps)
        text = Text()
        kind = f"undo of {ready.restore_of}" if ready.restore_of else f"playbook {plan.playbook}"
        text.append(f"{kind} · agent {plan.agent} · {len(plan.steps)} steps\n", style="bold")
        limit = f" (limit {plan.max_targets})" if plan.max_targets else ""
        text.append(f"Blast radius: {len(plan.blast_radius)} identities{limit}\n")
        if ready.refusal:
            text.append("REFUSED: ", style="bold red")
            text.append(ready.refusal + "\n")
        for provider in plan.providers:
            mine = [s for s in plan.steps if s.provider == provider]
            text.append(f"\n{provider}  ({len(mine)} steps)\n", style="bold underline")
            for phase in sorted({s.phase for s in mine}):
                text.append(f" {phase}. {PHASES.get(phase, 'other')}\n", style="bold")
                for step in (s for s in mine if s.phase == phase):
                    gate = "  [NEEDS APPROVAL]" if step.approve else ""
                    text.append(f"   {step.action}: {step.target_label}{gate}\n")
                    text.append(f"     now   {brief(step.current)}\n")
                    text.append(f"     after {brief(step.predicted)}\n")
                    text.append("     reversible: ")
                    text.append(step.reversible.value, style=_REVERSIBLE_STYLE[step.reversible])
                    text.append("\n")
                    for hazard in step.hazards:
                        text.append("     hazard: ", style="bold yellow")
                        text.append(f"{hazard}\n")
        if not plan.steps:
            text.append("\nNo steps: this plan changes nothing.\n")
        for note in plan.notes:
            text.append(f"\nnote: {note}", style="dim")
        self.query_one("#plan-text", Static).update(clean(text))
