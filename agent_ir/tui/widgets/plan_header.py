"""PlanHeader: the five-second summary above a plan and inside its confirmation.

Steps per provider, the irreversible steps first (each with its target), the count of
steps with side effects and of those needing approval, the blast radius, the collateral
principals, what the plan is expected to leave, and the plan hash.

No bindings (it never takes focus). Reactive state: ``plan_hash`` (empty until a plan is
shown).
"""

from __future__ import annotations

from textual.reactive import reactive
from textual.widgets import Static

from agent_ir.tui.plan_summary import PlanSummary, summary_text
from agent_ir.tui.safe import clean


class PlanHeader(Static):
    """A plan's summary, in a box that says what it is."""

    DEFAULT_CSS = """
    PlanHeader { height: auto; padding: 0 1; border: round $primary; }
    PlanHeader.-irreversible { border: round $error; }
    """

    plan_hash: reactive[str] = reactive("")

    def __init__(self, summary: PlanSummary | None = None, *, id: str | None = None) -> None:
        super().__init__("", id=id)
        self.border_title = "Plan summary"
        self.display = summary is not None
        if summary is not None:
            self.show(summary)

    def show(self, summary: PlanSummary) -> None:
        """Draw ``summary``."""
        self.plan_hash = summary.plan_hash
        self.set_class(bool(summary.irreversible), "-irreversible")
        self.update(clean(summary_text(summary)))
        self.display = True
