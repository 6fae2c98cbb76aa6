"""Agent-scoped discovery gives, for the agent, exactly what the whole-estate inventory
gives (``show`` and ``plan`` JSON), on the default world and on a generated one (all four
providers, served by ``agent-ir lab serve``), while reading fewer identities in full."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agent_ir.data import playbook_dir
from agent_ir.engine.incident import plan_for
from agent_ir.engine.inventory import Engine, view
from agent_ir.lab.generator import generate_yaml
from agent_ir.playbook.loader import load_playbook
from agent_ir.settings import load_settings

BIN = Path(sys.executable).parent
PLAYBOOKS = playbook_dir()
DEFAULT_AGENTS = ["invoice-agent", "gpt-scraper-bot", "helpdesk-copilot", "support-agent-01"]


def _serve(world: Path | None, directory: Path) -> Iterator[Path]:
    config = directory / "lab.yaml"
    env = {**os.environ, "XDG_STATE_HOME": str(directory / "state")}
    args = [str(BIN / "agent-ir"), "lab", "serve", "--config-out", str(config)]
    if world is not None:
        args += ["--world", str(world)]
    proc = subprocess.Popen(
        args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("ready "), line
        yield config
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="module")
def default_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    yield from _serve(None, tmp_path_factory.mktemp("scoped-default"))


@pytest.fixture(scope="module")
def generated_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    directory = tmp_path_factory.mktemp("scoped-generated")
    world = directory / "world.yaml"
    world.write_text(generate_yaml(60, 2, 11, ("aws", "entra", "gcp", "okta")))
    yield from _serve(world, directory)


def _engine(config: Path) -> Engine:
    return Engine(load_settings(config))


def _timeless(plan: dict[str, Any]) -> dict[str, Any]:
    """The plan without the clock: when it was made and the expiry times derived from that."""
    plan = {k: v for k, v in plan.items() if k != "planned_at"}
    plan["residual"] = [{k: v for k, v in r.items() if k != "until"} for r in plan["residual"]]
    plan["verdict"] = plan["verdict"].split(" ")[0]
    return plan


async def _compare(config: Path, agents: list[str]) -> tuple[int, int]:
    """Compare show and plan JSON of each agent; return (full, scoped) request counts."""
    playbook = load_playbook(PLAYBOOKS / "contain-agent.yaml")
    full = _engine(config)
    try:
        inv = await full.inventory()
        assert not inv.errors
        full_requests = sum(d.requests for d in inv.discoveries.values())
        expected: dict[str, Any] = {}
        for name in agents:
            agent = inv.agent(name)
            plan = await plan_for(full, name, playbook, {}, whole_estate=True)
            expected[name] = (view(inv, agent).to_json(), _timeless(plan.to_json()))
    finally:
        await full.aclose()
    scoped_requests = 0
    for name in agents:
        scoped = _engine(config)
        try:
            sinv = await scoped.agent_inventory(name)
            assert not sinv.errors
            assert sinv.scope is not None and name in sinv.scope
            scoped_requests = max(
                scoped_requests, sum(d.requests for d in sinv.discoveries.values())
            )
            shown = view(sinv, sinv.agent(name)).to_json()
            plan = await plan_for(scoped, name, playbook, {})
        finally:
            await scoped.aclose()
        assert shown == expected[name][0], name
        assert _timeless(plan.to_json()) == expected[name][1], name
    return full_requests, scoped_requests


async def test_scoped_equals_estate_on_the_default_world(default_lab: Path) -> None:
    full, scoped = await _compare(default_lab, DEFAULT_AGENTS)
    assert scoped < full


async def test_scoped_equals_estate_on_a_generated_world(generated_lab: Path) -> None:
    full = _engine(generated_lab)
    try:
        inv = await full.inventory()
    finally:
        await full.aclose()
    # Per provider, the agent reaching the most identities (chains are where a scoped
    # read could miss something) and the first by name.
    chosen: list[str] = []
    for provider in ("aws", "entra", "gcp", "okta"):
        mine = [a for a in inv.agents if provider in a.providers]
        assert mine, provider
        widest = max(mine, key=lambda a: len(inv.graph.reach(i.id for i in a.identities)))
        chosen += [n for n in (widest.name, mine[0].name) if n not in chosen]
    full_requests, scoped_requests = await _compare(generated_lab, chosen)
    assert scoped_requests < full_requests


CHAIN_WORLD = """
version: 1
name: scoped-chain
description: An agent that can mint tokens for another agent-like account with a key.
gcp:
  propagation_s: 0
  projects:
    - id: corp-prod
      number: "482913570126"
      service_accounts:
        - email: scout-agent@corp-prod.iam.gserviceaccount.com
          description: "agent-ir:agent=scout agent-ir:owner=alice@corp.test"
          keys:
            - {age_days: 10, last_used_days_ago: 1}
        - email: ledger-bot@corp-prod.iam.gserviceaccount.com
          keys:
            - {age_days: 400, last_used_days_ago: 2}
          bindings:
            - role: roles/iam.serviceAccountTokenCreator
              members: ["serviceAccount:scout-agent@corp-prod.iam.gserviceaccount.com"]
        - email: other-agent@corp-prod.iam.gserviceaccount.com
          keys:
            - {age_days: 5, last_used_days_ago: 1}
"""


async def test_scoped_reads_what_the_agent_can_become(tmp_path: Path) -> None:
    """scout reaches ledger-bot (agent-like, with a key): its keys must be read, in a
    second round, for the plan to cover them; other-agent is never read in full."""
    from agent_ir.lab.runner import Lab
    from agent_ir.lab.world import load_world_text

    world = load_world_text(CHAIN_WORLD, "test_scoped_discovery.py")
    playbook = load_playbook(PLAYBOOKS / "contain-agent.yaml")
    with Lab(world, tmp_path / "lab") as lab:
        full = Engine(lab.settings)
        scoped = Engine(lab.settings)
        try:
            inv = await full.inventory()
            expected = view(inv, inv.agent("scout")).to_json()
            sinv = await scoped.agent_inventory("scout")
            assert view(sinv, sinv.agent("scout")).to_json() == expected
            assert "1 more reached" in (sinv.scope or "")
            ledger = "ledger-bot@corp-prod.iam.gserviceaccount.com"
            assert sinv.identities[ledger].credentials == inv.identities[ledger].credentials
            assert sinv.identities[ledger].credentials
            other = "other-agent@corp-prod.iam.gserviceaccount.com"
            assert inv.identities[other].credentials
            assert not sinv.identities[other].credentials
            plan = await plan_for(scoped, "scout", playbook, {})
            whole = await plan_for(full, "scout", playbook, {}, whole_estate=True)
            assert _timeless(plan.to_json()) == _timeless(whole.to_json())
        finally:
            await full.aclose()
            await scoped.aclose()
