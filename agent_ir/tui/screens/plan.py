"""The plan screen: what a playbook (or an undo) would do, before anything changes."""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Static

from agent_ir.errors import AgentIRError
from agent_ir.model import ProviderName
from agent_ir.textsafe import visible
from agent_ir.tui.screens.base import ConsoleScreen
from agent_ir.tui.screens.confirm import Confirmation, ConfirmScreen
from agent_ir.tui.screens.run import RunScreen
from agent_ir.tui.session import (
    ConsoleSession,
    PlanRequest,
    ReadyPlan,
    Request,
    RestoreRequest,
)
from agent_ir.tui.widgets.console_footer import ConsoleFooter
from agent_ir.tui.widgets.plan_header import PlanHeader
from agent_ir.tui.widgets.plan_view import PlanView

PREVIEW = (
    "read-only: preview · this console was started with --read-only, so this plan cannot "
    "run from here (run it from a console without --read-only, or agent-ir revoke / run)"
)


class PlanScreen(ConsoleScreen):
    """Compile the plan in a worker, show its summary and steps, and ask for typed
    confirmation (the confirmation repeats the summary)."""

    HELP_NAME = "A plan"

    BINDINGS = [
        # priority: taken as it arrives, so the name typed straight after it reaches the
        # confirmation instead of the plan
        Binding("enter", "confirm", "Confirm…", priority=True),
        Binding("enter", "preview", "Preview only", priority=True),
        Binding("c", "confirm", "Confirm…", show=False),
        Binding("c", "preview", "Preview only", show=False),
        Binding("escape", "cancel", "Cancel"),
        Binding("q", "cancel", "Cancel", show=False),
    ]

    def __init__(self, session: ConsoleSession, request: Request) -> None:
        super().__init__(session)
        self.request = request
        self.ready: ReadyPlan | None = None

    DEFAULT_CSS = """
    PlanScreen #plan-preview { height: auto; padding: 0 1; background: $error;
        color: white; text-style: bold; }
    """

    def compose(self) -> ComposeResult:
        what = "undo plan" if isinstance(self.request, RestoreRequest) else "plan"
        if self.session.read_only:
            what = f"read-only: preview of the {what}"
        yield self.environment_bar(f"{what} · {self.request.agent}")
        if self.session.read_only:
            yield Static(PREVIEW, id="plan-preview")
        yield PlanHeader(id="plan-header")
        yield PlanView(id="plan")
        yield ConsoleFooter()

    def on_mount(self) -> None:
        """Plan in a worker; the screen paints first."""
        self.query_one(PlanView).focus()
        self.prepare()

    @work(exclusive=True, group="plan")
    async def prepare(self) -> None:
        """Read live state and compile the plan, once every provider has answered (or is
        known not to): the screen opens at once and says whom it waits for, and escape
        leaves while it waits."""
        view = self.query_one(PlanView)
        if isinstance(self.request, PlanRequest):
            await self.session.every_answer(self._waiting)
            view.message("reading the live state of every target…")
        try:
            self.ready = await self.session.prepare(self.request)
        except AgentIRError as exc:
            view.message(f"No plan: {exc.message}")
            return
        self.query_one(PlanHeader).show(self.ready.summary)
        view.show(self.ready)

    def _waiting(self, providers: list[ProviderName]) -> None:
        self.query_one(PlanView).message(
            f"waiting for {', '.join(providers)}… a plan needs every provider's answer; "
            "it is made as soon as they have answered · escape cancels"
        )

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Read-only: enter says the plan is a preview instead of offering to confirm."""
        if action == "preview":
            return self.session.read_only
        return not (action == "confirm" and self.session.read_only)

    def action_preview(self) -> None:
        """Say why this plan will not run (the console is read-only)."""
        self.notify(PREVIEW, title="Preview only", severity="warning")

    def action_cancel(self) -> None:
        """Back without changing anything."""
        self.dismiss()

    def action_confirm(self) -> None:
        """Ask for the agent's name and a reason."""
        ready = self.ready
        if ready is None:
            self.notify("the plan is not ready", severity="warning")
            return
        if self.session.read_only:
            self.action_preview()
            return
        if ready.refusal:
            self.notify(visible(ready.refusal), markup=False, title="Refused", severity="error")
            return
        if not ready.plan.steps:
            self.notify("this plan has no steps; nothing to run", severity="warning")
            return
        gated = [s for s in ready.plan.steps if s.approve]
        reason = f"restore of {ready.restore_of}" if ready.restore_of else ""
        action = "Restore" if ready.restore_of else "Run plan"
        self.app.push_screen(
            ConfirmScreen(
                ready.plan.agent, gated, reason=reason, action=action, summary=ready.summary
            ),
            self._confirmed,
        )

    def _confirmed(self, confirmation: Confirmation | None) -> None:
        if confirmation is None or self.ready is None:
            return
        self.app.switch_screen(RunScreen(self.session, self.ready, confirmation))
