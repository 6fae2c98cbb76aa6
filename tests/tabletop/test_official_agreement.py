"""The probe's verdicts agree with the official clients (aws CLI, msal, google-auth, the
okta SDK) on the default world, before and after contain-agent, for the story agent and
the shadow agent. The checks run in a subprocess: the lab there starts its own moto."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).parent / "official_agreement.py"


def test_probe_and_official_clients_agree(tmp_path: Path) -> None:
    env = {**os.environ, "XDG_STATE_HOME": str(tmp_path), "TMPDIR": str(tmp_path)}
    run = subprocess.run(
        [sys.executable, str(SCRIPT)], capture_output=True, text=True, env=env, timeout=300
    )
    assert run.returncode == 0, run.stderr[-2000:]
    rows = json.loads(run.stdout)
    assert all(row["probe"] == row["official"] for row in rows), rows
    before = [r for r in rows if r["moment"].endswith("before")]
    after = [r for r in rows if r["moment"].endswith("after")]
    assert before and all(r["official"] for r in before)
    assert after and not any(r["official"] for r in after)
    story = {r["provider"] for r in rows if r["moment"].startswith("invoice-agent")}
    assert story == {"aws", "entra", "gcp", "okta"}


def test_no_secret_the_probe_holds_reaches_the_report(tmp_path: Path) -> None:
    script = Path(__file__).parent / "report_secrets.py"
    env = {**os.environ, "XDG_STATE_HOME": str(tmp_path), "TMPDIR": str(tmp_path)}
    run = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=300
    )
    assert run.returncode == 0, run.stderr[-2000:]
    rows = json.loads(run.stdout)
    assert [r["exercise"] for r in rows] == ["cross-provider-chain", "shadow-token"]
    assert all(r["secrets"] >= 4 for r in rows), rows  # keys made by injects included
    assert all(r["leaked"] == [] for r in rows), rows
