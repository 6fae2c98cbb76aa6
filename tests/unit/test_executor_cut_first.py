"""The executor cuts first: credentials, then sessions, grants, identity, each phase
starting once the previous one's writes landed, with read-backs running beside it.

A fake adapter (units only) whose read-back of the credential step cannot succeed until
the identity step has been applied: verifying before the next phase would never finish.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

from agent_ir.actions.base import Draft, PlanContext, PlannedStep, ProviderAction, Reversibility
from agent_ir.engine import journal as jr
from agent_ir.engine.executor import Executor, Status, Tuning
from agent_ir.providers.base import utcnow


class FakeAdapter:
    """Targets in memory; a credential reads back as cut only once the identity is off."""

    name = "aws"

    def __init__(self) -> None:
        self.state: dict[str, bool] = {}
        self.writes: list[str] = []
        self.reads: dict[str, int] = {}
        self.identity_off = asyncio.Event()

    @classmethod
    def action_impls(cls) -> Mapping[str, type[ProviderAction[Any]]]:
        return {"cut": Cut}


class Cut(ProviderAction[FakeAdapter]):
    """Set a target off."""

    action: ClassVar[str] = "cut"
    provider: ClassVar[Any] = "aws"
    permissions: ClassVar[tuple[str, ...]] = ()
    restore_permissions: ClassVar[tuple[str, ...]] = ()
    reversible: ClassVar[Reversibility] = Reversibility.YES

    def plan(self, ctx: PlanContext) -> list[Draft]:
        return []

    async def read(self, adapter: FakeAdapter, step: PlannedStep) -> dict[str, Any]:
        adapter.reads[step.id] = adapter.reads.get(step.id, 0) + 1
        if step.phase == 1 and step.target in adapter.state:
            # The read-back of a credential lags until the identity is cut.
            await adapter.identity_off.wait()
        return {"off": adapter.state.get(step.target, False)}

    def done(self, state: dict[str, Any], step: PlannedStep, prepared: dict[str, Any]) -> bool:
        return bool(state["off"])

    async def apply(self, adapter: FakeAdapter, step: PlannedStep, prepared: dict[str, Any]) -> None:
        adapter.writes.append(step.id)
        adapter.state[step.target] = True
        if step.phase == 4:
            adapter.identity_off.set()


def _step(step_id: str, phase: int) -> PlannedStep:
    return PlannedStep(
        id=step_id,
        step=step_id,
        provider="aws",
        action="cut",
        target=step_id,
        target_label=step_id,
        identity="agent",
        current={"off": False},
        predicted={"off": True},
        reversible=Reversibility.YES,
        hazards=(),
        permissions=(),
        operation={},
        phase=phase,
    )


async def test_phases_do_not_wait_for_read_backs(tmp_path: Path) -> None:
    adapter = FakeAdapter()
    steps = [_step("identity", 4), _step("grant", 3), _step("key-1", 1), _step("key-2", 1)]
    start = jr.incident_start(
        os_user="t", responder="t", why="test", playbook="p", agent="a", plan_hash="h", plan={}
    )
    tuning = Tuning(verify_polls=3, verify_interval_s=0.01)
    incident = jr.new_incident_id(utcnow())
    with jr.Journal.create(tmp_path, incident, start) as journal:
        executor = Executor(
            {"aws": adapter},  # type: ignore[dict-item]
            journal,
            utcnow,
            tuning=tuning,
            actions=lambda provider: FakeAdapter.action_impls(),
        )
        results = await asyncio.wait_for(executor.run(steps), timeout=60)
    assert [r.step.id for r in results] == ["identity", "grant", "key-1", "key-2"]
    assert {r.status for r in results} == {Status.VERIFIED}
    # Credentials are written first, the identity last.
    assert adapter.writes[:2] == ["key-1", "key-2"] or adapter.writes[:2] == ["key-2", "key-1"]
    assert adapter.writes[2:] == ["grant", "identity"]
    # One read before writing (the snapshot), then read-backs: no second read in between.
    assert adapter.reads["grant"] == 2
    records = jr.Journal.read(jr.incident_path(tmp_path, incident))
    intents = [r.payload["step"] for r in records if r.kind == jr.Kind.INTENT]
    assert sorted(intents[:2]) == ["key-1", "key-2"] and intents[2:] == ["grant", "identity"]
    order = [(r.kind, r.payload.get("step")) for r in records]
    # The identity's intent is journaled before the credentials' results: the keys were
    # verified beside the later phases, not before them.
    assert order.index((jr.Kind.INTENT, "identity")) < order.index((jr.Kind.RESULT, "key-1"))
    # Intent before every call, result after it.
    for step in ("identity", "grant", "key-1", "key-2"):
        assert order.index((jr.Kind.INTENT, step)) < order.index((jr.Kind.RESULT, step))
