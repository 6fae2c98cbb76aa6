"""The fault matrix: each provider, each kind of outage, before discovery or during
execution. Whatever happens, a provider that was not contained never lets a revoke say
`complete` or exit 0, its status says why, and the other providers are contained anyway."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agent_ir.engine import journal as jr
from agent_ir.engine.executor import Status
from agent_ir.engine.incident import Outcome, Who, execute, journal_dir, plan_for
from agent_ir.engine.planner import Plan
from agent_ir.exit_codes import ExitCode
from agent_ir.lab.faults import FaultSpec
from agent_ir.playbook.loader import find_playbook, load_playbook
from tests.engine.served_lab import QUICK, SCRIPT, ServedLab, served_lab

AGENT = "invoice-agent"
PROVIDERS = ("aws", "entra", "gcp", "okta")
FAULTS = {
    "5xx": FaultSpec(error_rate=1),
    "429-storm": FaultSpec(throttle_rate=0.8, retry_after_s=0, seed=7),
    "resets": FaultSpec(reset_rate=1),
    "timeouts": FaultSpec(timeout_rate=1, timeout_s=3),
    "malformed": FaultSpec(malformed_rate=1),
}
TOTAL = {"5xx", "resets", "timeouts", "malformed"}
CONTAINED = {Status.VERIFIED, Status.ALREADY}


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedLab]:
    with served_lab(tmp_path_factory.mktemp("fault-matrix")) as running:
        yield running


@pytest.fixture(scope="module")
def baseline(lab: ServedLab, tmp_path_factory: pytest.TempPathFactory) -> Plan:
    """The plan with every provider answering: what containment means in this world."""
    journal = tmp_path_factory.mktemp("baseline")
    plan = asyncio.run(_plan(lab, journal))
    assert set(plan.providers) == set(PROVIDERS), plan.providers
    assert not plan.unavailable
    return plan


async def _plan(lab: ServedLab, journal: Path) -> Plan:
    engine = lab.engine(journal)
    try:
        return await plan_for(engine, AGENT, load_playbook(find_playbook("contain-agent", [])), {})
    finally:
        await engine.aclose()


async def _revoke(lab: ServedLab, journal: Path, provider: str, fault: str, when: str) -> Outcome:
    engine = lab.engine(journal)
    playbook = load_playbook(find_playbook("contain-agent", []))
    try:
        if when == "before-discovery":
            lab.faults(provider, FAULTS[fault])
        plan = await plan_for(engine, AGENT, playbook, {})
        if when == "during-execution":
            lab.faults(provider, FAULTS[fault])
        return await execute(engine, plan, Who("tester", f"{provider} {fault}"), tuning=QUICK)
    finally:
        lab.clear()
        await engine.aclose()


def _contained(outcome: Outcome, baseline: Plan, provider: str) -> bool:
    """Whether every step containment needs in ``provider`` ended verified or already so."""
    ended = {r.step.id: r.status for r in outcome.results}
    return all(ended.get(s.id) in CONTAINED for s in baseline.steps if s.provider == provider)


def _missing(outcome: Outcome, baseline: Plan, provider: str) -> list[str]:
    ended = {r.step.id: r.status for r in outcome.results}
    return [
        f"{s.id} {s.target_label}: {ended.get(s.id)}"
        for s in baseline.steps
        if s.provider == provider and ended.get(s.id) not in CONTAINED
    ]


def _end(outcome: Outcome, journal: Path) -> dict[str, Any]:
    path = jr.incident_path(journal, outcome.incident)
    assert jr.verify(path).ok
    return jr.Journal.read(path)[-1].payload


@pytest.mark.parametrize("when", ["before-discovery", "during-execution"])
@pytest.mark.parametrize("fault", list(FAULTS))
@pytest.mark.parametrize("provider", PROVIDERS)
def test_an_outage_is_never_complete(
    lab: ServedLab, baseline: Plan, tmp_path: Path, provider: str, fault: str, when: str
) -> None:
    lab.reset()
    outcome = asyncio.run(_revoke(lab, tmp_path / "journal", provider, fault, when))
    journal = journal_dir(lab.engine(tmp_path / "journal"))
    end = _end(outcome, journal)
    status = outcome.provider_status
    assert end["providers"] == status
    assert set(status) == set(PROVIDERS)
    for name in PROVIDERS:
        if not _contained(outcome, baseline, name):
            assert outcome.exit_code in (ExitCode.PARTIAL, ExitCode.FAILED), (name, status)
            assert end["status"] in ("partial", "failed"), end
            failed = [r for r in outcome.results if r.step.provider == name and r.error]
            # Not contained: its own outage, a failed step, or (a step planned only through
            # what another provider told, like a federation) another provider's outage.
            assert outcome.unavailable or failed, (name, _missing(outcome, baseline, name))
    if fault in TOTAL:
        assert status[provider].startswith("unavailable: "), status
        assert outcome.exit_code is ExitCode.PARTIAL
        assert end["status"] == "partial"
        assert not _contained(outcome, baseline, provider)
    for other in PROVIDERS:
        if other != provider:
            assert status[other] == "answered", status
            mine = [r for r in outcome.results if r.step.provider == other]
            assert mine and all(r.status in CONTAINED for r in mine), (other, outcome.to_json())
    if outcome.exit_code is ExitCode.OK:
        assert end["status"] == "complete"
        assert all(s == "answered" for s in status.values())
        assert all(_contained(outcome, baseline, p) for p in PROVIDERS)


def _cli(lab: ServedLab, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "XDG_STATE_HOME": str(tmp_path / "state"), "AGENT_IR_RESPONDER": "t"}
    return subprocess.run(
        [str(SCRIPT), "--config", str(lab.config), *args],
        capture_output=True,
        text=True,
        env=env,
        stdin=subprocess.DEVNULL,
        timeout=600,
    )


def test_the_command_line_says_partial(lab: ServedLab, tmp_path: Path) -> None:
    lab.reset()
    lab.faults("aws", FaultSpec(error_rate=1))
    try:
        plan = _cli(lab, tmp_path, "plan", AGENT, "-o", "json")
        revoke = _cli(lab, tmp_path, "revoke", AGENT, "--reason", "outage", "--yes", "-o", "json")
    finally:
        lab.clear()
    assert plan.returncode == 6, plan.stderr
    assert json.loads(plan.stdout)["providers"]["aws"].startswith("unavailable: ")
    assert "agent-ir: aws unavailable: " in plan.stderr
    assert revoke.returncode == 6, revoke.stderr
    assert "Traceback" not in revoke.stderr
    data = json.loads(revoke.stdout)
    assert data["status"] == "partial"
    assert data["providers"]["aws"].startswith("unavailable: discovery: ")
    assert {data["providers"][p] for p in PROVIDERS if p != "aws"} == {"answered"}
    assert "agent-ir: aws unavailable: " in revoke.stderr and "partial run" in revoke.stderr
