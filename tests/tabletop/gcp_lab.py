"""Run in a subprocess (moto is process-global): workload identity federation from AWS into
GCP on one lab holding the default world's ``aws`` and ``gcp`` sections. The agent's AWS
key assumes invoice-processor (boto3); google-auth's ``google.auth.aws.Credentials``
exchanges the session at the lab's Security Token Service and impersonates finance-reader.
Prints JSON rows ``{"case", "works", "detail"}``."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import boto3
import requests
from google.auth import aws
from google.auth.exceptions import GoogleAuthError
from google.auth.transport.requests import Request

from agent_ir.engine.incident import Who, execute, plan_for
from agent_ir.engine.inventory import Engine
from agent_ir.lab.gcp import GcpEmulator
from agent_ir.lab.runner import Lab
from agent_ir.playbook.loader import find_playbook, load_playbook
from agent_ir.tabletop.probe import Probe
from agent_ir.tabletop.probe_aws import secret_of
from tests.tabletop.section_lab import section_world

ACCOUNT = "111111111111"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/invoice-processor"
DATA_ROLE = "arn:aws:iam::222222222222:role/finance-data-reader"
READER = "finance-reader@corp-prod.iam.gserviceaccount.com"
AUDIENCE = (
    "//iam.googleapis.com/projects/482913570126/locations/global/"
    "workloadIdentityPools/aws-corp/providers/aws-111111111111"
)
WIF_PATH = (
    "AWS role invoice-processor → workload identity pool aws-corp → service account finance-reader"
)


class Held(aws.AwsSecurityCredentialsSupplier):
    """The AWS credentials the attacker holds."""

    def __init__(self, creds: dict[str, str | None]) -> None:
        self.creds = creds

    def get_aws_security_credentials(self, context: Any, request: Any) -> Any:
        return aws.AwsSecurityCredentials(
            self.creds["AccessKeyId"], self.creds["SecretAccessKey"], self.creds["SessionToken"]
        )

    def get_aws_region(self, context: Any, request: Any) -> str:
        return "us-east-1"


def _world() -> Any:
    return section_world("aws", "gcp", gcp={"propagation_s": 0})


def _sts(lab: Lab, key: str, secret: str, token: str | None = None) -> Any:
    settings = lab.settings.providers.aws
    assert settings is not None
    return boto3.client(
        "sts",
        region_name="us-east-1",
        endpoint_url=settings.endpoint_url,
        verify=str(settings.ca_bundle),
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        aws_session_token=token,
    )


def _exchange(lab: Lab, creds: dict[str, str | None], target: str = READER) -> tuple[bool, str]:
    gcp = lab.emulators["gcp"]
    assert isinstance(gcp, GcpEmulator)
    settings = lab.settings.providers.gcp
    assert settings is not None
    federated = aws.Credentials(
        audience=AUDIENCE,
        subject_token_type="urn:ietf:params:aws:token-type:aws4_request",
        token_url=gcp.sts_url,
        aws_security_credentials_supplier=Held(creds),
        service_account_impersonation_url=(
            f"{settings.credentials_url}/v1/projects/-/serviceAccounts/{target}:generateAccessToken"
        ),
        scopes=["https://www.googleapis.com/auth/cloud-platform"],
    )
    http = requests.Session()
    http.trust_env, http.verify = False, str(settings.ca_bundle)
    try:
        federated.refresh(Request(http))
    except GoogleAuthError as exc:
        return False, str(exc)[:300]
    return bool(federated.token), "token issued"


def _agent_key(lab: Lab) -> dict[str, str | None]:
    from moto.iam.models import iam_backends

    user = iam_backends[ACCOUNT]["global"].users["invoice-agent"]
    key = user.access_keys[0].access_key_id
    return {"AccessKeyId": key, "SecretAccessKey": secret_of(ACCOUNT, key), "SessionToken": None}


async def _contain(lab: Lab, journal: Path) -> None:
    engine = Engine(lab.settings.model_copy(update={"journal_dir": journal}))
    try:
        plan = await plan_for(
            engine, "invoice-agent", load_playbook(find_playbook("contain-agent")), {}
        )
        await execute(engine, plan, Who(responder="tester", reason="federation test"))
    finally:
        await engine.aclose()


async def _probe(lab: Lab, workdir: Path) -> Probe:
    engine = Engine(lab.settings.model_copy(update={"journal_dir": workdir / "journal-probe"}))
    try:
        inventory = await engine.inventory()
    finally:
        await engine.aclose()
    probe = Probe(lab, workdir)
    probe.arm(inventory, "invoice-agent")
    return probe


def _wif(probe: Probe) -> dict[str, Any]:
    found = [r for r in probe.check() if r.path == WIF_PATH]
    assert len(found) == 1, found
    return found[0].to_json()


def main() -> None:
    rows: list[dict[str, Any]] = []

    def row(case: str, result: tuple[bool, str]) -> None:
        rows.append({"case": case, "works": result[0], "detail": result[1]})

    with Lab(_world()) as lab:
        gcp = lab.emulators["gcp"]
        assert isinstance(gcp, GcpEmulator)
        key = _agent_key(lab)
        user = _sts(lab, str(key["AccessKeyId"]), str(key["SecretAccessKey"]))
        session = user.assume_role(RoleArn=ROLE, RoleSessionName="attacker")["Credentials"]
        row("assumed invoice-processor", _exchange(lab, session))
        row("another SA (no binding for the role)", _exchange(lab, session, gcp_other()))
        row("the IAM user itself (attribute condition)", _exchange(lab, key))
        hop = _sts(lab, session["AccessKeyId"], session["SecretAccessKey"], session["SessionToken"])
        data = hop.assume_role(RoleArn=DATA_ROLE, RoleSessionName="attacker")["Credentials"]
        row("another role in another account", _exchange(lab, data))
        forged = {**session, "SecretAccessKey": "not-the-secret"}
        row("a wrong secret (signature)", _exchange(lab, forged))

        with gcp.api.lock:
            reader = gcp.state.accounts[READER]
            reader.policy.replace(
                [b for b in reader.policy.bindings if "workloadIdentityUser" not in b["role"]], 0
            )
            reader.policy.settle()
        row("binding removed", _exchange(lab, session))
        gcp.reset()
        row("binding back", _exchange(lab, session))
        with gcp.api.lock:
            provider = gcp.state.projects["corp-prod"].pools[0].providers[0]
            gcp.state.projects["corp-prod"].pools[0] = (
                gcp.state.projects["corp-prod"]
                .pools[0]
                .model_copy(update={"providers": [provider.model_copy(update={"disabled": True})]})
            )
        row("provider disabled", _exchange(lab, session))
        gcp.reset()

        workdir = lab.directory / "probe"
        workdir.mkdir()
        probe = asyncio.run(_probe(lab, workdir))
        before = _wif(probe)
        rows.append({"case": "probe before", **before})
        # AWSRevokeOlderSessions cuts at whole seconds: let the probe's sessions be older
        time.sleep(1.1)
        asyncio.run(_contain(lab, lab.directory / "journal"))
        gcp.state.settle()
        after = _wif(probe)
        rows.append({"case": "probe after contain-agent", **after})
        try:
            user.assume_role(RoleArn=ROLE, RoleSessionName="again")
            row("assume again after contain-agent", (True, "AssumeRole worked"))
        except Exception as exc:
            row("assume again after contain-agent", (False, type(exc).__name__))
        row("held session after contain-agent", _exchange(lab, session))
    print(json.dumps(rows, indent=1))


def gcp_other() -> str:
    """A service account that grants the pool nothing."""
    return "build-agent-02@corp-prod.iam.gserviceaccount.com"


if __name__ == "__main__":
    main()
