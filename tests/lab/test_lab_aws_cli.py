"""The official aws cli, unmodified, against the lab."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from agent_ir.lab.runner import Lab
from agent_ir.lab.world import World

AWS_CLI = Path(sys.executable).parent / "aws"


def test_aws_cli_lists_the_world_users(lab: Lab, lab_world: World) -> None:
    aws = lab.settings.providers.aws
    assert aws is not None and aws.profile is not None
    env = {
        key: value
        for key, value in os.environ.items()
        if key
        not in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE")
    }
    env["AWS_SHARED_CREDENTIALS_FILE"] = str(aws.shared_credentials_file)
    env["AWS_CONFIG_FILE"] = str(lab.directory / "no-aws-config")
    result = subprocess.run(
        [
            str(AWS_CLI),
            "iam",
            "list-users",
            "--profile",
            aws.profile,
            "--endpoint-url",
            str(aws.endpoint_url),
            "--ca-bundle",
            str(aws.ca_bundle),
            "--region",
            aws.region,
            "--output",
            "json",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    names = {user["UserName"] for user in json.loads(result.stdout)["Users"]}
    assert {u.name for u in lab_world.aws.accounts[0].users} <= names
