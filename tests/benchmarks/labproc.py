"""Helpers for benchmarks: a lab in its own process, and timed commands against it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BIN = Path(sys.executable).parent
AGENT_IR = str(BIN / "agent-ir")


@dataclass
class Timed:
    """A finished command: wall seconds, peak memory (MiB) and its output."""

    seconds: float
    max_rss_mib: float
    out: str
    code: int


def timed(args: list[str], env: dict[str, str] | None = None) -> Timed:
    """Run a command, measuring wall time and the child's peak resident memory."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True
    )
    out, err = proc.communicate()
    seconds = time.perf_counter() - start
    if proc.returncode not in (0,):
        sys.stderr.write(err)
    return Timed(seconds, _children_maxrss_mib(), out, proc.returncode)


def _children_maxrss_mib() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


LAB_PIDS: dict[Path, int] = {}
"""The process id of each running lab, by its config path (for :func:`cpu_seconds`)."""


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system, all threads) a process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def lab_process(world: Path, directory: Path) -> Iterator[Path]:
    """Run ``agent-ir lab serve`` on ``world``; yield its config path once ready."""
    config = directory / "lab.yaml"
    env = {**os.environ, "XDG_STATE_HOME": str(directory / "state")}
    proc = subprocess.Popen(
        [AGENT_IR, "lab", "serve", "--world", str(world), "--config-out", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        if not line.startswith("ready "):
            raise RuntimeError(f"the lab did not start: {line!r}")
        LAB_PIDS[config] = proc.pid
        yield config
    finally:
        LAB_PIDS.pop(config, None)
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


def faults(config: Path, provider: str, **settings: Any) -> dict[str, Any]:
    """Set (or, with no settings, read) a running lab's faults; returns its report."""
    args = [AGENT_IR, "--config", str(config), "--output", "json", "lab", "faults", provider]
    args += [f"{k}={v}" for k, v in settings.items()]
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    return json.loads(out)
