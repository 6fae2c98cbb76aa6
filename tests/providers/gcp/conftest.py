"""A Google Cloud lab of its own for the GCP tests (no AWS emulator: moto is process-global),
plus official-client helpers: google-auth's key-file credentials and AuthorizedSession."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from google.auth.transport.requests import AuthorizedSession, Request
from google.oauth2 import service_account

from agent_ir.engine.executor import Tuning
from agent_ir.engine.inventory import Engine
from agent_ir.lab.gcp import GcpEmulator
from agent_ir.lab.runner import Lab
from agent_ir.lab.world import World, load_world_text
from agent_ir.providers.gcp.config import CLOUD_PLATFORM, GcpSettings

PROD = "corp-prod.iam.gserviceaccount.com"
AGENT = f"invoice-agent@{PROD}"
READER = f"finance-reader@{PROD}"
LEDGER = "ledger-admin@corp-data.iam.gserviceaccount.com"
POOL_MEMBER = (
    "principalSet://iam.googleapis.com/projects/482913570126/locations/global/"
    "workloadIdentityPools/aws-corp/attribute.aws_role/"
    "arn:aws:sts::111111111111:assumed-role/invoice-processor"
)
FAST = Tuning(backoff_s=0.05, max_backoff_s=0.2, verify_interval_s=0.02)

GCP_WORLD = f"""
version: 1
name: gcp-tests
description: The GCP side of the story, for the GCP adapter's own tests.
gcp:
  propagation_s: 0
  projects:
    - id: corp-prod
      number: "482913570126"
      bindings:
        - role: roles/owner
          members: ["user:bob@corp.test"]
        - role: roles/editor
          members: ["serviceAccount:{AGENT}"]
        - role: roles/viewer
          members: ["serviceAccount:{AGENT}", "serviceAccount:helper-agent-01@{PROD}"]
          condition:
            title: until-2030
            expression: request.time < timestamp("2030-01-01T00:00:00Z")
        - role: roles/logging.logWriter
          members: ["serviceAccount:{AGENT}", "serviceAccount:helper-agent-01@{PROD}"]
        - role: roles/storage.admin
          members: ["serviceAccount:gpt-scraper-bot@{PROD}"]
      service_accounts:
        - email: {AGENT}
          display_name: Invoice reconciliation agent
          description: "agent-ir:agent=invoice-agent agent-ir:owner=alice@corp.test"
          keys:
            - {{age_days: 430, last_used_days_ago: 1}}
            - {{age_days: 12, last_used_days_ago: 0, valid_days: 365}}
            - {{age_days: 40, disabled: true}}
            - {{age_days: 3, type: SYSTEM_MANAGED}}
          bindings:
            - role: roles/iam.serviceAccountTokenCreator
              members: ["user:alice@corp.test"]
        - email: {READER}
          display_name: Finance data reader
          bindings:
            - role: roles/iam.serviceAccountTokenCreator
              members: ["serviceAccount:{AGENT}", "group:finance-ops@corp.test"]
            - role: roles/iam.workloadIdentityUser
              members: ["{POOL_MEMBER}"]
        - email: gpt-scraper-bot@{PROD}
          keys:
            - {{age_days: 200, last_used_days_ago: 2}}
        - email: helper-agent-01@{PROD}
          description: "agent-ir:agent=helper-agent-01 agent-ir:owner=dan@corp.test"
        - email: helper-agent-02@{PROD}
          description: "agent-ir:agent=helper-agent-02 agent-ir:owner=erin@corp.test"
          keys:
            - {{age_days: 10, last_used_days_ago: 1}}
        - email: helper-agent-03@{PROD}
          description: "agent-ir:agent=helper-agent-03 agent-ir:owner=erin@corp.test"
          disabled: true
      workload_identity_pools:
        - id: aws-corp
          providers:
            - {{id: aws-111111111111, aws: {{account_id: "111111111111"}}}}
        - id: entra-corp
          disabled: true
          providers:
            - id: entra-tenant
              oidc: {{issuer_uri: "https://sts.windows.net/00000000-0000-0000-0000-000000000001/"}}
    - id: corp-data
      number: "731204958613"
      bindings:
        - role: roles/bigquery.dataViewer
          members: ["serviceAccount:{READER}"]
      service_accounts:
        - email: {LEDGER}
          display_name: Ledger admin
          bindings:
            - role: roles/iam.serviceAccountTokenCreator
              members: ["serviceAccount:{READER}"]
"""


@pytest.fixture(scope="session")
def gcp_world() -> World:
    """The world the GCP lab serves."""
    return load_world_text(GCP_WORLD, "tests/providers/gcp/conftest.py")


@pytest.fixture(scope="session")
def gcp_lab(gcp_world: World, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """A running lab with only the GCP emulator."""
    with Lab(gcp_world, tmp_path_factory.mktemp("gcp-lab")) as running:
        yield running


@pytest.fixture
def fresh_gcp(gcp_lab: Lab) -> Iterator[Lab]:
    """The GCP lab, reset to the world as seeded once the test is done."""
    yield gcp_lab
    gcp_lab.reset()


@pytest.fixture
def emulator(gcp_lab: Lab) -> GcpEmulator:
    """The running GCP emulator object (lab-only hooks and state)."""
    found = gcp_lab.emulators["gcp"]
    assert isinstance(found, GcpEmulator)
    return found


@pytest.fixture
def settings(gcp_lab: Lab) -> GcpSettings:
    """The adapter settings the lab wrote."""
    found = gcp_lab.settings.providers.gcp
    assert found is not None
    return found


@pytest.fixture
def engine(fresh_gcp: Lab, tmp_path: Path) -> Engine:
    """An engine on the GCP lab, journaling into the test's own folder."""
    return Engine(fresh_gcp.settings.model_copy(update={"journal_dir": tmp_path / "journal"}))


def http_session(settings: GcpSettings) -> requests.Session:
    """A requests session trusting the lab CA only (libraries.md §0)."""
    session = requests.Session()
    session.trust_env = False
    session.verify = str(settings.ca_bundle)
    return session


def key_credentials(path: Path) -> service_account.Credentials:
    """google-auth's own service-account credentials from a key file."""
    return service_account.Credentials.from_service_account_file(str(path), scopes=[CLOUD_PLATFORM])


def fetch_token(settings: GcpSettings, path: Path) -> str:
    """Let google-auth itself get an access token with a key file (raises RefreshError)."""
    creds = key_credentials(path)
    creds.refresh(Request(http_session(settings)))
    return str(creds.token)


class Official:
    """Independent reads and writes through google-auth's AuthorizedSession."""

    def __init__(self, settings: GcpSettings) -> None:
        assert settings.key_file is not None
        self.base = settings.iam_url
        self.session = AuthorizedSession(
            key_credentials(settings.key_file), auth_request=Request(http_session(settings))
        )
        self.session.trust_env = False
        self.session.verify = str(settings.ca_bundle)

    def get(self, path: str, **params: Any) -> requests.Response:
        return self.session.get(f"{self.base}/{path}", params=params)

    def post(
        self, path: str, body: dict[str, Any] | None = None, **params: Any
    ) -> requests.Response:
        return self.session.post(f"{self.base}/{path}", json=body or {}, params=params)

    def account(self, email: str) -> dict[str, Any]:
        return dict(self.get(f"v1/projects/-/serviceAccounts/{email}").json())

    def keys(self, email: str) -> dict[str, bool]:
        reply = self.get(f"v1/projects/-/serviceAccounts/{email}/keys", keyTypes="USER_MANAGED")
        return {
            k["name"].rsplit("/", 1)[-1]: bool(k.get("disabled"))
            for k in reply.json().get("keys", [])
        }

    def project_policy(self, project: str) -> dict[str, Any]:
        reply = self.post(
            f"v3/projects/{project}:getIamPolicy", {"options": {"requestedPolicyVersion": 3}}
        )
        return dict(reply.json())

    def account_policy(self, email: str) -> dict[str, Any]:
        reply = self.post(
            f"v1/projects/-/serviceAccounts/{email}:getIamPolicy",
            **{"options.requestedPolicyVersion": 3},
        )
        return dict(reply.json())

    def state(self) -> dict[str, Any]:
        """Every policy, account and key of the lab, normalised for comparison."""
        accounts = []
        for project in ("corp-prod", "corp-data"):
            token = ""
            while True:
                params = {"pageSize": 50, **({"pageToken": token} if token else {})}
                reply = self.get(f"v1/projects/{project}/serviceAccounts", **params).json()
                accounts += [a["email"] for a in reply.get("accounts", [])]
                token = reply.get("nextPageToken", "")
                if not token:
                    break
        return {
            "projects": {p: normalised(self.project_policy(p)) for p in ("corp-prod", "corp-data")},
            "accounts": {
                email: {
                    "disabled": bool(self.account(email).get("disabled")),
                    "keys": self.keys(email),
                    "policy": normalised(self.account_policy(email)),
                }
                for email in sorted(accounts)
            },
        }


def normalised(policy: dict[str, Any]) -> list[tuple[str, str, tuple[str, ...]]]:
    """A policy's bindings as comparable data (order of bindings and members ignored)."""
    import json

    return sorted(
        (b["role"], json.dumps(b.get("condition"), sort_keys=True), tuple(sorted(b["members"])))
        for b in policy.get("bindings", [])
    )


@pytest.fixture
def official(settings: GcpSettings) -> Official:
    """google-auth's AuthorizedSession as the responder."""
    return Official(settings)


AgentKey = Callable[[str], Path]


@pytest.fixture
def agent_key(emulator: GcpEmulator, tmp_path: Path) -> AgentKey:
    """Lab-only: the key file an account's owner holds (its first usable user-managed key)."""
    return lambda email: emulator.key_file(email, tmp_path)
