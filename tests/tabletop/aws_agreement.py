"""Run in a subprocess (moto is process-global): start a lab on the default world, arm the
probe for invoice-agent, and compare its AWS key verdicts with independent boto3 calls,
before and after one key is deactivated through IAM. Prints JSON rows."""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import ClientError

from agent_ir.data import default_world
from agent_ir.engine.inventory import Engine
from agent_ir.lab.runner import Lab
from agent_ir.lab.world import load_world
from agent_ir.tabletop.probe import Probe
from agent_ir.tabletop.probe_aws import AwsProbe

WORLD = default_world()


def _client(lab: Lab, service: str, key: str, secret: str) -> Any:
    aws = lab.settings.providers.aws
    assert aws is not None
    return boto3.client(
        service,
        region_name="us-east-1",
        endpoint_url=aws.endpoint_url,
        verify=str(aws.ca_bundle),
        aws_access_key_id=key,
        aws_secret_access_key=secret,
    )


def _boto3_works(lab: Lab, key: str, secret: str) -> bool:
    try:
        _client(lab, "sts", key, secret).get_caller_identity()
    except ClientError:
        return False
    return True


def _rows(lab: Lab, probe: Probe, moment: str) -> list[dict[str, Any]]:
    aws = probe.parts["aws"]
    assert isinstance(aws, AwsProbe)
    verdicts = {r.path: r.works for r in probe.check() if r.provider == "aws"}
    return [
        {
            "moment": moment,
            "key": key.key_id,
            "probe": verdicts[key.label],
            "boto3": _boto3_works(lab, key.key_id, key.secret),
        }
        for key in aws.keys
    ]


async def main() -> None:
    with Lab(load_world(WORLD)) as lab, tempfile.TemporaryDirectory() as work:
        engine = Engine(lab.settings)
        try:
            inventory = await engine.inventory()
        finally:
            await engine.aclose()
        probe = Probe(lab, Path(work))
        probe.arm(inventory, "invoice-agent")
        rows = _rows(lab, probe, "before")
        aws = probe.parts["aws"]
        assert isinstance(aws, AwsProbe)
        responder = lab.emulators["aws"].responder  # type: ignore[attr-defined]
        iam = _client(lab, "iam", responder.access_key_id, responder.secret_access_key)
        first = aws.keys[0]
        iam.update_access_key(UserName="invoice-agent", AccessKeyId=first.key_id, Status="Inactive")
        rows += _rows(lab, probe, "after")
    json.dump(rows, sys.stdout)


if __name__ == "__main__":
    asyncio.run(main())
