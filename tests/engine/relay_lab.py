"""Run in a subprocess (moto is process-global): the four-provider world
``relay_world.yaml``. The adversary probe holds relay-agent's credentials and every token
its paths yield (GCP tokens of accounts it impersonates or becomes by workload identity
federation from a reachable AWS role, an Entra token, an Okta access token, the API token
its service user created), ``contain-agent`` runs, and the probe tries everything again.
A second probe does the same for the decoy report-agent, which must keep working.

Prints JSON like :mod:`tests.engine.residual_lab`, plus ``decoy`` (before/after) and
``touched`` (the identities the run's steps acted on)."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

from agent_ir.engine.firstcut import cut_first
from agent_ir.engine.incident import Who, execute, plan_for
from agent_ir.engine.inventory import Engine
from agent_ir.lab.runner import Lab
from agent_ir.lab.world import load_world_text
from agent_ir.playbook.loader import find_playbook, load_playbook
from agent_ir.tabletop.probe import Probe
from agent_ir.tabletop.probe_entra import EntraProbe
from agent_ir.tabletop.probe_gcp import GcpProbe
from agent_ir.tabletop.probe_okta import OktaProbe
from tests.engine.residual_lab import (
    _entra_held,
    _entra_try,
    _gcp_held,
    _gcp_try,
    _inventory,
    _okta_held,
    _okta_try,
)

WORLD = Path(__file__).with_name("relay_world.yaml")
AGENT = "relay-agent"
DECOY = "report-agent"
SERVICE_USER_TOKEN = "relay-sync"


def world() -> Any:
    """The relay world, as written."""
    return load_world_text(WORLD.read_text(encoding="utf-8"), str(WORLD))


def _wif_held(lab: Lab, probe: GcpProbe) -> list[dict[str, Any]]:
    """The tokens the probe's federation exchanges issued, with the lab's expiry."""
    state = probe.emulator.api.state
    out = []
    for path, token in probe.wif.minted.items():
        found = state.tokens.get(token)
        name = probe.wif.federations[path].email.partition("@")[0]
        expires = found.expires if found is not None else None
        out.append({"provider": "gcp", "name": name, "token": token, "expires": expires})
    return out


def _api_token(lab: Lab, okta: OktaProbe) -> list[dict[str, Any]]:
    """The API token the agent's service user created: an attacker on the agent has it."""
    value = okta.emulator.api_token_value(SERVICE_USER_TOKEN)
    if not any(t.name == SERVICE_USER_TOKEN for t in okta.tokens):
        okta.add_api_token(SERVICE_USER_TOKEN, value)
    return []


def _all(_step: Any) -> bool:
    return True


async def _revoke(lab: Lab, journal: Path, params: dict[str, Any]) -> Any:
    engine = Engine(lab.settings.model_copy(update={"journal_dir": journal}))
    try:
        playbook = load_playbook(find_playbook("contain-agent"))
        who = Who(responder="tester", reason="relay test")
        if params.pop("_cut_first", False):  # as `revoke --yes` runs it
            outcome = await cut_first(engine, AGENT, playbook, params, who, lambda _p: _all)
            return outcome.plan, outcome
        plan = await plan_for(engine, AGENT, playbook, params)
        outcome = await execute(engine, plan, who)
        return plan, outcome
    finally:
        await engine.aclose()


def main(params: dict[str, Any]) -> None:
    with Lab(world()) as lab:
        journal = lab.directory / "journal"
        inventory = asyncio.run(_inventory(lab, journal))
        probes = {}
        for name in (AGENT, DECOY):
            workdir = lab.directory / f"probe-{name}"
            workdir.mkdir()
            probes[name] = Probe(lab, workdir)
            probes[name].arm(inventory, name)
        probe = probes[AGENT]
        gcp, entra, okta = (probe.parts[p] for p in ("gcp", "entra", "okta"))
        assert isinstance(gcp, GcpProbe) and isinstance(entra, EntraProbe)
        assert isinstance(okta, OktaProbe)
        _api_token(lab, okta)
        before = probe.check()
        decoy_before = probes[DECOY].check()
        held = (
            _gcp_held(lab, gcp) + _wif_held(lab, gcp) + _entra_held(entra) + _okta_held(lab, okta)
        )
        for token in held:
            if hasattr(token["expires"], "timestamp"):
                token["expires"] = token["expires"].timestamp()
        # AWSRevokeOlderSessions cuts at whole seconds: let the held sessions be older
        time.sleep(1.1)
        plan, outcome = asyncio.run(_revoke(lab, journal, dict(params)))
        lab.emulators["gcp"].state.settle()  # type: ignore[attr-defined]
        after = probe.check()
        decoy_after = probes[DECOY].check()
        tries = {
            "gcp": lambda t: _gcp_try(lab, t),
            "entra": lambda t: _entra_try(lab, t),
            "okta": lambda t: _okta_try(lab, okta, t),
        }
        for token in held:
            token["works"] = tries[token["provider"]](token["token"])
            token.pop("token")
        decoys = {i.id for i in inventory.agent(DECOY).identities}
        print(
            json.dumps(
                {
                    "plan": {
                        "verdict": plan.verdict.label,
                        "cut_first": any(n.startswith("first cut") for n in plan.notes),
                        "residual": [r.to_json() for r in plan.residual],
                        "steps": [s.to_json() for s in plan.steps],
                        "notes": plan.notes,
                    },
                    "run": outcome.to_json(),
                    "before": [r.to_json() for r in before],
                    "after": [r.to_json() for r in after],
                    "held": held,
                    "restored": {},
                    "decoy": {
                        "ids": sorted(decoys),
                        "before": [r.to_json() for r in decoy_before],
                        "after": [r.to_json() for r in decoy_after],
                    },
                    "touched": sorted({s.identity for s in plan.steps}),
                },
                indent=1,
                default=str,
            )
        )


def show() -> None:
    """What ``show -o json`` says about relay-agent, and the inventory's attribution."""
    from agent_ir.engine.inventory import view

    with Lab(world()) as lab:
        inventory = asyncio.run(_inventory(lab, lab.directory / "journal"))
        agent = inventory.agent(AGENT)
        print(
            json.dumps(
                {
                    "view": view(inventory, agent).to_json(),
                    "identities": [
                        {"provider": i.provider, "kind": i.kind, "name": i.name, "id": i.id}
                        for i in agent.identities
                    ],
                    "edges": [e.to_json() for e in inventory.graph.edges],
                },
                default=str,
            )
        )


if __name__ == "__main__":
    if "--show" in sys.argv:
        show()
    else:
        main(json.loads(sys.argv[1]) if len(sys.argv) > 1 else {})
