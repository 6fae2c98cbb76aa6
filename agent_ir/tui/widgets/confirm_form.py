"""ConfirmForm: typed confirmation before a plan runs.

The responder types the agent's exact name and a reason (journaled with the incident);
steps that need approval are listed as checkboxes, unticked. Both fields are required;
a problem is written out under the form.

Bindings: tab moves between fields; enter in the name field moves on to the reason (once
the name matches); enter in the reason or the Run button submits (posts
:class:`ConfirmForm.Confirmed`); the Cancel button posts :class:`ConfirmForm.Cancelled`.
Reactive state: ``problem``.
"""

from __future__ import annotations

from textual import events, on
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

    @on(Input.Submitted, "#confirm-agent")
    def _name_entered(self, event: Input.Submitted) -> None:
        """Enter after the name moves on to the reason (once the name matches)."""
        event.stop()
        self._next_field()

    def _next_field(self) -> None:
        if self._name_matches():
            self.problem = ""
            self._focus("#confirm-reason")

    def _focus(self, selector: str) -> None:
        """Move focus now: ``Widget.focus`` waits its turn behind keys already queued, so
        in a burst the reason would be typed into the name field."""
        self.screen.set_focus(self.query_one(selector, Input))

    @staticmethod
    def types(key: events.Key) -> bool:
        """Whether :meth:`type_key` takes this key (text, backspace, tab, enter)."""
        return key.key in _TYPED or (key.is_printable and bool(key.character))

    def type_key(self, key: events.Key) -> bool:
        """Take one key at once, in order, as typing into the form (False: not taken).

        Textual hands a key to the focused widget through a queue, so in a burst a letter
        can overtake the Tab or Enter before it and land in the wrong field; the screen
        feeds the keys here instead, one after another, and nothing overtakes.
        """
        if key.key == "tab":
            self.screen.focus_next()
            return True
        if key.key == "shift+tab":
            self.screen.focus_previous()
            return True
        field = self.screen.focused
        if not isinstance(field, Input):
            return False
        if key.key == "enter" and field.id == "confirm-agent":
            self._next_field()
        elif key.key == "enter":
            self.submit()
        elif key.key == "backspace":
            field.action_delete_left()
        elif key.character and key.is_printable:
            field.insert_text_at_cursor(key.character)
        else:
            return False
        return True

    def _name_matches(self) -> bool:
        typed = self.query_one("#confirm-agent", Input).value.strip()
        if typed != self.agent:
            self.problem = f"The name does not match: type {self.agent} exactly."
            self._focus("#confirm-agent")
            return False
        return True

    @on(Input.Submitted, "#confirm-reason")
    @on(Button.Pressed, "#confirm-run")
    def submit(self) -> None:
        """Check both fields, then confirm."""
        reason = self.query_one("#confirm-reason", Input).value.strip()
        if not self._name_matches():
            return
        if not reason:
            self.problem = "A reason is required: it is journaled with the incident."
            self._focus("#confirm-reason")
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


_TYPED = frozenset({"tab", "shift+tab", "enter", "backspace"})


def _dom(step_id: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in step_id)
