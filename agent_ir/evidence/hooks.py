"""What the engine calls around a run: start delivery beside it, sign the head at its end.

Containment is already done, or goes on untouched, when these run, so they never raise:
a failure becomes a warning on the run's outcome, and the journal stays the record.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from agent_ir.errors import AgentIRError
from agent_ir.settings import Settings

FOLLOWER_GRACE_S = 30.0
"""How long the end of a run waits for its delivery process before leaving it to finish
alone (a hang guard: the process exits on its own once the incident has ended)."""


def run_started(
    settings: Settings, directory: Path, incident: str
) -> subprocess.Popen[bytes] | None:
    """Start the delivery process for this incident when sinks or signals are configured."""
    evidence = settings.evidence
    if evidence is None or not (
        evidence.sinks or (evidence.signals and evidence.signals.receivers)
    ):
        return None
    command = [
        sys.executable,
        "-m",
        "agent_ir.evidence.follow",
        str(directory),
        incident,
        str(os.getpid()),
    ]
    try:
        process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        if process.stdin is not None:
            process.stdin.write(settings.model_dump_json().encode())
            process.stdin.close()
    except OSError:
        return None  # delivery happens on the next attempt: the journal keeps it pending
    return process


def after_run(
    settings: Settings,
    directory: Path,
    incident: str,
    clock: Callable[[], datetime],
    follower: subprocess.Popen[bytes] | None = None,
) -> list[str]:
    """Let delivery finish (it journals the signals it sent), then anchor the incident's
    head when signing is configured; warnings, never errors."""
    warnings: list[str] = []
    if follower is not None:
        try:
            if follower.wait(timeout=FOLLOWER_GRACE_S) != 0:
                warnings.append(
                    "some sinks or signal receivers did not take every event; see `journal sinks`"
                )
        except subprocess.TimeoutExpired:
            warnings.append("delivery to sinks is still running in the background")
    return warnings + _sign(settings, directory, incident, clock)


def _sign(
    settings: Settings, directory: Path, incident: str, clock: Callable[[], datetime]
) -> list[str]:
    signing = settings.evidence.signing if settings.evidence else None
    if signing is None or signing.private_key_file is None:
        return []
    from agent_ir.evidence.anchor import anchor

    try:
        anchor(directory, incident, signing.private_key_file, clock=clock)
    except AgentIRError as exc:
        return [f"the chain head of {incident} was not signed: {exc.message}"]
    return []
