"""`agent-ir revoke` of the story agent at injected latency, against its critical-path lower
bound and against the same containment written as a sequential script of official AWS CLI
calls, all in one run on one lab.

Critical path: the longest chain of calls that must wait for one another on one provider.
For AWS: sign in (GetCallerIdentity, AssumeRole into the second account), read the account
(GetAccountAuthorizationDetails, then the agent's keys), then per containment phase one write
followed by one read-back. Everything else can overlap.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import yaml

sys.path.insert(0, str(Path(__file__).parent))
from labproc import AGENT_IR, BIN, faults, lab_process

from agent_ir.data import default_world

WORLD = default_world()
PHASES = 3  # credentials, sessions, grants (contain-agent on AWS)
CHAIN = 2 + 2 + PHASES * 2


def _reset(config: Path) -> None:
    settings = yaml.safe_load(config.read_text())
    ca = config.parent / "ca.pem"
    url = settings["lab_control"]["aws"] + "/reset"
    httpx.post(url, verify=str(ca), timeout=30).raise_for_status()


def _cli_script(config: Path, env: dict[str, str]) -> float:
    settings = yaml.safe_load(config.read_text())["providers"]["aws"]
    base = [
        str(BIN / "aws"),
        "--endpoint-url",
        settings["endpoint_url"],
        "--ca-bundle",
        str(config.parent / "ca.pem"),
        "--profile",
        settings["profile"],
        "--region",
        "us-east-1",
        "--output",
        "json",
    ]
    env = {
        **env,
        "AWS_SHARED_CREDENTIALS_FILE": str(config.parent / settings["shared_credentials_file"]),
        "AWS_CONFIG_FILE": "/dev/null",
    }
    deny = '{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}'
    cut = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    revoke = (
        '{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*",'
        '"Condition":{"DateLessThan":{"aws:TokenIssueTime":"' + cut + '"}}}]}'
    )
    start = time.perf_counter()
    keys = subprocess.run(
        [*base, "iam", "list-access-keys", "--user-name", "invoice-agent"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    import json

    for key in json.loads(keys.stdout)["AccessKeyMetadata"]:
        subprocess.run(
            [
                *base,
                "iam",
                "update-access-key",
                "--user-name",
                "invoice-agent",
                "--access-key-id",
                key["AccessKeyId"],
                "--status",
                "Inactive",
            ],
            env=env,
            check=True,
            capture_output=True,
        )
    subprocess.run(
        [
            *base,
            "iam",
            "put-role-policy",
            "--role-name",
            "invoice-processor",
            "--policy-name",
            "AWSRevokeOlderSessions",
            "--policy-document",
            revoke,
        ],
        env=env,
        check=True,
        capture_output=True,
    )
    assumed = subprocess.run(
        [
            *base,
            "sts",
            "assume-role",
            "--role-arn",
            "arn:aws:iam::222222222222:role/AgentIRResponder",
            "--role-session-name",
            "bench",
        ],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    creds = json.loads(assumed.stdout)["Credentials"]
    other = {
        **env,
        "AWS_ACCESS_KEY_ID": creds["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": creds["SecretAccessKey"],
        "AWS_SESSION_TOKEN": creds["SessionToken"],
    }
    no_profile = [a for a in base if a not in ("--profile", settings["profile"])]
    subprocess.run(
        [
            *no_profile,
            "iam",
            "put-role-policy",
            "--role-name",
            "finance-data-reader",
            "--policy-name",
            "AWSRevokeOlderSessions",
            "--policy-document",
            revoke,
        ],
        env=other,
        check=True,
        capture_output=True,
    )
    subprocess.run(
        [
            *base,
            "iam",
            "put-user-policy",
            "--user-name",
            "invoice-agent",
            "--policy-name",
            "AgentIRDenyAll",
            "--policy-document",
            deny,
        ],
        env=env,
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--latency-ms", type=float, default=50)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        # The comparison is with an AWS CLI script, so the lab serves the AWS side only.
        world = yaml.safe_load(WORLD.read_text())
        for other in ("entra", "gcp", "okta"):
            world.pop(other, None)
        aws_only = work / "aws-only.yaml"
        aws_only.write_text(yaml.safe_dump(world, sort_keys=False))
        with lab_process(aws_only, work) as config:
            env = {**os.environ, "XDG_STATE_HOME": str(work / "state")}
            faults(config, "aws", latency_ms=args.latency_ms)
            ours, script = [], []
            for _ in range(args.runs):
                start = time.perf_counter()
                subprocess.run(
                    [
                        AGENT_IR,
                        "--config",
                        str(config),
                        "revoke",
                        "invoice-agent",
                        "--reason",
                        "benchmark",
                        "--yes",
                    ],
                    env=env,
                    check=True,
                    capture_output=True,
                )
                ours.append(time.perf_counter() - start)
                _reset(config)
                script.append(_cli_script(config, env))
                _reset(config)
    bound = CHAIN * args.latency_ms / 1000
    best, best_script = min(ours), min(script)
    print(f"latency {args.latency_ms:g} ms per request, best of {args.runs}")
    print(
        f"agent-ir revoke (whole command: start, discover, plan, journal, apply, verify): {best:.2f}s"
    )
    print(
        f"critical-path lower bound ({CHAIN} dependent calls): {bound:.2f}s   ratio {best / bound:.2f}"
    )
    print(
        f"sequential official AWS CLI script (writes only, no discovery or verification): {best_script:.2f}s"
    )
    print(f"agent-ir / CLI script: {best / best_script:.2f}")


if __name__ == "__main__":
    main()
