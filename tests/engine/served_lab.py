"""A four-provider lab served by `agent-ir lab serve` in its own process (the pytest process
already holds moto for the session's AWS-only lab), steered over its control plane, and an
in-process engine on it with short timeouts and retries so faults are met quickly."""

from __future__ import annotations

import os
import signal
import ssl
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from agent_ir.engine.executor import Tuning
from agent_ir.engine.inventory import Engine
from agent_ir.lab.faults import FaultSpec
from agent_ir.settings import Settings, load_settings

SCRIPT = Path(sys.executable).parent / "agent-ir"

QUICK = Tuning(
    attempts=2,
    backoff_s=0.05,
    max_backoff_s=0.2,
    verify_polls=4,
    verify_interval_s=0.05,
    step_deadline_s=20,
)
"""Executor pacing for fault tests: few retries, short waits; the deadlines stay hang guards."""


class ServedLab:
    """A running `agent-ir lab serve` and its control plane."""

    def __init__(self, config: Path, process: subprocess.Popen[str]) -> None:
        self.config = config
        self.process = process
        self.settings = load_settings(config)
        ca = ssl.create_default_context(cafile=str(config.parent / "ca.pem"))
        self._http = httpx.Client(verify=ca, trust_env=False, timeout=60)

    def faults(self, provider: str, spec: FaultSpec) -> None:
        """Replace one provider's faults."""
        url = self.settings.lab_control[provider] + "/faults"
        self._http.put(url, json=spec.model_dump(mode="json")).raise_for_status()

    def clear(self) -> None:
        """No faults anywhere."""
        for provider in self.settings.lab_control:
            self.faults(provider, FaultSpec())

    def reset(self) -> None:
        """Every emulator back to the world as seeded, faults cleared."""
        for base in self.settings.lab_control.values():
            self._http.post(base + "/reset").raise_for_status()
        self.clear()

    def quick_settings(self, journal: Path) -> Settings:
        """The lab's settings with one-second request timeouts and few retries."""
        providers = self.settings.providers
        quick = {
            "aws": {"timeout_s": 1.0, "max_attempts": 2},
            "entra": {"timeout_s": 1.0, "max_attempts": 2, "retry_backoff_s": 0.02},
            "gcp": {"timeout_s": 1.0, "max_attempts": 2},
            "okta": {"timeout_s": 1.0},
        }
        update: dict[str, Any] = {}
        for name, change in quick.items():
            section = getattr(providers, name)
            if section is not None:
                update[name] = section.model_copy(update=change)
        return self.settings.model_copy(
            update={"journal_dir": journal, "providers": providers.model_copy(update=update)}
        )

    def engine(self, journal: Path) -> Engine:
        """An in-process engine on the lab, journaling into ``journal``."""
        return Engine(self.quick_settings(journal), discovery_deadline_s=30)

    def close(self) -> None:
        """Stop the lab process."""
        self._http.close()
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@contextmanager
def served_lab(directory: Path) -> Iterator[ServedLab]:
    """Serve the default world from a subprocess for the duration of the block."""
    config = directory / "lab.yaml"
    env = {**os.environ, "XDG_STATE_HOME": str(directory / "state")}
    process = subprocess.Popen(
        [str(SCRIPT), "lab", "serve", "--config-out", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line.startswith("ready "):
        process.kill()
        raise AssertionError(f"the lab did not start: {line!r}")
    lab = ServedLab(config, process)
    try:
        yield lab
    finally:
        lab.close()
