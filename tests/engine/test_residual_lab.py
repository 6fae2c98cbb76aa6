"""The verdict agrees with the adversary probe, path by path (``residual_lab.py`` runs the
lab in a subprocess: moto is process-global)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run_lab(tmp: Path, params: dict[str, Any] | None = None) -> dict[str, Any]:
    """Hold, revoke, probe again, restore, probe again; the script's JSON."""
    env = {**os.environ, "XDG_STATE_HOME": str(tmp), "TMPDIR": str(tmp)}
    args = ["-m", "tests.engine.residual_lab", json.dumps(params or {}), "--restore"]
    run = subprocess.run(
        [sys.executable, *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=480,
        cwd=ROOT,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    data: dict[str, Any] = json.loads(run.stdout)
    return data


def _until(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def assert_agrees(data: dict[str, Any]) -> None:
    """Every path or held token that still works is a residual path of the same provider
    naming the identity, with an ``until`` no earlier than the lab's own expiry; the
    verdict is ``contained`` only when nothing works."""
    run = data["run"]
    residual = run["residual"]
    working = [r for r in data["after"] if r["works"]]
    held = [h for h in data["held"] if h["works"]]
    for token in held:
        matches = [
            r for r in residual if r["provider"] == token["provider"] and token["name"] in r["path"]
        ]
        assert matches, (token, residual)
        assert all(r["until"] is not None for r in matches)
        assert max(_until(r["until"]) for r in matches) >= token["expires"], (token, matches)
    for path in working:
        assert any(r["provider"] == path["provider"] for r in residual), (path, residual)
    if working or held:
        assert run["verdict"] != "contained"
    if run["verdict"] == "contained":
        assert not working and not held


@pytest.fixture(scope="module")
def default_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return run_lab(tmp_path_factory.mktemp("residual"))


def test_the_probe_held_working_paths_before_the_revoke(default_run: dict[str, Any]) -> None:
    before = default_run["before"]
    assert {r["provider"] for r in before if r["works"]} == {"aws", "entra", "gcp", "okta"}
    assert {h["provider"] for h in default_run["held"]} == {"entra", "gcp", "okta"}


def test_the_verdict_agrees_with_the_probe_path_by_path(default_run: dict[str, Any]) -> None:
    _agrees_with_the_held_tokens_named(default_run)


def _agrees_with_the_held_tokens_named(default_run: dict[str, Any]) -> None:
    assert_agrees(default_run)
    run = default_run["run"]
    # tokens of finance-reader (which the agent can impersonate) outlive the revoke:
    # declared with their end, and the lab honours it
    assert run["verdict"].startswith("contained-until ")
    gcp = [h for h in default_run["held"] if h["provider"] == "gcp"]
    assert gcp and all(h["works"] for h in gcp)
    # the Okta app's tokens die with the app; the AWS sessions with AWSRevokeOlderSessions
    assert not any(h["works"] for h in default_run["held"] if h["provider"] == "okta")
    assert not any(r["works"] for r in default_run["after"])


def test_the_plan_predicted_the_same_verdict(default_run: dict[str, Any]) -> None:
    plan, run = default_run["plan"], default_run["run"]
    assert plan["verdict"].split()[0] == run["verdict"].split()[0]
    assert [r["path"] for r in plan["residual"]] == [r["path"] for r in run["residual"]]


def test_every_credential_that_works_again_after_restore_was_listed(
    default_run: dict[str, Any],
) -> None:
    _restore_names_what_works_again(default_run)


def _restore_names_what_works_again(default_run: dict[str, Any]) -> None:
    restored = default_run["restored"]
    revives = [w for w in restored["run"]["warnings"] if w.startswith("revives ")]
    assert revives
    dead = {r["path"] for r in default_run["after"] if not r["works"]}
    again = [r for r in restored["after"] if r["works"] and r["path"] in dead]
    assert again  # the restore did bring the agent's keys back
    for path in again:
        assert any(w.startswith(f"revives {path['provider']}: ") for w in revives), path
    held_dead = {(h["provider"], h["name"]) for h in default_run["held"] if not h["works"]}
    for token in restored["held"]:
        if token["works"] and (token["provider"], token["name"]) in held_dead:
            named = [w for w in revives if w.startswith(f"revives {token['provider']}: ")]
            assert any(token["name"] in w and "access token" in w for w in named), token
    # the held AWS sessions stay ended: the restore kept AWSRevokeOlderSessions
    held_sessions = [r for r in restored["after"] if r["path"].startswith("held session")]
    assert held_sessions and not any(r["works"] for r in held_sessions)


@pytest.fixture(scope="module")
def cut_first_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The same, with the revoke cutting first (as ``revoke --yes`` runs it)."""
    return run_lab(tmp_path_factory.mktemp("residual-cut-first"), {"_cut_first": True})


def test_a_revoke_that_cuts_first_leaves_only_what_it_names_with_its_end(
    cut_first_run: dict[str, Any],
) -> None:
    assert cut_first_run["plan"]["cut_first"] and cut_first_run["run"]["status"] == "complete"
    _agrees_with_the_held_tokens_named(cut_first_run)


def test_restoring_a_revoke_that_cut_first_names_what_works_again(
    cut_first_run: dict[str, Any],
) -> None:
    _restore_names_what_works_again(cut_first_run)
