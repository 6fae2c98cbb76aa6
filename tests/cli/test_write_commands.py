"""Safety rules of the write commands, through the console script on the default lab."""

from __future__ import annotations

import json


def test_revoke_without_yes_on_a_pipe_is_refused(cli) -> None:
    run = cli("--lab", "revoke", "invoice-agent", "--reason", "test")
    assert run.code == 8
    assert "--yes" in run.err and "non-interactive" in run.err


def test_revoke_without_a_reason_is_a_usage_error(cli) -> None:
    run = cli("--lab", "revoke", "invoice-agent", "--yes")
    assert run.code == 2
    assert "reason" in run.err


def test_read_only_refuses_every_write(cli) -> None:
    run = cli("--lab", "--read-only", "revoke", "invoice-agent", "--reason", "x", "--yes")
    assert run.code == 8
    assert "read-only" in run.err


def test_a_changed_plan_hash_is_refused(cli) -> None:
    run = cli(
        "--lab", "revoke", "invoice-agent", "--reason", "x", "--yes", "--expect-plan", "sha256:0"
    )
    assert run.code == 8
    assert "plan changed" in run.err


def test_blast_radius_beyond_max_targets_is_refused_before_anything_runs(cli, tmp_path) -> None:
    playbook = tmp_path / "tiny.yaml"
    playbook.write_text(
        "name: tiny\nmax_targets: 1\nsteps:\n  - id: keys\n    action: disable-credentials\n"
        "  - id: sessions\n    action: revoke-sessions\n"
    )
    run = cli(
        "--lab",
        "run",
        str(playbook),
        "--agent",
        "invoice-agent",
        "--reason",
        "x",
        "--yes",
        "--no-cut-first",
    )
    assert run.code == 8
    assert "allows at most 1" in run.err
    listing = cli("--lab", "journal", "list", "--output", "json")
    assert listing.json()["incidents"] == []


def test_blast_radius_beyond_max_targets_after_a_first_cut_stops_the_rest(cli, tmp_path) -> None:
    playbook = tmp_path / "tiny.yaml"
    playbook.write_text(
        "name: tiny\nmax_targets: 1\nsteps:\n  - id: keys\n    action: disable-credentials\n"
        "  - id: sessions\n    action: revoke-sessions\n    scope: reachable\n"
    )
    run = cli(
        "--lab",
        "run",
        str(playbook),
        "--agent",
        "invoice-agent",
        "--reason",
        "x",
        "--yes",
        "-o",
        "json",
    )
    assert run.code == 8, run.err
    result = run.json()
    assert any("allows at most 1" in w for w in result["warnings"])
    assert result["status"] == "partial" and result["verdict"] == "open"
    assert result["steps"] and all(s["status"] == "verified" for s in result["steps"])
    (incident,) = cli("--lab", "journal", "list", "--output", "json").json()["incidents"]
    assert incident["status"] == "partial"


def test_dry_run_prints_the_plan_and_writes_no_journal(cli) -> None:
    run = cli(
        "--lab", "run", "scope-down", "--agent", "invoice-agent", "--dry-run", "--output", "json"
    )
    assert run.code == 0
    plan = run.json()
    assert plan["playbook"] == "scope-down" and plan["plan_hash"].startswith("sha256:")
    assert all(s["action"] == "remove-grants" for s in plan["steps"])
    assert cli("--lab", "journal", "list", "--output", "json").json()["incidents"] == []


def test_unknown_playbook_and_bad_param_are_clear(cli) -> None:
    run = cli("--lab", "plan", "invoice-agent", "--playbook", "nope")
    assert run.code == 4 and "contain-agent" in run.err
    run = cli("--lab", "plan", "invoice-agent", "--param", "lock_trust=maybe")
    assert run.code == 2 and "lock_trust" in run.err


def test_permissions_prints_a_ready_iam_policy(cli) -> None:
    run = cli("permissions", "contain-agent", "--output", "json")
    assert run.code == 0
    aws = run.json()["aws"]
    actions = {a for s in aws["policy"]["Statement"] for a in s["Action"]}
    assert {
        "iam:UpdateAccessKey",
        "iam:PutRolePolicy",
        "iam:PutUserPolicy",
        "iam:GetAccountAuthorizationDetails",
    } <= actions
    assert "iam:UpdateAssumeRolePolicy" in actions  # lock-trust is in contain-agent
    assert aws["policy"]["Version"] == "2012-10-17"
    json.dumps(aws["policy"])


def test_unknown_incident_is_not_found(cli) -> None:
    run = cli("--lab", "restore", "IR-20990101-000000-abcd", "--yes")
    assert run.code == 4
    run = cli("--lab", "restore", "../../etc/passwd", "--yes")
    assert run.code == 4


def test_cut_delegation_naming_an_unknown_principal_is_exit_4(cli) -> None:
    for params in (
        ["from=nobody@corp.test", "to=invoice-agent"],
        ["from=invoice-agent", "to=no-such-role"],
    ):
        args = [f"--param={p}" for p in params]
        run = cli(
            "--lab", "run", "cut-delegation", "--agent", "invoice-agent", *args,
            "--reason", "typo", "--yes",
        )  # fmt: skip
        assert run.code == 4, run.err
        bad = params[0] if "nobody" in params[0] else params[1]
        assert repr(bad.split("=", 1)[1]) in run.err and "names no principal" in run.err
        listed = cli("--lab", "journal", "list", "--output", "json")
        assert listed.code == 0 and listed.json() == {"incidents": []}, "no incident is opened"
    ok = cli(
        "--lab", "plan", "invoice-agent", "--playbook", "cut-delegation",
        "--param=from=invoice-agent", "--param=to=invoice-processor",
    )  # fmt: skip
    assert ok.code == 0, ok.err
    assert "remove-delegation" in ok.out
