"""Canary across all four providers: no secret the lab holds reaches any output or journal."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import yaml

BIN = Path(sys.executable).parent


def _canaries(lab_dir: Path) -> list[str]:
    found = []
    aws = (lab_dir / "aws-credentials").read_text()
    found += re.findall(r"aws_secret_access_key = (\S+)", aws)
    found.append((lab_dir / "entra-client-secret").read_text().strip())
    agents = yaml.safe_load((lab_dir / "entra-lab-secrets.yaml").read_text())
    found += [s for app in agents.values() for s in (app.get("secrets") or {}).values()]
    key = json.loads((lab_dir / "gcp-responder.json").read_text())["private_key"]
    found.append(key.splitlines()[1])  # a line of the PEM body
    pem = (lab_dir / "okta-responder.pem").read_text()
    found.append(pem.splitlines()[1])
    return [c for c in found if c and len(c) >= 16]


def test_no_lab_secret_reaches_output_or_journal(tmp_path: Path) -> None:
    config = tmp_path / "lab.yaml"
    env = {
        **os.environ,
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "XDG_CONFIG_HOME": str(tmp_path / "cfg"),
    }
    serve = subprocess.Popen(
        [str(BIN / "agent-ir"), "lab", "serve", "--config-out", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    outputs: list[str] = []
    try:
        assert serve.stdout is not None
        assert serve.stdout.readline().startswith("ready ")
        base = [str(BIN / "agent-ir"), "--config", str(config)]
        incident = ""
        for args in (
            ["inventory", "-o", "json"],
            ["show", "invoice-agent", "-o", "json"],
            ["show", "gpt-scraper-bot"],
            ["doctor", "-o", "json"],
            ["plan", "invoice-agent", "-o", "json"],
            ["revoke", "invoice-agent", "--reason", "canary", "--yes", "-o", "json"],
        ):
            run = subprocess.run(
                [*base, *args], capture_output=True, text=True, env=env, timeout=180
            )
            assert "Traceback" not in run.stderr
            outputs += [run.stdout, run.stderr]
            if args[0] == "revoke":
                assert run.returncode == 0, run.stderr
                incident = json.loads(run.stdout)["incident"]
        run = subprocess.run(
            [*base, "restore", incident, "--yes"],
            capture_output=True,
            text=True,
            env=env,
            timeout=180,
        )
        outputs += [run.stdout, run.stderr]
        canaries = _canaries(tmp_path)
    finally:
        serve.send_signal(signal.SIGINT)
        serve.wait(timeout=30)
    journal = tmp_path / "state" / "agent-ir" / "journal" / "lab"
    outputs += [p.read_text() for p in journal.glob("*")]
    outputs.append(config.read_text())
    assert len(canaries) >= 5
    for canary in canaries:
        leaks = [text[:80] for text in outputs if canary in text]
        assert not leaks, f"a lab secret leaked into {leaks}"
