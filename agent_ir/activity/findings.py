"""Findings drawn from an agent's activity timeline.

| code                       | severity | when                                                        |
|----------------------------|----------|-------------------------------------------------------------|
| activity-after-containment | critical | a call succeeded after the agent's last containment         |
|                            | low      | …only refused calls followed it (the containment holds)     |
| activity-spike             | high     | the last hour holds at least ``SPIKE_FACTOR`` times the     |
|                            |          | agent's hourly baseline and at least ``SPIKE_MIN_EVENTS``   |

*After containment*: the containment is the newest incident on the agent that is not a
restore and was not undone since; its moment is when its journal ended (else its last
step). CloudTrail keeps whole seconds, so the second the incident ended counts as after
it. The successful calls are the residual paths made visible; they are named one by one.

*Spike*: the baseline is the mean number of events an hour over the window before its last
hour (over the part the bound kept, when the timeline was cut); at least
``SPIKE_MIN_BASELINE_H`` hours of it are needed, else no spike is judged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from agent_ir.activity.model import ActivityEvent, ActivityWindow
from agent_ir.engine.report import read_reports
from agent_ir.model import Finding, Severity, iso

SPIKE_FACTOR = 5.0
"""How many times the hourly baseline the last hour must reach to count as a spike."""
SPIKE_MIN_EVENTS = 20
"""The fewest events in the last hour that can be a spike (a quiet agent's 1 → 6 is not)."""
SPIKE_MIN_BASELINE_H = 6.0
"""The fewest hours of baseline a spike is judged against."""
UNDENIABLE = frozenset({"sts:GetCallerIdentity"})
"""Calls that need no permission and cannot be denied (AWS: "no permissions are required
to perform this operation"): a held, revoked session still gets an answer, which grants
nothing, so they are counted apart and never named as a containment failure."""
NAMED = 10
"""How many successful calls after containment the finding names (the rest are counted)."""


@dataclass(frozen=True, slots=True)
class Containment:
    """The agent's last containment: the incident and the moment it took hold."""

    incident: str
    at: datetime

    @property
    def cutoff(self) -> datetime:
        """From when an event counts as after it (whole seconds, as CloudTrail keeps)."""
        return self.at.astimezone(UTC).replace(microsecond=0)


def last_containment(directory: Path, agent: str) -> Containment | None:
    """The agent's newest containment still in force, from the journal (None: none)."""
    for report in read_reports(directory, agent):
        if report.restore_of:
            return None  # the newest incident undid an earlier one: nothing holds
        if report.restored_by:
            return None
        ended = [s.ended for s in report.steps if s.ended is not None]
        moment = report.ended or (max(ended) if ended else None)
        if moment is None:
            continue  # never got as far as a step: not a containment
        return Containment(report.incident, moment)
    return None


def after_containment(
    events: Sequence[ActivityEvent], containment: Containment
) -> list[ActivityEvent]:
    """The events at or after the containment's cutoff, oldest first."""
    cutoff = containment.cutoff
    return sorted((e for e in events if e.when >= cutoff), key=lambda e: e.when)


def got_through(event: ActivityEvent) -> bool:
    """Whether a call succeeded in doing something containment should have stopped."""
    return event.outcome == "success" and event.action not in UNDENIABLE


def describe(event: ActivityEvent) -> str:
    """One event in a finding's words: when, who, what, on what."""
    what = f"{event.action} on {event.resource}" if event.resource else event.action
    return f"{iso(event.when)} {event.provider} {event.identity}: {what}"


def containment_finding(
    events: Sequence[ActivityEvent], containment: Containment
) -> Finding | None:
    """``activity-after-containment``: critical when a call got through, low when every
    attempt was refused, none when nothing followed."""
    after = after_containment(events, containment)
    if not after:
        return None
    succeeded = [e for e in after if got_through(e)]
    denied = [e for e in after if e.outcome == "denied"]
    free = sum(1 for e in after if e.outcome == "success" and e.action in UNDENIABLE)
    head = (
        f"{len(after)} call(s) after containment {containment.incident} "
        f"({iso(containment.at)}): {len(succeeded)} succeeded, {len(denied)} denied"
        + (f", {free} needing no permission" if free else "")
    )
    if not succeeded:
        return Finding("activity-after-containment", Severity.LOW, head + "; the cut holds")
    named = "; ".join(describe(e) for e in succeeded[:NAMED])
    more = f"; and {len(succeeded) - NAMED} more" if len(succeeded) > NAMED else ""
    return Finding(
        "activity-after-containment",
        Severity.CRITICAL,
        f"{head}; succeeded: {named}{more}",
        succeeded[0].identity_id,
    )


def spike_finding(
    events: Sequence[ActivityEvent], window: ActivityWindow, truncated: bool = False
) -> Finding | None:
    """``activity-spike``: the last hour of the window against the hourly baseline."""
    last_hour = window.until - timedelta(hours=1)
    start = window.since
    if truncated and events:
        start = max(start, min(e.when for e in events))
    hours = (last_hour - start).total_seconds() / 3600
    if hours < SPIKE_MIN_BASELINE_H:
        return None
    recent = sum(1 for e in events if last_hour <= e.when < window.until)
    before = sum(1 for e in events if start <= e.when < last_hour)
    baseline = before / hours
    if recent < SPIKE_MIN_EVENTS or recent < SPIKE_FACTOR * baseline:
        return None
    return Finding(
        "activity-spike",
        Severity.HIGH,
        f"{recent} events in the last hour against a baseline of {baseline:.1f} an hour "
        f"over the {hours:.0f} hours before (threshold: {SPIKE_FACTOR:g}x and at least "
        f"{SPIKE_MIN_EVENTS})",
    )


def assess(
    events: Sequence[ActivityEvent],
    window: ActivityWindow,
    containment: Containment | None,
    truncated: bool = False,
) -> list[Finding]:
    """Every activity finding, worst first."""
    found = [spike_finding(events, window, truncated)]
    if containment is not None:
        found.append(containment_finding(events, containment))
    kept = [f for f in found if f is not None]
    kept.sort(key=lambda f: -f.severity.rank)
    return kept
