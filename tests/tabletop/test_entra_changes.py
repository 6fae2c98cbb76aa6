"""Entra changes mid-exercise, end to end on an Entra-only lab: the probe follows what each
change opens, contain-agent (through the engine) cuts it, and the probe sees it closed.
Federated credentials are followed from the principals earlier providers reached."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from agent_ir.engine.executor import Status, Tuning
from agent_ir.engine.incident import Who, execute, plan_for
from agent_ir.engine.inventory import Engine, Inventory
from agent_ir.errors import LabError
from agent_ir.lab.runner import Lab
from agent_ir.model import LinkSource
from agent_ir.playbook.loader import find_playbook, load_playbook
from agent_ir.tabletop.inject import apply_change
from agent_ir.tabletop.model import NewConsent, SpawnSubAgent
from agent_ir.tabletop.probe import PathResult, Probe
from agent_ir.tabletop.probe_entra import EntraProbe
from tests.tabletop.section_lab import AWS_ROLE, section_world

AGENT = "invoice-agent"
BLUEPRINT = "invoice-agent-blueprint"
SECRET_PATH = f"client secret invoice-agent-prod of {BLUEPRINT} → Graph token"
EXCHANGE_PATH = (
    f"blueprint {BLUEPRINT} (secret invoice-agent-prod) → exchange token → Graph token as "
    "agent identity {}"
)
FEDERATED_PATH = (
    f"federated credential aws-invoice-processor of {BLUEPRINT} (trusts {AWS_ROLE}) → "
    f"Graph token as {BLUEPRINT}"
)
FAST = Tuning(backoff_s=0.05, max_backoff_s=0.2, verify_interval_s=0.03)
WHO = Who(responder="tester", reason="entra tabletop test")
DENY_ALL = """\
name: entra-deny-all
description: remove every Entra grant of the agent, nothing else
version: 1
steps:
  - {id: deny-all, action: deny-all, scope: own, providers: [entra]}
"""

pytestmark = pytest.mark.asyncio(loop_scope="session")


@dataclass
class Armed:
    """An engine on the lab, the inventory it found and the probe armed from it."""

    lab: Lab
    engine: Engine
    inventory: Inventory
    probe: Probe

    @property
    def entra(self) -> EntraProbe:
        part = self.probe.parts["entra"]
        assert isinstance(part, EntraProbe)
        return part

    def check(self, reached: set[str] | None = None) -> dict[str, PathResult]:
        """The Entra paths by name (``reached``: principals earlier providers reached)."""
        results = self.entra.check(reached or set())
        by_path = {r.path: r for r in results}
        assert len(by_path) == len(results), [r.path for r in results]
        return by_path

    async def contain(self, playbook: Any | None = None) -> list[str]:
        """Run a playbook (contain-agent by default) on the agent through the engine; the
        targets of its steps."""
        chosen = playbook or load_playbook(find_playbook("contain-agent", []))
        plan = await plan_for(self.engine, AGENT, chosen, {})
        outcome = await execute(self.engine, plan, WHO, tuning=FAST)
        assert {r.status for r in outcome.results} == {Status.VERIFIED}, outcome.to_json()
        return [s.target_label for s in plan.steps]


ENTRA_LIMITS = {"replication_delay_ms": 40}
"""A short replication delay, so the tests do not wait long for Graph's replicas."""


@pytest.fixture(scope="module")
def entra_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    with Lab(
        section_world("entra", entra={"limits": ENTRA_LIMITS}),
        tmp_path_factory.mktemp("entra-tabletop"),
    ) as running:
        assert set(running.emulators) == {"entra"}
        yield running


@pytest.fixture
async def armed(entra_lab: Lab, tmp_path: Path) -> AsyncIterator[Armed]:
    settings = entra_lab.settings.model_copy(update={"journal_dir": tmp_path / "journal"})
    engine = Engine(settings)
    try:
        inventory = await engine.inventory()
        probe = Probe(entra_lab, tmp_path)
        probe.arm(inventory, AGENT)
        yield Armed(entra_lab, engine, inventory, probe)
    finally:
        await engine.aclose()
        entra_lab.reset()


def _works(results: dict[str, PathResult], path: str) -> bool:
    assert path in results, sorted(results)
    return results[path].works


async def test_the_armed_probe_follows_secret_and_agent_identity_paths(armed: Armed) -> None:
    results = armed.check()
    secret = results[SECRET_PATH]
    assert secret.works and secret.principal == armed.entra.secrets[0].client_id
    agent = results[EXCHANGE_PATH.format(AGENT)]
    invoice = next(i for i in armed.inventory.agent(AGENT).identities if i.name == AGENT)
    assert agent.works and agent.principal == invoice.id
    assert not any(r.works for r in results.values() if r.path.endswith("with role"))


async def test_a_new_consent_is_followed_to_its_role_and_removing_the_grant_closes_it(
    armed: Armed, tmp_path: Path
) -> None:
    consent = NewConsent.model_validate(
        {"kind": "change", "at": 30, "change": "new-consent", "provider": "entra"}
        | {"app": BLUEPRINT, "scope": "User.Read.All"}
    )
    line = apply_change(armed.lab, armed.inventory, armed.probe, consent)
    assert "User.Read.All" in line and "appRoleAssignment" in line and "no credential" not in line
    for_agent = NewConsent.model_validate(
        {"kind": "change", "at": 40, "change": "new-consent", "provider": "entra"}
        | {"app": AGENT, "scope": "Mail.Read", "text": "the agent grants itself Mail.Read"}
    )
    line = apply_change(armed.lab, armed.inventory, armed.probe, for_agent)
    assert line.startswith("the agent grants itself Mail.Read (appRoleAssignment ")

    results = armed.check()
    assert _works(results, SECRET_PATH)
    assert _works(results, f"{SECRET_PATH} with role User.Read.All")
    assert _works(results, EXCHANGE_PATH.format(AGENT) + " with role Mail.Read")

    # Removing the grants alone closes the role paths while the secret still works.
    playbook = tmp_path / "deny-all.yaml"
    playbook.write_text(DENY_ALL)
    await armed.contain(load_playbook(playbook))
    results = armed.check()
    assert _works(results, SECRET_PATH)
    role_path = results[f"{SECRET_PATH} with role User.Read.All"]
    assert not role_path.works and "lacks User.Read.All" in role_path.detail
    assert not _works(results, EXCHANGE_PATH.format(AGENT) + " with role Mail.Read")

    await armed.contain()
    results = armed.check()
    assert not [r.path for r in results.values() if r.works]


async def test_a_spawned_agent_identity_is_held_attributed_and_cut(armed: Armed) -> None:
    spawn = SpawnSubAgent.model_validate(
        {"kind": "change", "at": 60, "change": "spawn-sub-agent", "provider": "entra"}
        | {"name": "ledger-worker"}
    )
    line = apply_change(armed.lab, armed.inventory, armed.probe, spawn)
    assert line.startswith(
        f"the attacker creates the agent identity ledger-worker from blueprint {BLUEPRINT}"
    )
    spawned = next(a for a in armed.entra.agents if a.name == "ledger-worker")

    results = armed.check()
    path = results[EXCHANGE_PATH.format("ledger-worker")]
    assert path.works and path.principal == spawned.object_id

    # Discovery attributes it to the agent through its blueprint's tag, not by its name.
    inventory = await armed.engine.inventory()
    link = next(
        link for link in inventory.agent(AGENT).links if link.identity.id == spawned.object_id
    )
    assert link.source is LinkSource.TAG and link.identity.kind == "agent-identity"
    assert link.identity.owner == "alice@corp.test"

    targets = await armed.contain()
    assert "agent-identity ledger-worker" in targets
    results = armed.check()
    assert not results[EXCHANGE_PATH.format("ledger-worker")].works
    assert not [r.path for r in results.values() if r.works]


async def test_a_spawn_needs_a_blueprint_credential_the_attacker_holds(armed: Armed) -> None:
    spawn = SpawnSubAgent.model_validate(
        {"kind": "change", "at": 60, "change": "spawn-sub-agent", "provider": "entra"}
        | {"name": "fleet-worker", "parent": "support-fleet-blueprint"}
    )
    with pytest.raises(LabError, match="holds no client secret of the blueprint"):
        apply_change(armed.lab, armed.inventory, armed.probe, spawn)
    unknown = NewConsent.model_validate(
        {"kind": "change", "at": 30, "change": "new-consent", "provider": "entra"}
        | {"app": "no-such-app", "scope": "User.Read.All"}
    )
    with pytest.raises(LabError, match="no service principal named 'no-such-app'"):
        apply_change(armed.lab, armed.inventory, armed.probe, unknown)


async def test_the_federated_path_follows_the_reached_aws_role(armed: Armed) -> None:
    alone = armed.check()[FEDERATED_PATH]
    assert not alone.works and "no working path to the trusted principal" in alone.detail

    followed = armed.check({AWS_ROLE})[FEDERATED_PATH]
    assert followed.works and followed.principal == armed.entra.secrets[0].client_id
    assert "lab's stand-in for https://" in followed.detail
    other = armed.check({"arn:aws:iam::111111111111:role/someone-else"})[FEDERATED_PATH]
    assert not other.works

    await armed.contain()
    after = armed.check({AWS_ROLE})[FEDERATED_PATH]
    assert not after.works and "AADSTS" in after.detail
    assert "lab's stand-in" in after.detail
