"""Configuration files cannot steer paths, hang the reader, leak a pasted secret or send
credentials over plain http; each refusal is exit 3 with the file and line."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.inproc import run

SECRET = "Zq8~vX3.kL9mN2pQ7rS4tU6wY1aB5cD0eF"


def _config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text)
    return path


def _inventory(config: Path) -> tuple[int, str]:
    result = run(["--config", str(config), "inventory"])
    return result.code, result.err


@pytest.mark.parametrize(
    "name",
    ["../../x", "a/b", "..", ".hidden", "-dash", "x" * 65, "x" * 300, "a\\\\b", "''", "'a b'"],
)
def test_names_that_would_escape_or_break_paths_are_refused(
    name: str, tmp_path: Path, state_dir: Path
) -> None:
    config = _config(tmp_path, f"name: {name}\njournal_dir: {tmp_path / 'j'}\n")
    code, err = _inventory(config)
    assert code == 3, err
    assert f"{config}:1" in err
    assert not (tmp_path.parent / "x").exists()


def test_a_good_name_is_accepted_by_journal_list(tmp_path: Path, state_dir: Path) -> None:
    config = _config(tmp_path, "name: prod-eu_1.b\n")
    assert run(["--config", str(config), "journal", "list"]).code == 0


@pytest.mark.parametrize("kind", ["device", "fifo", "directory"])
def test_non_regular_config_files_are_refused_without_reading(
    kind: str, tmp_path: Path, state_dir: Path
) -> None:
    if kind == "device":
        path = Path("/dev/zero")
    elif kind == "fifo":
        path = tmp_path / "fifo"
        os.mkfifo(path)
    else:
        path = tmp_path
    code, err = _inventory(path)
    assert code == 3, err
    assert str(path) in err


def test_an_oversized_config_is_refused(tmp_path: Path, state_dir: Path) -> None:
    config = _config(tmp_path, "name: big\n" + "#" * 1_100_000 + "\n")
    code, err = _inventory(config)
    assert code == 3 and "limit" in err


@pytest.mark.parametrize(
    ("section", "key"),
    [
        ("entra", "client_secret_env"),
        ("entra", "client_secret_file"),
        ("entra", "certificate_password_env"),
        ("okta", "api_token_env"),
    ],
)
@pytest.mark.parametrize(
    "secret", [SECRET, "AKIAABCDEFGHIJKLMNOP", "SSWS 00abcdefghijklmnopqrstuvwxyz"]
)
def test_a_secret_pasted_into_a_pointer_key_is_refused_unechoed(
    section: str, key: str, secret: str, tmp_path: Path, state_dir: Path
) -> None:
    config = _config(tmp_path, f"name: t\nproviders:\n  {section}:\n    {key}: '{secret}'\n")
    code, err = _inventory(config)
    assert code == 3, err
    assert f"{config}:4" in err
    assert secret not in err and secret[:12] not in err


@pytest.mark.parametrize(
    ("section", "key", "extra"),
    [
        ("aws", "endpoint_url", ""),
        ("gcp", "token_uri", "\n    projects: [p-123456]"),
        ("gcp", "iam_url", "\n    projects: [p-123456]"),
        (
            "entra",
            "graph_url",
            "\n    tenant_id: 6f1c1f0e-5a3c-4f43-9a57-0c1d8a3f2b10"
            "\n    client_id: 11111111-2222-3333-4444-555555555555"
            "\n    client_secret_env: ENTRA_SECRET",
        ),
        ("okta", "org_url", ""),
    ],
)
def test_plain_http_endpoints_are_refused(
    section: str, key: str, extra: str, tmp_path: Path, state_dir: Path
) -> None:
    config = _config(
        tmp_path, f"name: t\nproviders:\n  {section}:\n    {key}: http://example.test{extra}\n"
    )
    code, err = _inventory(config)
    assert code == 3, err
    assert "https://" in err and str(config) in err
