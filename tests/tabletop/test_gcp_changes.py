"""GCP changes an attacker makes mid-exercise, and the probe following impersonation and
federation chains, on a lab of its own: the default world's ``gcp`` section only (no AWS)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from google.auth import aws, impersonated_credentials
from google.auth.exceptions import GoogleAuthError, RefreshError
from google.auth.transport.requests import Request
from google.oauth2 import service_account
from pydantic import TypeAdapter

from agent_ir.engine.incident import Who, execute, plan_for
from agent_ir.engine.inventory import Engine
from agent_ir.lab.gcp import GcpEmulator
from agent_ir.lab.runner import Lab
from agent_ir.playbook.loader import find_playbook, load_playbook
from agent_ir.providers.gcp.config import CLOUD_PLATFORM, GcpSettings
from agent_ir.tabletop.inject import apply_change
from agent_ir.tabletop.model import Change, ChangeInject
from agent_ir.tabletop.probe import PathResult, Probe
from tests.engine.helpers import FAST
from tests.tabletop.section_lab import section_world

ROOT = Path(__file__).resolve().parents[2]
PROD = "corp-prod.iam.gserviceaccount.com"
AGENT = f"invoice-agent@{PROD}"
READER = f"finance-reader@{PROD}"
SUPPORT = f"support-agent-01@{PROD}"
BUILD = f"build-agent-02@{PROD}"
ROLE_ARN = "arn:aws:iam::111111111111:role/invoice-processor"
CREATOR = "roles/iam.serviceAccountTokenCreator"
WIF_PATH = (
    "AWS role invoice-processor → workload identity pool aws-corp → service account finance-reader"
)
WHO = Who(responder="tester", reason="gcp tabletop test")


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    with Lab(
        section_world("gcp", gcp={"propagation_s": 0}), tmp_path_factory.mktemp("gcp-tabletop")
    ) as running:
        yield running


@pytest.fixture
def fresh(lab: Lab) -> Iterator[Lab]:
    yield lab
    lab.reset()


@pytest.fixture
def settings(lab: Lab) -> GcpSettings:
    found = lab.settings.providers.gcp
    assert found is not None
    return found


@pytest.fixture
def engine(fresh: Lab, tmp_path: Path) -> Engine:
    return Engine(fresh.settings.model_copy(update={"journal_dir": tmp_path / "journal"}))


def _http(settings: GcpSettings) -> requests.Session:
    session = requests.Session()
    session.trust_env = False
    session.verify = str(settings.ca_bundle)
    return session


def _change(**fields: Any) -> Change:
    found: Change = TypeAdapter(ChangeInject).validate_python(
        {"kind": "change", "at": 60, **fields}
    )
    return found


async def _armed(engine: Engine, lab: Lab, workdir: Path) -> tuple[Probe, Any]:
    inventory = await engine.inventory()
    probe = Probe(lab, workdir)
    probe.arm(inventory, "invoice-agent")
    return probe, inventory


def _one(results: list[PathResult], path: str) -> PathResult:
    found = [r for r in results if r.path == path]
    assert len(found) == 1, [r.path for r in results]
    return found[0]


async def _contain(engine: Engine) -> None:
    plan = await plan_for(
        engine, "invoice-agent", load_playbook(find_playbook("contain-agent")), {}
    )
    outcome = await execute(engine, plan, WHO, tuning=FAST)
    assert outcome.incident


def test_generate_access_token_through_google_auth(
    fresh: Lab, settings: GcpSettings, tmp_path: Path
) -> None:
    emulator = fresh.emulators["gcp"]
    assert isinstance(emulator, GcpEmulator)
    source = service_account.Credentials.from_service_account_file(
        str(emulator.key_file(AGENT, tmp_path)), scopes=[CLOUD_PLATFORM]
    )
    base = f"{settings.credentials_url}/v1/projects/-/serviceAccounts"

    def impersonate(target: str) -> str:
        creds = impersonated_credentials.Credentials(
            source_credentials=source,
            target_principal=target,
            target_scopes=[CLOUD_PLATFORM],
            iam_endpoint_override=f"{base}/{target}:generateAccessToken",
        )
        creds.refresh(Request(_http(settings)))
        return str(creds.token)

    token = impersonate(READER)
    probe_url = f"{settings.resource_manager_url}/v3/projects/corp-prod:testIamPermissions"

    def usable(bearer: str) -> int:
        reply = _http(settings).post(
            probe_url,
            json={"permissions": ["resourcemanager.projects.get"]},
            headers={"Authorization": f"Bearer {bearer}"},
        )
        return reply.status_code

    assert usable(token) == 200
    with pytest.raises(RefreshError) as denied:
        impersonate(SUPPORT)
    error = json.loads(denied.value.args[1])["error"]
    assert error["status"] == "PERMISSION_DENIED" and error["message"] == (
        "Permission 'iam.serviceAccounts.getAccessToken' denied on resource (or it may not exist)."
    )
    with emulator.api.lock:
        emulator.state.accounts[READER].disabled = True
    assert usable(token) == 401
    with pytest.raises(RefreshError, match="disabled"):
        impersonate(READER)


async def test_a_new_binding_opens_a_chain_that_contain_agent_closes(
    engine: Engine, fresh: Lab, settings: GcpSettings, tmp_path: Path
) -> None:
    try:
        probe, inventory = await _armed(engine, fresh, tmp_path)
        direct = f"service account invoice-agent → impersonate {SUPPORT.partition('@')[0]}"
        two_hops = "service account invoice-agent → impersonate finance-reader → impersonate build-agent-02"
        before = probe.check()
        assert _one(before, "service account invoice-agent → impersonate finance-reader").works
        assert not any(r.path in (direct, two_hops) for r in before)

        line = apply_change(
            fresh,
            inventory,
            probe,
            _change(
                change="new-binding",
                provider="gcp",
                member=f"serviceAccount:{AGENT}",
                role=CREATOR,
                resource=SUPPORT,
            ),
        )
        assert f"impersonate {SUPPORT}" in line and "BEGIN" not in line
        apply_change(
            fresh,
            inventory,
            probe,
            _change(
                change="new-binding",
                provider="gcp",
                member=f"serviceAccount:{READER}",
                role=CREATOR,
                resource=BUILD,
            ),
        )
        policy = (
            _http(settings)
            .post(
                f"{settings.iam_url}/v1/projects/-/serviceAccounts/{SUPPORT}:getIamPolicy",
                headers={"Authorization": f"Bearer {_responder_token(settings)}"},
            )
            .json()
        )
        assert {"role": CREATOR, "members": [f"serviceAccount:{AGENT}"]} in policy["bindings"]

        after = probe.check()
        opened = _one(after, direct)
        assert opened.works and opened.decided_by == "behaviour" and opened.principal == SUPPORT
        chained = _one(after, two_hops)
        assert chained.works and chained.principal == BUILD

        await _contain(engine)
        final = probe.check()
        assert not _one(final, direct).works and not _one(final, two_hops).works
        assert [r.path for r in final if r.works] == []
    finally:
        await engine.aclose()


async def test_a_spawned_sub_agent_is_held_found_and_cut(
    engine: Engine, fresh: Lab, tmp_path: Path
) -> None:
    try:
        probe, inventory = await _armed(engine, fresh, tmp_path)
        line = apply_change(
            fresh,
            inventory,
            probe,
            _change(change="spawn-sub-agent", provider="gcp", name="invoice-agent-worker"),
        )
        email = f"invoice-agent-worker@{PROD}"
        assert email in line and "does not tie" not in line and "PRIVATE" not in line
        key = next(k for k in probe.parts["gcp"].keys if k.email == email)  # type: ignore[attr-defined]
        assert oct(key.path.stat().st_mode & 0o777) == "0o600"
        path = f"key {key.key_id[:8]}… of service account invoice-agent-worker → access token"
        assert _one(probe.check(), path).works

        found = (await engine.inventory()).agent("invoice-agent")
        assert email in {i.id for i in found.identities}
        await _contain(engine)
        assert not _one(probe.check(), path).works
        assert [r.path for r in probe.check() if r.works] == []
    finally:
        await engine.aclose()


async def test_federation_from_an_aws_role_is_decided_by_state(
    engine: Engine, fresh: Lab, settings: GcpSettings, tmp_path: Path
) -> None:
    try:
        probe, _ = await _armed(engine, fresh, tmp_path)
        part = probe.parts["gcp"]
        assert not any(r.path == WIF_PATH for r in part.check(set()))
        works = _one(part.check({ROLE_ARN}), WIF_PATH)
        assert works.works and works.decided_by == "state" and works.principal == READER
        assert "cannot replay the exchange (no AWS in it)" in works.detail
        unreached = _one(part.check(set()), WIF_PATH)
        assert not unreached.works and unreached.decided_by == "state"
        other = part.check({"arn:aws:iam::111111111111:role/someone-else"})
        assert not _one(other, WIF_PATH).works

        emulator = fresh.emulators["gcp"]
        assert isinstance(emulator, GcpEmulator)
        with emulator.api.lock:
            emulator.state.accounts[READER].disabled = True
        closed = _one(part.check({ROLE_ARN}), WIF_PATH)
        assert not closed.works and "disabled" in closed.detail
    finally:
        await engine.aclose()


class _Fake(aws.AwsSecurityCredentialsSupplier):
    """AWS credentials that sign a request; no AWS lab exists to check them."""

    def get_aws_security_credentials(self, context: Any, request: Any) -> Any:
        return aws.AwsSecurityCredentials("AKIAEXAMPLEEXAMPLE00", "not-a-secret", None)

    def get_aws_region(self, context: Any, request: Any) -> str:
        return "us-east-1"


def test_token_exchange_without_aws_in_the_lab_is_refused(
    fresh: Lab, settings: GcpSettings
) -> None:
    emulator = fresh.emulators["gcp"]
    assert isinstance(emulator, GcpEmulator)
    pool = "//iam.googleapis.com/projects/482913570126/locations/global/workloadIdentityPools"
    creds = aws.Credentials(
        audience=f"{pool}/aws-corp/providers/aws-111111111111",
        subject_token_type="urn:ietf:params:aws:token-type:aws4_request",
        token_url=emulator.sts_url,
        aws_security_credentials_supplier=_Fake(),
    )
    with pytest.raises(GoogleAuthError, match=r"invalid_grant.*no AWS endpoint"):
        creds.refresh(Request(_http(settings)))
    unknown = aws.Credentials(
        audience=f"{pool}/aws-corp/providers/nope-provider",
        subject_token_type="urn:ietf:params:aws:token-type:aws4_request",
        token_url=emulator.sts_url,
        aws_security_credentials_supplier=_Fake(),
    )
    with pytest.raises(GoogleAuthError, match="invalid_target"):
        unknown.refresh(Request(_http(settings)))


def _responder_token(settings: GcpSettings) -> str:
    assert settings.key_file is not None
    creds = service_account.Credentials.from_service_account_file(
        str(settings.key_file), scopes=[CLOUD_PLATFORM]
    )
    creds.refresh(Request(_http(settings)))
    return str(creds.token)
