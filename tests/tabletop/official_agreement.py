"""Run in a subprocess (moto is process-global): the probe's verdicts against independent
checks through the official clients — the aws CLI, msal, google-auth and the okta SDK —
before and after `contain-agent` on the default world. Prints JSON rows."""

from __future__ import annotations

import asyncio
import json
import os
import ssl
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import aiohttp
import google.auth.transport.requests
import msal
import requests
from google.auth.exceptions import RefreshError
from google.oauth2 import service_account

from agent_ir.data import default_world
from agent_ir.engine.incident import Who, execute, plan_for
from agent_ir.engine.inventory import Engine
from agent_ir.lab.runner import Lab
from agent_ir.lab.world import load_world
from agent_ir.playbook.loader import find_playbook, load_playbook
from agent_ir.tabletop.probe import PathResult, Probe

ROOT = Path(__file__).resolve().parents[2]
WORLD = default_world()
AWS_CLI = str(Path(sys.executable).parent / "aws")


def _aws_cli(lab: Lab, key: str, secret: str) -> bool:
    aws = lab.settings.providers.aws
    assert aws is not None
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "AWS_ACCESS_KEY_ID": key,
        "AWS_SECRET_ACCESS_KEY": secret,
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
    }
    run = subprocess.run(
        [
            AWS_CLI,
            "--endpoint-url",
            str(aws.endpoint_url),
            "--ca-bundle",
            str(aws.ca_bundle),
            "--region",
            "us-east-1",
            "sts",
            "get-caller-identity",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    return run.returncode == 0


def _msal(lab: Lab, client_id: str, secret: str) -> bool:
    entra = lab.settings.providers.entra
    assert entra is not None
    http = requests.Session()
    http.trust_env, http.verify = False, str(entra.ca_bundle)
    app = msal.ConfidentialClientApplication(
        client_id,
        client_credential=secret,
        authority=str(entra.authority),
        instance_discovery=False,
        http_client=http,
    )
    answer = app.acquire_token_for_client([f"{entra.graph_url}/.default"]) or {}
    return "access_token" in answer


def _google_auth(lab: Lab, key_file: Path) -> bool:
    gcp = lab.settings.providers.gcp
    assert gcp is not None
    session = requests.Session()
    session.trust_env, session.verify = False, str(gcp.ca_bundle)
    creds = service_account.Credentials.from_service_account_file(
        str(key_file), scopes=["https://www.googleapis.com/auth/cloud-platform"]
    )
    try:
        creds.refresh(google.auth.transport.requests.Request(session))
    except RefreshError:
        return False
    return bool(creds.token)


async def _okta_sdk(lab: Lab, config: dict[str, Any]) -> bool:
    from okta.client import Client

    okta = lab.settings.providers.okta
    assert okta is not None
    client = Client({"orgUrl": okta.org_url, **config})
    context = ssl.create_default_context(cafile=str(okta.ca_bundle))
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=context)) as session:
        client.get_request_executor().set_session(session)
        _, _, err = await client.list_users(limit=1)
    return err is None


def _verdict(results: list[PathResult], provider: str, needle: str) -> bool:
    found = [r for r in results if r.provider == provider and needle in r.path]
    if len(found) != 1:
        raise SystemExit(f"expected one {provider} path naming {needle!r}, got {found}")
    return found[0].works


async def _rows(lab: Lab, probe: Probe, moment: str) -> list[dict[str, Any]]:
    results = probe.check()
    rows: list[dict[str, Any]] = []
    for key in probe.parts["aws"].keys:  # type: ignore[attr-defined]
        rows.append(
            {
                "moment": moment,
                "provider": "aws",
                "probe": next(
                    r.works for r in results if r.provider == "aws" and r.path == key.label
                ),
                "official": _aws_cli(lab, key.key_id, key.secret),
            }
        )
    for secret in probe.parts["entra"].secrets:  # type: ignore[attr-defined]
        rows.append(
            {
                "moment": moment,
                "provider": "entra",
                "probe": _verdict(results, "entra", f"client secret {secret.secret_name} "),
                "official": _msal(lab, secret.client_id, secret.value),
            }
        )
    for key in probe.parts["gcp"].keys:  # type: ignore[attr-defined]
        rows.append(
            {
                "moment": moment,
                "provider": "gcp",
                "probe": _verdict(results, "gcp", f"key {key.key_id[:8]}"),
                "official": _google_auth(lab, key.path),
            }
        )
    okta = probe.parts["okta"]
    for app in okta.keys:  # type: ignore[attr-defined]
        config = {
            "authorizationMode": "PrivateKey",
            "clientId": app.client_id,
            "scopes": ["okta.users.read"],
            "privateKey": app.pem,
            "kid": app.kid,
        }
        rows.append(
            {
                "moment": moment,
                "provider": "okta",
                "probe": _verdict(results, "okta", app.kid),
                "official": await _okta_sdk(lab, config),
            }
        )
    for token in okta.tokens:  # type: ignore[attr-defined]
        rows.append(
            {
                "moment": moment,
                "provider": "okta",
                "probe": _verdict(results, "okta", token.name),
                "official": await _okta_sdk(lab, {"token": token.value}),
            }
        )
    return rows


async def main() -> None:
    with Lab(load_world(WORLD)) as lab, tempfile.TemporaryDirectory() as work:
        settings = lab.settings.model_copy(update={"journal_dir": Path(work) / "journal"})
        engine = Engine(settings)
        try:
            inventory = await engine.inventory()
            rows: list[dict[str, Any]] = []
            for agent in ("invoice-agent", "gpt-scraper-bot"):
                (Path(work) / agent).mkdir()
                probe = Probe(lab, Path(work) / agent)
                probe.arm(inventory, agent)
                rows += await _rows(lab, probe, f"{agent} before")
                plan = await plan_for(
                    engine, agent, load_playbook(find_playbook("contain-agent")), {}
                )
                await execute(engine, plan, Who("agreement", "official clients agree"))
                rows += await _rows(lab, probe, f"{agent} after")
        finally:
            await engine.aclose()
    json.dump(rows, sys.stdout)


if __name__ == "__main__":
    asyncio.run(main())
