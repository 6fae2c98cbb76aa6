"""Run a lab as a process until interrupted, and steer a running lab's faults from outside.

``serve`` prints exactly one line on stdout, ``ready <config-path>``, once every emulator
listens; a tabletop team points their consoles at that file. SIGINT or SIGTERM stops it.
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

import httpx

from agent_ir.errors import LabError
from agent_ir.lab.faults import FaultSpec
from agent_ir.lab.runner import CONFIG_FILE, Lab
from agent_ir.lab.server import freeze_heap
from agent_ir.lab.tls import CA_FILE, client_context
from agent_ir.lab.world import World
from agent_ir.settings import Settings

_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


Attach = Callable[[Lab], Callable[[], None]]
"""Starts more services on a running lab (an exercise host) and returns how to stop them."""


def serve(world: World, config_out: Path | None, attach: Attach | None = None) -> int:
    """Serve ``world`` until SIGINT/SIGTERM; write the config to ``config_out`` (or a temp dir).

    ``attach`` starts more services once the emulators listen, before ``ready`` is printed.
    Must run in the main thread (signal handlers). Returns the exit code, 0 on a clean stop.
    """
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    try:
        previous = {sig: signal.signal(sig, request_stop) for sig in _STOP_SIGNALS}
    except ValueError as exc:
        raise LabError(f"the lab can only be served from the main thread: {exc}") from exc
    try:
        directory = config_out.parent if config_out is not None else None
        name = config_out.name if config_out is not None else CONFIG_FILE
        with Lab(world, directory, config_name=name) as lab:
            detach = attach(lab) if attach is not None else None
            freeze_heap()
            try:
                # The path as the user gave it, so the line matches what they typed.
                shown = config_out if config_out is not None else lab.config_path
                sys.stdout.write(f"ready {shown}\n")
                sys.stdout.flush()
                stop.wait()
            finally:
                if detach is not None:
                    detach()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0


def set_faults(settings: Settings, provider: str, spec: FaultSpec) -> dict[str, Any]:
    """Replace a running lab's fault settings for ``provider``; return its fault report."""
    return _call(settings, provider, "PUT", spec.model_dump(mode="json"))


def get_faults(settings: Settings, provider: str) -> dict[str, Any]:
    """A running lab's fault settings and counts for ``provider``."""
    return _call(settings, provider, "GET", None)


def _call(settings: Settings, provider: str, method: str, payload: Any) -> dict[str, Any]:
    base = settings.lab_control.get(provider)
    if not settings.lab or base is None:
        raise LabError(f"this configuration names no running lab for {provider!r}")
    if settings.source is None:
        raise LabError("cannot find the lab CA: the configuration was not loaded from a file")
    verify = client_context(settings.source.parent / CA_FILE)
    url = f"{base}/faults"
    try:
        with httpx.Client(verify=verify, trust_env=False, timeout=10.0) as client:
            response = client.request(method, url, json=payload)
    except httpx.HTTPError as exc:
        raise LabError(f"cannot reach the lab at {url}: {exc}") from exc
    try:
        body: Any = response.json()
    except ValueError:
        body = None
    if response.status_code != 200 or not isinstance(body, dict):
        detail = body.get("problems") or body.get("error") if isinstance(body, dict) else None
        raise LabError(f"the lab refused {method} {url}: {response.status_code} {detail or ''}")
    return body
