"""What makes a restore safe and truthful.

* A restore is refused when the incident was already restored, or when a newer incident
  touched the same targets (undoing the old one would silently undo the newer
  containment); ``force`` lets it through, and the restore journals that it was forced.
* Session-ending controls are kept: ``AWSRevokeOlderSessions`` denies only sessions issued
  before the revoke, so keeping it costs new sessions nothing, while removing it would
  revive every session an attacker held.
* Every credential or token the undo revives is named before confirmation and in the
  result; undo steps are worded as reversals ("re-enable", "re-attach").
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

from agent_ir.actions.base import PlannedStep
from agent_ir.engine import journal as jr
from agent_ir.errors import RefusedError

KEPT_ON_RESTORE: dict[tuple[str, str], str] = {
    ("aws", "revoke-sessions"): (
        "kept: the AWSRevokeOlderSessions policy on {label} denies only sessions issued "
        "before the revoke; new sessions work, and the sessions it ended stay ended"
    ),
}
"""Undo steps left out on purpose, by (provider, action), with what the restore says."""

REVERSAL: dict[str, str] = {
    "disable-credentials": "re-enable",
    "disable-identity": "re-enable",
    "deny-all": "re-attach",
    "remove-grants": "re-attach",
    "remove-delegation": "re-create",
    "cut-federation": "re-attach",
    "lock-trust": "put back the trust of",
    "revoke-sessions": "lift the session cut-off of",
}
"""How each undo reads: the reversal of the containment step."""

REVIVES: dict[tuple[str, str], str] = {
    ("gcp", "disable-identity"): (
        "every unexpired access token issued to it before the disable works again, "
        "an attacker's too (up to 1 h after issue)"
    ),
    ("gcp", "cut-federation"): (
        "a session of the federated role held from before (even one ended by "
        "AWSRevokeOlderSessions: it still signs GetCallerIdentity) exchanges for tokens again"
    ),
    ("okta", "disable-identity"): (
        "every unexpired access token issued to the app before the deactivation works "
        "again, an attacker's too (up to 1 h after issue)"
    ),
    ("entra", "disable-identity"): ("new tokens are issued again to every credential it still has"),
}
"""What re-enabling an identity brings back besides the identity itself."""


def prior_restores_and_newer(directory: Path, incident: str, records: list[jr.Record]) -> list[str]:
    """Why ``incident`` must not be restored: already restored, or superseded by a newer
    incident of the same agent touching the same targets and not itself restored since
    (empty: it may be)."""
    start = records[0].payload
    agent = start.get("agent")
    mass = bool(jr.plan_of(records).get("agents"))
    targets = _targets(records)
    started = records[0].ts
    problems: list[str] = []
    summaries = jr.list_incidents(directory)
    undone = {s.restore_of for s in summaries if s.restore_of}
    for summary in summaries:
        if summary.id == incident:
            continue
        if summary.restore_of == incident:
            problems.append(f"already restored by {summary.id} ({summary.status})")
            continue
        if summary.restore_of or summary.id in undone:
            continue
        # A mass incident shares targets with incidents of any of its agents (and any
        # incident may share them with a newer mass one): compare the targets themselves.
        if summary.agent != agent and not mass and not is_mass_label(summary.agent):
            continue
        other = jr.Journal.read(jr.incident_path(directory, summary.id))
        if not other or other[0].ts <= started:
            continue
        shared = targets & _targets(other)
        if shared:
            problems.append(
                f"superseded by {summary.id}, a newer incident touching "
                f"{len(shared)} of the same targets"
            )
    return problems


def is_mass_label(agent: str | None) -> bool:
    """Whether an incident's agent names a mass selection ("N agents (EXPR)")."""
    return bool(agent) and re.match(r"^\d+ agents \(", agent or "") is not None


def check_restorable(
    directory: Path, incident: str, records: list[jr.Record], force: bool
) -> str | None:
    """Refuse (exit 8) an unsafe restore; with ``force``, the note to journal instead."""
    problems = prior_restores_and_newer(directory, incident, records)
    if not problems:
        return None
    reason = f"{incident} is " + "; ".join(problems)
    if not force:
        raise RefusedError(f"refusing to restore: {reason}. Use --force to restore anyway.")
    return f"forced restore: {reason}"


def _targets(records: list[jr.Record]) -> set[str]:
    steps = jr.plan_of(records).get("steps") or []
    return {str(s.get("target")) for s in steps if isinstance(s, dict)}


def kept_note(step: PlannedStep) -> str | None:
    """Why an undo step is left out (a session-ending control kept), or None."""
    template = KEPT_ON_RESTORE.get((step.provider, step.action))
    return template.format(label=step.target_label) if template else None


def as_reversal(step: PlannedStep) -> PlannedStep:
    """The undo step, labelled as the reversal it is."""
    verb = REVERSAL.get(step.action, "undo")
    return replace(step, target_label=f"{verb} {step.target_label}")


def revived(step: PlannedStep) -> str:
    """What the undo of ``step`` brings back to life, as a hazard."""
    what = f"{step.provider}: {step.target_label} works again"
    extra = REVIVES.get((step.provider, step.action))
    return f"revives {what}" + (f"; {extra}" if extra else "")
