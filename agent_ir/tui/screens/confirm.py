"""The typed confirmation, over the plan."""

from __future__ import annotations

from dataclasses import dataclass

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input

from agent_ir.actions.base import PlannedStep
from agent_ir.tui.plan_summary import PlanSummary
from agent_ir.tui.widgets.confirm_form import ConfirmForm
from agent_ir.tui.widgets.plan_header import PlanHeader


@dataclass(frozen=True, slots=True)
class Confirmation:
    """The responder's reason and the gated steps they approved."""

    reason: str
    approved: frozenset[str]


class ConfirmScreen(ModalScreen[Confirmation | None]):
    """The plan's summary again, then type the agent's name and a reason; returns a
    Confirmation, or None."""

    HELP_NAME = "The confirmation"

    BINDINGS = [Binding("escape", "cancel", "Cancel")]
    AUTO_FOCUS = "#confirm-agent"

    DEFAULT_CSS = """
    ConfirmScreen { align: center middle; }
    ConfirmScreen #confirm-box { width: 76; max-width: 100%; height: auto; max-height: 100%;
        border: thick $error; background: $surface; padding: 0 1; }
    """

    def __init__(
        self,
        agent: str,
        gated: list[PlannedStep],
        *,
        reason: str = "",
        action: str = "Run plan",
        summary: PlanSummary | None = None,
    ) -> None:
        super().__init__()
        self.summary = summary
        self._ready = False
        self._early: list[events.Key] = []
        self.agent = agent
        self.gated = gated
        self.reason = reason
        self.action_label = action

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="confirm-box", can_focus=False) as box:
            box.border_title = f"{self.action_label}: {self.agent}"
            if self.summary is not None:
                yield PlanHeader(self.summary, id="confirm-summary")
            yield ConfirmForm(self.agent, self.gated, reason=self.reason, action=self.action_label)

    def on_mount(self) -> None:
        """Start in the name field, and type what was typed ahead of the drawing. Focus
        moves now, not later (``Widget.focus`` would): a later move would pull focus back
        to the name after the keys typed ahead had moved it on."""
        self.set_focus(self.query_one("#confirm-agent", Input))
        self._ready = True
        form = self.query_one(ConfirmForm)
        for key in self._early:
            form.type_key(key)
        self._early.clear()

    def take_key(self, key: events.Key) -> bool:
        """Take a key from the app before Textual routes it (False: route it as usual):
        text, backspace, tab and enter are typed into the form at once, in order; until
        the form is drawn they are kept, so a fast typist loses nothing."""
        if not ConfirmForm.types(key):
            return False
        if not self._ready:
            self._early.append(key)
            return True
        return self.query_one(ConfirmForm).type_key(key)

    @on(ConfirmForm.Confirmed)
    def _confirmed(self, event: ConfirmForm.Confirmed) -> None:
        self.dismiss(Confirmation(event.reason, event.approved))

    @on(ConfirmForm.Cancelled)
    def action_cancel(self) -> None:
        """Back to the plan."""
        self.dismiss(None)
