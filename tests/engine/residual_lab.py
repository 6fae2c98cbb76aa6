"""Run in a subprocess (moto is process-global): the adversary probe holds an agent's
credentials and tokens before ``contain-agent``, the revoke runs, and the probe tries
everything again. Prints JSON: the plan's and the run's verdict and residual paths, the
probe's results after the revoke, and every held token with the lab's own expiry for it.

Held tokens are taken as an attacker takes them, through the real protocols: a GCP token
of a service account the agent can impersonate (google-auth key file, then
``generateAccessToken``), an Entra Graph token (MSAL, the blueprint's client secret) and an
Okta access token (private-key JWT)."""

from __future__ import annotations

import asyncio
import json
import ssl
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import jwt
import requests
import yaml

from agent_ir.data import default_world
from agent_ir.engine.firstcut import cut_first
from agent_ir.engine.incident import Who, execute, plan_for
from agent_ir.engine.inventory import Engine
from agent_ir.lab.runner import Lab
from agent_ir.lab.world import load_world_text
from agent_ir.playbook.loader import find_playbook, load_playbook
from agent_ir.tabletop.probe import Probe
from agent_ir.tabletop.probe_entra import EntraProbe
from agent_ir.tabletop.probe_entra import request_token as entra_token
from agent_ir.tabletop.probe_gcp import GcpProbe
from agent_ir.tabletop.probe_okta import OktaProbe
from agent_ir.tabletop.probe_okta import request_token as okta_token

ROOT = Path(__file__).resolve().parents[2]
AGENT = "invoice-agent"


def world(extra: dict[str, Any] | None = None) -> Any:
    """The default world with GCP policy changes visible at once."""
    doc = yaml.safe_load((default_world()).read_text(encoding="utf-8"))
    doc["gcp"]["propagation_s"] = 0
    doc["name"] = "residual-lab"
    for key, value in (extra or {}).items():
        doc[key] = value
    return load_world_text(yaml.safe_dump(doc, sort_keys=False), "tests/engine/residual_lab.py")


def _gcp_held(lab: Lab, probe: GcpProbe) -> list[dict[str, Any]]:
    """Tokens of every account the agent's keys can impersonate, minted now."""
    http = requests.Session()
    http.trust_env, http.verify = False, probe.ca
    out = []
    for key in probe.keys:
        _, token = probe._try(key, http)
        if not token:
            continue
        for target in probe._targets(key.email):
            works, _, minted = probe._generate(http, token, target)
            if works:
                found = probe.emulator.api.state.tokens[minted]
                out.append(
                    {
                        "provider": "gcp",
                        "name": target.partition("@")[0],
                        "token": minted,
                        "expires": found.expires,
                    }
                )
    return out


def _gcp_try(lab: Lab, token: str) -> bool:
    settings = lab.settings.providers.gcp
    assert settings is not None
    reply = requests.get(
        f"{settings.iam_url}/v1/projects/corp-prod/serviceAccounts",
        headers={"Authorization": f"Bearer {token}"},
        verify=str(settings.ca_bundle),
        timeout=10,
    )
    return reply.status_code != 401


def _entra_held(probe: EntraProbe) -> list[dict[str, Any]]:
    out = []
    for secret in probe.secrets:
        answer = entra_token(probe.authority, probe.ca, secret.client_id, secret.value, probe.scope)
        if answer.token:
            exp = jwt.decode(answer.token, options={"verify_signature": False})["exp"]
            out.append(
                {"provider": "entra", "name": secret.app, "token": answer.token, "expires": exp}
            )
    return out


def _entra_try(lab: Lab, token: str) -> bool:
    settings = lab.settings.providers.entra
    assert settings is not None
    reply = requests.get(
        f"{settings.graph_url}/v1.0/servicePrincipals",
        headers={"Authorization": f"Bearer {token}"},
        verify=str(settings.ca_bundle),
        timeout=10,
    )
    return reply.status_code != 401


def _okta_held(lab: Lab, probe: OktaProbe) -> list[dict[str, Any]]:
    out = []
    context = ssl.create_default_context(cafile=probe.ca)
    with httpx.Client(base_url=probe.base, verify=context, timeout=10) as http:
        for key in probe.keys:
            reply = okta_token(http, probe.base, key.client_id, key.kid, key.pem, key.scope)
            if reply.status_code == 200:
                token = reply.json()["access_token"]
                state = lab.emulators["okta"].state  # type: ignore[attr-defined]
                expires = state.access_tokens[token].expires.timestamp()
                out.append(
                    {"provider": "okta", "name": key.label, "token": token, "expires": expires}
                )
    return out


def _okta_try(lab: Lab, probe: OktaProbe, token: str) -> bool:
    context = ssl.create_default_context(cafile=probe.ca)
    with httpx.Client(base_url=probe.base, verify=context, timeout=10) as http:
        reply = http.get(
            "/api/v1/users", params={"limit": 1}, headers={"Authorization": f"Bearer {token}"}
        )
    return reply.status_code != 401


async def _inventory(lab: Lab, journal: Path) -> Any:
    engine = Engine(lab.settings.model_copy(update={"journal_dir": journal}))
    try:
        return await engine.inventory()
    finally:
        await engine.aclose()


async def _restore(lab: Lab, journal: Path, incident: str) -> Any:
    from agent_ir.engine.incident import restore

    engine = Engine(lab.settings.model_copy(update={"journal_dir": journal}))
    try:
        return await restore(engine, incident, Who(responder="tester", reason="false alarm"))
    finally:
        await engine.aclose()


def _all(_step: Any) -> bool:
    return True


async def _revoke(lab: Lab, journal: Path, params: dict[str, Any]) -> Any:
    engine = Engine(lab.settings.model_copy(update={"journal_dir": journal}))
    try:
        playbook = load_playbook(find_playbook("contain-agent"))
        who = Who(responder="tester", reason="residual test")
        if params.pop("_cut_first", False):  # as `revoke --yes` runs it
            outcome = await cut_first(engine, AGENT, playbook, params, who, lambda _p: _all)
            return outcome.plan, outcome
        plan = await plan_for(engine, AGENT, playbook, params)
        outcome = await execute(engine, plan, who)
        return plan, outcome
    finally:
        await engine.aclose()


def main(params: dict[str, Any], restore_too: bool = False) -> None:
    with Lab(world()) as lab:
        workdir = lab.directory / "probe"
        workdir.mkdir()
        journal = lab.directory / "journal"
        probe = Probe(lab, workdir)
        probe.arm(asyncio.run(_inventory(lab, journal)), AGENT)
        before = probe.check()
        gcp, entra, okta = (probe.parts[p] for p in ("gcp", "entra", "okta"))
        assert isinstance(gcp, GcpProbe) and isinstance(entra, EntraProbe)
        assert isinstance(okta, OktaProbe)
        held = _gcp_held(lab, gcp) + _entra_held(entra) + _okta_held(lab, okta)
        # AWSRevokeOlderSessions cuts at whole seconds: let the held sessions be older
        time.sleep(1.1)
        plan, outcome = asyncio.run(_revoke(lab, journal, params))
        lab.emulators["gcp"].state.settle()  # type: ignore[attr-defined]
        after = probe.check()
        tries = {
            "gcp": lambda t: _gcp_try(lab, t),
            "entra": lambda t: _entra_try(lab, t),
            "okta": lambda t: _okta_try(lab, okta, t),
        }
        for token in held:
            token["works"] = tries[token["provider"]](token["token"])
        restored: dict[str, Any] = {}
        if params.pop("_restore", False) or restore_too:
            undo = asyncio.run(_restore(lab, journal, outcome.incident))
            lab.emulators["gcp"].state.settle()  # type: ignore[attr-defined]
            restored = {
                "run": undo.to_json(),
                "after": [r.to_json() for r in probe.check()],
                "held": [
                    {
                        **{k: v for k, v in t.items() if k != "token"},
                        "works": tries[t["provider"]](t["token"]),
                    }
                    for t in held
                ],
            }
        for token in held:
            token.pop("token")
        print(
            json.dumps(
                {
                    "plan": {
                        "verdict": plan.verdict.label,
                        "cut_first": any(n.startswith("first cut") for n in plan.notes),
                        "residual": [r.to_json() for r in plan.residual],
                    },
                    "run": outcome.to_json(),
                    "before": [r.to_json() for r in before],
                    "after": [r.to_json() for r in after],
                    "held": held,
                    "restored": restored,
                },
                indent=1,
            )
        )


if __name__ == "__main__":
    main(json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}, "--restore" in sys.argv)
