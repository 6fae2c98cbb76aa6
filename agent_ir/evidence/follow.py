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
from agent_ir.errors import AgentIRError, JournalError, NotFoundError
from agent_ir.settings import Settings, SignalsSettings, SinkSettings, settings_model

POLL_S = 0.2


def follow(settings: Settings, directory: Path, incident: str, parent: int) -> int:
    """Signal and deliver until the incident ends; then journal the signals sent and deliver
    those records too. 0 when nothing is left pending, else 1."""
    sinks = settings.evidence.sinks if settings.evidence else []
    signals = settings.evidence.signals if settings.evidence else None
    while True:
        finished = _ended(directory, incident) or os.getppid() != parent
        pending = _signal(signals, directory, incident) if signals else False
        errors = _deliver(sinks, directory, incident)
        if finished:
            if signals and _journal_signals(directory, incident):
                errors = _deliver(sinks, directory, incident)
            return 1 if errors or pending else 0
        time.sleep(POLL_S)


def _signal(signals: SignalsSettings, directory: Path, incident: str) -> bool:
    """Push what is due; whether some receiver still has something pending."""
    from agent_ir.evidence.signals import transmit

    try:
        state = transmit(signals, directory, incident)
    except AgentIRError:
        return True
    return any(entry["status"] != "delivered" for entry in state.values())


def _journal_signals(directory: Path, incident: str) -> bool:
    """Journal the deliveries once the run has let go of the journal; whether any were."""
    from agent_ir.evidence.signals import journal_deliveries

    for _ in range(200):  # the run closes the journal right after its end record
        try:
            return journal_deliveries(directory, incident) > 0
        except JournalError as exc:
            if "in use" not in exc.message:
                return False
            time.sleep(0.05)
    return False


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
    settings = settings_model().model_validate_json(sys.stdin.read())
    with contextlib.suppress(OSError):  # already as low as allowed: deliver anyway
        os.nice(10)
    return follow(settings, directory, incident, parent)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
