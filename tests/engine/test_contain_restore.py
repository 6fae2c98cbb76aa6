"""contain-agent end to end on the lab: plan, revoke, verify with official clients, restore."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from agent_ir.engine import journal as jr
from agent_ir.engine.executor import Status
from agent_ir.engine.incident import Who, execute, journal_dir, plan_for, restore
from agent_ir.playbook.loader import find_playbook, load_playbook
from tests.engine.helpers import FAST, iam_state

AGENT = "invoice-agent"
WHO = Who(responder="tester", reason="lab test")


def contain() -> Any:
    return load_playbook(find_playbook("contain-agent", []))


async def test_plan_reads_live_state_and_changes_nothing(engine, fresh_lab, aws_client) -> None:
    before = iam_state(aws_client, fresh_lab)
    plan = await plan_for(engine, AGENT, contain(), {"lock_trust": True})
    assert iam_state(aws_client, fresh_lab) == before
    by_action = {}
    for step in plan.steps:
        by_action.setdefault(step.action, []).append(step)
    # one active key (the other is seeded Inactive), both reachable roles, the one user
    assert [s.current for s in by_action["disable-credentials"]] == [{"status": "Active"}]
    revoked = {s.target.rsplit("/", 1)[-1] for s in by_action["revoke-sessions"]}
    assert revoked == {"invoice-processor", "finance-data-reader"}
    assert all(
        s.reversible.value == "side-effects" and s.hazards for s in by_action["revoke-sessions"]
    )
    assert {s.target.rsplit("/", 1)[-1] for s in by_action["lock-trust"]} == revoked
    assert by_action["lock-trust"][0].current["trust"]["Statement"]
    assert (
        plan.plan_hash == (await plan_for(engine, AGENT, contain(), {"lock_trust": True})).plan_hash
    )


async def test_contain_then_restore_returns_iam_exactly(engine, fresh_lab, aws_client) -> None:
    iam = aws_client("iam")
    # Swap the seeded inactive key for one whose secret the test knows, to sign in as the agent.
    for key in iam.list_access_keys(UserName=AGENT)["AccessKeyMetadata"]:
        if key["Status"] == "Inactive":
            iam.delete_access_key(UserName=AGENT, AccessKeyId=key["AccessKeyId"])
    fresh = iam.create_access_key(UserName=AGENT)["AccessKey"]
    agent_creds = {
        "aws_access_key_id": fresh["AccessKeyId"],
        "aws_secret_access_key": fresh["SecretAccessKey"],
    }
    assert aws_client("sts", credentials=agent_creds).get_caller_identity()["Arn"].endswith(AGENT)
    before = iam_state(aws_client, fresh_lab)

    plan = await plan_for(engine, AGENT, contain(), {"lock_trust": True})
    outcome = await execute(engine, plan, WHO, tuning=FAST)
    assert {r.status for r in outcome.results} == {Status.VERIFIED}, outcome.to_json()

    after = iam_state(aws_client, fresh_lab)
    keys = after["main"]["users"][AGENT]["keys"]
    assert set(keys.values()) == {"Inactive"}
    assert (
        after["main"]["users"][AGENT]["inline"]["AgentIRDenyAll"]["Statement"][0]["Effect"]
        == "Deny"
    )
    for account, role in (("main", "invoice-processor"), ("222222222222", "finance-data-reader")):
        cut = after[account]["roles"][role]["inline"]["AWSRevokeOlderSessions"]["Statement"][0]
        assert cut["Effect"] == "Deny" and "aws:TokenIssueTime" in cut["Condition"]["DateLessThan"]
        assert after[account]["roles"][role]["trust"]["Statement"][0]["Effect"] == "Deny"
    refused = _refused(aws_client, agent_creds)
    assert "InvalidClientTokenId" in refused

    undo = await restore(engine, outcome.incident, WHO, tuning=FAST)
    assert undo.restore_of == outcome.incident
    assert {r.status for r in undo.results} == {Status.VERIFIED}
    # the session cut-off stays (it denies only sessions issued before the revoke); the
    # restore says so, and names every credential it brings back
    kept = [w for w in undo.warnings if "kept: the AWSRevokeOlderSessions" in w]
    assert len(kept) == 2, undo.warnings
    assert any(w.startswith("revives aws: access key") for w in undo.warnings)
    restored = iam_state(aws_client, fresh_lab)
    for account, role in (("main", "invoice-processor"), ("222222222222", "finance-data-reader")):
        inline = restored[account]["roles"][role]["inline"]
        assert "AWSRevokeOlderSessions" in inline
        del inline["AWSRevokeOlderSessions"]
    assert restored == before
    # new sessions work again after the restore
    assert aws_client("sts", credentials=agent_creds).get_caller_identity()

    directory = journal_dir(engine)
    for incident in (outcome.incident, undo.incident):
        assert jr.verify(jr.incident_path(directory, incident)).ok


async def test_journal_verify_fails_on_one_changed_byte(engine, tmp_path) -> None:
    plan = await plan_for(engine, AGENT, contain(), {})
    outcome = await execute(engine, plan, WHO, tuning=FAST)
    path = jr.incident_path(journal_dir(engine), outcome.incident)
    assert jr.verify(path).ok
    text = path.read_text()
    assert "lab test" in text and "tester" in text
    copy_dir = tmp_path / "copy"
    copy_dir.mkdir()
    for file in path.parent.glob(f"{outcome.incident}.*"):
        shutil.copy(file, copy_dir / file.name)
    copied = copy_dir / path.name
    data = bytearray(copied.read_bytes())
    index = data.index(b"Inactive")
    data[index] = ord("i")
    copied.write_bytes(bytes(data))
    report = jr.verify(copied)
    assert not report.ok and report.problems


async def test_a_second_revoke_finds_everything_already_done(engine) -> None:
    await execute(engine, await plan_for(engine, AGENT, contain(), {}), WHO, tuning=FAST)
    again = await execute(engine, await plan_for(engine, AGENT, contain(), {}), WHO, tuning=FAST)
    statuses = {r.step.action: r.status for r in again.results}
    assert statuses.get("deny-all") is Status.ALREADY
    # keys are already inactive: the plan has no key step left
    assert "disable-credentials" not in statuses
    # the session cut-off moves forward on purpose (new sessions may exist since), unless
    # both runs fall in the same second
    assert statuses["revoke-sessions"] in (Status.VERIFIED, Status.ALREADY)


def _refused(aws_client: Any, creds: dict[str, str]) -> str:
    try:
        aws_client("sts", credentials=creds).get_caller_identity()
    except Exception as exc:
        return str(exc)
    return "accepted"


def test_official_aws_cli_sees_the_containment(fresh_lab, tmp_path) -> None:
    env_state = tmp_path / "state"
    script = Path(sys.executable).parent
    config = str(fresh_lab.config_path)
    env = {"XDG_STATE_HOME": str(env_state), "PATH": str(script) + ":/usr/bin:/bin"}
    run = subprocess.run(
        [
            str(script / "agent-ir"),
            "--config",
            config,
            "revoke",
            AGENT,
            "--reason",
            "cli test",
            "--yes",
            "-o",
            "json",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    aws = fresh_lab.settings.providers.aws
    assert aws is not None
    base = [
        str(script / "aws"),
        "--endpoint-url",
        str(aws.endpoint_url),
        "--ca-bundle",
        str(aws.ca_bundle),
        "--profile",
        str(aws.profile),
        "--region",
        "us-east-1",
        "--output",
        "json",
    ]
    cli_env = {
        **env,
        "AWS_SHARED_CREDENTIALS_FILE": str(aws.shared_credentials_file),
        "AWS_CONFIG_FILE": "/dev/null",
    }
    keys = subprocess.run(
        [*base, "iam", "list-access-keys", "--user-name", AGENT],
        capture_output=True,
        text=True,
        env=cli_env,
        check=True,
    )
    assert '"Inactive"' in keys.stdout and '"Active"' not in keys.stdout
    policy = subprocess.run(
        [
            *base,
            "iam",
            "get-role-policy",
            "--role-name",
            "invoice-processor",
            "--policy-name",
            "AWSRevokeOlderSessions",
        ],
        capture_output=True,
        text=True,
        env=cli_env,
        check=True,
    )
    assert "aws:TokenIssueTime" in policy.stdout
