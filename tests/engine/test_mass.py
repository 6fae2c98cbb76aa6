"""Mass containment over real sockets: ``revoke --select`` on a generated four-provider
world with one role shared by three agents; blast-radius refusal, one step per shared
target, journal verification, restore, and no lost or repeated write in the lab's log."""

from __future__ import annotations

import json
import os
import signal
import ssl
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from agent_ir.lab.generator import generate_world_data

BIN = Path(sys.executable).parent
SHARED_ROLE = "shared-exec"
SHARERS = ["agent-00000", "agent-00001", "agent-00002"]
READ_PREFIXES = ("Get", "List", "Simulate", "Generate")


def _world() -> dict[str, Any]:
    """A generated world where three agents' users can assume one role."""
    data = generate_world_data(24, 1, 13, ("aws", "entra", "gcp", "okta"))
    account = data["aws"]["accounts"][0]
    users = {u["name"]: u for u in account["users"]}
    arns = [f"arn:aws:iam::{account['id']}:user/{name}" for name in SHARERS]
    role_arn = f"arn:aws:iam::{account['id']}:role/{SHARED_ROLE}"
    for name in SHARERS:
        users[name]["inline_policies"].append(
            {
                "name": "assume-shared",
                "document": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": role_arn}
                    ],
                },
            }
        )
    account["roles"].append(
        {
            "name": SHARED_ROLE,
            "tags": {},
            "trust_policy": {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Principal": {"AWS": arns}, "Action": "sts:AssumeRole"}
                ],
            },
        }
    )
    return data


@pytest.fixture(scope="module")
def mass_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    directory = tmp_path_factory.mktemp("mass")
    world = directory / "world.yaml"
    world.write_text(yaml.safe_dump(_world(), sort_keys=False))
    config = directory / "lab.yaml"
    env = {**os.environ, "XDG_STATE_HOME": str(directory / "state")}
    args = [str(BIN / "agent-ir"), "lab", "serve", "--world", str(world), "--config-out"]
    proc = subprocess.Popen(
        [*args, str(config)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("ready "), line
        yield config
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()


def _cli(config: Path, state: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "XDG_STATE_HOME": str(state)}
    result = subprocess.run(
        [str(BIN / "agent-ir"), "--config", str(config), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        stdin=subprocess.DEVNULL,
    )
    assert "Traceback" not in result.stderr, result.stderr
    return result


def _requests(config: Path) -> dict[str, list[dict[str, Any]]]:
    settings = yaml.safe_load(config.read_text())
    ca = ssl.create_default_context(cafile=str(config.parent / "ca.pem"))
    with httpx.Client(verify=ca, trust_env=False, timeout=60) as http:
        return {
            provider: http.get(url + "/requests").json()["requests"]
            for provider, url in settings["lab_control"].items()
        }


def writes(log: dict[str, list[dict[str, Any]]]) -> list[tuple[str, ...]]:
    """The successful writes of the log (token requests and reads sent as POST left out)."""
    out = []
    for provider, entries in log.items():
        for e in entries:
            path = e["path"].lower()
            if e["method"] == "GET" or not 200 <= e["status"] < 300 or "token" in path:
                continue
            if provider == "aws" and (e.get("action") or "").startswith(READ_PREFIXES):
                continue
            if any(v in path for v in (":getiampolicy", ":list", ":query", ":test", "getbyids")):
                continue
            out.append((provider, e["method"], e["path"], e.get("action", ""), e["digest"]))
    return out


def repeated(found: list[tuple[str, ...]]) -> int:
    """Writes sent more than once with the same body to the same place."""
    return sum(n - 1 for n in Counter(found).values() if n > 1)


def test_mass_revoke_restore(mass_lab: Path, tmp_path: Path) -> None:
    state = tmp_path / "state"
    select = "name=agent-*"
    before = len(writes(_requests(mass_lab)))

    refused = _cli(
        mass_lab, state, "revoke", "--select", select, "--max-agents", "5", "--reason", "r", "--yes"
    )
    assert refused.returncode == 8, refused.stderr
    assert "--max-agents" in refused.stderr
    assert len(writes(_requests(mass_lab))) == before  # nothing was written

    bad = _cli(mass_lab, state, "revoke", "--select", "name=agent-* risk>=hgh", "--yes")
    assert bad.returncode == 2 and "column 20" in bad.stderr

    dry = _cli(
        mass_lab,
        state,
        "run",
        "contain-agent",
        "--select",
        select,
        "--max-agents",
        "100",
        "--dry-run",
        "--output",
        "json",
    )
    assert dry.returncode == 0, dry.stderr
    plan = json.loads(dry.stdout)
    agents = plan["agents"]
    assert 20 <= len(agents) <= 50 and agents == sorted(agents, key=str.lower)
    shared = [s for s in plan["steps"] if s["target"].endswith(f":role/{SHARED_ROLE}")]
    assert [s["action"] for s in shared] == ["revoke-sessions"]  # once for three agents
    targets = [(s["provider"], s["action"], s["target"]) for s in plan["steps"]]
    assert len(targets) == len(set(targets))

    run = _cli(
        mass_lab,
        state,
        "revoke",
        "--select",
        select,
        "--max-agents",
        "100",
        "--reason",
        "mass test",
        "--yes",
        "--output",
        "json",
    )
    assert run.returncode == 0, run.stderr[-2000:]
    outcome = json.loads(run.stdout)
    assert outcome["agents"] == agents
    assert f"{len(agents)}/{len(agents)} agents cut" in run.stderr
    statuses = Counter(s["status"] for s in outcome["steps"])
    assert set(statuses) <= {"verified", "already"}, statuses
    incident = outcome["incident"]
    assert _cli(mass_lab, state, "journal", "verify", incident).returncode == 0

    log = _requests(mass_lab)
    assert repeated(writes(log)) == 0
    # Nothing lost: the same selection again finds every target already contained.
    again = _cli(
        mass_lab,
        state,
        "revoke",
        "--select",
        select,
        "--max-agents",
        "100",
        "--reason",
        "again",
        "--yes",
        "--output",
        "json",
    )
    assert again.returncode == 0, again.stderr[-2000:]
    # (a session cut-off is set to the time of each run, so it is written again)
    redone = {s["action"] for s in json.loads(again.stdout)["steps"] if s["status"] != "already"}
    assert redone <= {"revoke-sessions"}, redone

    restored = _cli(mass_lab, state, "restore", incident, "--force", "--yes", "--output", "json")
    assert restored.returncode == 0, restored.stderr[-2000:]
    undo = json.loads(restored.stdout)
    assert undo["agents"] == agents
    assert {s["status"] for s in undo["steps"]} <= {"verified", "already"}
    assert _cli(mass_lab, state, "journal", "verify").returncode == 0
    assert repeated(writes(_requests(mass_lab))) == 0


def test_mass_plan_reads_the_estate_once(mass_lab: Path, tmp_path: Path) -> None:
    """A mass plan takes each step's state from the estate read: planning sends no request
    beyond what an inventory sends, and the plan says each target is read before acting."""
    state = tmp_path / "state"
    counts = []
    for args in (
        ("inventory", "--output", "json"),
        ("run", "contain-agent", "--select", "name=agent-*", "--max-agents", "100", "--dry-run"),
    ):
        before = sum(len(v) for v in _requests(mass_lab).values())
        result = (
            _cli(mass_lab, state, *args, "--output", "json")
            if "run" in args
            else _cli(mass_lab, state, *args)
        )
        assert result.returncode == 0, result.stderr[-2000:]
        counts.append(sum(len(v) for v in _requests(mass_lab).values()) - before)
        if "run" in args:
            notes = json.loads(result.stdout)["notes"]
            assert any("read again right before it is changed" in n for n in notes), notes
    inventory, plan = counts
    assert plan == inventory, counts
