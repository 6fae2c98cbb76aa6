"""The exercise screen: the agent list, with the exercise's clock, its injects and, when the
facilitator shows it, the residual access the adversary probe finds.

The exercise keys (bound by the application, so they work on every screen): ``n``
advances the clock to the next inject, ``a`` shows or hides residual access (probing afresh
each time it is shown), ``e`` ends the exercise, scores it and writes the after-action
report. A console joined to a shared exercise also catches up every few seconds with what
the other responders did: the clock, the injects, the end.
"""

from __future__ import annotations

from textual import events, on, work
from textual.app import ComposeResult
from textual.message import Message
from textual.widgets import Static

from agent_ir.errors import AgentIRError
from agent_ir.tabletop.live import Scorecard
from agent_ir.tabletop.probe import PathResult
from agent_ir.tabletop.run import Event
from agent_ir.textsafe import visible
from agent_ir.tui.exercise_session import ExerciseSession
from agent_ir.tui.screens.agent_list import AgentListScreen
from agent_ir.tui.widgets.agent_table import AgentTable
from agent_ir.tui.widgets.console_footer import ConsoleFooter
from agent_ir.tui.widgets.exercise_clock import ExerciseClock
from agent_ir.tui.widgets.filter_input import FilterInput
from agent_ir.tui.widgets.inject_log import InjectLog
from agent_ir.tui.widgets.provider_status import ProviderStatus
from agent_ir.tui.widgets.residual_panel import ResidualPanel


class ExerciseScreen(AgentListScreen):
    """The agent list of an exercise's lab, driven by a facilitator."""

    HELP_NAME = "The exercise (the agent list, with the clock and injects)"

    SCREEN_TITLE = "exercise"

    class InjectsFired(Message):
        """The clock moved to the next inject and these injects fired."""

        def __init__(self, events: list[Event]) -> None:
            super().__init__()
            self.events = events

    class Probed(Message):
        """The adversary probe tried every path it holds."""

        def __init__(self, results: list[PathResult]) -> None:
            super().__init__()
            self.results = results

    class Ended(Message):
        """The exercise was scored and its report written."""

        def __init__(self, end: Scorecard) -> None:
            super().__init__()
            self.end = end

    def __init__(self, session: ExerciseSession, *, poll_s: float | None = None) -> None:
        super().__init__(session)
        self.exercise = session
        self.poll_s = poll_s
        self._shown_end = False
        self._syncing = False

    def compose(self) -> ComposeResult:
        yield self.environment_bar()
        yield ExerciseClock(self.exercise.name, next_at=self.exercise.next_at, id="exercise-clock")
        yield FilterInput(id="filter")
        yield ProviderStatus(id="providers")
        yield AgentTable(id="agents")
        yield Static("", id="list-count")
        yield InjectLog(id="inject-log")
        residual = ResidualPanel(id="residual")
        residual.display = False
        yield residual
        yield ConsoleFooter()

    @on(events.Mount)
    def _arm(self) -> None:
        """Arm the probe with the suspect's credentials (the list discovers as usual); a
        joined console polls the shared exercise."""
        self.begin()
        if self.poll_s is not None:
            self.set_interval(self.poll_s, self._poll)

    @on(events.ScreenResume)
    def _resumed(self) -> None:
        """The clock may have moved during a run."""
        self._tick()

    def _tick(self) -> None:
        clock = self.query_one(ExerciseClock)
        clock.seconds = self.exercise.t
        clock.next_at = self.exercise.next_at

    def _failed(self, exc: AgentIRError) -> None:
        self.notify(visible(exc.message), markup=False, title="Exercise", severity="error")

    @work(group="exercise")
    async def begin(self) -> None:
        """Probe once at the start (if nobody has yet), and show what already happened."""
        try:
            await self.exercise.begin()
            events = await self.exercise.sync()
        except AgentIRError as exc:
            self._failed(exc)
            return
        if events:  # joined late: what already happened
            self.post_message(self.InjectsFired(events))
        else:
            self._tick()

    def _poll(self) -> None:
        """Look again unless the last look is still under way: on a slow link a look may take
        longer than the interval, and cancelling it for a newer one would never finish one."""
        if not self._syncing:
            self._syncing = True
            self.catch_up()

    @work(group="exercise-sync")
    async def catch_up(self) -> None:
        """What the other responders did since the last look."""
        try:
            events = await self.exercise.sync()
        except AgentIRError as exc:
            self._failed(exc)
            return
        finally:
            self._syncing = False
        if events:
            self.post_message(self.InjectsFired(events))
        elif self.exercise.ended is not None and not self._shown_end:
            self.post_message(self.Ended(self.exercise.ended))
        else:
            self._tick()

    @work(group="exercise")
    async def advance(self) -> None:
        """Fire the next inject(s)."""
        try:
            events = await self.exercise.advance()
        except AgentIRError as exc:
            self._failed(exc)
            return
        self.post_message(self.InjectsFired(events))

    @work(group="exercise")
    async def probe(self) -> None:
        """Find which paths still work."""
        try:
            results = await self.exercise.residual_access()
        except AgentIRError as exc:
            self._failed(exc)
            return
        self.post_message(self.Probed(results))

    @work(group="exercise")
    async def finish(self) -> None:
        """Score the exercise and write the report."""
        try:
            end = await self.exercise.end()
        except AgentIRError as exc:
            self._failed(exc)
            return
        self.post_message(self.Ended(end))

    def on_exercise_screen_injects_fired(self, message: InjectsFired) -> None:
        """Log the injects, raise alerts, and rediscover after a change to the lab."""
        log = self.query_one(InjectLog)
        if not message.events and self.exercise.next_at is None:
            self.notify("every inject has fired", title="Exercise")
        for event in message.events:
            log.add(event)
            if event.kind == "alert":
                self.notify(visible(event.text), markup=False, title=f"Alert at {event.t:g}s", severity="warning")
        self._tick()
        if self.session.stale:
            self.load()

    def on_exercise_screen_probed(self, message: Probed) -> None:
        """Show the working paths."""
        self.query_one(ResidualPanel).show_results(message.results)
        self._tick()

    def on_exercise_screen_ended(self, message: Ended) -> None:
        """Show the score and where the report is."""
        result = message.end
        self._shown_end = True
        self.query_one(ExerciseClock).score = result.score
        panel = self.query_one(ResidualPanel)
        panel.display = True
        panel.show_results(result.results)
        log = self.query_one(InjectLog)
        for v in result.verdicts:
            log.note(self.exercise.t, "score", f"{'held' if v.held else 'FAILED'} {v.objective}")
        log.note(self.exercise.t, "report", f"{message.end.markdown} and {message.end.json}")
        verdict = "passed" if result.passed else "FAILED"
        self.notify(f"Score {result.score}/100 ({verdict})", title="Exercise ended")
        self._tick()

    def action_next_inject(self) -> None:
        """Advance the clock to the next inject."""
        self.advance()

    def action_residual(self) -> None:
        """Show (probing afresh) or hide residual access."""
        panel = self.query_one(ResidualPanel)
        panel.display = not panel.display
        if panel.display:
            panel.probing()
            self.probe()

    def action_end(self) -> None:
        """End the exercise: score it and write the after-action report."""
        self.finish()
