"""``agent-ir --lab activity``: the default story's overnight finance reads, with the chain."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest


def run(*args: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """The CLI in a child process on the default lab world."""
    env = {"XDG_STATE_HOME": str(tmp_path), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    return subprocess.run(
        [sys.executable, "-m", "agent_ir", "--lab", "activity", "invoice-agent", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        check=False,
    )


def test_json_shows_the_overnight_finance_reads_through_the_chain(tmp_path: Path) -> None:
    done = run("--since", "3d", "-o", "json", tmp_path=tmp_path)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    reads = [e for e in data["events"] if e["account"] == "222222222222"]
    assert reads and all(e["via"] == "chain" for e in reads)
    hops = [h["principal"] for h in reads[0]["chain"]]
    assert hops[:2] == [
        "arn:aws:iam::111111111111:role/invoice-processor",
        "arn:aws:iam::222222222222:role/finance-data-reader",
    ]
    assert {e["outcome"] for e in reads} == {"success", "denied"}
    assert all(1 <= int(e["when"][11:13]) < 5 for e in reads if e["action"] != "sts:AssumeRole")
    assert all("raw" not in e for e in data["events"])
    states = {p["provider"]: p["state"] for p in data["providers"]}
    assert states["aws"] == "answered"


@pytest.mark.parametrize("bad", [["--since", "yesterday"], ["-o", "csv", "--limit", "0"]])
def test_bad_arguments_are_usage_errors(tmp_path: Path, bad: list[str]) -> None:
    assert run(*bad, tmp_path=tmp_path).returncode == 2


def test_csv_has_one_row_an_event_with_the_chain(tmp_path: Path) -> None:
    done = run("--since", "3d", "--provider", "aws", "--limit", "5", "-o", "csv", tmp_path=tmp_path)
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(io.StringIO(done.stdout)))
    assert len(rows) == 5
    assert any("invoice-processor" in r["chain"] for r in rows if r["via"] == "chain")
