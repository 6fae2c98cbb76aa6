"""The activity window around one incident, for its report: what the agent did before the
cut, and what was still tried (and what still worked) after it.

The incident report itself reads only the journal; this section is added when the
responder asks for it (``agent-ir report --activity``), since it has to ask the
providers' audit logs.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from agent_ir.activity.model import ActivityEvent
from agent_ir.activity.timeline import Timeline
from agent_ir.model import iso

AFTER_SHOWN = 25
"""How many events after the incident's start the Markdown lists one by one."""


def _line(event: ActivityEvent) -> str:
    chain = " -> ".join(h.text() for h in event.chain)
    via = f" via {chain}" if chain else ""
    return (
        f"- {iso(event.when)} [{event.provider}] {event.identity}: {event.action} "
        f"{event.resource} — **{event.outcome}**{via}"
    ).replace("|", "\\|")


def activity_markdown(timeline: Timeline, started: datetime | None) -> list[str]:
    """The report's section: each provider's answer, counts before and after the incident
    began, every event after it (bounded), and the activity findings."""
    window = timeline.window
    out = [
        "## Activity around the incident (providers' audit logs)",
        "",
        f"Window {iso(window.since)} to {iso(window.until)}; {len(timeline.events)} events"
        + (f" (cut at the newest {window.limit})" if timeline.truncated else "")
        + ".",
        "",
    ]
    for status in timeline.statuses:
        said = status.state + (f": {status.reason}" if status.reason else "")
        out.append(f"- {status.provider}: {said} ({status.events} events)")
    if started is None:
        return [*out, "", "The incident has no start in its journal; no split is possible."]
    before = [e for e in timeline.events if e.when < started]
    after = [e for e in timeline.events if e.when >= started]
    outcomes = Counter(e.outcome for e in after)
    out += [
        "",
        f"Before the incident began: {len(before)} events. From its start: {len(after)} "
        f"({', '.join(f'{n} {o}' for o, n in sorted(outcomes.items())) or 'none'}).",
    ]
    if after:
        out += ["", "### From the incident's start (newest first)", ""]
        out += [_line(e) for e in after[:AFTER_SHOWN]]
        if len(after) > AFTER_SHOWN:
            out.append(f"- … {len(after) - AFTER_SHOWN} more (`agent-ir activity`)")
    if timeline.findings:
        out += ["", "### Findings", ""]
        out += [f"- **{f.code}** ({f.severity.value}): {f.message}" for f in timeline.findings]
    return out
