"""ActivityPane: the agent view's Activity tab, what the agent did, newest first.

The timeline (:mod:`agent_ir.activity.timeline`) is read in a worker the first time the
tab is shown, with a loading line meanwhile, so the console never waits on an audit log.
Above the list: each provider's state in words (answered, unavailable and why, not read
and why), the agent's last containment and the activity findings. Each row shows the
chain the event came through (the inventory's path, ending at the identity the provider
recorded); the highlighted row's chain is spelt out hop by hop beneath the list, with
the record's own hops (source identity, session, key id). Events at or after the containment are marked ``after``.

Bindings: ``o`` cycles the outcome filter, ``v`` the provider filter, ``/`` focuses the
text filter (enter or escape hands focus back to the list); DataTable's own otherwise.

Reactive state: ``outcome``, ``provider`` and ``text`` (the filters).

Every provider string reaches the screen through :mod:`agent_ir.tui.safe`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.reactive import reactive
from textual.widgets import DataTable, Input, Static

from agent_ir.activity.model import OUTCOMES, ActivityEvent, ActivityWindow, Hop
from agent_ir.activity.timeline import ProviderStatus, Timeline, build_timeline
from agent_ir.errors import AgentIRError
from agent_ir.model import Severity, iso
from agent_ir.tui.safe import SafeTable, clean, shown
from agent_ir.tui.session import ConsoleSession

WINDOW = timedelta(hours=24)
"""How far back the tab reads (the CLI's ``--since`` default)."""
ALL = "all"
COLUMNS = ("WHEN UTC", "PROVIDER", "OUTCOME", "CUT", "CHAIN", "ACTION", "RESOURCE")
"""CHAIN ends at the identity the event is recorded against (alone, for its own call)."""
AFTER = "after"
"""The CUT cell of an event at or after the agent's last containment."""

_OUTCOME_STYLE = {"success": "green", "denied": "bold red", "failure": "yellow"}
_SEVERITY_STYLE = {
    Severity.CRITICAL: "bold white on red",
    Severity.HIGH: "bold red",
    Severity.MEDIUM: "yellow",
    Severity.LOW: "dim",
}


async def read_timeline(session: ConsoleSession, agent: str) -> Timeline:
    """The agent's activity over the last :data:`WINDOW` up to the session's clock."""
    window = ActivityWindow.last(WINDOW, session.clock().astimezone(UTC))
    return await build_timeline(session.engine, agent, window)


def hop_name(hop: Hop) -> str:
    """A hop in few words: an ARN's last path segment, else its label or principal."""
    if hop.principal.startswith("arn:") and "/" in hop.principal:
        return hop.principal.rsplit("/", 1)[1]
    return hop.text()


def chain_text(event: ActivityEvent) -> str:
    """Who made the call, in one line: the inventory's path from the agent's own identity
    to the event's (names only, repeats folded), or the identity alone for its own call.
    The record's own hops (source identity, session, key id) are in :func:`chain_detail`."""
    names: list[str] = []
    for hop in event.chain:
        if hop.source == "inventory":
            name = hop_name(hop)
            if not names or names[-1] != name:
                names.append(name)
    if not names or names[-1] != event.identity:
        names.append(event.identity)
    return " → ".join(names)


def chain_detail(event: ActivityEvent) -> Text:
    """The event's chain hop by hop, each with its kind and where it was seen."""
    head = Text.assemble(
        (f"{event.identity}: {event.action}", "bold"),
        f" ({event.outcome}" + (f": {event.error}" if event.error else "") + ")",
    )
    if not event.chain:
        return clean(Text.assemble(head, "  its own call, no chain"))
    hops = Text(" → ").join(
        Text.assemble((hop.kind, "dim"), " ", hop.text()) for hop in event.chain
    )
    return clean(Text.assemble(head, "\n  via ", hops))


def is_after(event: ActivityEvent, cutoff: datetime | None) -> bool:
    """Whether the event came at or after the containment's cutoff."""
    return cutoff is not None and event.when >= cutoff


def event_row(event: ActivityEvent, cutoff: datetime | None) -> tuple[Text | str, ...]:
    """One row of the list (strings; the table sanitises them)."""
    outcome = Text(event.outcome, style=_OUTCOME_STYLE.get(event.outcome, ""))
    cut = Text(AFTER, style="bold red") if is_after(event, cutoff) else ""
    return (
        event.when.astimezone(UTC).strftime("%m-%d %H:%M:%S"),
        event.provider,
        outcome,
        cut,
        chain_text(event),
        event.action,
        event.resource,
    )


@dataclass(frozen=True, slots=True)
class Filters:
    """What the list shows: one outcome or all, one provider or all, and words to find."""

    outcome: str = ALL
    provider: str = ALL
    text: str = ""

    def keep(self, event: ActivityEvent) -> bool:
        """Whether the event passes every filter (the words match anywhere, any case)."""
        if self.outcome != ALL and event.outcome != self.outcome:
            return False
        if self.provider != ALL and event.provider != self.provider:
            return False
        words = self.text.lower().split()
        if not words:
            return True
        hay = " ".join(
            (
                " ".join(hop.text() for hop in event.chain),
                event.action,
                event.resource,
                event.outcome,
                event.provider,
                chain_text(event),
                event.error,
                event.source_ip,
                event.session,
            )
        ).lower()
        return all(word in hay for word in words)


def status_words(status: ProviderStatus) -> str:
    """A provider's state as the responder reads it."""
    if status.state == "answered":
        cut = ", cut at the bound" if status.truncated else ""
        return f"{status.provider} answered ({status.events} events{cut})"
    if status.state == "unavailable":
        return f"{status.provider} unavailable: {status.reason}"
    return f"{status.provider} not read: {status.reason}"


def status_text(timeline: Timeline, shown_count: int) -> Text:
    """The head line: the window, how many events, and each provider's state."""
    window = timeline.window
    count = (
        f"{shown_count} of {len(timeline.events)}"
        if shown_count != len(timeline.events)
        else str(len(timeline.events))
    )
    head = Text.assemble(
        (f"last {WINDOW.total_seconds() / 3600:g}h", "bold"),
        f" to {iso(window.until.replace(microsecond=0))}: {count} events"
        + (f" (cut at {window.limit})" if timeline.truncated else ""),
    )
    parts = []
    for status in timeline.statuses:
        style = {"answered": "green", "unavailable": "bold red"}.get(status.state, "dim")
        parts.append(Text(status_words(status), style=style))
    return clean(Text.assemble(head, "\n", Text(" · ").join(parts)))


def findings_text(timeline: Timeline) -> Text:
    """The containment still in force and the activity findings, worst first."""
    lines = []
    if timeline.containment is not None:
        held = timeline.containment
        lines.append(Text(f"contained by {held.incident} at {iso(held.at)}", style="bold"))
    for finding in timeline.findings:
        style = _SEVERITY_STYLE.get(finding.severity, "")
        lines.append(
            Text.assemble(
                (f" {finding.severity.value.upper()} ", style),
                (f" {finding.code}", "bold"),
                f": {finding.message}",
            )
        )
    return clean(Text("\n").join(lines))


class ActivityTable(SafeTable):
    """The events, one a row; the row key is the event's index in the timeline."""

    def on_mount(self) -> None:
        """Set up the columns."""
        self.cursor_type = "row"
        self.zebra_stripes = True
        self.add_columns(*COLUMNS)


class ActivitySearch(Input):
    """The Activity tab's text filter; enter or escape hands focus back to the list."""

    BINDINGS = [
        Binding("enter", "done", "Keep filter", show=False),
        Binding("escape", "clear_search", "Clear filter", show=False),
    ]

    DEFAULT_CSS = """
    ActivitySearch { height: 1; border: none; padding: 0 1; background: $boost; }
    ActivitySearch:focus { border: none; background: $accent 20%; }
    """

    def action_done(self) -> None:
        """Back to the list, the filter kept."""
        self.screen.query_one(ActivityTable).focus()

    def action_clear_search(self) -> None:
        """Clear the filter and go back to the list."""
        self.value = ""
        self.action_done()


class ActivityPane(Vertical):
    """The Activity tab of one agent."""

    BINDINGS = [
        Binding("o", "cycle_outcome", "Outcome"),
        Binding("v", "cycle_provider", "Provider"),
        Binding("slash", "search", "Search"),
    ]

    DEFAULT_CSS = """
    ActivityPane #activity-state { height: auto; padding: 0 1; color: $text-muted; }
    ActivityPane #activity-findings { height: auto; max-height: 6; padding: 0 1; }
    ActivityPane #activity-filters { height: 1; padding: 0 1; color: $text-muted; }
    ActivityPane ActivityTable { height: 1fr; }
    ActivityPane #activity-chain { height: auto; max-height: 4; padding: 0 1; }
    """

    outcome: reactive[str] = reactive(ALL)
    provider: reactive[str] = reactive(ALL)
    text: reactive[str] = reactive("")

    def __init__(self, session: ConsoleSession, agent: str) -> None:
        super().__init__()
        self.session = session
        self.agent = agent
        self.timeline: Timeline | None = None
        self._started = False
        self._rows: list[ActivityEvent] = []

    def compose(self) -> ComposeResult:
        yield Static("", id="activity-state")
        yield Static("", id="activity-findings")
        yield Static("", id="activity-filters")
        yield ActivityTable()  # before the search line: the tab opens with the list focused
        yield ActivitySearch(placeholder="/ to find words in the events", id="activity-search")
        yield Static("", id="activity-chain")

    def on_mount(self) -> None:
        """Nothing is read yet: that waits until the tab is first shown."""
        self.query_one("#activity-findings", Static).display = False
        self._show_filters()

    def on_show(self) -> None:
        """Read the timeline the first time the tab is shown."""
        if not self._started:
            self._started = True
            self.load()

    @work(exclusive=True, group="activity")
    async def load(self) -> None:
        """Read the agent's timeline across every provider, off the console's loop."""
        state = self.query_one("#activity-state", Static)
        state.update(Text(f"loading the last {WINDOW.total_seconds() / 3600:g}h of activity…"))
        try:
            timeline = await read_timeline(self.session, self.agent)
        except AgentIRError as exc:
            state.update(shown(f"the activity could not be read: {exc.message}"))
            return
        self.timeline = timeline
        findings = self.query_one("#activity-findings", Static)
        findings.update(findings_text(timeline))
        findings.display = bool(timeline.findings or timeline.containment)
        self._redraw()

    def filters(self) -> Filters:
        """The filters in force."""
        return Filters(self.outcome, self.provider, self.text)

    def _redraw(self) -> None:
        timeline = self.timeline
        self._show_filters()
        if timeline is None:
            return
        keep = self.filters()
        cutoff = timeline.containment.cutoff if timeline.containment else None
        table = self.query_one(ActivityTable)
        table.clear()
        self._rows = [e for e in timeline.events if keep.keep(e)]
        for n, event in enumerate(self._rows):
            table.add_row(*event_row(event, cutoff), key=str(n))
        self.query_one("#activity-state", Static).update(status_text(timeline, len(self._rows)))
        self._show_chain(0)

    def _show_filters(self) -> None:
        self.query_one("#activity-filters", Static).update(
            shown(f"o outcome: {self.outcome} · v provider: {self.provider} · / find words")
        )

    def _show_chain(self, row: int) -> None:
        chain = self.query_one("#activity-chain", Static)
        if 0 <= row < len(self._rows):
            chain.update(chain_detail(self._rows[row]))
        else:
            chain.update(Text("no event matches" if self.timeline else ""))

    @on(DataTable.RowHighlighted)
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self._show_chain(event.cursor_row)

    @on(Input.Changed, "#activity-search")
    def _typed(self, event: Input.Changed) -> None:
        event.stop()
        self.text = event.value

    def watch_outcome(self) -> None:
        """Show the list again under the new outcome filter."""
        self._redraw_if_mounted()

    def watch_provider(self) -> None:
        """Show the list again under the new provider filter."""
        self._redraw_if_mounted()

    def watch_text(self) -> None:
        """Show the list again under the new words."""
        self._redraw_if_mounted()

    def _redraw_if_mounted(self) -> None:
        if self.is_mounted:
            self._redraw()

    def action_cycle_outcome(self) -> None:
        """Next outcome filter: all, success, denied, failure."""
        choices = (ALL, *OUTCOMES)
        self.outcome = choices[(choices.index(self.outcome) + 1) % len(choices)]

    def action_cycle_provider(self) -> None:
        """Next provider filter: all, then each configured provider."""
        names = [s.provider for s in self.timeline.statuses] if self.timeline else []
        choices = [ALL, *names]
        at = choices.index(self.provider) if self.provider in choices else 0
        self.provider = choices[(at + 1) % len(choices)]

    def action_search(self) -> None:
        """Focus the text filter."""
        self.query_one(ActivitySearch).focus()
