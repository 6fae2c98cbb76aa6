"""The command line as people expect it: global options anywhere, one error prefix, JSON and
NDJSON on data commands, ISO 8601 times, a pasteable policy, help with examples and exit
codes, and shell completion."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from agent_ir.cli.main import build_parser
from agent_ir.data import default_world, playbook_dir
from agent_ir.exit_codes import ExitCode

ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


def test_global_options_parse_before_or_after_the_subcommand() -> None:
    parser = build_parser()
    before = parser.parse_args(["--lab", "--read-only", "-o", "json", "journal", "list"])
    after = parser.parse_args(["journal", "list", "--lab", "--read-only", "-o", "json"])
    for args in (before, after):
        assert (args.lab, args.read_only, args.output) == (True, True, "json")
    plain = parser.parse_args(["inventory"])
    assert (plain.lab, plain.read_only, plain.output, plain.config) == (False, False, "text", None)


def test_read_only_after_the_subcommand_refuses_a_write(cli) -> None:
    result = cli("revoke", "invoice-agent", "--reason", "r", "--yes", "--read-only", "--lab")
    assert result.code == ExitCode.REFUSED, result.err


def test_config_after_the_subcommand_is_used(cli, tmp_path: Path) -> None:
    result = cli("doctor", "--config", str(tmp_path / "missing.yaml"))
    assert result.code != ExitCode.OK
    assert "missing.yaml" in result.err


@pytest.mark.parametrize(
    "args",
    [
        ["journal", "bogus"],
        ["show"],
        ["inventory", "--bogus"],
        ["--output", "xml", "inventory"],
        ["lab", "faults", "nowhere"],
    ],
)
def test_errors_carry_exactly_one_prefix(cli, args: list[str]) -> None:
    result = cli(*args)
    assert result.code == ExitCode.USAGE
    assert result.err.startswith("agent-ir: "), result.err
    assert result.err.count("agent-ir:") == 1, result.err


def test_playbook_commands_write_json_and_ndjson(cli, tmp_path: Path) -> None:
    listed = [json.loads(line) for line in cli("playbook", "list", "-o", "ndjson").out.splitlines()]
    assert {p["name"] for p in listed} >= {"contain-agent", "scope-down"}
    assert all(p["valid"] and p["source"] == "shipped" for p in listed)
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nsteps: 3\n", encoding="utf-8")
    result = cli(
        "playbook", "validate", str(playbook_dir() / "contain-agent.yaml"), str(bad), "-o", "json"
    )
    assert result.code == ExitCode.BAD_INPUT
    files = result.json()["files"]
    assert [f["ok"] for f in files] == [True, False]
    assert files[1]["problems"] and "bad.yaml" in files[1]["problems"][0]


def test_lab_check_writes_json(cli) -> None:
    result = cli("lab", "check", str(default_world()), "-o", "ndjson")
    assert result.code == ExitCode.OK
    (line,) = result.out.splitlines()
    assert json.loads(line) == {
        "file": str(default_world()),
        "ok": True,
        "world": "default",
        "problems": [],
    }


def test_permissions_aws_policy_is_the_bare_document(cli) -> None:
    result = cli("permissions", "contain-agent", "--aws-policy")
    assert result.code == ExitCode.OK
    policy = json.loads(result.out)
    assert policy["Version"] == "2012-10-17"
    assert all(statement["Effect"] == "Allow" for statement in policy["Statement"])


def test_help_shows_examples_and_exit_codes(cli) -> None:
    for command in (["revoke"], ["journal", "list"], ["lab", "serve"], []):
        out = cli(*command, "--help").out
        assert "examples:\n  agent-ir " in out, command
        assert "exit codes:" in out and "  8  refused by a safety rule" in out, command


def test_journal_times_are_iso_utc_and_completion_offers_what_was_seen(cli) -> None:
    revoke = cli("revoke", "invoice-agent", "--reason", "test", "--yes", "-o", "json")
    assert revoke.code == ExitCode.OK, revoke.err
    incident = revoke.json()["incident"]
    listed = cli("journal", "list", "-o", "json").json()["incidents"]
    assert [i["id"] for i in listed] == [incident]
    assert ISO_UTC.match(listed[0]["started"]), listed[0]["started"]
    for record in cli("journal", "show", incident, "-o", "ndjson").out.splitlines():
        assert ISO_UTC.match(json.loads(record)["ts"])
    verified = cli("journal", "verify", "-o", "json")
    assert verified.json()["incidents"][0] == {
        "incident": incident,
        "ok": True,
        "records": verified.json()["incidents"][0]["records"],
        "problems": [],
    }
    assert cli("completion", "--list", "incidents").out.split() == [incident]
    assert cli("completion", "--list", "agents").out.split() == []
    assert cli("--lab", "show", "invoice-agent", "-o", "json").code == ExitCode.OK
    assert cli("completion", "--list", "agents").out.split() == ["invoice-agent"]


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_scripts_are_generated_from_the_parser(cli, shell: str, tmp_path: Path) -> None:
    result = cli("completion", shell)
    assert result.code == ExitCode.OK
    script = result.out
    for word in ("inventory", "revoke", "journal", "read-only", "aws-policy"):
        assert word in script, word
    assert "agent-ir completion --list agents" in script
    assert "agent-ir completion --list incidents" in script
    program = shutil.which(shell)
    if program is None:
        return  # the shell is not installed here; the script was still generated
    path = tmp_path / f"agent-ir.{shell}"
    path.write_text(script, encoding="utf-8")
    check = subprocess.run([program, "-n", str(path)], capture_output=True, text=True, timeout=60)
    assert check.returncode == 0, check.stderr
