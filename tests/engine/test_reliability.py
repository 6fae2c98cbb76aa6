"""Revokes under injected faults, and a run killed mid-way then resumed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from agent_ir.engine import journal as jr
from agent_ir.engine.executor import Status
from agent_ir.engine.incident import Who, execute, journal_dir, plan_for
from agent_ir.lab.faults import FaultSpec
from agent_ir.playbook.loader import find_playbook, load_playbook
from tests.engine.helpers import FAST, iam_state

AGENT = "invoice-agent"
SCRIPT = Path(sys.executable).parent / "agent-ir"


def _records(path: Path) -> list[jr.Record]:
    return jr.Journal.read(path)


async def test_revoke_under_throttling_errors_and_resets(
    engine, fresh_lab, aws_faults, aws_client
) -> None:
    plan = await plan_for(engine, AGENT, load_playbook(find_playbook("contain-agent", [])), {})
    aws_faults.update(FaultSpec(throttle_rate=0.15, error_rate=0.1, reset_rate=0.1, seed=11))
    outcome = await execute(engine, plan, Who("tester", "faults"), tuning=FAST)
    counts = aws_faults.counts
    aws_faults.update(FaultSpec())
    assert sum(v for k, v in counts.items() if k.value != "none") >= 3, counts
    for result in outcome.results:
        assert result.status in (Status.VERIFIED, Status.FAILED), result.to_json()
        if result.status is Status.FAILED:
            assert result.error
    path = jr.incident_path(journal_dir(engine), outcome.incident)
    assert jr.verify(path).ok
    records = _records(path)
    per_step = Counter(r.payload["step"] for r in records if r.kind == "result")
    intents = Counter(r.payload["step"] for r in records if r.kind == "intent")
    assert set(per_step.values()) == {1} and set(intents.values()) == {1}
    assert set(per_step) == {s.id for s in plan.steps}
    state = iam_state(aws_client, fresh_lab)
    verified = {r.step.target for r in outcome.results if r.status is Status.VERIFIED}
    for key, status in state["main"]["users"][AGENT]["keys"].items():
        if key in verified:
            assert status == "Inactive"


def _wait_for_results(directory: Path, at_least: int, timeout: float = 60) -> Path:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for path in directory.glob("IR-*.jsonl"):
            text = path.read_text(errors="replace")
            if text.count('"kind":"result"') >= at_least:
                return path
        time.sleep(0.02)
    raise AssertionError(f"no journal with {at_least} results appeared in {directory}")


def test_sigkill_mid_run_then_resume_finishes_without_repeating(
    fresh_lab, aws_faults, tmp_path, aws_client
) -> None:
    env = {**os.environ, "XDG_STATE_HOME": str(tmp_path / "state")}
    config = str(fresh_lab.config_path)
    aws_faults.update(FaultSpec(latency_ms=150))
    proc = subprocess.Popen(
        [
            str(SCRIPT),
            "--config",
            config,
            "revoke",
            AGENT,
            "--reason",
            "crash test",
            "--yes",
            "--param",
            "lock_trust=true",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
    )
    directory = tmp_path / "state" / "agent-ir" / "journal" / "lab"
    try:
        path = _wait_for_results(directory, 1)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    aws_faults.update(FaultSpec())
    incident = path.name.removesuffix(".jsonl")
    before = [r for r in _records(path) if r.kind == "result"]
    assert before, "the kill must land mid-run"
    assert not any(r.kind == "incident-end" for r in _records(path))

    resumed = subprocess.run(
        [str(SCRIPT), "--config", config, "resume", incident, "--output", "json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert resumed.returncode == 0, resumed.stderr
    assert "Traceback" not in resumed.stderr
    data = json.loads(resumed.stdout)
    # a kill during the first cut leaves the rest unplanned: resume plans it
    total = len(jr.plan_of(_records(path))["steps"])
    assert len(before) < total, "the kill must land mid-run"
    assert len(data["steps"]) == total
    assert all(s["status"] in ("verified", "already") for s in data["steps"])

    records = _records(path)
    results = Counter(r.payload["step"] for r in records if r.kind == "result")
    assert set(results.values()) == {1}, "no step may finish twice"
    first_run = {r.payload["step"] for r in before}
    intents = Counter(r.payload["step"] for r in records if r.kind == "intent")
    assert all(intents[step] == 1 for step in first_run)
    assert records[-1].kind == "incident-end"
    verify = subprocess.run(
        [str(SCRIPT), "--config", config, "journal", "verify", incident],
        capture_output=True,
        text=True,
        env=env,
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr
    state = iam_state(aws_client, fresh_lab)
    assert set(state["main"]["users"][AGENT]["keys"].values()) <= {"Inactive"}
