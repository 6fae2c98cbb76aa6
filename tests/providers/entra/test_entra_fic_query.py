"""Graph's advanced query for the applications that trust an outside workload
(``$filter=federatedIdentityCredentials/any(f:f/subject eq '…')``), on the lab over real
sockets: refused without ``ConsistencyLevel: eventual`` and ``$count=true`` as Graph
refuses it, answered with ``@odata.count`` and the credentials expanded, kept current by
writes; and the adapter's lookup finds the apps an AWS role federates into."""

from __future__ import annotations

import time
from typing import Any

import httpx

from agent_ir.lab.runner import Lab
from agent_ir.model import EdgeKind, Identity
from agent_ir.providers.entra.config import EntraSettings
from tests.providers.entra.entra_helpers import AWS_ROLE, adapter_for, responder_http

ADVANCED = {"ConsistencyLevel": "eventual"}


def _ask(http: httpx.Client, where: str, headers: dict[str, str], **extra: str) -> httpx.Response:
    params = {
        "$filter": f"federatedIdentityCredentials/any(f:{where})",
        "$select": "id,appId,displayName",
        "$expand": "federatedIdentityCredentials",
        **extra,
    }
    return http.get("/v1.0/applications", params=params, headers=headers)


def _names(reply: httpx.Response) -> list[str]:
    assert reply.status_code == 200, reply.text
    body: dict[str, Any] = reply.json()
    assert body["@odata.count"] == len(body["value"])
    return sorted(a["displayName"] for a in body["value"])


def test_graph_refuses_the_filter_without_the_advanced_query_parameters(
    lab: Lab, settings: EntraSettings
) -> None:
    with responder_http(settings) as http:
        where = f"f/subject eq '{AWS_ROLE}'"
        for headers, extra in (({}, {"$count": "true"}), (ADVANCED, {}), ({}, {})):
            reply = _ask(http, where, headers, **extra)
            assert reply.status_code == 400, reply.text
            assert reply.json()["error"]["code"] == "Request_UnsupportedQuery"
        assert _names(_ask(http, where, ADVANCED, **{"$count": "true"}))


def test_the_filter_answers_by_subject_prefix_and_issuer_and_follows_writes(
    lab: Lab, settings: EntraSettings
) -> None:
    count = {"$count": "true"}
    with responder_http(settings) as http:
        exact = _ask(http, f"f/subject eq '{AWS_ROLE}'", ADVANCED, **count)
        found = _names(exact)
        assert found
        fics = [f for a in exact.json()["value"] for f in a["federatedIdentityCredentials"]]
        assert any(f["subject"] == AWS_ROLE for f in fics)
        session = "arn:aws:sts::111111111111:assumed-role/invoice-processor/"
        assert _names(_ask(http, f"f/subject eq '{session}x'", ADVANCED, **count)) == []
        app = http.get(
            "/v1.0/applications", params={"$filter": f"displayName eq '{found[0]}'"}
        ).json()["value"][0]
        created = http.post(
            f"/v1.0/applications/{app['id']}/federatedIdentityCredentials",
            json={
                "name": "session-x",
                "issuer": "https://sts.example.test",
                "subject": f"{session}x",
                "audiences": ["api://AzureADTokenExchange"],
            },
        )
        assert created.status_code == 201, created.text
        prefix = f"startswith(f/subject,'{session}')"
        # eventual consistency: the new credential answers once replicas have it, as in Graph
        seen: list[str] = []
        for _ in range(500):  # replicas see the write after the lab's replication delay
            seen = _names(_ask(http, prefix, ADVANCED, **count))
            if seen:
                break
            time.sleep(0.02)
        assert seen == [found[0]]
        issuer = "f/issuer eq 'https://sts.example.test' and f/subject eq 'nobody'"
        assert _names(_ask(http, issuer, ADVANCED, **count)) == []
        both = f"f/issuer eq 'https://sts.example.test' or f/subject eq '{AWS_ROLE}'"
        assert _names(_ask(http, both, ADVANCED, **count)) == found
        refused = _ask(http, "f/subject ne 'x'", ADVANCED, **count)
        assert refused.status_code == 400
        assert refused.json()["error"]["code"] == "Request_UnsupportedQuery"


async def test_the_adapter_finds_the_apps_an_aws_role_federates_into(
    lab: Lab, settings: EntraSettings
) -> None:
    # an agent-scoped read whose focus holds none of the tenant's principals: no
    # application's credentials are listed one by one, the filter has to find them
    async with adapter_for(settings, focus=lambda: lambda identity: False) as adapter:
        await adapter.discover()
        assert not adapter.snapshot.fics
        before = adapter.graph.requests
        role = Identity("aws", "role", AWS_ROLE, "invoice-processor", "111111111111")
        edges = await adapter.federated_into([role])
        assert adapter.graph.requests - before == 1
        assert edges
        assert {e.kind for e in edges} == {EdgeKind.FEDERATION}
        assert AWS_ROLE in {e.source for e in edges}
        nobody = Identity("aws", "role", "arn:aws:iam::222222222222:role/x", "x", "222222222222")
        assert await adapter.federated_into([nobody]) == []
