"""Tabletop tests run the console script in a subprocess: each exercise starts its own lab,
and the pytest process already holds moto for the session's AWS lab (one per process)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from agent_ir.data import exercise_dir

SCRIPT = Path(sys.executable).parent / "agent-ir"
ROOT = Path(__file__).resolve().parents[2]
EXERCISES = exercise_dir()


@dataclass
class Run:
    """One finished command."""

    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


def run_script(args: list[str], state: Path, timeout: float = 120) -> Run:
    """Run a command with a private config and state directory."""
    env = {
        **os.environ,
        "XDG_CONFIG_HOME": str(state / "config"),
        "XDG_STATE_HOME": str(state / "state"),
        "XDG_CACHE_HOME": str(state / "cache"),
        "AGENT_IR_RESPONDER": "tabletop-tester",
    }
    env.pop("AGENT_IR_CONFIG", None)
    result = subprocess.run(
        args,
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        cwd=ROOT,
    )
    assert "Traceback" not in result.stderr, result.stderr
    return Run(result.returncode, result.stdout, result.stderr)


@pytest.fixture(scope="module")
def state(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A private config and state directory for the module's commands."""
    return tmp_path_factory.mktemp("tabletop")


@pytest.fixture(scope="module")
def tabletop(state: Path):
    """``tabletop(*args)`` runs ``agent-ir tabletop …``."""

    def run(*args: str) -> Run:
        return run_script([str(SCRIPT), "tabletop", *args], state)

    return run
