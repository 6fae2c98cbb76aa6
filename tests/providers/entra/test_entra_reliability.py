"""Paging, throttling (injected 429s and Graph's own resource-unit budget) and a revoke
under injected faults."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from agent_ir.engine import journal as jr
from agent_ir.engine.executor import Status
from agent_ir.engine.incident import Who, execute, journal_dir, plan_for, restore
from agent_ir.engine.inventory import Engine
from agent_ir.lab.entra import EntraEmulator
from agent_ir.lab.faults import Fault
from agent_ir.lab.runner import Lab
from agent_ir.playbook.loader import find_playbook, load_playbook
from agent_ir.providers.entra.actions import ACTIONS
from agent_ir.providers.entra.config import EntraSettings
from tests.providers.entra.entra_helpers import FAST, adapter_for, graph_state, responder_http

WHO = Who(responder="tester", reason="entra faults test")


async def test_paging_follows_next_links_to_the_end(settings: EntraSettings) -> None:
    async with adapter_for(settings) as adapter:
        whole = await adapter.graph.collect("servicePrincipals", "listing", params={"$top": "999"})
        before = adapter.graph.requests
        pages = [
            page
            async for page in adapter.graph.pages(
                "servicePrincipals", "listing", params={"$top": "3", "$select": "id"}
            )
        ]
        used = adapter.graph.requests - before
    assert len(whole) > 10
    assert [i["id"] for page in pages for i in page] == [i["id"] for i in whole]
    assert all(len(page) == 3 for page in pages[:-1]) and used == len(pages) == -(-len(whole) // 3)


async def test_injected_429s_are_ridden_out_with_bounded_requests(
    settings: EntraSettings, lab: Lab, faults: Callable[..., None]
) -> None:
    async with adapter_for(settings) as adapter:
        calm = await adapter.discover()
        baseline = adapter.graph.requests
    async with adapter_for(settings) as adapter:
        await adapter.tokens.token()
        faults(throttle_rate=0.3, retry_after_s=0, seed=11)
        stormy = await adapter.discover()
        requests, throttled = adapter.graph.requests, adapter.graph.throttled
    report = lab.faults["entra"]
    assert report.counts[Fault.THROTTLE] > 0
    assert throttled > 0
    assert baseline < requests <= 3 * baseline
    assert sorted(i.id for i in stormy.identities) == sorted(i.id for i in calm.identities)
    assert sorted(map(repr, stormy.grants)) == sorted(map(repr, calm.grants))


def test_a_throttled_answer_carries_graphs_headers(
    settings: EntraSettings, faults: Callable[..., None]
) -> None:
    with responder_http(settings) as http:
        faults(throttle_rate=1.0, retry_after_s=2)
        reply = http.get("/v1.0/servicePrincipals")
    assert reply.status_code == 429
    assert reply.headers["Retry-After"] == "2"
    assert reply.headers["x-ms-throttle-scope"].startswith("Tenant_Application/Read/")
    assert reply.headers["x-ms-throttle-information"] == "ResourceUnitLimitExceeded"
    assert reply.json()["error"]["code"] == "TooManyRequests"


async def test_graphs_resource_unit_budget_is_respected(
    settings: EntraSettings, emulator: EntraEmulator
) -> None:
    async with adapter_for(settings) as adapter:
        await adapter.tokens.token()
        emulator.set_limits(read_ru_per_10s=10)
        replies = await asyncio.gather(
            *(
                adapter.graph.get("organization", "reading the tenant", params={"$select": "id"})
                for _ in range(12)
            )
        )
        throttled = adapter.graph.throttled
    assert all(r["value"] for r in replies)
    assert throttled >= 1
    with responder_http(settings) as http:
        emulator.set_limits(read_ru_per_10s=1)
        http.get("/v1.0/organization", params={"$select": "id"})
        refused = http.get("/v1.0/organization", params={"$select": "id"})
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    assert refused.headers["x-ms-resource-unit"] == "1"


@pytest.mark.parametrize("seed", [5, 23])
async def test_a_revoke_under_faults_ends_verified_or_clearly_failed(
    engine: Engine, settings: EntraSettings, faults: Callable[..., None], seed: int
) -> None:
    with responder_http(settings) as http:
        before = graph_state(http)
    contain = load_playbook(find_playbook("contain-agent", []))
    plan = await plan_for(
        engine, "invoice-agent", contain, {"revoke_delegating_user_sessions": True}
    )
    faults(
        error_rate=0.15,
        throttle_rate=0.15,
        reset_rate=0.1,
        timeout_rate=0.05,
        timeout_s=0.2,
        retry_after_s=0,
        seed=seed,
    )
    outcome = await execute(engine, plan, WHO, tuning=FAST)
    faults()
    statuses = {r.step.id: r for r in outcome.results}
    assert len(statuses) == len(plan.steps)
    for result in outcome.results:
        assert result.status in (Status.VERIFIED, Status.FAILED), result.to_json()
        if result.status is Status.FAILED:
            assert result.error and result.error.startswith("entra: ")
    adapter = engine.providers()["entra"]
    for result in outcome.results:
        impl = ACTIONS[result.step.action]()
        state = await impl.read(adapter, result.step)  # type: ignore[arg-type]
        if result.status is Status.VERIFIED:
            assert impl.done(
                state, result.step, _prepared(engine, outcome.incident, result.step.id)
            )
    path = jr.incident_path(journal_dir(engine), outcome.incident)
    assert jr.verify(path).ok
    records = jr.Journal.read(path)
    kinds: dict[str, set[str]] = {}
    for record in records:
        if "step" in record.payload:
            kinds.setdefault(record.payload["step"], set()).add(record.kind)
    for step in plan.steps:
        assert {jr.Kind.INTENT, jr.Kind.RESULT} <= kinds[step.id], step.id

    undo = await restore(engine, outcome.incident, WHO, tuning=FAST)
    assert {r.status for r in undo.results} <= {Status.VERIFIED, Status.FAILED}
    for result in undo.results:
        if result.status is Status.FAILED:
            assert "client secret" in result.step.target_label
    with responder_http(settings) as http:
        after = graph_state(http)
    for state in (before, after):
        state["applications"]["invoice-agent-blueprint"]["secrets"] = []
        state["sessions"] = {}
    assert after == before


def _prepared(engine: Engine, incident: str, step: str) -> dict[str, Any]:
    path = jr.incident_path(journal_dir(engine), incident)
    for record in jr.Journal.read(path):
        if record.kind == jr.Kind.INTENT and record.payload.get("step") == step:
            prepared: dict[str, Any] = record.payload.get("prepared") or {}
            return prepared
    return {}
