"""contain-agent, remove-grants and remove-delegation on the GCP lab through the engine,
checked with google-auth and independent IAM reads; restores; etag races; faults."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest
from google.auth.exceptions import RefreshError

from agent_ir.actions.catalog import CATALOG
from agent_ir.engine import journal as jr
from agent_ir.engine.executor import Status
from agent_ir.engine.incident import Who, execute, journal_dir, plan_for, restore
from agent_ir.engine.inventory import Engine
from agent_ir.lab.faults import FaultSpec
from agent_ir.playbook.loader import find_playbook, load_playbook
from agent_ir.providers.gcp.actions import ACTIONS
from tests.providers.gcp.conftest import AGENT, FAST, READER, fetch_token, normalised

WHO = Who(responder="tester", reason="gcp lab test")
BOB = "user:bob@corp.test"


def playbook(name: str) -> Any:
    return load_playbook(find_playbook(name, []))


def _member_anywhere(state: dict[str, Any], member: str) -> list[str]:
    found = [p for p, bindings in state["projects"].items() for b in bindings if member in b[2]]
    found += [e for e, a in state["accounts"].items() for b in a["policy"] if member in b[2]]
    return found


def _others(state: dict[str, Any]) -> set[tuple[str, str, str, str]]:
    """Every (policy, role, condition, member) triple of members other than the agent."""
    policies = dict(state["projects"])
    policies.update({email: a["policy"] for email, a in state["accounts"].items()})
    return {
        (where, role, condition, member)
        for where, bindings in policies.items()
        for role, condition, members in bindings
        for member in members
        if member != f"serviceAccount:{AGENT}"
    }


def test_every_action_declares_permissions_reversibility_and_an_example() -> None:
    assert set(ACTIONS) <= set(CATALOG)
    for name, impl in ACTIONS.items():
        assert impl.permissions and impl.restore_permissions and impl.reversible, name
        assert "```yaml" in (impl.__doc__ or "") and f"action: {name}" in (impl.__doc__ or "")


async def test_plan_reads_live_state_and_changes_nothing(engine, official) -> None:
    before = official.state()
    plan = await plan_for(engine, "invoice-agent", playbook("contain-agent"), {})
    assert official.state() == before
    actions = Counter(s.action for s in plan.steps)
    assert actions == {"disable-credentials": 2, "deny-all": 2, "disable-identity": 1}
    deny = {s.operation["resource"]: s.current for s in plan.steps if s.action == "deny-all"}
    assert set(deny) == {"projects/corp-prod", f"serviceAccounts/{READER}"}
    assert {b["role"] for b in deny["projects/corp-prod"]["held"]} == {
        "roles/editor",
        "roles/viewer",
        "roles/logging.logWriter",
    }
    disable = next(s for s in plan.steps if s.action == "disable-identity")
    assert disable.reversible.value == "side-effects" and disable.hazards
    assert any("revoke-sessions" in note for note in plan.notes)


async def test_revoke_cuts_google_auth_and_restore_returns_every_policy(
    engine, official, agent_key, settings
) -> None:
    key = agent_key(AGENT)
    assert fetch_token(settings, key)
    before = official.state()
    plan = await plan_for(engine, "invoice-agent", playbook("contain-agent"), {})
    outcome = await execute(engine, plan, WHO, tuning=FAST)
    assert {r.status for r in outcome.results} == {Status.VERIFIED}, outcome.to_json()

    with pytest.raises(RefreshError):
        fetch_token(settings, key)
    after = official.state()
    mine = after["accounts"][AGENT]
    assert mine["disabled"] is True and set(mine["keys"].values()) == {True}
    assert _member_anywhere(after, f"serviceAccount:{AGENT}") == []
    # everyone else's bindings are untouched (the shared ones only lost the agent)
    viewer = next(b for b in after["projects"]["corp-prod"] if b[0] == "roles/viewer")
    assert viewer[2] == ("serviceAccount:helper-agent-01@corp-prod.iam.gserviceaccount.com",)
    assert "until-2030" in viewer[1]
    assert (
        after["accounts"][READER]["policy"] != []
        and after["projects"]["corp-data"] == before["projects"]["corp-data"]
    )

    undo = await restore(engine, outcome.incident, WHO, tuning=FAST)
    assert {r.status for r in undo.results} == {Status.VERIFIED}, undo.to_json()
    assert official.state() == before
    notes = [n for r in undo.results for n in r.notes]
    assert any("valid again" in n for n in notes) and any("rotate" in n for n in notes)
    assert fetch_token(settings, key)
    for incident in (outcome.incident, undo.incident):
        assert jr.verify(jr.incident_path(journal_dir(engine), incident)).ok


async def test_a_binding_added_during_the_revoke_survives_revoke_and_restore(
    engine, official, emulator
) -> None:
    before = official.state()
    plan = await plan_for(engine, "invoice-agent", playbook("contain-agent"), {})
    raced: list[str] = []

    def someone_else_writes(resource: str) -> None:
        if resource != "projects/corp-prod" or raced:
            return
        raced.append(resource)
        policy = official.project_policy("corp-prod")
        policy["bindings"].append({"role": "roles/iam.securityReviewer", "members": [BOB]})
        reply = official.post("v3/projects/corp-prod:setIamPolicy", {"policy": policy})
        assert reply.status_code == 200

    emulator.api.on_set_iam_policy = someone_else_writes
    outcome = await execute(engine, plan, WHO, tuning=FAST)
    emulator.api.on_set_iam_policy = None
    assert {r.status for r in outcome.results} == {Status.VERIFIED}, outcome.to_json()
    writes = [s for m, p, s in emulator.api.calls if p == "/v3/projects/corp-prod:setIamPolicy"]
    assert writes == [200, 409, 200]  # theirs, our stale one, our retry
    assert engine.providers()["gcp"].conflicts == 1
    theirs = ("roles/iam.securityReviewer", "null", (BOB,))
    assert theirs in official.state()["projects"]["corp-prod"]
    assert _member_anywhere(official.state(), f"serviceAccount:{AGENT}") == []

    undo = await restore(engine, outcome.incident, WHO, tuning=FAST)
    assert {r.status for r in undo.results} == {Status.VERIFIED}, undo.to_json()
    restored = official.state()
    assert theirs in restored["projects"]["corp-prod"]
    restored["projects"]["corp-prod"].remove(theirs)
    assert restored == before


async def test_a_revoke_under_faults_ends_verified_or_clearly_failed(
    fresh_gcp, official, gcp_lab, tmp_path
) -> None:
    # one attempt per call in the adapter, so faults reach the executor and some steps fail
    gcp = fresh_gcp.settings.providers.gcp.model_copy(update={"max_attempts": 1})
    settings = fresh_gcp.settings.model_copy(
        update={
            "journal_dir": tmp_path / "journal",
            "providers": fresh_gcp.settings.providers.model_copy(update={"gcp": gcp}),
        }
    )
    engine = Engine(settings)
    before = official.state()
    plan = await plan_for(engine, "invoice-agent", playbook("contain-agent"), {})
    faults = gcp_lab.faults["gcp"]
    faults.update(
        FaultSpec(throttle_rate=0.2, error_rate=0.15, reset_rate=0.1, retry_after_s=0, seed=3)
    )
    try:
        outcome = await execute(engine, plan, WHO, tuning=FAST)
    finally:
        counts = dict(faults.counts)
        faults.update(FaultSpec())
    assert sum(v for k, v in counts.items() if k.value != "none") >= 3, counts
    for result in outcome.results:
        assert result.status in (Status.VERIFIED, Status.FAILED), result.to_json()
        if result.status is Status.FAILED:
            assert result.error
    path = jr.incident_path(journal_dir(engine), outcome.incident)
    records = jr.Journal.read(path)
    results = Counter(r.payload["step"] for r in records if r.kind == "result")
    assert set(results.values()) == {1} and set(results) == {s.id for s in plan.steps}
    # nothing lost: every member other than the agent still holds every binding it held
    assert _others(official.state()) == _others(before)
    # a second run finishes the job, and the restore brings everything back
    again = await execute(
        engine,
        await plan_for(engine, "invoice-agent", playbook("contain-agent"), {}),
        WHO,
        tuning=FAST,
    )
    assert {r.status for r in again.results} <= {Status.VERIFIED, Status.ALREADY}
    for incident in (again.incident, outcome.incident):
        await restore(engine, incident, WHO, tuning=FAST)
    assert official.state() == before


async def test_remove_grants_takes_only_the_risky_bindings(engine, official) -> None:
    before = official.state()
    book = load_playbook(find_playbook("scope-down", []))
    plan = await plan_for(engine, "invoice-agent", book, {})
    steps = [s for s in plan.steps if s.action == "remove-grants"]
    assert len(steps) == 1 and {b["role"] for b in steps[0].operation["bindings"]} <= {
        "roles/editor",
        "roles/viewer",
    }
    outcome = await execute(engine, plan, WHO, tuning=FAST)
    assert all(
        r.status is Status.VERIFIED for r in outcome.results if r.step.action == "remove-grants"
    )
    prod = official.state()["projects"]["corp-prod"]
    writer = next(b for b in prod if b[0] == "roles/logging.logWriter")
    assert f"serviceAccount:{AGENT}" in writer[2]
    assert not any(
        f"serviceAccount:{AGENT}" in b[2] for b in prod if b[0] in ("roles/editor", "roles/viewer")
    )
    await restore(engine, outcome.incident, WHO, tuning=FAST)
    assert official.state() == before


async def test_cut_delegation_removes_exactly_one_link_and_restores_it(
    engine, official, agent_key, settings
) -> None:
    before = official.state()
    book = playbook("cut-delegation")
    plan = await plan_for(
        engine, "invoice-agent", book, {"from": "invoice-agent", "to": "finance-reader"}
    )
    gcp_steps = [s for s in plan.steps if s.provider == "gcp"]
    assert len(gcp_steps) == 1 and gcp_steps[0].operation["member"] == f"serviceAccount:{AGENT}"
    outcome = await execute(engine, plan, WHO, tuning=FAST)
    assert {r.status for r in outcome.results} == {Status.VERIFIED}
    policy = official.state()["accounts"][READER]["policy"]
    assert [b for b in policy if b[0] == "roles/iam.serviceAccountTokenCreator"] == [
        ("roles/iam.serviceAccountTokenCreator", "null", ("group:finance-ops@corp.test",))
    ]
    assert any(b[0] == "roles/iam.workloadIdentityUser" for b in policy)
    await restore(engine, outcome.incident, WHO, tuning=FAST)
    assert official.state() == before


async def test_cut_federation_from_an_aws_role(engine, official) -> None:
    book = playbook("cut-delegation")
    role = "arn:aws:iam::111111111111:role/invoice-processor"
    plan = await plan_for(engine, "invoice-agent", book, {"from": role, "to": READER})
    assert [s.operation["member"].startswith("principalSet://") for s in plan.steps] == [True]
    await execute(engine, plan, WHO, tuning=FAST)
    policy = official.account_policy(READER)
    assert "workloadIdentityUser" not in json.dumps(policy)
    assert normalised(policy)
