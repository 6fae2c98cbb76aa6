"""Every Microsoft Graph request the Entra adapter sends to the lab, and every answer the
lab gives, checked against the official SDKs' request builders and models (``msgraph-sdk``
for v1.0, ``msgraph-beta-sdk`` for beta; dev dependencies only): see
:mod:`tests.conformance.graph_sdk`.

The run covers discovery, ``doctor`` (the permission check), showing the agents, then
contain-agent, scope-down and cut-delegation, each followed by its restore, on an app
agent, an agent identity and a certificate-only agent. The agent identity casts
(``microsoft.graph.agentIdentity`` …) are documented on learn.microsoft.com but have no
request builder in the beta SDK: their answers are still parsed into the beta models. The
report is printed and written to ``$AGENT_IR_CONFORMANCE_DIR/microsoft-graph.md`` when set.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from agent_ir.activity.model import ActivityWindow
from agent_ir.activity.timeline import build_timeline
from agent_ir.engine.incident import execute, plan_for, restore
from agent_ir.engine.inventory import Engine
from agent_ir.lab.runner import Lab
from agent_ir.lab.world import load_world_text
from agent_ir.model import Identity
from agent_ir.providers.base import FederationLookup, utcnow
from tests.conformance import graph_sdk
from tests.conformance.recording import FAST, WHO, Recorded, Recorder, Report, playbook
from tests.providers.entra.entra_helpers import AWS_ROLE, WORLD

AGENT = "invoice-agent"
_LEARN = "documented on learn.microsoft.com (beta); no request builder in msgraph-beta-sdk"
CASTS: list[tuple[str, str, str, str]] = [
    (
        "GET",
        r"servicePrincipals/microsoft\.graph\.agentIdentity",
        "AgentIdentity",
        "agentidentity-list",
    ),
    (
        "GET",
        r"applications/microsoft\.graph\.agentIdentityBlueprint",
        "AgentIdentityBlueprint",
        "agentidentityblueprint-list",
    ),
    (
        "GET",
        r"servicePrincipals/[^/]+/microsoft\.graph\.agentIdentity/sponsors",
        "DirectoryObject",
        "agentidentity-list-sponsors",
    ),
]
"""Beta casts: verb, path pattern, the beta model of each listed item, the doc page."""


ADAPTER_ROUTES = (
    "GET /v1.0/servicePrincipals",
    "GET /beta/servicePrincipals/microsoft.graph.agentIdentity",
    "GET /v1.0/applications",
    "GET /v1.0/applications?$filter=federatedIdentityCredentials/any(",
    "GET /beta/applications/microsoft.graph.agentIdentityBlueprint",
    "GET /v1.0/oauth2PermissionGrants",
    "GET /v1.0/roleManagement/directory/roleAssignments",
    "GET /v1.0/roleManagement/directory/roleDefinitions",
    "GET /beta/reports/appCredentialSignInActivities",
    "/appRoleAssignedTo",
    "GET /v1.0/applications/{application%2Did}/federatedIdentityCredentials",
    "/microsoft.graph.agentIdentity/sponsors",
    "POST /v1.0/directoryObjects/getByIds",
    "GET /v1.0/organization",
    "GET /v1.0/servicePrincipals(appId=",
    # an agent-scoped read asks by filter instead of listing the tenant
    "GET /v1.0/servicePrincipals?$filter=startswith(displayName,",
    "GET /v1.0/servicePrincipals?$filter=tags/any(t:t eq ",
    "GET /v1.0/servicePrincipals?$filter=appId eq ",
    "GET /beta/servicePrincipals/microsoft.graph.agentIdentity?$filter=id eq ",
    "GET /beta/servicePrincipals/microsoft.graph.agentIdentity?$filter=agentIdentityBlueprintId eq ",
    "GET /beta/applications/microsoft.graph.agentIdentityBlueprint?$filter=appId eq ",
    "GET /v1.0/applications?$filter=appId eq ",
    "GET /v1.0/oauth2PermissionGrants?$filter=clientId eq ",
    "GET /v1.0/roleManagement/directory/roleAssignments?$filter=principalId eq ",
    "/ownedObjects",
    "/removePassword",
    "POST /v1.0/users/{user%2Did}/revokeSignInSessions",
    "PATCH /beta/servicePrincipals/",
    "PATCH /v1.0/servicePrincipals/",
    "PATCH /v1.0/applications/",
    "DELETE /v1.0/oauth2PermissionGrants/",
    "PATCH /v1.0/oauth2PermissionGrants/",
    "POST /v1.0/oauth2PermissionGrants",
    "DELETE /v1.0/servicePrincipals/{servicePrincipal%2Did}/appRoleAssignments/",
    "POST /v1.0/servicePrincipals/{servicePrincipal%2Did}/appRoleAssignments",
    "DELETE /v1.0/roleManagement/directory/roleAssignments/",
    "POST /v1.0/roleManagement/directory/roleAssignments",
    "DELETE /v1.0/applications/{application%2Did}/federatedIdentityCredentials/",
    "POST /v1.0/applications/{application%2Did}/federatedIdentityCredentials",
)
"""What the Entra adapter sends (adapter.py, operations.py): each must be in the run."""


@pytest.fixture(scope="module")
def traffic(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[Recorded]]:
    world = load_world_text(WORLD, "tests/providers/entra/entra_helpers.py")
    work = tmp_path_factory.mktemp("graph-conformance")
    with Lab(world, work) as lab:
        server = lab.emulators["entra"].server
        recorder = Recorder(server.app)
        server.app = recorder
        settings = lab.settings.model_copy(update={"journal_dir": work / "journal"})

        async def run() -> None:
            engine = Engine(settings, clock=utcnow)
            try:
                await engine.inventory()
                await engine.doctor()
                stories: list[tuple[str, str, dict[str, Any]]] = [
                    (AGENT, "contain-agent", {"revoke_delegating_user_sessions": True}),
                    (AGENT, "scope-down", {}),
                    (AGENT, "cut-delegation", {"from": "alice@corp.test", "to": AGENT}),
                    (AGENT, "cut-delegation", {"from": AWS_ROLE, "to": AGENT}),
                    ("support-agent-01", "contain-agent", {}),
                    ("ops-automation-agent", "contain-agent", {}),
                ]
                for target, book, params in stories:
                    plan = await plan_for(engine, target, playbook(book), params)
                    outcome = await execute(engine, plan, WHO, tuning=FAST)
                    await restore(engine, outcome.incident, WHO, tuning=FAST)
                # who trusts an outside identity: the advanced query on federated credentials
                entra = engine.providers()["entra"]
                assert isinstance(entra, FederationLookup)
                role = Identity("aws", "role", AWS_ROLE, "invoice-processor", "111111111111")
                assert await entra.federated_into([role])
                # the activity reader: sign-ins (beta) and directory audits
                now = datetime.now(UTC)
                window = ActivityWindow(now - timedelta(days=3), now, 500)
                timeline = await build_timeline(engine, AGENT, window, ["entra"])
                assert timeline.statuses[0].state == "answered", timeline.statuses
            finally:
                await engine.aclose()

        asyncio.run(run())
        yield recorder.exchanges


def check(exchange: Recorded, report: Report) -> None:
    """Add one exchange to the report."""
    verb = exchange.verb
    head, _, rest = exchange.path.lstrip("/").partition("/")
    if head not in graph_sdk.ROOTS:
        report.add(
            f"{verb} /{{tenant}}/{rest}", note="Entra token / OpenID endpoint (MSAL; not Graph)"
        )
        return
    for cast_verb, pattern, model, page in CASTS:
        if verb == cast_verb and re.fullmatch(pattern, rest):
            entity = graph_sdk.model("beta", model)
            found = graph_sdk.collection(entity, exchange.response, exchange.status)
            found += graph_sdk.query_problems(None, exchange.query, entity)
            shown = pattern.replace("\\", "").replace("[^/]+", "{id}")
            report.add(f"{verb} /{head}/{shown}", found, f"conforms ({_LEARN}: {page})")
            return
    builder = graph_sdk.resolve(head, rest)
    if builder is None:
        report.add(f"{verb} {exchange.path}", ["no request builder of the SDK has this path"])
        return
    key = f"{verb} /{head}{builder.template.removeprefix('{+baseurl}').partition('{?')[0]}"
    if verb not in builder.returns:
        report.add(key, [f"the request builder has no {verb}"])
        return
    report.add(key, graph_sdk.exchange_problems(builder, exchange))


def test_every_graph_route_conforms_to_the_msgraph_sdks(
    traffic: list[Recorded], tmp_path_factory: pytest.TempPathFactory
) -> None:
    report = Report("Microsoft Graph")
    for exchange in traffic:
        check(exchange, report)
    text = report.write(tmp_path_factory)
    assert len(report.routes) >= 20, text
    sent = [*report.routes, *(_with_filter(e) for e in traffic)]
    missing = [r for r in ADAPTER_ROUTES if not any(r in key for key in sent)]
    assert not missing, f"routes the adapter uses that the run never sent: {missing}"
    assert not report.failing(), text


def test_the_kiota_check_catches_unknown_and_wrongly_typed_properties() -> None:
    builder = graph_sdk.resolve("v1.0", "servicePrincipals")
    assert builder is not None
    model = builder.model(builder.returns["GET"])
    assert model is not None
    good = {"value": [{"id": "x", "appId": "y", "accountEnabled": True}], "@odata.context": "c"}
    assert graph_sdk.parse(model, good, "r") == []
    bad = {"value": [{"id": "x", "accountEnabled": "yes", "colour": "red"}]}
    assert graph_sdk.parse(model, bad, "r") == [
        "r.value[0].accountEnabled: 'yes' is not of the type ServicePrincipal declares",
        "r.value[0].colour: not a property of ServicePrincipal",
    ]
    assert graph_sdk.resolve("v1.0", "servicePrincipals/x/notAThing") is None


def _with_filter(exchange: Recorded) -> str:
    """``VERB path?$filter=…`` of one exchange (to tell an advanced query by its filter)."""
    return f"{exchange.verb} {exchange.path}?$filter={''.join(exchange.query.get('$filter', []))}"
