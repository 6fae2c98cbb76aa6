"""Workload identity federation from AWS into GCP, decided by behaviour: one lab with the
default world's ``aws`` and ``gcp`` sections, in a subprocess (moto is process-global; see
``gcp_lab.py``), google-auth's ``google.auth.aws.Credentials`` against the lab's Security
Token Service and IAM Credentials."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_aws_role_federates_into_finance_reader_by_behaviour(tmp_path: Path) -> None:
    env = {**os.environ, "XDG_STATE_HOME": str(tmp_path), "TMPDIR": str(tmp_path)}
    run = subprocess.run(
        [sys.executable, "-m", "tests.tabletop.gcp_lab"],
        capture_output=True,
        text=True,
        env=env,
        timeout=240,
        cwd=ROOT,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    rows = {row["case"]: row for row in json.loads(run.stdout)}

    assert rows["assumed invoice-processor"]["works"]
    assert rows["binding back"]["works"]
    refused = {
        "another SA (no binding for the role)": "iam.serviceAccounts.getAccessToken",
        "the IAM user itself (attribute condition)": "rejected by the attribute condition",
        "another role in another account": "is not the provider's (111111111111)",
        "a wrong secret (signature)": "SignatureDoesNotMatch",
        "binding removed": "iam.serviceAccounts.getAccessToken",
        "provider disabled": "invalid_target",
        "assume again after contain-agent": "ClientError",
    }
    for case, why in refused.items():
        assert not rows[case]["works"] and why in rows[case]["detail"], rows[case]

    before, after = rows["probe before"], rows["probe after contain-agent"]
    assert before["works"] and before["decided_by"] == "behaviour"
    assert "Security Token Service exchanged" in before["detail"]
    # GetCallerIdentity is never denied by IAM policies, so the probe still tries the
    # session it held from before the revocation; contain-agent's deny-all takes the role's
    # principal out of finance-reader's policy, so the exchange no longer yields a token
    assert not after["works"] and "held from before" in after["detail"]
    assert "Unable to acquire impersonated credentials" in after["detail"]
    assert not rows["held session after contain-agent"]["works"]
