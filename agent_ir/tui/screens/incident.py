"""One incident, whole: who ran it and why, when, every step with its timing, the verdict,
the residual paths with their expiry, what undoing it would not give back, and the
restore chain. Read from the journal only, so it shows what was recorded."""

from __future__ import annotations

import asyncio

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Static

from agent_ir.engine.report import IncidentReport, summary_lines, when
from agent_ir.errors import AgentIRError
from agent_ir.tui.clipboard import copy_text
from agent_ir.tui.messages import Restore
from agent_ir.tui.safe import plain
from agent_ir.tui.screens.base import ConsoleScreen
from agent_ir.tui.session import ConsoleSession
from agent_ir.tui.widgets.console_footer import ConsoleFooter


class IncidentScreen(ConsoleScreen):
    """An incident to read and hand off; ``u`` plans its undo."""

    HELP_NAME = "An incident"

    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("q", "back", "Back", show=False),
        Binding("u", "restore", "Restore"),
        Binding("y", "copy", "Copy id"),
    ]

    DEFAULT_CSS = """
    IncidentScreen #incident-body { padding: 0 1; height: 1fr; }
    """

    def __init__(self, session: ConsoleSession, incident: str, agent: str) -> None:
        super().__init__(session)
        self.incident = incident
        self.agent = agent
        self.report: IncidentReport | None = None

    def compose(self) -> ComposeResult:
        yield self.environment_bar(f"incident {self.incident}")
        with VerticalScroll(id="incident-body"):
            yield Static("reading the journal…", id="incident-text", markup=False)
        yield ConsoleFooter()

    def on_mount(self) -> None:
        """Read the incident in a worker; the text has focus so the arrows scroll."""
        self.query_one("#incident-body").focus()
        self.load()

    def on_screen_resume(self) -> None:
        """Read again after a restore run from here: the restore chain has grown."""
        if self.report is not None:
            self.load()

    @work(exclusive=True, group="incident")
    async def load(self) -> None:
        """Read the incident's journal."""
        text = self.query_one("#incident-text", Static)
        try:
            self.report = await asyncio.to_thread(self.session.incident_report, self.incident)
        except AgentIRError as exc:
            text.update(plain(f"Cannot read {self.incident}: {exc.message}"))
            return
        text.update(plain("\n".join(incident_lines(self.report))))

    def action_back(self) -> None:
        """Back to the agent."""
        self.dismiss()

    def command_text(self, action: str, description: str) -> str:
        """Palette wording naming this incident."""
        return {
            "restore": f"Restore incident {self.incident}…",
            "copy": f"Copy incident id {self.incident}",
        }.get(action, description)

    def action_copy(self) -> None:
        """Copy the incident id, to paste into the ticket."""
        copy_text(self, "incident id", self.incident)

    def action_restore(self) -> None:
        """Plan the undo of this incident."""
        self.post_message(Restore(self.incident, self.agent))


def incident_lines(report: IncidentReport) -> list[str]:
    """The screen's text: the summary, then timings, hazards and notes."""
    lines = summary_lines(report)
    lines.append("")
    lines.append("Timings")
    for step in report.steps:
        took = f"{step.seconds:.1f}s" if step.seconds is not None else "not run"
        lines.append(f"  {when(step.started)}  {took:>8}  {step.id}")
    lines.append("")
    lines.append("Restore chain")
    if report.restore_of:
        lines.append(f"  this incident restores {report.restore_of}")
    lines += [f"  restored by {i}" for i in report.restored_by] or ["  not restored"]
    lines.append("")
    lines.append("Restore hazards (what undoing this would not give back)")
    lines += [f"  {h}" for h in report.restore_hazards] or ["  none: every step can be undone"]
    if report.notes:
        lines += ["", "Notes"] + [f"  {n}" for n in report.notes]
    return lines
