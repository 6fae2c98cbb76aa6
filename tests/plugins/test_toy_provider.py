"""A fifth provider from the test tree alone: the toy identity store, registered through a
dist-info entry point, goes through inventory, plan, revoke, restore, the tabletop probe and
the console, with no core file knowing its name."""

from __future__ import annotations

import os
import signal
import ssl
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from agent_ir.engine.inventory import Engine
from agent_ir.factory import make_app
from agent_ir.lab.runner import Lab
from agent_ir.lab.world import World, load_world_text
from agent_ir.providers import registry
from agent_ir.settings import Settings, load_settings
from agent_ir.tabletop.probe import Probe
from agent_ir.tui.widgets.credentials_table import CredentialsTable
from tests.inproc import run
from tests.plugins.toyidp.install import ROOT, subprocess_path
from tests.tui.helpers import open_agent, settle, shown

AGENT = "ticket-agent"
TOY_ID = "toy:toy-tenant/ticket-agent"
AWS_ID = "arn:aws:iam::444444444444:user/ticket-agent"
TOY_SECTION = """
toy:
  agents:
    - {name: ticket-agent, owner: bob@corp.test, keys: [{id: tk-1, age_days: 40}]}
    - {name: mail-agent, keys: [{id: mk-1}]}
    - {name: web-agent}
"""
WORLD = f"""
version: 1
name: toy-e2e
inventory:
  - name: {AGENT}
    owner: bob@corp.test
    identities:
      - {{provider: aws, id: "{AWS_ID}"}}
      - {{provider: toy, id: "{TOY_ID}"}}
aws:
  accounts:
    - id: "444444444444"
      users:
        - name: ticket-agent
          access_keys: [{{age_days: 10}}]
{TOY_SECTION}"""
TOY_ONLY = f"""
version: 1
name: toy-only
inventory:
  - name: {AGENT}
    owner: bob@corp.test
    identities: [{{provider: toy, id: "{TOY_ID}"}}]
{TOY_SECTION}"""
SERVE = (
    "import sys; from pathlib import Path;"
    "from agent_ir.lab.serve import serve; from agent_ir.lab.world import load_world;"
    "sys.exit(serve(load_world(Path(sys.argv[1])), Path(sys.argv[2])))"
)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """An aws + toy lab in its own process (moto is one per process, and the session's AWS
    lab may hold it here), which sees the toy provider only through PYTHONPATH."""
    work = tmp_path_factory.mktemp("toy-served")
    world = work / "world.yaml"
    world.write_text(WORLD)
    config = work / "lab" / "config.yaml"
    env = {**os.environ, "PYTHONPATH": subprocess_path()}
    process = subprocess.Popen(
        [sys.executable, "-c", SERVE, str(world), str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line == f"ready {config}\n", process.stderr.read() if process.stderr else ""
        yield config
    finally:
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=60)
    assert process.returncode == 0, err


@pytest.fixture(scope="module")
def toy_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """A toy-only lab in this process (its emulator object is what the probe reads)."""
    world: World = load_world_text(TOY_ONLY, "tests/plugins/test_toy_provider.py")
    with Lab(world, tmp_path_factory.mktemp("toy-lab")) as lab:
        yield lab


def toy_key(settings: Settings, agent: str, key: str) -> str:
    """A key's status read straight from the toy emulator over HTTPS, as any client would."""
    toy: Any = settings.providers.section("toy")
    admin = Path(toy.api_key_file).read_text().strip()
    reply = httpx.get(
        f"{toy.base_url}/v1/agents/{agent}/keys",
        headers={"Authorization": f"Bearer {admin}"},
        verify=ssl.create_default_context(cafile=str(toy.ca_bundle)),
    )
    reply.raise_for_status()
    return str(next(k["status"] for k in reply.json()["keys"] if k["id"] == key))


def test_the_toy_provider_is_listed_from_its_entry_point() -> None:
    assert registry.names() == ["aws", "entra", "gcp", "okta", "toy"]
    assert registry.plugin("toy").title == "ToyIdP"
    assert registry.load("toy").__module__ == "tests.plugins.toyidp.adapter"


def test_inventory_plan_revoke_restore_through_the_cli(served: Path) -> None:
    config = ["--config", str(served)]
    settings = load_settings(served)
    inventory = run([*config, "inventory", "--output", "json"])
    assert inventory.code == 0, inventory.err
    agent = next(a for a in inventory.json()["agents"] if a["name"] == AGENT)
    assert agent["providers"] == ["aws", "toy"]
    assert {i["id"] for i in agent["identities"]} == {AWS_ID, TOY_ID}
    assert inventory.json()["providers"] == {"aws": "answered", "toy": "answered"}

    plan = run([*config, "plan", AGENT, "--output", "json"])
    assert plan.code == 0, plan.err
    toy_steps = [s for s in plan.json()["steps"] if s["provider"] == "toy"]
    assert [(s["action"], s["target"]) for s in toy_steps] == [("disable-credentials", "tk-1")]
    assert any(s["provider"] == "aws" for s in plan.json()["steps"])

    assert toy_key(settings, AGENT, "tk-1") == "enabled"
    revoke = run([*config, "revoke", AGENT, "--reason", "toy test", "--yes", "-o", "json"])
    assert revoke.code == 0, revoke.err
    incident = revoke.json()["incident"]
    assert toy_key(settings, AGENT, "tk-1") == "disabled"
    assert toy_key(settings, "mail-agent", "mk-1") == "enabled"

    restore = run([*config, "restore", incident, "--yes", "--output", "json"])
    assert restore.code == 0, restore.err
    assert toy_key(settings, AGENT, "tk-1") == "enabled"

    verified = run([*config, "journal", "verify", "--output", "json"])
    assert verified.code == 0, verified.err
    incidents = verified.json()["incidents"]
    assert len(incidents) == 2 and all(i["ok"] and not i["problems"] for i in incidents)


async def test_the_probe_finds_the_toy_key_working_before_and_refused_after(
    toy_lab: Lab, tmp_path: Path
) -> None:
    engine = Engine(toy_lab.settings)
    try:
        probe = Probe(toy_lab, tmp_path)
        assert set(probe.parts) == {"toy"}
        probe.arm(await engine.inventory(), AGENT)
        before = probe.check()
        assert [(r.path, r.works) for r in before] == [("API key tk-1", True)]

        config = ["--config", str(toy_lab.config_path)]
        revoke = run([*config, "revoke", AGENT, "--reason", "probe", "--yes", "-o", "json"])
        assert revoke.code == 0, revoke.err
        after = probe.check()
        assert [(r.path, r.works) for r in after] == [("API key tk-1", False)]
        assert "refused (401)" in after[0].detail
    finally:
        await engine.aclose()
        toy_lab.reset()


async def test_the_console_shows_the_toy_identity_in_the_agent_view(
    toy_lab: Lab, tmp_path: Path
) -> None:
    settings = toy_lab.settings.model_copy(update={"journal_dir": tmp_path / "journal"})
    app = make_app(
        settings,
        clock=lambda: toy_lab.now,
        responder="responder@corp.test",
        playbook_dirs=(tmp_path / "playbooks",),
    )
    async with app.run_test(size=(120, 40)) as pilot:
        await open_agent(pilot, AGENT)
        await settle(pilot)
        overview = shown(app, "#overview-text")
        assert "toy" in overview and AGENT in overview, overview
        creds = app.screen.query_one(CredentialsTable)
        rows = [" ".join(str(c) for c in creds.get_row_at(i)) for i in range(creds.row_count)]
        assert any("tk-1" in row and "api-key" in row for row in rows), rows
