"""ConfirmForm: typed confirmation before a plan runs.

The responder types the agent's exact name and a reason (journaled with the incident);
steps that need approval are listed as checkboxes, unticked. Both fields are required;
a problem is written out under the form.

Bindings: tab moves between fields; enter in a field or the Run button submits (posts
:class:`ConfirmForm.Confirmed`); the Cancel button posts :class:`ConfirmForm.Cancelled`.
Reactive state: ``problem``.
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import Button, Checkbox, Input, Label, Static

from agent_ir.actions.base import PlannedStep
from agent_ir.tui.widgets.toggle import Toggle


class ConfirmForm(Vertical):
    """Agent name, reason and per-step approvals."""

    DEFAULT_CSS = """
    ConfirmForm { height: auto; }
    ConfirmForm Input { margin-bottom: 1; }
    ConfirmForm #confirm-problem { color: $error; text-style: bold; height: auto; }
    ConfirmForm #confirm-buttons { height: auto; align-horizontal: right; }
    ConfirmForm Button { margin-left: 1; }
    """

    problem: reactive[str] = reactive("")

    class Confirmed(Message):
        """The responder confirmed: the reason and the approved step ids."""

        def __init__(self, reason: str, approved: frozenset[str]) -> None:
            super().__init__()
            self.reason = reason
            self.approved = approved

    class Cancelled(Message):
        """The responder backed out."""

    def __init__(
        self, agent: str, gated: list[PlannedStep], *, reason: str = "", action: str = "Run plan"
    ) -> None:
        super().__init__()
        self.agent = agent
        self.gated = gated
        self.default_reason = reason
        self.action_label = action

    def compose(self) -> ComposeResult:
        yield Label(f"Type the agent's name ({self.agent}) to confirm:")
        yield Input(placeholder="type the name here", id="confirm-agent")
        yield Label("Reason (journaled with the incident):")
        yield Input(value=self.default_reason, placeholder="why", id="confirm-reason")
        if self.gated:
            yield Label("Steps that need your approval (unticked ones are skipped):")
            for step in self.gated:
                yield Toggle(f"{step.action}: {step.target_label}", id=f"approve-{_dom(step.id)}")
        yield Static("", id="confirm-problem")
        with Horizontal(id="confirm-buttons"):
            yield Button("Cancel", id="confirm-cancel")
            yield Button(self.action_label, id="confirm-run", variant="error")

    def watch_problem(self, problem: str) -> None:
        """Show what is missing."""
        if self.is_mounted:
            self.query_one("#confirm-problem", Static).update(problem)

    @on(Input.Submitted)
    @on(Button.Pressed, "#confirm-run")
    def submit(self) -> None:
        """Check both fields, then confirm."""
        typed = self.query_one("#confirm-agent", Input).value.strip()
        reason = self.query_one("#confirm-reason", Input).value.strip()
        if typed != self.agent:
            self.problem = f"The name does not match: type {self.agent} exactly."
            self.query_one("#confirm-agent", Input).focus()
            return
        if not reason:
            self.problem = "A reason is required: it is journaled with the incident."
            self.query_one("#confirm-reason", Input).focus()
            return
        approved = frozenset(
            step.id
            for step in self.gated
            if self.query_one(f"#approve-{_dom(step.id)}", Checkbox).value
        )
        self.problem = ""
        self.post_message(self.Confirmed(reason, approved))

    @on(Button.Pressed, "#confirm-cancel")
    def cancel(self) -> None:
        """Back out."""
        self.post_message(self.Cancelled())


def _dom(step_id: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in step_id)
