"""``serve`` as its own process: the ready line, fault control from outside, clean stop."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import boto3
import botocore.session

from agent_ir.lab.faults import FaultSpec
from agent_ir.lab.serve import get_faults, set_faults
from agent_ir.settings import load_settings

WORLD = """
version: 1
name: serve-test
aws:
  accounts:
    - id: "333333333333"
      users:
        - name: lone-agent
"""

SERVE = (
    "import sys; from pathlib import Path;"
    "from agent_ir.lab.serve import serve; from agent_ir.lab.world import load_world;"
    "sys.exit(serve(load_world(Path(sys.argv[1])), Path(sys.argv[2])))"
)


def test_serve_announces_ready_and_stops_on_sigterm(tmp_path: Path) -> None:
    world = tmp_path / "world.yaml"
    world.write_text(WORLD)
    config_out = tmp_path / "out" / "lab.yaml"
    process = subprocess.Popen(
        [sys.executable, "-c", SERVE, str(world), str(config_out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line == f"ready {config_out}\n", process.stderr.read() if process.stderr else ""
        settings = load_settings(config_out)
        aws = settings.providers.aws
        assert aws is not None

        report = set_faults(settings, "aws", FaultSpec(latency_ms=1))
        assert report["spec"]["latency_ms"] == 1
        core = botocore.session.Session()
        core.set_config_variable("credentials_file", str(aws.shared_credentials_file))
        core.set_config_variable("profile", aws.profile)
        iam = boto3.Session(botocore_session=core).client(
            "iam", endpoint_url=aws.endpoint_url, verify=str(aws.ca_bundle), region_name=aws.region
        )
        assert next(u["UserName"] for u in iam.list_users()["Users"]) == "lone-agent"
        assert get_faults(settings, "aws")["requests"] >= 1
        secret = next(
            line.split(" = ", 1)[1]
            for line in Path(str(aws.shared_credentials_file)).read_text().splitlines()
            if line.startswith("aws_secret_access_key")
        )
    finally:
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 0, stderr
    assert stdout == ""
    assert secret not in stderr
