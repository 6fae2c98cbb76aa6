"""Canary: the lab's secrets never appear in any output, journal or configuration."""

from __future__ import annotations

import configparser
import os
import subprocess
import sys
from pathlib import Path

BIN = Path(sys.executable).parent


def test_secrets_never_reach_output_or_journal(fresh_lab, aws_client, tmp_path: Path) -> None:
    aws = fresh_lab.settings.providers.aws
    assert aws is not None and aws.shared_credentials_file is not None
    parser = configparser.ConfigParser()
    parser.read(aws.shared_credentials_file)
    canaries = [parser[aws.profile or "default"]["aws_secret_access_key"]]
    # a key whose secret the agent holds
    iam = aws_client("iam")
    for key in iam.list_access_keys(UserName="invoice-agent")["AccessKeyMetadata"]:
        if key["Status"] == "Inactive":
            iam.delete_access_key(UserName="invoice-agent", AccessKeyId=key["AccessKeyId"])
    canaries.append(iam.create_access_key(UserName="invoice-agent")["AccessKey"]["SecretAccessKey"])

    env = {**os.environ, "XDG_STATE_HOME": str(tmp_path / "state")}
    base = [str(BIN / "agent-ir"), "--config", str(fresh_lab.config_path)]
    outputs = []
    for args in (
        ["inventory", "-o", "json"],
        ["show", "invoice-agent", "-o", "json"],
        ["show", "invoice-agent"],
        ["doctor", "-o", "json"],
        ["plan", "invoice-agent", "-o", "json"],
        ["revoke", "invoice-agent", "--reason", "canary", "--yes", "-o", "json"],
        ["journal", "list", "-o", "json"],
        ["--debug", "show", "nobody"],
    ):
        run = subprocess.run([*base, *args], capture_output=True, text=True, env=env, timeout=120)
        outputs += [run.stdout, run.stderr]
    journal = tmp_path / "state" / "agent-ir" / "journal" / "lab"
    outputs += [p.read_text() for p in journal.glob("*")]
    outputs.append(fresh_lab.config_path.read_text())
    assert len(outputs) > 10
    for canary in canaries:
        assert len(canary) >= 20
        assert not any(canary in text for text in outputs)
