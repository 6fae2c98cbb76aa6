"""The plan summary's words, on plans the lab's small world cannot produce (an
irreversible step, collateral of another agent)."""

from __future__ import annotations

from agent_ir.actions.base import PlannedStep, Reversibility
from agent_ir.engine.planner import Plan
from agent_ir.tui.plan_summary import summarize, summary_text


def _step(n: int, provider: str, reversible: Reversibility, label: str) -> PlannedStep:
    return PlannedStep(
        id=f"s{n}",
        step=f"s{n}",
        provider=provider,  # type: ignore[arg-type]
        action="disable-credentials",
        target=f"t{n}",
        target_label=label,
        identity=f"i{n}",
        current={},
        predicted={},
        reversible=reversible,
        hazards=(),
        permissions=(),
        operation={},
        phase=1,
    )


def test_irreversible_steps_come_first_with_their_targets() -> None:
    plan = Plan(
        agent="a",
        playbook="contain-agent",
        params={},
        steps=[
            _step(1, "aws", Reversibility.YES, "key K1"),
            _step(2, "entra", Reversibility.NO, "client secret S of a"),
            _step(3, "entra", Reversibility.SIDE_EFFECTS, "federated credential F"),
            _step(4, "okta", Reversibility.NO, "jwk J of a"),
        ],
        plan_hash="sha256:abc",
    )
    summary = summarize(plan, ["aws shared-role (agent b)"])
    assert summary.per_provider == (("aws", 1), ("entra", 2), ("okta", 1))
    lines = summary_text(summary).plain.splitlines()
    assert lines[0] == "contain-agent · agent a · 4 steps: aws 1, entra 2, okta 1"
    assert lines[1:4] == [
        "IRREVERSIBLE 2:",
        "  entra disable-credentials → client secret S of a",
        "  okta disable-credentials → jwk J of a",
    ]
    assert lines[4].startswith("side effects 1 · needs approval 0 · blast radius 4 identities")
    assert lines[5] == "collateral 1: aws shared-role (agent b)"
    assert lines[-1] == "plan sha256:abc"


def test_an_undo_says_what_it_undoes_and_that_access_comes_back() -> None:
    plan = Plan(agent="a", playbook="contain-agent", params={}, steps=[], plan_hash="h")
    text = summary_text(summarize(plan, [], restore_of="IR-1")).plain
    assert text.startswith("undo of IR-1 · agent a · 0 steps: none\n")
    assert "expected: the agent's access comes back" in text
    assert "collateral 0" in text
