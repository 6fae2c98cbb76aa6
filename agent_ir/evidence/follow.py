"""The delivery process a run starts beside itself: ``python -m agent_ir.evidence.follow``.

It reads the settings (JSON, on stdin: they hold no secret, only where secrets live), then
delivers the incident's records to the sinks as the journal grows, until the incident has
ended (or the run's process is gone) and one last pass is done. A separate, lower-priority
process, so neither a slow sink nor building OCSF events takes time from containment.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from pathlib import Path

from agent_ir.engine import journal as jr
from agent_ir.errors import JournalError, NotFoundError
from agent_ir.settings import Settings, SinkSettings

POLL_S = 0.2


def follow(settings: Settings, directory: Path, incident: str, parent: int) -> int:
    """Deliver until the incident ends; 0 when nothing is left pending, else 1."""
    sinks = settings.evidence.sinks if settings.evidence else []
    while True:
        finished = _ended(directory, incident) or os.getppid() != parent
        errors = _deliver(sinks, directory, incident)
        if finished:
            return 1 if errors else 0
        time.sleep(POLL_S)


def _deliver(sinks: list[SinkSettings], directory: Path, incident: str) -> list[str]:
    from agent_ir.evidence.sinks import deliver

    return deliver(sinks, directory, incident)


def _ended(directory: Path, incident: str) -> bool:
    try:
        records = jr.Journal.read(jr.incident_path(directory, incident))
    except (JournalError, NotFoundError):
        return False
    return any(r.kind == jr.Kind.END for r in records)


def main(argv: list[str]) -> int:
    """``follow DIRECTORY INCIDENT PARENT_PID`` with the settings on stdin."""
    directory, incident, parent = Path(argv[0]), argv[1], int(argv[2])
    settings = Settings.model_validate_json(sys.stdin.read())
    with contextlib.suppress(OSError):  # already as low as allowed: deliver anyway
        os.nice(10)
    return follow(settings, directory, incident, parent)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
