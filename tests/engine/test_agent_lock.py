"""One writer per agent, across processes: while another process holds an agent, a revoke
or restore of it refuses (exit 8) naming the holder's incident and pid, before asking or
changing anything; with --wait it runs once the holder is done."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from agent_ir.engine import journal as jr
from agent_ir.engine import locks
from agent_ir.lab.runner import Lab

AGENT = "invoice-agent"
SCRIPT = Path(sys.executable).parent / "agent-ir"
HOLDER = """
import asyncio, sys
from pathlib import Path
from agent_ir.engine.locks import agent_lock

async def main():
    async with agent_lock(Path(sys.argv[1]), sys.argv[2], "IR-20990101-000000-beef", "holder"):
        print("held", flush=True)
        sys.stdin.read()  # hold until the test closes our stdin

asyncio.run(main())
"""


def _env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "XDG_STATE_HOME": str(tmp_path / "state"), "AGENT_IR_RESPONDER": "t"}


def _cli(lab: Lab, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SCRIPT), "--config", str(lab.config_path), *args],
        capture_output=True,
        text=True,
        env=_env(tmp_path),
        stdin=subprocess.DEVNULL,
        timeout=300,
    )


def _holder(directory: Path) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(directory), AGENT],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


def test_a_second_writer_of_one_agent_refuses_then_waits(fresh_lab: Lab, tmp_path: Path) -> None:
    directory = tmp_path / "state" / "agent-ir" / "journal" / "lab"
    holder = _holder(directory)
    try:
        held = locks.holder(directory, AGENT)
        assert held is not None and held["pid"] == holder.pid
        refused = _cli(fresh_lab, tmp_path, "revoke", AGENT, "--reason", "second", "--yes")
        assert refused.returncode == 8, refused.stderr
        assert "IR-20990101-000000-beef" in refused.stderr
        assert f"pid {holder.pid}" in refused.stderr
        assert "running" not in refused.stderr and "Traceback" not in refused.stderr
        assert not list(directory.glob("IR-*.jsonl"))

        waiting = subprocess.Popen(
            [
                str(SCRIPT),
                "--config",
                str(fresh_lab.config_path),
                "revoke",
                AGENT,
                "--reason",
                "waits",
                "--yes",
                "--wait",
                "-o",
                "json",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
            env=_env(tmp_path),
        )
        assert waiting.stderr is not None
        for line in waiting.stderr:
            if line.startswith("running"):
                break
        released = datetime.now(UTC)
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=60)
    out, err = waiting.communicate(timeout=300)
    assert waiting.returncode == 0, err
    incident = json.loads(out)["incident"]
    start = jr.Journal.read(jr.incident_path(directory, incident))[0]
    assert datetime.fromisoformat(start.ts) >= released
    assert locks.holder(directory, AGENT) is None

    # The agent is free again: a restore of that incident runs; held, it would refuse.
    holder = _holder(directory)
    try:
        refused = _cli(fresh_lab, tmp_path, "restore", incident, "--yes")
        assert refused.returncode == 8, refused.stderr
        assert "IR-20990101-000000-beef" in refused.stderr
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=60)
    restored = _cli(fresh_lab, tmp_path, "restore", incident, "--yes")
    assert restored.returncode == 0, restored.stderr
