"""Every request the Okta adapter sends to the lab, and every answer the lab gives, checked
against the okta SDK (the version installed): the request's verb and path must be an
operation of an ``okta.api`` class with that operation's query parameters, and the answer
must parse into the ``okta.models`` class the operation names for its status, strictly (no
property the model lacks, no value its validators refuse).

The run covers discovery and showing every agent, then contain-agent and scope-down, each
followed by its restore, on agents of every kind the adapter handles (private-key app,
secret app, API token, AI agent, service user). The Okta for AI Agents API (beta) has
models in the SDK but no API class: its answers are parsed into those models and its paths
are listed with where they are documented. The report is printed and written to
``$AGENT_IR_CONFORMANCE_DIR/okta.md`` when set.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent_ir.engine.inventory import Engine
from agent_ir.lab.runner import Lab
from agent_ir.lab.world import load_world_text
from agent_ir.providers.base import utcnow
from agent_ir.providers.okta import adapter as okta_adapter
from tests.conformance import okta_sdk
from tests.conformance.recording import (
    Recorded,
    Recorder,
    Report,
    contain_and_restore,
    playbook,
)
from tests.providers.okta.conftest import OKTA_WORLD

_AGENTS = "/workload-principals/api/v1"
_BETA_DOC = "Okta for AI Agents API (beta), developer.okta.com/docs/api/secures-ai"
BETA: list[tuple[str, str, str | None, dict[str, str | None]]] = [
    ("GET", f"{_AGENTS}/ai-agents", None, {"200": "List[AIAgent]"}),
    ("GET", f"{_AGENTS}/ai-agents/{{id}}", None, {"200": "AIAgent", "404": "Error"}),
    ("GET", f"{_AGENTS}/ai-agents/{{id}}/credentials/jwks", None, {"200": None}),
    ("GET", f"{_AGENTS}/ai-agents/{{id}}/owners", None, {"200": None}),
    ("POST", f"{_AGENTS}/ai-agents/{{id}}/lifecycle/activate", None, {"202": None}),
    ("POST", f"{_AGENTS}/ai-agents/{{id}}/lifecycle/deactivate", None, {"202": None}),
    ("GET", f"{_AGENTS}/operations/{{id}}", None, {"200": "AIAgentOperationResponse"}),
]
"""Beta routes: verb, template, (unused), model per status (None: no model in the SDK)."""
NOT_DESCRIBED = {
    (
        "POST",
        "/oauth2/v1/token",
    ): "OAuth 2.0 token endpoint (RFC 6749/7523; okta.oauth, no API class)",
}
ADAPTER_SOURCE = "".join(p.read_text() for p in Path(okta_adapter.__file__).parent.glob("*.py"))
"""The Okta adapter's source: every SDK method it names must have been sent in the run."""
TARGETS = (
    ("invoice-agent", "contain-agent"),
    ("reporting-agent", "contain-agent"),
    ("reporting-agent", "scope-down"),
    ("gpt-scraper-bot", "contain-agent"),
    ("helpdesk-copilot", "contain-agent"),
    ("etl-agent", "contain-agent"),
)


@pytest.fixture(scope="module")
def traffic(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[Recorded]]:
    world = load_world_text(OKTA_WORLD, "tests/providers/okta/conftest.py")
    work = tmp_path_factory.mktemp("okta-conformance")
    with Lab(world, work) as lab:
        server = lab.emulators["okta"].server
        recorder = Recorder(server.app)
        server.app = recorder
        settings = lab.settings.model_copy(update={"journal_dir": work / "journal"})

        async def run() -> None:
            engine = Engine(settings, clock=utcnow)
            try:
                await engine.inventory()
                for name, book in TARGETS:
                    await engine.show(name)
                    await contain_and_restore(engine, name, playbook(book))
            finally:
                await engine.aclose()

        asyncio.run(run())
        yield recorder.exchanges


def _beta(exchange: Recorded) -> tuple[str, dict[str, str | None]] | None:
    for verb, template, _, models in BETA:
        pattern = re.escape(template).replace(re.escape("{id}"), "[^/]+") + r"\Z"
        if verb == exchange.verb and re.match(pattern, exchange.path):
            return template, models
    return None


def check(operations: list[okta_sdk.Operation], exchange: Recorded, report: Report) -> None:
    """Add one exchange to the report."""
    verb = exchange.verb
    if (verb, exchange.path) in NOT_DESCRIBED:
        report.add(f"{verb} {exchange.path}", note=NOT_DESCRIBED[(verb, exchange.path)])
        return
    beta = _beta(exchange)
    if beta is not None:
        template, models = beta
        code = str(exchange.status)
        if code not in models:
            found = [f"status {code} is not a documented answer"]
        else:
            model = models[code]
            found = (
                okta_sdk.check_body(model, exchange.response, f"response {code}") if model else []
            )
        report.add(f"{verb} {template} (beta)", found, note=f"conforms ({_BETA_DOC})")
        return
    operation = okta_sdk.match(operations, exchange)
    if operation is None:
        report.add(f"{verb} {exchange.path}", ["no okta SDK operation has this verb and path"])
        return
    key = f"{verb} {operation.template} ({operation.api}.{operation.name})"
    report.add(key, okta_sdk.problems(operation, exchange))


def test_every_okta_route_conforms_to_the_okta_sdk(
    traffic: list[Recorded], tmp_path_factory: pytest.TempPathFactory
) -> None:
    operations = okta_sdk.load()
    report = Report("Okta")
    for exchange in traffic:
        check(operations, exchange, report)
    text = report.write(tmp_path_factory)
    # discovery, show, deactivation, revocation, role and scope changes were all recorded
    assert len(report.routes) >= 25, text
    assert not report.failing(), text
    used = {o.name for o in operations if f'"{o.name}"' in ADAPTER_SOURCE}
    assert len(used) >= 20, used
    recorded = {o.name for e in traffic if (o := okta_sdk.match(operations, e)) is not None}
    assert used <= recorded, (
        f"SDK methods the adapter calls but the run never sent: {used - recorded}"
    )


def test_the_strict_check_catches_what_the_models_do_not_allow() -> None:
    good = {"id": "0oa1", "status": "ACTIVE", "profile": {"name": "x"}}
    assert okta_sdk.check_body("AIAgent", good, "r") == []
    extra = okta_sdk.check_body("AIAgent", {**good, "colour": "red"}, "r")
    assert extra == ["r.colour: not a property of okta.models.AIAgent"]
    wrong = okta_sdk.check_body("AIAgent", {**good, "status": "ASLEEP"}, "r")
    assert wrong and "refuses" in wrong[0]
    typed = okta_sdk.check_body("List[AIAgent]", [{**good, "id": 7}], "r")
    assert typed and "refuses" in typed[0]
