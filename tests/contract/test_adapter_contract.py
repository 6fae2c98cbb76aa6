"""The adapter contract, as behaviour, for every registered provider (the four built in and
the toy one from the test tree): throttling honoured, a provider that resets every
connection reported as unavailable with the cause kept, and one representative action's
read → apply → verify → restore round trip through the engine, idempotent on a second
apply. One lab per provider, shared by its tests; faults come from the lab's FaultSpec.

Also: each provider's way to break the responder's credentials (a wrong secret or key) is
an authentication error, exit 5, with nothing secret said; and a provider slower than the
adapter's deadline is unavailable with the timeout kept as the cause. Those run on a
single-provider copy of the lab's configuration, written beside the test.

Representative actions (all actions would make this too slow on a loaded machine):
disable-credentials everywhere but Entra, where disable-identity (a client secret cannot be
put back once removed)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from agent_ir.engine.inventory import Engine
from agent_ir.errors import AuthenticationError, ProviderError, ProviderUnavailable
from agent_ir.exit_codes import for_error as exit_code_for
from agent_ir.lab.faults import FaultSpec
from agent_ir.lab.runner import Lab
from agent_ir.lab.world import load_world_text
from agent_ir.providers import registry
from agent_ir.settings import load_settings
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


async def _discover(case: Case, config: Path | None = None) -> Any:
    settings = case.lab.settings if config is None else load_settings(config)
    engine = Engine(settings)
    try:
        async for name, found in engine.discover_each(only=[case.provider]):
            assert name == case.provider
            return found
    finally:
        await engine.aclose()
    raise AssertionError("no discovery result")


async def test_a_429_with_retry_after_is_waited_out(clean: Case) -> None:
    prefix = API_PREFIX.get(clean.provider, "")
    report = clean.lab.faults[clean.provider]
    throttle = next(f for f in report.counts if f.value == "throttle")
    before = report.counts[throttle]  # the session's AWS lab counts every module's faults
    clean.faults(FaultSpec(throttle_rate=1, retry_after_s=1, max_faults=1, path_prefix=prefix))
    found = await _discover(clean)
    assert not isinstance(found, ProviderError), found
    assert found.identities
    assert report.counts[throttle] - before == 1


async def test_a_provider_that_resets_every_connection_is_unavailable_with_the_cause(
    clean: Case,
) -> None:
    clean.faults(FaultSpec(reset_rate=1))
    found = await _discover(clean)
    assert isinstance(found, ProviderUnavailable), found
    assert found.provider == clean.provider
    assert len(_chain(found)) > 1, "the library's error is not kept as the cause"


def _chain(error: BaseException) -> list[BaseException]:
    """The error and its causes, outermost first."""
    chain = []
    cause: BaseException | None = error
    while cause is not None and cause not in chain:
        chain.append(cause)
        cause = cause.__cause__ or cause.__context__
    return chain


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


# -- a single-provider configuration, bent one way -----------------------------------------

CANARY = "CANARY-wrong-secret-5d1c0b7e"
CREDENTIAL_KEY = {
    "aws": "shared_credentials_file",
    "entra": "client_secret_file",
    "gcp": "key_file",
    "okta": "private_key_file",
    "toy": "api_key_file",
}
"""The setting naming the file that holds each provider's responder credential."""
ONE_ATTEMPT = {"okta": {"max_retries": 0}}
"""How each provider is told to try once (default: ``max_attempts: 1``)."""
API_PATHS = {"entra": "/v1.0/", "gcp": "/v1/", "okta": "/api/v1/", "toy": "/v1/"}
"""Request paths of each provider's API (not its sign-in), where a slow answer is put."""


def _config(case: Case, tmp: Path, **overrides: Any) -> Path:
    """A configuration naming only ``case``'s provider, as the lab wrote it but for
    ``overrides``; the lab's files are named by absolute path."""
    written = yaml.safe_load(case.lab.config_path.read_text(encoding="utf-8"))
    section: dict[str, Any] = {}
    for key, value in written["providers"][case.provider].items():
        there = case.lab.directory / value if isinstance(value, str) else None
        section[key] = str(there) if there is not None and there.is_file() else value
    document = {
        "name": "contract",
        "lab": True,
        "journal_dir": str(tmp / "journal"),
        "providers": {case.provider: {**section, **overrides}},
    }
    path = tmp / "agent-ir.yaml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    return path


def _new_private_key() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return pem.decode()


def _wrong_credential(case: Case) -> tuple[str, str]:
    """The responder's credential file with a wrong secret or key in it (everything else
    as the lab wrote it), and a piece of that secret no output may show."""
    name = case.provider
    written = yaml.safe_load(case.lab.config_path.read_text(encoding="utf-8"))
    right = case.lab.directory / written["providers"][name][CREDENTIAL_KEY[name]]
    if name == "aws":
        lines = right.read_text().splitlines()
        return "\n".join(
            f"aws_secret_access_key = {CANARY}" if line.startswith("aws_secret") else line
            for line in lines
        ) + "\n", CANARY
    if name in ("gcp", "okta"):
        pem = _new_private_key()
        piece = pem.splitlines()[5]
        if name == "okta":
            return pem, piece
        data = json.loads(right.read_text())
        return json.dumps({**data, "private_key": pem}), piece
    return CANARY + "\n", CANARY


def test_wrong_credentials_are_an_authentication_error_that_says_nothing_secret(
    clean: Case, tmp_path: Path
) -> None:
    text, secret = _wrong_credential(clean)
    wrong = tmp_path / "wrong-credential"
    wrong.write_text(text, encoding="utf-8")
    wrong.chmod(0o600)
    config = _config(clean, tmp_path, **{CREDENTIAL_KEY[clean.provider]: str(wrong)})

    found = asyncio.run(_discover(clean, config))
    assert isinstance(found, AuthenticationError), repr(found)
    assert found.provider == clean.provider
    assert secret not in str(found)

    result = run(["--config", str(config), "inventory", "--output", "json"])
    assert result.code == exit_code_for(found) == 5, (result.code, result.err)
    assert clean.provider in result.err
    assert secret not in result.out + result.err


def test_a_provider_slower_than_the_deadline_is_unavailable_with_the_timeout_as_cause(
    clean: Case, tmp_path: Path
) -> None:
    tries = ONE_ATTEMPT.get(clean.provider, {"max_attempts": 1})
    config = _config(clean, tmp_path, timeout_s=0.5, **tries)
    clean.faults(FaultSpec(latency_ms=5_000, path_prefix=API_PATHS.get(clean.provider, "")))

    found = asyncio.run(_discover(clean, config))
    assert isinstance(found, ProviderUnavailable), repr(found)
    causes = [type(c).__name__ for c in _chain(found)[1:]]
    assert any("timeout" in c.lower() for c in causes), causes


# -- paging ---------------------------------------------------------------------------------

PAGED = {
    "entra": ("GET", "/v1.0/servicePrincipals"),
    "gcp": ("GET", "/serviceAccounts"),
    "okta": ("GET", "/api/v1/apps"),
    "toy": ("GET", "/v1/agents"),
}
"""The listing each provider's paging is counted on: method and path (its end)."""
SMALL_PAGE = {"toy": {}, "okta": {"page_size": 3}}
"""The settings that make each provider's pages small (default: ``page_size: 1``; the
toy's world serves one agent a page)."""


class _Counted:
    """The emulator app, counting the requests of one listing as they pass."""

    def __init__(self, app: Any, method: str, path: str) -> None:
        self.app, self.method, self.path = app, method, path
        self.pages = 0

    def __call__(self, request: Any) -> Any:
        if request.method == self.method and request.path.endswith(self.path):
            self.pages += 1
        return self.app(request)


def test_discovery_reads_every_page(clean: Case, tmp_path: Path) -> None:
    if clean.provider not in PAGED:
        pytest.skip(f"{clean.provider}'s emulator serves its listings whole (no paging)")
    whole = asyncio.run(_discover(clean))
    assert not isinstance(whole, ProviderError), whole
    config = _config(clean, tmp_path, **SMALL_PAGE.get(clean.provider, {"page_size": 1}))
    server = clean.lab.emulators[clean.provider].server  # type: ignore[attr-defined]
    counted = _Counted(server.app, *PAGED[clean.provider])
    server.app = counted
    try:
        paged = asyncio.run(_discover(clean, config))
    finally:
        server.app = counted.app
    assert not isinstance(paged, ProviderError), paged
    assert counted.pages >= 2, counted.pages
    assert {i.id for i in paged.identities} == {i.id for i in whole.identities}


def test_debug_shows_the_library_error_under_a_provider_failure(
    clean: Case, tmp_path: Path
) -> None:
    if clean.provider != "aws":
        pytest.skip("one provider's library error is enough to show --debug's cause chain")
    text, secret = _wrong_credential(clean)
    wrong = tmp_path / "wrong-credential"
    wrong.write_text(text, encoding="utf-8")
    wrong.chmod(0o600)
    config = _config(clean, tmp_path, **{CREDENTIAL_KEY[clean.provider]: str(wrong)})

    plain = run(["--config", str(config), "inventory"])
    debug = run(["--config", str(config), "--debug", "inventory"])
    assert plain.code == debug.code == 5, (plain.err, debug.err)
    assert "botocore" not in plain.err, plain.err
    assert "caused by botocore.exceptions.ClientError" in debug.err, debug.err
    assert secret not in debug.out + debug.err
