"""A lab on the hostile world, in its own process (moto's state is process-global, and the
session lab of ``tests/conftest.py`` may be running in this one)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent_ir.lab.faults import FaultSpec
from agent_ir.lab.serve import set_faults
from agent_ir.settings import Settings, load_settings

WORLD = Path(__file__).parent / "world.yaml"
AGENT_IR = str(Path(sys.executable).parent / "agent-ir")


@pytest.fixture(scope="session")
def hostile_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """``agent-ir lab serve`` on the hostile world; yields its configuration file."""
    directory = tmp_path_factory.mktemp("hostile-lab")
    config = directory / "lab.yaml"
    env = {**os.environ, "XDG_STATE_HOME": str(directory / "state")}
    proc = subprocess.Popen(
        [AGENT_IR, "lab", "serve", "--world", str(WORLD), "--config-out", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        assert line.startswith("ready "), f"the lab did not start: {line!r}"
        yield config
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture
def state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private state and config home for in-process commands."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv("AGENT_IR_CONFIG", raising=False)
    return tmp_path


@pytest.fixture
def lab_settings(hostile_lab: Path) -> Iterator[Settings]:
    """The running hostile lab's settings; every provider's faults are cleared afterwards."""
    settings = load_settings(hostile_lab)
    yield settings
    for provider in ("aws", "entra", "gcp", "okta"):
        set_faults(settings, provider, FaultSpec())
