"""Read-only means no writes anywhere, refused before anything is asked or run; a command
stopped by SIGTERM removes the lab directory (with its credential files) it created."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.conftest import LAB_WORLD

SCRIPT = Path(sys.executable).parent / "agent-ir"


def _journals(tmp_path: Path) -> list[Path]:
    return list((tmp_path / "state").rglob("IR-*"))


def test_read_only_refuses_every_write_before_it_starts(cli, tmp_path: Path) -> None:
    for args in (
        ("revoke", "invoice-agent", "--reason", "x", "--yes"),
        ("run", "contain-agent", "--agent", "invoice-agent", "--reason", "x", "--yes"),
        ("restore", "IR-20250131-120000-a1b2", "--yes"),
        ("resume", "IR-20250131-120000-a1b2"),
        ("tabletop", "default-story", "--playbook", "contain-agent", "--agent", "x", "--yes"),
    ):
        run = cli("--read-only", *args)
        assert run.code == 8, (args, run.err)
        assert "read-only" in run.err, (args, run.err)
        assert "running" not in run.err and "Type the agent" not in run.err, args
    assert not _journals(tmp_path)


def test_sigterm_removes_the_lab_directory_it_made(tmp_path: Path) -> None:
    world = tmp_path / "hanging.yaml"
    world.write_text(LAB_WORLD + "\nfaults:\n  aws: {timeout_rate: 1, timeout_s: 120}\n")
    temp = tmp_path / "tmp"
    temp.mkdir()
    env = {**os.environ, "TMPDIR": str(temp), "XDG_STATE_HOME": str(tmp_path / "state")}
    proc = subprocess.Popen(
        [str(SCRIPT), "--world", str(world), "inventory"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    assert proc.stderr is not None
    # The banner is printed once the lab runs (its directory and credentials exist).
    banner = proc.stderr.readline()
    assert banner.startswith("LAB"), banner
    labs = list(temp.glob("agent-ir-lab-*"))
    assert labs and any((lab / "aws-credentials").exists() for lab in labs)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    assert not list(temp.glob("agent-ir-lab-*"))
