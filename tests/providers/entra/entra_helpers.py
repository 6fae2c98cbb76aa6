"""Helpers for the Entra tests: the test world, and official clients on the lab."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import msal
import requests

from agent_ir.engine.executor import Tuning
from agent_ir.providers.base import ProviderContext
from agent_ir.providers.entra.adapter import EntraProvider
from agent_ir.providers.entra.config import EntraSettings

FAST = Tuning(backoff_s=0.05, max_backoff_s=0.2, verify_interval_s=0.03)

TENANT = "6f1c1f0e-5a3c-4f43-9a57-0c1d8a3f2b10"
MI_ID = "11111111-2222-4333-8444-555555555555"
GCP_UNIQUE_ID = "104729384756102938475"
AWS_ROLE = "arn:aws:iam::111111111111:role/invoice-processor"
AWS_ISSUER = "https://7f4c9a2e-5b1d-4e2a-9c3f-111111111111.tokens.sts.global.api.aws"

WORLD = f"""
version: 1
name: entra-tests
entra:
  tenant: {{id: {TENANT}, domain: corp.test, name: Corp}}
  limits: {{replication_delay_ms: 40}}
  users:
    - {{upn: alice@corp.test}}
    - {{upn: bob@corp.test}}
    - {{upn: carol@corp.test}}
  applications:
    - name: finance-api
      app_roles: [Invoices.Read, Invoices.ReadWrite]
      scopes: [Invoices.Read]
    - name: invoice-agent-blueprint
      kind: agent-blueprint
      owners: [alice@corp.test]
      tags: ["agent-ir:agent=invoice-agent", "agent-ir:owner=alice@corp.test"]
      passwords:
        - {{name: prod, age_days: 400, lifetime_days: 730, last_used_days_ago: 1}}
        - {{name: old, age_days: 800, lifetime_days: 365}}
      certificates:
        - {{name: signing, age_days: 30, lifetime_days: 365}}
      federated_credentials:
        - {{name: aws-invoice-processor, issuer: "{AWS_ISSUER}", subject: "{AWS_ROLE}"}}
        - {{name: gcp-invoice-agent, issuer: https://accounts.google.com, subject: "{GCP_UNIQUE_ID}"}}
    - name: support-fleet-blueprint
      kind: agent-blueprint
      owners: [carol@corp.test]
      passwords: [{{name: fleet, age_days: 10}}]
    - name: gpt-scraper-bot
      passwords: [{{name: scrape, age_days: 200}}]
    - name: catalog-reader
      passwords: [{{name: read, age_days: 1}}]
      certificates: [{{name: reader, age_days: 1}}]
      federated_credentials:
        - {{name: github-deploy, issuer: https://token.actions.githubusercontent.com, subject: "repo:corp/catalog:ref:refs/heads/main"}}
    - name: report-sync
      federated_credentials:
        - name: from-managed-identity
          issuer: https://login.microsoftonline.com/{TENANT}/v2.0
          subject: "{MI_ID}"
    - name: ops-automation-agent
      tags: ["agent-ir:agent=ops-automation-agent", "agent-ir:owner=bob@corp.test"]
      certificates: [{{name: ops, age_days: 5}}]
  agent_identities:
    - name: invoice-agent
      blueprint: invoice-agent-blueprint
      sponsors: [alice@corp.test]
      tags: ["agent-ir:agent=invoice-agent", "agent-ir:owner=alice@corp.test"]
    - {{name: support-agent-01, blueprint: support-fleet-blueprint, sponsors: [carol@corp.test], tags: ["agent-ir:agent=support-agent-01"]}}
    - {{name: support-agent-02, blueprint: support-fleet-blueprint, sponsors: [carol@corp.test], tags: ["agent-ir:agent=support-agent-02"]}}
  managed_identities:
    - {{name: mi-nightly-reports, id: {MI_ID}, tags: ["agent-ir:agent=nightly-reports-agent"]}}
  delegated_grants:
    - {{client: invoice-agent, resource: Microsoft Graph, scopes: [Mail.Read, Files.ReadWrite.All], user: alice@corp.test}}
    - {{client: invoice-agent, resource: finance-api, scopes: [Invoices.Read], user: bob@corp.test}}
    - {{client: support-agent-01, resource: Microsoft Graph, scopes: [User.Read]}}
  app_role_assignments:
    - {{principal: invoice-agent, resource: finance-api, role: Invoices.ReadWrite}}
    - {{principal: gpt-scraper-bot, resource: Microsoft Graph, role: Directory.ReadWrite.All}}
    - {{principal: catalog-reader, resource: Microsoft Graph, role: Application.Read.All}}
    - {{principal: mi-nightly-reports, resource: Microsoft Graph, role: Sites.Read.All}}
    - {{principal: support-agent-01, resource: finance-api, role: Invoices.Read}}
  directory_roles:
    - {{principal: bob@corp.test, role: Global Administrator}}
    - {{principal: ops-automation-agent, role: Application Administrator}}
"""


@asynccontextmanager
async def adapter_for(settings: EntraSettings, **context: Any) -> AsyncIterator[EntraProvider]:
    """An Entra adapter on the lab, closed afterwards."""
    adapter = EntraProvider.from_settings(settings, ProviderContext(**context))
    try:
        yield adapter
    finally:
        await adapter.aclose()


def msal_app(
    settings: EntraSettings, client_id: str, credential: Any
) -> msal.ConfidentialClientApplication:
    """An MSAL confidential client on the lab's authority, as any outside tool would build it."""
    http = requests.Session()
    http.trust_env = False
    http.verify = str(settings.ca_bundle)
    return msal.ConfidentialClientApplication(
        client_id,
        client_credential=credential,
        authority=settings.authority,
        instance_discovery=False,
        http_client=http,
    )


def graph_token(settings: EntraSettings, client_id: str, credential: Any) -> dict[str, Any]:
    """MSAL's answer to a client-credentials request for Graph."""
    result: dict[str, Any] = msal_app(settings, client_id, credential).acquire_token_for_client(
        [f"{settings.graph_url}/.default"]
    )
    return result


def responder_http(settings: EntraSettings) -> httpx.Client:
    """A plain httpx client on Graph with the responder's token (independent of the adapter)."""
    secret = Path(str(settings.client_secret_file)).read_text().strip()
    token = graph_token(settings, settings.client_id, secret)["access_token"]
    return httpx.Client(
        base_url=settings.graph_url,
        verify=ssl.create_default_context(cafile=str(settings.ca_bundle)),
        headers={"Authorization": f"Bearer {token}"},
        trust_env=False,
    )


def _collect(
    http: httpx.Client, path: str, params: dict[str, str] | None = None
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    reply = http.get(path, params=params)
    while True:
        assert reply.status_code == 200, reply.text
        body = reply.json()
        out.extend(body["value"])
        if "@odata.nextLink" not in body:
            return out
        reply = http.get(body["@odata.nextLink"])


def graph_state(http: httpx.Client) -> dict[str, Any]:
    """Everything the tenant holds that an action may change, in a comparable form (keyed by
    content, since re-created objects get new ids)."""
    sps = _collect(
        http, "/v1.0/servicePrincipals", {"$select": "id,displayName,accountEnabled,appRoles"}
    )
    names = {s["id"]: s["displayName"] for s in sps}
    users = _collect(
        http, "/v1.0/users", {"$select": "id,userPrincipalName,signInSessionsValidFromDateTime"}
    )
    names.update({u["id"]: u["userPrincipalName"] for u in users})
    apps = {}
    for app in _collect(
        http, "/v1.0/applications", {"$select": "id,displayName,passwordCredentials"}
    ):
        keys = http.get(
            f"/v1.0/applications/{app['id']}", params={"$select": "keyCredentials"}
        ).json()
        fics = _collect(http, f"/v1.0/applications/{app['id']}/federatedIdentityCredentials")
        apps[app["displayName"]] = {
            "secrets": sorted(p["keyId"] for p in app["passwordCredentials"]),
            "certificates": {k["keyId"]: k["key"] for k in keys["keyCredentials"]},
            "federated": {
                f["name"]: [f["issuer"], f["subject"], sorted(f["audiences"])] for f in fics
            },
        }
    consents = {
        f"{names[g['clientId']]} for {names.get(g['principalId'] or '', '*')} on {names[g['resourceId']]}": sorted(
            g["scope"].split()
        )
        for g in _collect(http, "/v1.0/oauth2PermissionGrants")
    }
    roles = {}
    for sp in sps:
        if sp["appRoles"]:
            values = {r["id"]: r["value"] for r in sp["appRoles"]}
            for a in _collect(http, f"/v1.0/servicePrincipals/{sp['id']}/appRoleAssignedTo"):
                roles[
                    f"{names[a['principalId']]} holds {values[a['appRoleId']]} on {sp['displayName']}"
                ] = True
    directory = sorted(
        f"{names[r['principalId']]} {r['roleDefinitionId']} {r['directoryScopeId']}"
        for r in _collect(http, "/v1.0/roleManagement/directory/roleAssignments")
    )
    return {
        "enabled": {s["displayName"]: s["accountEnabled"] for s in sps},
        "applications": apps,
        "consents": consents,
        "app_roles": sorted(roles),
        "directory_roles": directory,
        "sessions": {u["userPrincipalName"]: u["signInSessionsValidFromDateTime"] for u in users},
    }
