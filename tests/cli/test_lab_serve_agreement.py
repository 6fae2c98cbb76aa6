"""`lab serve` + the official AWS CLI + `agent-ir --config F inventory` agree."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import yaml

BIN = Path(sys.executable).parent


def test_official_cli_and_inventory_agree_on_a_served_lab(tmp_path: Path) -> None:
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
    try:
        assert serve.stdout is not None
        assert serve.stdout.readline().strip() == f"ready {config}"
        aws = yaml.safe_load(config.read_text())["providers"]["aws"]
        cli_env = {
            **env,
            "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / aws["shared_credentials_file"]),
            "AWS_CONFIG_FILE": "/dev/null",
        }
        listed = subprocess.run(
            [
                str(BIN / "aws"),
                "--endpoint-url",
                aws["endpoint_url"],
                "--ca-bundle",
                str(tmp_path / aws["ca_bundle"]),
                "--profile",
                aws["profile"],
                "--region",
                "us-east-1",
                "--output",
                "json",
                "iam",
                "list-users",
            ],
            capture_output=True,
            text=True,
            env=cli_env,
            check=True,
        )
        users = {u["Arn"] for u in json.loads(listed.stdout)["Users"]}
        inventory = subprocess.run(
            [str(BIN / "agent-ir"), "--config", str(config), "inventory", "--output", "json"],
            capture_output=True,
            text=True,
            env=env,
            check=True,
        )
        agents = json.loads(inventory.stdout)["agents"]
    finally:
        serve.send_signal(signal.SIGINT)
        serve.wait(timeout=30)
    inventoried = {i["id"] for a in agents for i in a["identities"] if i["kind"] == "iam-user"}
    assert inventoried, "the default world has agent users"
    assert inventoried <= users
    # every user the CLI lists that is tagged or named as an agent is in the inventory
    for arn in users:
        name = arn.rsplit("/", 1)[-1]
        if name.startswith(("support-agent-", "build-agent-")) or name in (
            "invoice-agent",
            "gpt-scraper-bot",
        ):
            assert arn in inventoried, name
    assert not any(arn.endswith("/agent-ir-responder") for arn in inventoried)
    assert serve.returncode == 0
    assert "aws_secret_access_key" not in (serve.stderr.read() if serve.stderr else "")
