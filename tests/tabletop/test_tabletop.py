"""``agent-ir tabletop`` end to end on the default world, through the console script."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from agent_ir.exit_codes import ExitCode
from tests.tabletop.conftest import EXERCISES, ROOT, run_script

AWS_ONLY = """\
name: contain-aws-only
description: contain-agent with every step limited to AWS (deliberately weak)
version: 1
steps:
  - {id: disable-credentials, action: disable-credentials, scope: own, providers: [aws]}
  - {id: revoke-sessions, action: revoke-sessions, scope: reachable, providers: [aws]}
  - {id: deny-all, action: deny-all, scope: own, providers: [aws]}
  - {id: disable-identity, action: disable-identity, scope: own, providers: [aws]}
"""


NO_ENTRA = AWS_ONLY.replace("providers: [aws]", "providers: [aws, gcp, okta]").replace(
    "contain-aws-only", "contain-without-entra"
)


@pytest.fixture(scope="module")
def default_story(tabletop, state: Path):
    report = state / "default-story.md"
    run = tabletop(
        str(EXERCISES / "default-story.yaml"),
        "--playbook",
        "contain-agent",
        "--agent",
        "invoice-agent",
        "--yes",
        "--output",
        "json",
        "--report",
        str(report),
    )
    return run, report.read_text() if report.exists() else ""


def test_contain_agent_fully_contains_the_default_story(default_story) -> None:
    run, markdown = default_story
    assert run.code == ExitCode.OK, run.err
    data = run.json()
    assert data["passed"] and data["score"] == 100
    assert data["residual"] == []
    start, end = data["probes"][0], data["probes"][-1]
    providers = {r["provider"] for r in start["results"] if r["works"]}
    assert providers == {"aws", "entra", "gcp", "okta"}
    assert all(not r["works"] for r in end["results"])
    paths = [r["path"] for r in start["results"]]
    assert any(p.endswith("→ assume invoice-processor → assume finance-data-reader") for p in paths)
    held = [r for r in end["results"] if r["path"].startswith("held session")]
    assert held and all(r["decided_by"] == "behaviour" for r in held)
    assert all("AccessDenied" in r["detail"] for r in held)
    assert data["time_to_contain_s"] is not None and data["time_to_contain_s"] >= 300
    kinds = {e["kind"] for e in data["timeline"]}
    assert {"alert", "probe", "response", "journal intent", "journal result"} <= kinds
    assert any("client secret" in s for s in data["irreversible_steps"])
    assert any("rotate it, then shorten its lifetime" in r for r in data["recommendations"])
    assert "# After-action report: default-story" in markdown
    assert "Score: **100/100** (passed)" in markdown
    assert "None: no path the attacker holds still works." in markdown


def test_the_report_lists_the_attackers_attempts_after_containment_as_denied(
    default_story,
) -> None:
    run, markdown = default_story
    attempts = run.json()["after_containment"]
    aws = [a for a in attempts if a["provider"] == "aws"]
    # the probe's held sessions keep trying after the revoke, and are refused (only
    # GetCallerIdentity, which no policy can deny, is answered)
    refused = [a for a in aws if a["action"] != "sts:GetCallerIdentity"]
    assert refused and {a["outcome"] for a in refused} == {"denied"}
    assert {a["action"] for a in refused} >= {"s3:ListBuckets", "sts:AssumeRole"}
    assert any(a["session"] for a in aws)
    assert "## The attacker's attempts after containment (audit logs)" in markdown
    section = markdown.split("## The attacker's attempts after containment")[1].split("## ")[0]
    assert f"{len(attempts)} call(s), 0 succeeded." in section
    assert "| denied | aws |" in section and "SUCCEEDED" not in section
    assert "answered (needs no permission)" in section


def test_no_secret_reaches_the_output(default_story) -> None:
    run, markdown = default_story
    for text in (run.out, run.err, markdown):
        assert "BEGIN PRIVATE KEY" not in text and "SecretAccessKey" not in text
        assert "client_secret" not in text and "private_key_id" not in text


def test_a_weakened_playbook_fails_and_names_what_still_works(tabletop, state: Path) -> None:
    playbook = state / "contain-aws-only.yaml"
    playbook.write_text(AWS_ONLY)
    report = state / "weak.json"
    run = tabletop(
        "default-story",
        "--playbook",
        str(playbook),
        "--agent",
        "invoice-agent",
        "--yes",
        "--report-json",
        str(report),
    )
    assert run.code == ExitCode.FAILED, run.out + run.err
    assert "Residual access (paths that still work):" in run.out
    assert "[gcp] key " in run.out and "[entra] client secret invoice-agent-prod" in run.out
    assert "[okta] private key" in run.out and "[aws]" not in run.out.split("Residual")[1]
    assert "FAILED no-residual-access" in run.out
    data = json.loads(report.read_text())
    assert not data["passed"] and data["score"] == 40
    assert {r["provider"] for r in data["residual"]} == {"entra", "gcp", "okta"}
    assert data["time_to_contain_s"] is None


def test_a_key_created_mid_exercise_is_held_and_then_cut(tabletop) -> None:
    run = tabletop("cross-provider-chain", "--agent", "invoice-agent", "--yes", "--output", "json")
    assert run.code == ExitCode.OK, run.err
    data = run.json()
    change = next(e for e in data["timeline"] if e["kind"] == "change")
    new_key = change["text"].rsplit("(", 1)[1].rstrip(")")
    after_change = next(p for p in data["probes"] if p["label"].startswith("after the change"))
    assert any(r["path"] == new_key and r["works"] for r in after_change["results"])
    final = data["probes"][-1]["results"]
    assert any(r["path"] == new_key and not r["works"] for r in final)
    assert data["residual"] == []


def test_refuses_without_yes_and_a_non_suspect(tabletop) -> None:
    run = tabletop("default-story", "--agent", "invoice-agent")
    assert run.code == ExitCode.REFUSED and "--yes" in run.err
    run = tabletop("default-story", "--agent", "support-agent-01", "--yes")
    assert run.code == ExitCode.USAGE and "not a suspect" in run.err


def test_the_probe_agrees_with_independent_boto3_calls(state: Path) -> None:
    script = ROOT / "tests" / "tabletop" / "aws_agreement.py"
    run = run_script([sys.executable, str(script)], state)
    assert run.code == 0, run.err
    rows = json.loads(run.out)
    assert len(rows) == 4
    assert all(row["probe"] == row["boto3"] for row in rows), rows
    assert [row["boto3"] for row in rows] == [True, True, False, True]


def test_a_key_created_after_the_response_is_residual_access(tabletop, state: Path) -> None:
    report = state / "late.json"
    run = tabletop(
        "cross-provider-chain",
        "--agent",
        "invoice-agent",
        "--yes",
        "--at",
        "100",
        "--report-json",
        str(report),
    )
    assert run.code == ExitCode.FAILED, run.out + run.err
    residual = run.out.split("Residual access (paths that still work):")[1]
    assert residual.strip().startswith("[aws] access key AKIA")
    assert "FAILED no-residual-access" in run.out
    # the blueprint's secret is gone by then: spawning a sub-agent, and so granting it a
    # role, are refused, and the timeline says so
    changes = [
        e["text"] for e in json.loads(report.read_text())["timeline"] if e["kind"] == "change"
    ]
    assert changes[0].startswith("the attacker creates a new access key")
    assert changes[1].startswith("refused: the attacker spawns the agent identity ledger-worker")
    assert changes[2].endswith("(ledger-worker was never created)")


def test_the_chain_without_entra_steps_fails_and_names_the_spawned_sub_agent(
    tabletop, state: Path
) -> None:
    playbook = state / "contain-without-entra.yaml"
    playbook.write_text(NO_ENTRA)
    report = state / "no-entra.md"
    run = tabletop(
        "cross-provider-chain",
        "--playbook",
        str(playbook),
        "--agent",
        "invoice-agent",
        "--yes",
        "--report",
        str(report),
    )
    assert run.code == ExitCode.FAILED, run.out + run.err
    residual = run.out.split("Residual access (paths that still work):")[1]
    assert "[entra] client secret invoice-agent-prod of invoice-agent-blueprint" in residual
    assert "Graph token as agent identity ledger-worker with role User.Read.All" in residual
    assert "[aws]" not in residual and "[gcp]" not in residual and "[okta]" not in residual
    markdown = report.read_text()
    assert "Score: **40/100** (FAILED)" in markdown
    assert "agent identity ledger-worker with role User.Read.All (behaviour" in markdown
