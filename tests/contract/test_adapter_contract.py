"""The adapter contract, as behaviour, for every registered provider (the four built in and
the toy one from the test tree): throttling honoured, a provider that resets every
connection reported as unavailable with the cause kept, and one representative action's
read → apply → verify → restore round trip through the engine, idempotent on a second
apply. One lab per provider, shared by its tests; faults come from the lab's FaultSpec.

Representative actions (all actions would make this too slow on a loaded machine):
disable-credentials everywhere but Entra, where disable-identity (a client secret cannot be
put back once removed)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from agent_ir.engine.inventory import Engine
from agent_ir.errors import ProviderError, ProviderUnavailable
from agent_ir.lab.faults import FaultSpec
from agent_ir.lab.runner import Lab
from agent_ir.lab.world import load_world_text
from agent_ir.providers import registry
from tests.inproc import run
from tests.plugins.toyidp.install import registered
from tests.tabletop.section_lab import section_world

AGENT = "invoice-agent"
ACTION = {"entra": "disable-identity"}
AGENTS = {"okta": "support-agent-05"}
"""The agent whose credentials each provider's round trip disables (invoice-agent's Okta
app has one key, and Okta cannot deactivate an app's only active credential)."""
API_PREFIX = {"entra": "/v1.0/"}
"""Where a provider's throttling is tested, when not everywhere: MSAL gives up on a 429
from the authority's metadata (a sign-in, not an API call), so Entra's is Graph's."""
TOY_WORLD = """
version: 1
name: toy-contract
toy:
  page_size: 1
  agents:
    - {name: invoice-agent, tags: {"agent-ir:agent": invoice-agent}, keys: [{id: k-1}]}
    - {name: other-agent, keys: [{id: k-2}]}
"""

with registered():
    PROVIDERS = registry.names()


@pytest.fixture(scope="module", autouse=True)
def toy_installed() -> Iterator[None]:
    """The toy provider's entry points visible for the module."""
    with registered():
        yield


@dataclass
class Case:
    """One provider's lab, as the contract tests use it."""

    provider: str
    lab: Lab

    @property
    def config(self) -> list[str]:
        return ["--config", str(self.lab.config_path)]

    def faults(self, spec: FaultSpec) -> None:
        self.lab.faults[self.provider].update(spec)


@pytest.fixture(scope="module", params=PROVIDERS)
def case(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Case]:
    """A lab serving one provider (AWS: the session's lab, moto being one per process)."""
    name: str = request.param
    if name == "aws":
        lab: Lab = request.getfixturevalue("lab")
        yield Case(name, lab)
        lab.reset()
        return
    world = load_world_text(TOY_WORLD) if name == "toy" else section_world(name)
    with Lab(world, tmp_path_factory.mktemp(f"contract-{name}")) as started:
        yield Case(name, started)


@pytest.fixture
def clean(case: Case) -> Iterator[Case]:
    """The case with no faults, and none left behind."""
    case.faults(FaultSpec())
    yield case
    case.faults(FaultSpec())


async def _discover(case: Case) -> Any:
    engine = Engine(case.lab.settings)
    try:
        async for name, found in engine.discover_each(only=[case.provider]):
            assert name == case.provider
            return found
    finally:
        await engine.aclose()
    raise AssertionError("no discovery result")


async def test_a_429_with_retry_after_is_waited_out(clean: Case) -> None:
    prefix = API_PREFIX.get(clean.provider, "")
    clean.faults(FaultSpec(throttle_rate=1, retry_after_s=1, max_faults=1, path_prefix=prefix))
    found = await _discover(clean)
    assert not isinstance(found, ProviderError), found
    assert found.identities
    report = clean.lab.faults[clean.provider]
    assert report.counts[next(f for f in report.counts if f.value == "throttle")] == 1


async def test_a_provider_that_resets_every_connection_is_unavailable_with_the_cause(
    clean: Case,
) -> None:
    clean.faults(FaultSpec(reset_rate=1))
    found = await _discover(clean)
    assert isinstance(found, ProviderUnavailable), found
    assert found.provider == clean.provider
    chain = []
    cause: BaseException | None = found
    while cause is not None:
        chain.append(cause)
        cause = cause.__cause__ or cause.__context__
    assert len(chain) > 1, "the library's error is not kept as the cause"


def _playbook(tmp: Path, case: Case) -> Path:
    action = ACTION.get(case.provider, "disable-credentials")
    path = tmp / "one.yaml"
    path.write_text(
        f"name: one\nsteps:\n  - id: one\n    action: {action}\n    providers: [{case.provider}]\n"
    )
    return path


def _run(case: Case, playbook: Path) -> Any:
    result = run(
        [
            *case.config,
            "run",
            str(playbook),
            "--agent",
            AGENTS.get(case.provider, AGENT),
            "--reason",
            "contract",
            "--yes",
            "--output",
            "json",
        ]
    )
    assert result.code == 0, result.err
    return result.json()


def test_round_trip_and_idempotence(clean: Case, tmp_path: Path) -> None:
    playbook = _playbook(tmp_path, clean)
    first = _run(clean, playbook)
    statuses = {s["status"] for s in first["steps"]}
    assert first["steps"] and statuses == {"verified"}, first["steps"]
    again = _run(clean, playbook)
    assert {s["status"] for s in again["steps"]} <= {"already"}, again["steps"]

    undo = run([*clean.config, "restore", first["incident"], "--yes", "--force", "-o", "json"])
    assert undo.code == 0, undo.err
    assert {s["status"] for s in undo.json()["steps"]} == {"verified"}, undo.json()["steps"]
    third = _run(clean, playbook)
    assert {s["status"] for s in third["steps"]} == {"verified"}, third["steps"]
    clean.lab.reset()


async def test_toy_discovery_reads_every_page(clean: Case) -> None:
    if clean.provider != "toy":
        pytest.skip("paging is checked per provider in its own tests")
    found = await _discover(clean)
    assert not isinstance(found, ProviderError)
    assert {i.name for i in found.identities} == {"invoice-agent", "other-agent"}
