"""Shared fixtures: one lab for the whole test session (moto is process-global, and starting
and stopping it per test would be slow), plus helpers to reach it with official clients."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import botocore.session
import pytest
from botocore.config import Config

from agent_ir.lab.faults import FaultSpec, FaultState
from agent_ir.lab.runner import Lab
from agent_ir.lab.world import World, load_world_text

LAB_WORLD = """
version: 1
name: lab-tests
description: A small world for the lab's own tests.
inventory:
  - name: invoice-agent
    owner: alice@corp.test
    identities:
      - {provider: aws, id: "arn:aws:iam::111111111111:user/agents/invoice-agent"}
      - {provider: aws, id: "arn:aws:iam::111111111111:role/service/invoice-processor"}
aws:
  accounts:
    - id: "111111111111"
      alias: corp-prod
      managed_policies:
        - name: AgentBoundary
          description: The most any agent may do.
          document:
            Version: "2012-10-17"
            Statement:
              - {Effect: Allow, Action: ["s3:*", "sts:AssumeRole"], Resource: "*"}
        - name: TicketsRead
          document:
            Version: "2012-10-17"
            Statement:
              - {Effect: Allow, Action: "dynamodb:GetItem", Resource: "*"}
      users:
        - name: invoice-agent
          path: /agents/
          tags: {"agent-ir:agent": invoice-agent, "agent-ir:owner": alice@corp.test}
          permissions_boundary: AgentBoundary
          managed_policies: [TicketsRead, "arn:aws:iam::aws:policy/ReadOnlyAccess"]
          inline_policies:
            - name: assume-processor
              document:
                Version: "2012-10-17"
                Statement:
                  - {Effect: Allow, Action: "sts:AssumeRole", Resource: "*"}
          access_keys:
            - {age_days: 412, last_used_days_ago: 1, last_used_service: sts}
            - {age_days: 3, status: Inactive}
        - name: locked-out
          inline_policies:
            - name: deny-everything
              document:
                Version: "2012-10-17"
                Statement:
                  - {Effect: Deny, Action: "*", Resource: "*"}
        - name: alice
          tags: {team: finance}
      roles:
        - name: invoice-processor
          path: /service/
          tags: {"agent-ir:agent": invoice-agent}
          max_session_hours: 4
          last_used_days_ago: 2
          permissions_boundary: AgentBoundary
          managed_policies: ["arn:aws:iam::aws:policy/AdministratorAccess"]
          trust_policy:
            Version: "2012-10-17"
            Statement:
              - Effect: Allow
                Principal: {AWS: "arn:aws:iam::111111111111:user/agents/invoice-agent"}
                Action: sts:AssumeRole
          inline_policies:
            - name: read-finance
              document:
                Version: "2012-10-17"
                Statement:
                  - {Effect: Allow, Action: "s3:GetObject", Resource: "*"}
    - id: "222222222222"
      alias: corp-data
      users:
        - name: data-loader
          access_keys:
            - {age_days: 30}
      roles:
        - name: finance-data-reader
          trust_policy:
            Version: "2012-10-17"
            Statement:
              - Effect: Allow
                Principal: {AWS: "arn:aws:iam::111111111111:role/service/invoice-processor"}
                Action: sts:AssumeRole
"""


@pytest.fixture(scope="session", autouse=True)
def session_state(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The session's ``$XDG_STATE_HOME``, for what runs outside any one test (session
    fixtures, threads that outlive their test): never the real home."""
    state = tmp_path_factory.mktemp("xdg-state-session")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_STATE_HOME", str(state))
        yield state


@pytest.fixture(autouse=True)
def private_state(
    session_state: Path, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """Every test's own ``$XDG_STATE_HOME``: the default lab's state and the journals of
    anything run in-process or in a child process go there, never to the real home."""
    state = tmp_path_factory.mktemp("xdg-state")
    monkeypatch.setenv("XDG_STATE_HOME", str(state))
    return state


@pytest.fixture(scope="session")
def lab_world() -> World:
    """The world the session's lab serves."""
    return load_world_text(LAB_WORLD, "tests/conftest.py")


@pytest.fixture(scope="session")
def lab(lab_world: World, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """The session's running lab. Tests that change its state use ``fresh_lab`` instead."""
    with Lab(lab_world, tmp_path_factory.mktemp("lab")) as running:
        yield running


@pytest.fixture
def fresh_lab(lab: Lab) -> Iterator[Lab]:
    """The session's lab, reset to the world as seeded once the test is done."""
    yield lab
    lab.reset()


@pytest.fixture
def aws_faults(lab: Lab) -> Iterator[FaultState]:
    """The AWS emulator's live fault settings, cleared again after the test."""
    state = lab.faults["aws"]
    yield state
    state.update(FaultSpec())


@pytest.fixture(scope="session")
def aws_session(lab: Lab) -> boto3.Session:
    """A boto3 session using the responder's profile from the lab's written configuration."""
    aws = lab.settings.providers.aws
    assert aws is not None and aws.shared_credentials_file is not None
    core = botocore.session.Session()
    core.set_config_variable("credentials_file", str(aws.shared_credentials_file))
    core.set_config_variable("config_file", str(Path("/nonexistent/agent-ir/aws-config")))
    core.set_config_variable("profile", aws.profile)
    return boto3.Session(botocore_session=core, region_name=aws.region)


AwsClientFactory = Callable[..., Any]


@pytest.fixture(scope="session")
def aws_client(lab: Lab, aws_session: boto3.Session) -> AwsClientFactory:
    """Make a boto3 client for the lab: ``aws_client("iam", retries=..., credentials=...)``.

    ``credentials`` (a dict of ``aws_access_key_id`` etc.) replaces the responder's;
    other keyword arguments go to ``botocore.config.Config``.
    """
    aws = lab.settings.providers.aws
    assert aws is not None

    def make(service: str, credentials: dict[str, str] | None = None, **config: Any) -> Any:
        config.setdefault("retries", {"mode": "standard", "total_max_attempts": 1})
        return aws_session.client(
            service,  # type: ignore[call-overload]
            endpoint_url=aws.endpoint_url,
            verify=str(aws.ca_bundle),
            config=Config(**config),
            **(credentials or {}),
        )

    return make
