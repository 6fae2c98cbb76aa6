"""The read side through the console script, on the default lab world."""

from __future__ import annotations

STORY = "invoice-agent"


def test_no_config_runs_on_the_lab_and_says_so(cli) -> None:
    run = cli("inventory")
    assert run.code == 0
    assert run.err.startswith("LAB")
    assert STORY in run.out and "gpt-scraper-bot" in run.out


def test_inventory_json_lists_the_story_agent_with_credentials_and_findings(cli) -> None:
    run = cli("--lab", "inventory", "--output", "json")
    assert run.code == 0
    agents = {a["name"]: a for a in run.json()["agents"]}
    story = agents[STORY]
    assert story["owner"] == "alice@corp.test"
    kinds = {(i["provider"], i["kind"], i["name"]) for i in story["identities"]}
    assert ("aws", "iam-user", STORY) in kinds and ("aws", "iam-role", "invoice-processor") in kinds
    keys = [c for i in story["identities"] if i["provider"] == "aws" for c in i["credentials"]]
    assert len(keys) == 2 and all(
        k["kind"] == "access-key" and k["status"] == "active" for k in keys
    )
    assert {"aws", "entra", "gcp"} <= set(story["providers"])
    codes = {f["code"] for f in story["findings"]}
    assert {"stale-static-credential", "cross-account-chain"} <= codes
    assert all(set(f) >= {"code", "severity", "message"} for f in story["findings"])
    shadow = agents["gpt-scraper-bot"]
    assert shadow["owner"] is None
    assert "no-owner" in {f["code"] for f in shadow["findings"]}
    assert shadow["identities"][0]["link"] == "inferred"
    assert "agent-ir-responder" not in agents, "the console's own identity is not an agent"


def test_show_json_has_grants_and_a_cross_account_chain_with_reasons(cli) -> None:
    run = cli("--lab", "show", STORY, "--output", "json")
    assert run.code == 0
    data = run.json()
    assert {"name", "owner", "identities", "findings", "grants", "edges"} <= set(data)
    assert any(g["risk"] == "wildcard" and g["reachable"] for g in data["grants"])
    assert all(set(g) >= {"provider", "identity", "grant", "risk"} for g in data["grants"])
    edges = data["edges"]
    assert all(set(e) >= {"from", "to", "kind", "reason"} and e["reason"] for e in edges)
    owner = [e for e in edges if e["kind"] == "owner"]
    assert owner and owner[0]["from"] == "human:alice@corp.test"
    hops = [e for e in edges if e["kind"] == "assume-role"]
    cross = [e for e in hops if ":222222222222:" in e["to"] and ":111111111111:" in e["from"]]
    assert cross and "trust policy" in cross[0]["reason"]


def test_show_text_draws_the_delegation_tree(cli) -> None:
    run = cli("--lab", "show", STORY)
    assert run.code == 0
    tree = run.out.split("Delegation", 1)[1]
    lines = [line for line in tree.splitlines() if line.strip()]
    assert lines[0].strip() == "human alice@corp.test"
    assert "agent invoice-agent" in lines[1]
    assert any(
        "finance-data-reader (222222222222)" in line and "assume-role" in line for line in lines
    )


def test_unknown_agent_is_exit_4_with_a_hint(cli) -> None:
    run = cli("--lab", "show", "invoice")
    assert run.code == 4
    assert "no agent named 'invoice'" in run.err and "did you mean invoice-agent" in run.err


def test_bad_usage_is_exit_2(cli) -> None:
    run = cli("show")
    assert run.code == 2
    assert "agent" in run.err


def test_missing_config_file_is_a_located_error(cli, tmp_path) -> None:
    run = cli("--config", str(tmp_path / "nope.yaml"), "inventory")
    assert run.code == 3
    assert "nope.yaml" in run.err and "no such file" in run.err


def test_config_with_a_literal_secret_is_refused_naming_the_key(cli, tmp_path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(
        "name: prod\nproviders:\n  aws:\n    profile: ir\n    aws_secret_access_key: abcdEFGH1234\n"
    )
    run = cli("--config", str(config), "inventory")
    assert run.code == 3
    assert f"{config}:5" in run.err and "aws_secret_access_key" in run.err
    assert "abcdEFGH1234" not in run.err


def test_doctor_reports_identity_and_permissions(cli) -> None:
    run = cli("--lab", "doctor", "--output", "json")
    assert run.code == 0
    aws = run.json()["providers"][0]
    assert aws["ok"] and aws["caller"].endswith(":user/agent-ir-responder")
    assert all(p["allowed"] for p in aws["permissions"])
    assert any("222222222222" in note for note in aws["notes"])
