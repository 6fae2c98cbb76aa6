"""RunSteps: the live state of every step of a running plan.

Each row names its status in words (``waiting``, ``running``, ``retrying``, then
``verified``, ``applied-unverified``, ``already``, ``skipped`` or ``FAILED``), how many
retries and rate-limit waits it went through, and the latest detail.

Bindings: DataTable's. Reactive state: ``finished`` (steps that ended) and ``retries``.
"""

from __future__ import annotations

from rich.text import Text
from textual.message import Message
from textual.reactive import reactive

from agent_ir.actions.base import PlannedStep
from agent_ir.tui.safe import SafeTable

_STATUS_STYLE = {
    "verified": "bold green",
    "already": "green",
    "applied-unverified": "bold yellow",
    "skipped": "dim",
    "FAILED": "bold red",
    "retrying": "yellow",
    "running": "bold",
    "waiting": "dim",
}


class RunSteps(SafeTable):
    """One row per step of the plan being run."""

    finished: reactive[int] = reactive(0)
    retries: reactive[int] = reactive(0)

    class Event(Message):
        """An executor event, carried to the widget's own thread."""

        def __init__(self, event: str, step: PlannedStep, detail: str) -> None:
            super().__init__()
            self.event = event
            self.step = step
            self.detail = detail

    def __init__(self, steps: list[PlannedStep], *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row")
        self.plan_steps = steps
        self._retries: dict[str, int] = {}

    def on_mount(self) -> None:
        """One row per step, all waiting."""
        self.add_column("STATUS", key="status")
        self.add_column("RETRIES", key="retries")
        self.add_column("PROVIDER", key="provider")
        self.add_column("ACTION", key="action")
        self.add_column("TARGET", key="target")
        self.add_column("DETAIL", key="detail")
        for step in self.plan_steps:
            self.add_row(
                _status("waiting"),
                "0",
                step.provider,
                step.action,
                step.target_label,
                "",
                key=step.id,
            )

    def report(self, event: str, step: PlannedStep, detail: str) -> None:
        """The executor's event callback; safe from any thread."""
        self.post_message(self.Event(event, step, detail))

    def on_run_steps_event(self, message: RunSteps.Event) -> None:
        """Show one event."""
        message.stop()
        step_id = message.step.id
        if step_id not in self.rows:
            return
        if message.event == "start":
            self.update_cell(step_id, "status", _status("running"), update_width=True)
        elif message.event in ("retry", "wait"):
            self._retries[step_id] = self._retries.get(step_id, 0) + 1
            self.retries += 1
            self.update_cell(step_id, "status", _status("retrying"), update_width=True)
            self.update_cell(step_id, "retries", str(self._retries[step_id]))
            self.update_cell(step_id, "detail", message.detail, update_width=True)
        elif message.event == "end":
            word = "FAILED" if message.detail == "failed" else message.detail
            self.update_cell(step_id, "status", _status(word), update_width=True)
            self.finished += 1


def _status(word: str) -> Text:
    return Text(word, style=_STATUS_STYLE.get(word, ""))
