"""PlanView: a plan, before anything runs.

Steps are grouped by provider and phase (phases numbered 1, 2, 3 within each provider,
in the order they run); each shows its action and target, the live
state now → the state predicted after it, whether it can be undone, and its hazards.
A provider that did not answer is named first: the plan covers the others.
The summary (counts, irreversible steps, blast radius, hash) is the screen's
:class:`PlanHeader`; a plan beyond the blast-radius limit is marked ``REFUSED`` here
with the reason, in words.

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
        if ready.refusal:
            text.append("REFUSED: ", style="bold red")
            text.append(ready.refusal + "\n")
        for provider, status in plan.unavailable.items():
            text.append("NOT ANSWERED ", style="bold red")
            text.append(f"{provider} {status}\n")
        if plan.unavailable:
            text.append(
                "partial plan: it covers the providers that answered; nothing in those "
                "above is contained or known to be\n"
            )
        for provider in plan.providers:
            mine = [s for s in plan.steps if s.provider == provider]
            gap = "\n" if text else ""
            text.append(f"{gap}{provider}  ({_count(len(mine))})\n", style="bold underline")
            for number, phase in enumerate(sorted({s.phase for s in mine}), start=1):
                text.append(f" {number}. {PHASES.get(phase, 'other')}\n", style="bold")
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


def _count(steps: int) -> str:
    return "1 step" if steps == 1 else f"{steps} steps"
