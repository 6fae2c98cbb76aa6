"""Every command in README.md's ``sh`` blocks runs, as written, against the lab.

Each block runs as one bash script (``set -euo pipefail``, so an ``export`` carries on to
the next line) in an empty folder with nothing configured. ``./dev console ARGS`` is the
installed ``agent-ir ARGS``. Commands that never end are listed below with the reason and
how they are exercised instead; a command that serves (``lab serve``) is started in the
background, its first line checked against what the README says it prints, and stopped
after the block.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
BIN = Path(sys.executable).parent
TIMEOUT = 600
"""A hang guard for one block, not a performance limit."""

SKIP = {
    "./dev console": "opens the console and waits for keys; tests/tui/test_cli_console.py and "
    "tests/install/test_wheel.py open it headless",
    "./dev test": "runs this test suite itself",
}
SERVE = {
    "agent-ir lab serve --config-out lab.yaml": "ready lab.yaml",
}
"""Commands that run until stopped, with the first line the README says they print."""


@dataclass(frozen=True)
class Block:
    """One fenced ``sh`` block: its first line number and its commands (continuations
    joined, each with its comment)."""

    line: int
    commands: tuple[str, ...]


def blocks(text: str) -> list[Block]:
    """The ``sh`` blocks of a Markdown text."""
    found: list[Block] = []
    for match in re.finditer(r"^```sh\n(.*?)^```", text, flags=re.S | re.M):
        joined = re.sub(r"\\\n\s*", "", match.group(1))
        commands = tuple(line for line in joined.splitlines() if line.strip())
        found.append(Block(text[: match.start()].count("\n") + 2, commands))
    return found


def bare(command: str) -> str:
    """The command without its trailing comment."""
    return re.split(r"\s+#\s", command, maxsplit=1)[0].strip()


def as_installed(command: str) -> str:
    """``./dev console ARGS`` is ``agent-ir ARGS`` once installed."""
    return re.sub(r"^\./dev console\b", "agent-ir", command)


def _env(home: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AWS_", "AGENT_IR_")) and k not in ("PYTHONPATH", "VIRTUAL_ENV")
    }
    env.update(
        PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}",
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / "config"),
        XDG_STATE_HOME=str(home / "state"),
        XDG_CACHE_HOME=str(home / "cache"),
        AWS_CONFIG_FILE=str(home / "no-aws-config"),
        AGENT_IR_RESPONDER="readme-test",
    )
    return env


README_BLOCKS = blocks(README.read_text(encoding="utf-8"))


def test_the_readme_has_sh_blocks_and_the_lists_name_real_commands() -> None:
    commands = {bare(c) for block in README_BLOCKS for c in block.commands}
    assert len(README_BLOCKS) >= 5
    assert set(SKIP) <= commands, "a skipped command is no longer in the README"
    assert set(SERVE) <= commands, "a served command is no longer in the README"


def _start(command: str, cwd: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        shlex.split(command),
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )


def _stop(process: subprocess.Popen[str]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.mark.slow
@pytest.mark.parametrize("block", README_BLOCKS, ids=lambda b: f"README.md:{b.line}")
def test_every_readme_command_runs(block: Block, tmp_path: Path) -> None:
    env = _env(tmp_path)
    lines = ["set -euo pipefail"]
    servers: list[subprocess.Popen[str]] = []
    try:
        for command in block.commands:
            if bare(command) in SKIP:
                continue
            if bare(command) in SERVE:
                server = _start(bare(command), tmp_path, env)
                servers.append(server)
                assert server.stdout is not None
                assert server.stdout.readline().strip() == SERVE[bare(command)]
                continue
            installed = as_installed(command)
            lines.append(f"printf '%s\\n' {shlex.quote('$ ' + installed)} >&2")
            lines.append(installed)
        if len(lines) == 1:
            pytest.skip("every command of this block is in the skip list")
        result = subprocess.run(
            ["bash", "-c", "\n".join(lines)],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=False,
        )
    finally:
        for server in servers:
            _stop(server)
    assert result.returncode == 0, f"README.md:{block.line}\n{result.stdout}\n{result.stderr}"
    assert "Traceback" not in result.stderr, result.stderr
