"""Every request the GCP adapter sends to the lab, and every answer the lab gives, checked
against Google's discovery documents for IAM v1, IAM Credentials v1, Cloud Resource Manager
v1/v3, STS v1, Cloud Asset v1 (the agent-scoped policy search) and the rest of ``APIS``
(judged against Google's description, not against our own adapter).

The run covers discovery, showing the agent, and contain-agent followed by its restore.
The report (one line per route: method, template, calls, status) is written to
``$AGENT_IR_CONFORMANCE_REPORT`` when set, else next to the test's temporary files.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest

from agent_ir.activity.model import ActivityWindow
from agent_ir.activity.timeline import build_timeline
from agent_ir.engine.incident import Who, execute, plan_for, restore
from agent_ir.engine.inventory import Engine
from agent_ir.lab.runner import Lab
from agent_ir.lab.server import LabRequest, LabResponse
from agent_ir.lab.world import load_world_text
from agent_ir.playbook.loader import find_playbook, load_playbook
from tests.conformance.discovery import Exchange, load, match, problems
from tests.providers.gcp.conftest import FAST, GCP_WORLD

APIS = (
    "iam.v1",
    "iamcredentials.v1",
    "cloudresourcemanager.v1",
    "cloudresourcemanager.v3",
    "sts.v1",
    "policyanalyzer.v1",
    "logging.v2",
    "cloudasset.v1",
)
NOT_DESCRIBED = {"/token": "OAuth 2.0 token endpoint (RFC 6749; no discovery document)"}


class Recorder:
    """Wraps an emulator app and keeps every exchange."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.exchanges: list[Exchange] = []
        self._lock = threading.Lock()

    def __call__(self, request: LabRequest) -> LabResponse:
        response = self.app(request)
        exchange = Exchange(
            request.method,
            request.path,
            parse_qs(request.query, keep_blank_values=True),
            _json(request.body),
            response.status,
            _json(response.body),
        )
        with self._lock:
            self.exchanges.append(exchange)
        return response


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return None


@pytest.fixture(scope="module")
def traffic(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[Exchange]]:
    world = load_world_text(GCP_WORLD, "tests/providers/gcp/conftest.py")
    work = tmp_path_factory.mktemp("gcp-conformance")
    with Lab(world, work) as lab:
        server = lab.emulators["gcp"].server
        recorder = Recorder(server.app)
        server.app = recorder
        engine = Engine(lab.settings.model_copy(update={"journal_dir": work / "journal"}))
        import asyncio

        async def run() -> None:
            await engine.inventory()
            await engine.show("invoice-agent")
            playbook = load_playbook(find_playbook("contain-agent", []))
            plan = await plan_for(engine, "invoice-agent", playbook, {})
            who = Who(responder="tester", reason="conformance")
            outcome = await execute(engine, plan, who, tuning=FAST)
            await restore(engine, outcome.incident, who, tuning=FAST)
            # the activity reader: Cloud Logging's entries.list over the audit logs
            now = datetime.now(UTC)
            window = ActivityWindow(now - timedelta(days=3), now, 500)
            timeline = await build_timeline(engine, "invoice-agent", window, ["gcp"])
            assert timeline.statuses[0].state == "answered", timeline.statuses
            await engine.aclose()

        asyncio.run(run())
        yield recorder.exchanges


def test_every_gcp_route_conforms_to_the_discovery_documents(
    traffic: list[Exchange], tmp_path_factory: pytest.TempPathFactory
) -> None:
    methods = load(*APIS)
    routes: dict[str, dict[str, Any]] = {}
    for exchange in traffic:
        if exchange.path in NOT_DESCRIBED:
            key = f"{exchange.verb} {exchange.path}"
            routes.setdefault(
                key, {"calls": 0, "problems": set(), "status": NOT_DESCRIBED[exchange.path]}
            )
            routes[key]["calls"] += 1
            continue
        method = match(methods, exchange)
        key = (
            f"{exchange.verb} {method.template} ({method.api} {method.method_id})"
            if method
            else f"{exchange.verb} {exchange.path}"
        )
        route = routes.setdefault(key, {"calls": 0, "problems": set(), "status": ""})
        route["calls"] += 1
        if method is None:
            route["problems"].add("no published method has this verb and path")
        else:
            route["problems"].update(problems(method, exchange))
    lines = ["# GCP conformance report", "", "| route | calls | status |", "|---|---|---|"]
    for key in sorted(routes):
        route = routes[key]
        status = route["status"] or ("; ".join(sorted(route["problems"])) or "conforms")
        lines.append(f"| `{key}` | {route['calls']} | {status} |")
    report = "\n".join(lines) + "\n"
    target = os.environ.get("AGENT_IR_CONFORMANCE_REPORT")
    path = Path(target) if target else tmp_path_factory.mktemp("report") / "gcp.md"
    path.write_text(report)
    assert len(routes) >= 8, report  # discovery, show, contain and restore were all recorded
    failing = {k: r["problems"] for k, r in routes.items() if r["problems"]}
    assert not failing, report
