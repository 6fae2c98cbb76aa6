"""Run the ``agent-ir`` console script as a user would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

SCRIPT = Path(sys.executable).parent / "agent-ir"


@dataclass
class Run:
    """One finished command."""

    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


@pytest.fixture
def cli(tmp_path: Path):
    """``cli(*args)`` runs the console script with a private config and state directory."""
    env = {
        **os.environ,
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
    }
    env.pop("AGENT_IR_CONFIG", None)

    def run(*args: str, timeout: float = 120, input: str | None = None) -> Run:
        result = subprocess.run(
            [str(SCRIPT), *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=timeout,
            input=input,
            stdin=None if input is not None else subprocess.DEVNULL,
        )
        assert "Traceback" not in result.stderr, result.stderr
        return Run(result.returncode, result.stdout, result.stderr)

    return run
