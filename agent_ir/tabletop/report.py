"""The after-action report of a headless exercise, as JSON and as Markdown."""

from __future__ import annotations

from typing import Any

from agent_ir.activity.findings import got_through
from agent_ir.activity.model import ActivityEvent
from agent_ir.model import Finding, iso
from agent_ir.tabletop.run import TabletopResult

RECOMMENDATIONS: dict[str, str] = {
    "stale-static-credential": "rotate it, then shorten its lifetime (or replace it with "
    "short-lived federated credentials)",
    "unused-credential": "delete it: an unused credential is attack surface with no benefit",
    "admin-grant": "scope the grant down to what the agent's task needs",
    "wildcard-grant": "replace the wildcard with the specific actions and resources used",
    "no-owner": "assign an accountable owner, or retire the agent",
    "cross-account-chain": "review every hop of the chain; cut the hops the task does not need",
    "inferred-identity": "tag the identity with its agent so it is found by more than its name",
}
"""What to do about each finding code."""


def recommendations(findings: list[Finding]) -> list[str]:
    """One recommendation per finding, worst first, drawn from the agent's findings."""
    order = {"critical": 0, "high": 1, "medium": 2, "low": 3}
    out = []
    for finding in sorted(findings, key=lambda f: order.get(f.severity.value, 9)):
        action = RECOMMENDATIONS.get(finding.code, "review it")
        out.append(f"{finding.message}: {action}.")
    return out


def report_json(result: TabletopResult) -> dict[str, Any]:
    """The documented JSON shape of an after-action report."""
    exercise = result.exercise.exercise
    latest = result.containment
    return {
        "exercise": exercise.name,
        "agent": result.agent,
        "playbook": latest.playbook if latest else None,
        "incident": latest.incident if latest else None,
        "respond_at": result.respond_at,
        "responses": [r.to_json() for r in result.responses],
        "responders": sorted({r.responder for r in result.responses}),
        "score": result.score,
        "passed": result.passed,
        "objectives": [v.to_json() for v in result.verdicts],
        "time_to_contain_s": _round(result.time_to_contain),
        "residual": [r.to_json() for r in result.residual],
        "probes": [
            {"t": round(p.t, 3), "label": p.label, "results": [r.to_json() for r in p.results]}
            for p in result.probes
        ],
        "timeline": [e.to_json() for e in result.timeline],
        "after_containment": [attempt_json(e) for e in result.attempts],
        "after_containment_notes": list(result.attempts_notes),
        "collateral_damage": result.collateral,
        "irreversible_steps": result.irreversible,
        "recommendations": recommendations(result.findings),
    }


def report_markdown(result: TabletopResult) -> str:
    """The after-action report for people."""
    exercise = result.exercise.exercise
    data = report_json(result)
    ttc = data["time_to_contain_s"]
    latest = result.containment
    response = (
        f"playbook `{latest.playbook}`, incident `{latest.incident}`"
        if latest
        else "no containment was run"
    )
    out = [
        f"# After-action report: {exercise.name}",
        "",
        f"- Agent: `{result.agent}`; {response}",
        f"- Score: **{result.score}/100** ({'passed' if result.passed else 'FAILED'})",
        (f"- Response started at {result.respond_at:g}s; " if latest else "- ")
        + "time to contain: "
        + ("not contained" if ttc is None else f"{ttc:g}s from the first alert"),
        "",
    ]
    if exercise.narrative.strip():
        out += ["## Narrative", "", exercise.narrative.strip(), ""]
    out += ["## Objectives", ""]
    for v in result.verdicts:
        mark = "held" if v.held else "FAILED"
        out.append(f"- {v.objective} (weight {v.weight}): {mark}. {v.detail}")
    out += ["", "## Responses", ""]
    if result.responses:
        out += ["| t (s) | responder | what | incident |", "|---:|---|---|---|"]
        for resp in result.responses:
            what = f"undo of {resp.restore_of}" if resp.restore_of else f"playbook {resp.playbook}"
            who = _cell(resp.responder)
            out.append(f"| {resp.t:.1f} | {who} | {_cell(what)} | {resp.incident} |")
    else:
        out.append("None: no responder ran a playbook.")
    out += ["", "## Residual access at the end", ""]
    if result.residual:
        out += [f"- [{r.provider}] {r.path} ({r.decided_by}: {r.detail})" for r in result.residual]
    else:
        out.append("None: no path the attacker holds still works.")
    out += attempts_markdown(result)
    out += ["", "## Timeline", "", "| t (s) | kind | what |", "|---:|---|---|"]
    for event in result.timeline:
        out.append(f"| {event.t:.1f} | {event.kind} | {_cell(event.text)} |")
    out += ["", "## Probe results", ""]
    for run in result.probes:
        out.append(f"### {run.label} (t={run.t:.1f}s)")
        out.append("")
        for r in run.results:
            state = "WORKS" if r.works else "blocked"
            out.append(f"- [{r.provider}] {r.path}: {state} ({r.decided_by}: {r.detail})")
        out.append("")
    out += ["## Collateral damage", ""]
    out += [f"- {c}" for c in result.collateral] or [
        "None: no step wrote to another agent's identities."
    ]
    out += ["", "## Irreversible steps used", ""]
    out += [f"- {s}" for s in result.irreversible] or ["None."]
    out += ["", "## Recommendations", ""]
    out += [f"- {r}" for r in data["recommendations"]] or ["None: the agent has no findings."]
    return "\n".join(out) + "\n"


def attempt_json(event: ActivityEvent) -> dict[str, Any]:
    """One attempt after containment: the event without its raw record."""
    return {
        "when": iso(event.when),
        "provider": event.provider,
        "identity": event.identity,
        "session": event.session or None,
        "action": event.action,
        "resource": event.resource or None,
        "outcome": event.outcome,
        "error": event.error or None,
    }


def attempts_markdown(result: TabletopResult) -> list[str]:
    """The section listing the attacker's calls after containment, with their outcome."""
    out = ["", "## The attacker's attempts after containment (audit logs)", ""]
    if result.attempts:
        got = [e for e in result.attempts if got_through(e)]
        out.append(
            f"{len(result.attempts)} call(s), {len(got)} succeeded"
            + (": **containment did not hold for these**." if got else ".")
        )
        out += ["", "| when (UTC) | outcome | provider | identity | action | resource |"]
        out.append("|---|---|---|---|---|---|")
        for e in result.attempts:
            outcome: str = e.outcome
            if got_through(e):
                outcome = "**SUCCEEDED**"
            elif e.outcome == "success":
                outcome = "answered (needs no permission)"
            who = e.identity + (f" ({e.session})" if e.session else "")
            out.append(
                f"| {iso(e.when)} | {outcome} | {e.provider} | {_cell(who)} "
                f"| {_cell(e.action)} | {_cell(e.resource or '-')} |"
            )
    elif result.containment is None:
        out.append("None: no containment was run.")
    else:
        out.append("None recorded in the audit logs read.")
    out += [f"- not read: {n}" for n in result.attempts_notes]
    return out


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)
