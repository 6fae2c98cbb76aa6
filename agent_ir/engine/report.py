"""An incident as one object, read from its journal: who, why, when, what was cut, how
it ended, what is left, and what undoing it would cost.

The journal is the only source (nothing is read from providers), so a report can be made
anywhere the journal is, long after the run. Three renderings share one reading: a few
lines for ``journal show``, Markdown to paste into a ticket, and JSON. Secrets never
reach a journal, so they cannot reach a report.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from agent_ir.engine import journal as jr
from agent_ir.errors import JournalError, NotFoundError


@dataclass(frozen=True, slots=True)
class StepLine:
    """One step of the incident: what it did to what, how it ended, and when."""

    id: str
    provider: str
    action: str
    target: str
    reversible: str
    status: str
    error: str | None
    started: datetime | None
    ended: datetime | None
    hazards: tuple[str, ...] = ()

    @property
    def seconds(self) -> float | None:
        """How long the step took, intent to result (None if it never ended)."""
        if self.started is None or self.ended is None:
            return None
        return (self.ended - self.started).total_seconds()


@dataclass(frozen=True, slots=True)
class Residual:
    """A path left open after the run, with the moment it closes by itself (None: never)."""

    provider: str
    path: str
    reason: str
    until: str | None


@dataclass(slots=True)
class IncidentReport:
    """Everything a hand-off needs about one incident."""

    incident: str
    agent: str
    playbook: str
    responder: str
    os_user: str
    reason: str
    started: datetime | None
    ended: datetime | None
    status: str
    plan_hash: str
    lab: bool
    restore_of: str | None
    restored_by: list[str] = field(default_factory=list)
    steps: list[StepLine] = field(default_factory=list)
    verdict: str | None = None
    verdict_why: list[str] = field(default_factory=list)
    residual: list[Residual] = field(default_factory=list)
    touched: list[str] = field(default_factory=list)
    collateral: list[str] | None = None
    """Principals outside the agent the plan touched; None when the plan did not record them."""
    notes: list[str] = field(default_factory=list)

    @property
    def restore_hazards(self) -> list[str]:
        """What undoing this incident would not give back, step by step."""
        return [
            f"{s.target}: {hazard}"
            for s in self.steps
            if s.reversible != "yes"
            for hazard in (s.hazards or (f"reversible: {s.reversible}",))
        ]

    @property
    def counts(self) -> dict[str, int]:
        """How many steps ended in each status."""
        found: dict[str, int] = {}
        for step in self.steps:
            found[step.status] = found.get(step.status, 0) + 1
        return found

    def to_json(self) -> dict[str, Any]:
        """The documented JSON shape of ``agent-ir report --format json``."""
        data = asdict(self)
        data["started"] = _iso(self.started)
        data["ended"] = _iso(self.ended)
        data["steps"] = [
            {**asdict(s), "started": _iso(s.started), "ended": _iso(s.ended), "seconds": s.seconds}
            for s in self.steps
        ]
        data["restore_hazards"] = self.restore_hazards
        data["counts"] = self.counts
        return data


def read_report(directory: Path | str, incident: str) -> IncidentReport:
    """The report of one incident in a journal directory (NotFoundError if absent)."""
    path = jr.incident_path(directory, incident)
    if not path.exists():
        raise NotFoundError(f"no incident {incident} in {path.parent}")
    report = from_records(incident, jr.Journal.read(path))
    report.restored_by = [
        i.id for i in jr.list_incidents(directory) if i.restore_of == incident and i.id != incident
    ]
    return report


def read_reports(directory: Path | str, agent: str | None = None) -> list[IncidentReport]:
    """Every incident (only ``agent``'s if given), newest first, each with who restored it."""
    summaries = jr.list_incidents(directory) if Path(directory).is_dir() else []
    restored: dict[str, list[str]] = {}
    for s in summaries:
        if s.restore_of:
            restored.setdefault(s.restore_of, []).append(s.id)
    found = []
    for s in summaries:
        if agent is not None and (s.agent or "").lower() != agent.lower():
            continue
        try:
            records = jr.Journal.read(jr.incident_path(directory, s.id))
        except JournalError:
            records = []
        report = from_records(s.id, records)
        report.restored_by = restored.get(s.id, [])
        found.append(report)
    return found


def from_records(incident: str, records: list[jr.Record]) -> IncidentReport:
    """Read one incident's records into a report (an unreadable start gives blanks)."""
    start = records[0].payload if records and records[0].kind == jr.Kind.START else {}
    who = start.get("who") or {}
    plan = jr.plan_of(records)
    ends = [r for r in records if r.kind == jr.Kind.END]
    verdicts = [r for r in records if r.kind == "verdict"]
    report = IncidentReport(
        incident=incident,
        agent=str(start.get("agent") or "?"),
        playbook=str(start.get("playbook") or "?"),
        responder=str(who.get("responder") or ""),
        os_user=str(who.get("os_user") or ""),
        reason=str(start.get("why") or ""),
        started=_moment(records[0].ts) if records else None,
        ended=_moment(ends[-1].ts) if ends else None,
        status=str(ends[-1].payload.get("status", "ended")) if ends else "unfinished",
        plan_hash=str(start.get("plan_hash") or ""),
        lab=bool(start.get("lab")),
        restore_of=start.get("restore_of") or None,
        steps=_steps(plan, records),
        touched=list((plan.get("blast_radius") or {}).get("identities") or []),
        collateral=plan.get("collateral"),
        notes=[str(n) for n in plan.get("notes") or []],
    )
    if verdicts:
        last = verdicts[-1].payload
        report.verdict = str(last.get("verdict") or "")
        report.verdict_why = [str(w) for w in last.get("why") or []]
        report.residual = [
            Residual(
                str(r.get("provider", "")),
                str(r.get("path", "")),
                str(r.get("reason", "")),
                r.get("until"),
            )
            for r in last.get("residual") or []
        ]
    return report


def _steps(plan: dict[str, Any], records: list[jr.Record]) -> list[StepLine]:
    intents = {str(r.payload.get("step")): r for r in records if r.kind == jr.Kind.INTENT}
    results = {str(r.payload.get("step")): r for r in records if r.kind == jr.Kind.RESULT}
    lines = []
    for step in plan.get("steps") or []:
        sid = str(step.get("id"))
        intent, result = intents.get(sid), results.get(sid)
        lines.append(
            StepLine(
                id=sid,
                provider=str(step.get("provider", "")),
                action=str(step.get("action", "")),
                target=str(step.get("target_label") or step.get("target", "")),
                reversible=str(step.get("reversible", "")),
                status=str(result.payload.get("status")) if result else "not run",
                error=(result.payload.get("error") if result else None),
                started=_moment(intent.ts) if intent else None,
                ended=_moment(result.ts) if result else None,
                hazards=tuple(str(h) for h in step.get("hazards") or []),
            )
        )
    return lines


def _moment(text: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


def when(moment: datetime | None) -> str:
    """A moment in UTC and in local time: ``2026-12-05 11:14:40Z (12:14 local)``."""
    if moment is None:
        return "unknown"
    local = moment.astimezone()
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M:%S}Z ({local:%H:%M} local)"


def verdict_line(report: IncidentReport) -> str:
    """The verdict in words, or why there is none."""
    if report.verdict is None:
        return "no verdict recorded (the run did not finish)"
    why = f": {'; '.join(report.verdict_why)}" if report.verdict_why else ""
    return f"{report.verdict}{why}"


def summary_lines(report: IncidentReport) -> list[str]:
    """The human summary ``journal show`` prints by default."""
    what = f"restore of {report.restore_of}" if report.restore_of else report.playbook
    lines = [
        f"{report.incident}  {what} on agent {report.agent}  ({report.status})",
        f"  started   {when(report.started)}",
        f"  ended     {when(report.ended)}",
        f"  responder {report.responder or '(unknown)'} (os user {report.os_user or '?'})",
        f"  reason    {report.reason or '(none given)'}",
        f"  verdict   {verdict_line(report)}",
    ]
    counts = ", ".join(f"{n} {status}" for status, n in report.counts.items())
    lines.append(f"  steps     {len(report.steps)}: {counts or 'none'}")
    for step in report.steps:
        lines.append(f"    {step.status:18} {step.provider} {step.action}: {step.target}")
        if step.error:
            lines.append(f"      error: {step.error}")
    for r in report.residual:
        lines.append(f"  residual  [{r.provider}] {r.path} (until {r.until or 'no end'})")
    if report.restored_by:
        lines.append(f"  restored by {', '.join(report.restored_by)}")
    lines.append(f"  plan      {report.plan_hash}")
    return lines


def to_markdown(report: IncidentReport) -> str:
    """The report to paste into a ticket: a manager reads the first lines, an engineer the rest."""
    what = f"restore of {report.restore_of}" if report.restore_of else report.playbook
    out = [
        f"# Incident {report.incident}: {what} on agent {report.agent}",
        "",
        f"- **Verdict:** {verdict_line(report)}",
        f"- **Status:** {report.status} ({len(report.steps)} steps: "
        + (", ".join(f"{n} {s}" for s, n in report.counts.items()) or "none")
        + ")",
        f"- **Who:** {report.responder or '(unknown)'} (OS user {report.os_user or '?'})",
        f"- **Why:** {report.reason or '(no reason given)'}",
        f"- **When:** {when(report.started)} to {when(report.ended)}",
    ]
    if report.restored_by:
        out.append(f"- **Restored by:** {', '.join(report.restored_by)}")
    if report.lab:
        out.append("- **Environment:** LAB (emulated providers, not production)")
    out += ["", "## What was cut", "", "| status | provider | action | target | seconds |"]
    out.append("|---|---|---|---|---|")
    for s in report.steps:
        secs = f"{s.seconds:.1f}" if s.seconds is not None else "-"
        out.append(f"| {s.status} | {s.provider} | {s.action} | {_cell(s.target)} | {secs} |")
    out += ["", "## Residual access (what still works, and until when)", ""]
    out += [
        f"- [{r.provider}] {r.path}: until {r.until or 'no end'} ({r.reason})"
        for r in report.residual
    ] or ["- none recorded"]
    out += ["", "## Collateral (principals outside the agent that were touched)", ""]
    if report.collateral is None:
        out.append("- not recorded by this plan; every identity touched:")
        out += [f"  - {t}" for t in report.touched]
    else:
        out += [f"- {c}" for c in report.collateral] or ["- none"]
    out += ["", "## Restore hazards (what undoing this would not give back)", ""]
    out += [f"- {h}" for h in report.restore_hazards] or ["- none: every step can be undone"]
    if report.notes:
        out += ["", "## Notes", ""] + [f"- {n}" for n in report.notes]
    out += [
        "",
        f"Plan hash `{report.plan_hash}`; the journal is hash-chained (`agent-ir journal verify {report.incident}`).",
        "",
    ]
    return "\n".join(out)


def _cell(text: str) -> str:
    return text.replace("|", "\\|")
