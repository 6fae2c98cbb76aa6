"""What the engine calls around a run: sign the head when it ends (and, later, deliver).

Containment is already done when these run, so they never raise: a failure becomes a
warning on the run's outcome, and the journal stays the record of what happened.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from agent_ir.errors import AgentIRError
from agent_ir.settings import Settings


def after_run(
    settings: Settings, directory: Path, incident: str, clock: Callable[[], datetime]
) -> list[str]:
    """Anchor the incident's head when signing is configured; warnings, never errors."""
    signing = settings.evidence.signing if settings.evidence else None
    if signing is None or signing.private_key_file is None:
        return []
    from agent_ir.evidence.anchor import anchor

    try:
        anchor(directory, incident, signing.private_key_file, clock=clock)
    except AgentIRError as exc:
        return [f"the chain head of {incident} was not signed: {exc.message}"]
    return []
