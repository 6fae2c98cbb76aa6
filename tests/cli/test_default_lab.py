"""The default lab (no configuration anywhere) keeps its state between commands, as real
providers would; ``lab reset`` starts it over; two commands at once do not corrupt it."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from tests.cli.conftest import SCRIPT, Run

STORY = "invoice-agent"
SHADOW = "gpt-scraper-bot"


def _state_dir(tmp_path: Path) -> Path:
    return tmp_path / "state" / "agent-ir" / "lab"


def _aws_key_statuses(run: Run) -> list[str]:
    assert run.code == 0, run.err
    identities = run.json()["identities"]
    return [c["status"] for i in identities if i["provider"] == "aws" for c in i["credentials"]]


def _contained(run: Run) -> bool:
    statuses = _aws_key_statuses(run)
    return bool(statuses) and all(s == "inactive" for s in statuses)


def test_revoke_then_show_then_restore_then_show(cli, tmp_path: Path) -> None:
    state = _state_dir(tmp_path)
    first = cli("show", STORY, "-o", "json")
    assert _aws_key_statuses(first) == ["active", "active"]
    assert first.err.startswith("LAB") and f"seeded now, kept in {state}" in first.err

    revoke = cli("revoke", STORY, "--reason", "key leaked", "--yes", "-o", "json")
    assert revoke.code == 0, revoke.err
    incident = revoke.json()["incident"]
    shown = cli("show", STORY, "-o", "json")
    assert _contained(shown), "the revoke of the last command is still in force"
    assert f"state kept in {state}" in shown.err

    fresh = cli("--lab", "show", STORY, "-o", "json")
    assert _aws_key_statuses(fresh) == ["active", "active"], "--lab starts from the world"
    assert "dropped when the command ends" in fresh.err

    restore = cli("restore", incident, "--yes", "-o", "json")
    assert restore.code == 0, restore.err
    counts = restore.json()["counts"]
    assert counts["verified"] > 0 and counts["already"] == 0, counts
    assert _aws_key_statuses(cli("show", STORY, "-o", "json")) == ["active", "active"]

    listed = cli("journal", "list", "-o", "json")
    ids = {i["id"] for i in listed.json()["incidents"]}
    assert incident in ids and len(ids) == 2
    assert (state / "journal").is_dir()


def test_lab_reset_seeds_the_world_afresh(cli, tmp_path: Path) -> None:
    assert cli("revoke", STORY, "--reason", "drill", "--yes").code == 0
    assert _contained(cli("show", STORY, "-o", "json"))

    reset = cli("lab", "reset")
    assert reset.code == 0, reset.err
    assert str(_state_dir(tmp_path)) in reset.out

    after = cli("show", STORY, "-o", "json")
    assert _aws_key_statuses(after) == ["active", "active"]
    assert len(cli("journal", "list", "-o", "json").json()["incidents"]) == 1, "journals stay"


def test_an_unreadable_state_is_set_aside_and_the_world_seeded(cli, tmp_path: Path) -> None:
    state = _state_dir(tmp_path)
    state.mkdir(parents=True)
    (state / "state.pickle").write_bytes(b"not a lab state")
    run = cli("show", STORY, "-o", "json")
    assert _aws_key_statuses(run) == ["active", "active"]
    assert "seeded now" in run.err
    assert (state / "state.pickle.unusable").read_bytes() == b"not a lab state"


def test_two_commands_at_once_both_land_and_leave_a_loadable_state(cli, tmp_path: Path) -> None:
    env = {
        **os.environ,
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_STATE_HOME": str(tmp_path / "state"),
    }
    env.pop("AGENT_IR_CONFIG", None)
    racers = [
        subprocess.Popen(
            [str(SCRIPT), "revoke", agent, "--reason", "race", "--yes", "-o", "json"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
            env=env,
        )
        for agent in (STORY, SHADOW)
    ]
    for racer in racers:
        out, err = racer.communicate(timeout=600)
        assert racer.returncode == 0, err
        assert "Traceback" not in err
        assert json.loads(out)["counts"]["failed"] == 0

    assert _contained(cli("show", STORY, "-o", "json")), "neither command lost the other's work"
    shadow = cli("show", SHADOW, "-o", "json")
    assert shadow.code == 0, shadow.err
    credentials = [c for i in shadow.json()["identities"] for c in i["credentials"]]
    assert credentials and all(c["status"] != "active" for c in credentials)
    assert "state kept" in shadow.err
    assert not list(_state_dir(tmp_path).glob(".*partial"))
