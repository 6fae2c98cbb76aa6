"""A journal of a small containment run written through the real Journal, for evidence tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from agent_ir.engine import journal as jr

SNAPSHOT_ONLY = "SNAPSHOT-ONLY-7d1e"
STEPS = [
    ("keys.aws.1", "aws", "disable-credentials", "AKIDEXAMPLEKEYID", "verified"),
    ("sessions.okta.1", "okta", "revoke-sessions", "0oa1agent", "verified"),
    ("deny.aws.1", "aws", "deny-all", "arn:aws:iam::111111111111:user/invoice-agent", "verified"),
    ("grants.gcp.1", "gcp", "remove-grants", "sa-invoice@proj.iam.gserviceaccount.com", "failed"),
    ("trust.aws.1", "aws", "lock-trust", "arn:aws:iam::111111111111:role/processor", "already"),
    ("cut.entra.1", "entra", "remove-delegation", "sp-1", "applied-unverified"),
    ("disable.okta.1", "okta", "disable-identity", "0oa1agent", "skipped"),
]


class Clock:
    """A clock that moves one second per call, so records have distinct times."""

    def __init__(self) -> None:
        self.now = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


def write_incident(
    directory: Path,
    incident: str = "IR-20250301-120000-abcd",
    *,
    restore_of: str | None = None,
    steps: list[tuple[str, str, str, str, str]] | None = None,
) -> Path:
    """Write a finished incident with intents, snapshots, results, a note and its end."""
    start = jr.incident_start(
        os_user="ana",
        responder="ana@corp.test",
        why="agent exfiltrating invoices",
        playbook="contain-agent",
        agent="invoice-agent",
        plan_hash="sha256:" + "ab" * 32,
        plan={"steps": []},
        restore_of=restore_of,
        lab=True,
    )
    with jr.Journal.create(directory, incident, start, clock=Clock()) as journal:
        for step, provider, action, target, status in steps or STEPS:
            journal.append(
                jr.Kind.INTENT,
                {"step": step, "provider": provider, "action": action, "target": target},
            )
            journal.snapshot(step, {"state": SNAPSHOT_ONLY})
            error = "permission denied" if status == "failed" else None
            journal.result(step, status, error=error)
        journal.note("operator note")
        journal.end("partial", {"verified": 3, "failed": 1})
    return jr.incident_path(directory, incident)
