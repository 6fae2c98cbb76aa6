"""The lab runner: written files, configuration, secrets, lifecycle."""

from __future__ import annotations

import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest

from agent_ir.errors import LabError
from agent_ir.lab.aws import AwsEmulator
from agent_ir.lab.runner import Lab
from agent_ir.lab.tls import create_lab_tls
from agent_ir.lab.world import World, load_world_text
from agent_ir.settings import load_settings


def test_config_validates_and_points_at_the_lab(lab: Lab, lab_world: World) -> None:
    settings = load_settings(lab.config_path)
    assert settings.name == "lab"
    assert settings.lab is True
    assert settings.lab_control == {"aws": lab.endpoints["aws"] + "/_lab"}
    assert settings.inventory == lab_world.inventory
    aws = settings.providers.aws
    assert aws is not None
    assert aws.profile == "agent-ir-lab"
    assert aws.endpoint_url == lab.endpoints["aws"]
    assert aws.endpoint_url.startswith("https://127.0.0.1:")
    assert aws.region == "us-east-1"
    assert aws.shared_credentials_file == lab.directory / "aws-credentials"
    assert aws.ca_bundle == lab.directory / "ca.pem" == lab.ca_path
    assert [a.id for a in aws.accounts] == ["222222222222"]


def test_the_secret_lives_only_in_a_private_credentials_file(lab: Lab) -> None:
    aws = lab.settings.providers.aws
    assert aws is not None and aws.shared_credentials_file is not None
    credentials = aws.shared_credentials_file
    assert stat.S_IMODE(credentials.stat().st_mode) == 0o600
    lines = dict(
        line.split(" = ", 1) for line in credentials.read_text().splitlines() if " = " in line
    )
    assert credentials.read_text().startswith("[agent-ir-lab]\n")
    config_text = lab.config_path.read_text()
    assert lines["aws_secret_access_key"] not in config_text
    assert lines["aws_access_key_id"] not in config_text
    responder = lab.emulators["aws"]
    assert isinstance(responder, AwsEmulator)
    assert lines["aws_secret_access_key"] not in repr(responder.responder)


def test_only_one_aws_emulator_per_process(lab: Lab, lab_world: World, tmp_path: Path) -> None:
    second = AwsEmulator(lab_world.aws, create_lab_tls(tmp_path), now=datetime.now(UTC))
    with pytest.raises(LabError, match="already running"):
        second.start()
    # The running lab is untouched by the refused start.
    assert lab.emulators["aws"].server.running


def test_a_world_without_providers_starts_no_emulator() -> None:
    empty = load_world_text("version: 1\nname: empty\n")
    with Lab(empty) as lab:
        assert lab.endpoints == {}
        settings = load_settings(lab.config_path)
        assert settings.lab is True
        assert settings.providers.aws is None
        directory = lab.directory
    assert not directory.exists()


def test_a_stopped_lab_has_no_files_to_offer(lab_world: World) -> None:
    idle = Lab(lab_world)
    with pytest.raises(LabError):
        _ = idle.config_path
