"""The live run: every step's status, retries and waits, a progress bar, then the summary."""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import ProgressBar, Static

from agent_ir.errors import AgentIRError
from agent_ir.tui.safe import plain
from agent_ir.tui.screens.base import ConsoleScreen
from agent_ir.tui.screens.confirm import Confirmation
from agent_ir.tui.session import ConsoleSession, ReadyPlan
from agent_ir.tui.widgets.console_footer import ConsoleFooter
from agent_ir.tui.widgets.run_steps import RunSteps
from agent_ir.tui.widgets.run_summary import RunSummary


class RunScreen(ConsoleScreen):
    """Runs a confirmed plan in a worker and shows it happen."""

    HELP_NAME = "A run"

    BINDINGS = [
        Binding("escape", "done", "Done"),
        Binding("enter", "done", "Done", show=False),
        Binding("q", "done", "Done", show=False),
    ]

    DEFAULT_CSS = """
    RunScreen #run-title { height: auto; padding: 0 1; text-style: bold; }
    RunScreen ProgressBar { padding: 0 1; height: 1; }
    RunScreen RunSteps { height: 1fr; }
    """

    def __init__(
        self, session: ConsoleSession, ready: ReadyPlan, confirmation: Confirmation
    ) -> None:
        super().__init__(session)
        self.ready = ready
        self.confirmation = confirmation
        self.finished = False

    def compose(self) -> ComposeResult:
        plan = self.ready.plan
        what = f"undo of {self.ready.restore_of}" if self.ready.restore_of else plan.playbook
        yield self.environment_bar(f"run · {plan.agent}")
        yield Static(
            plain(f"Running {what} on {plan.agent}: {len(plan.steps)} steps"), id="run-title"
        )
        yield ProgressBar(total=len(plan.steps), show_eta=False, id="run-progress")
        yield RunSteps(plan.steps, id="run-steps")
        yield RunSummary("waiting for the first step…", id="run-summary")
        yield ConsoleFooter()

    def on_mount(self) -> None:
        """Start the run."""
        steps = self.query_one(RunSteps)
        steps.focus()
        self.watch(steps, "finished", self._advance, init=False)
        self.execute()

    def _advance(self, finished: int) -> None:
        self.query_one(ProgressBar).progress = finished

    @work(exclusive=True, group="run")
    async def execute(self) -> None:
        """Journal and run the plan; end on the verification summary."""
        steps = self.query_one(RunSteps)
        summary = self.query_one(RunSummary)
        summary.update("running… every step is journaled before it is applied")
        approved = self.confirmation.approved
        try:
            outcome = await self.session.run(
                self.ready,
                self.confirmation.reason,
                approved=lambda step: step.id in approved,
                on_event=steps.report,
            )
        except AgentIRError as exc:
            summary.failed(exc.message)
        else:
            summary.show(outcome)
            self.query_one(ProgressBar).progress = len(self.ready.plan.steps)
        finally:
            self.finished = True
        self.query_one("#run-title", Static).update(
            "Finished. Press escape to go back (the inventory reloads)."
        )

    def action_done(self) -> None:
        """Leave once the run has ended."""
        if not self.finished:
            self.notify("the run is still going; it will finish on its own", severity="warning")
            return
        self.dismiss()
