"""Pure units of the Entra translation: risk levels, federation sources, tags, and the
emulator's query parser."""

from __future__ import annotations

import pytest

from agent_ir.lab.entra_odata import ODataError, parse_filter
from agent_ir.lab.entra_throttle import read_budget, request_cost
from agent_ir.providers.entra.risk import api_permission_risk, graph_permission_risk, role_risk
from agent_ir.providers.entra.translate import federation_source, tag_pairs


@pytest.mark.parametrize(
    ("value", "delegated", "risk"),
    [
        ("Directory.ReadWrite.All", False, "admin"),
        ("RoleManagement.ReadWrite.Directory", True, "admin"),
        ("Directory.AccessAsUser.All", True, "admin"),
        ("Directory.AccessAsUser.All", False, None),
        ("Files.ReadWrite.All", True, "wildcard"),
        ("Mail.Read", True, None),
        ("Mail.Read", False, "wildcard"),
        ("Mail.Send", False, "wildcard"),
        ("User.Read.All", False, None),
        ("User.Read", True, None),
    ],
)
def test_graph_permission_risk(value: str, delegated: bool, risk: str | None) -> None:
    assert graph_permission_risk(value, delegated=delegated) == risk


def test_other_risks() -> None:
    assert api_permission_risk("Invoices.ReadWrite") is None
    assert api_permission_risk("Tenant.ReadWrite.All") == "wildcard"
    assert api_permission_risk("*") == "wildcard"
    assert role_risk("Global Administrator") == "admin"
    assert role_risk("Directory Readers") is None


@pytest.mark.parametrize(
    ("issuer", "subject", "source"),
    [
        ("https://x.tokens.sts.global.api.aws", "arn:aws:iam::1:role/r", "arn:aws:iam::1:role/r"),
        (
            "https://x.tokens.sts.global.api.aws",
            "arn:aws:sts::111111111111:assumed-role/invoice-processor/session-1",
            "arn:aws:iam::111111111111:role/invoice-processor",
        ),
        ("https://accounts.google.com", "104729384756102938475", "104729384756102938475"),
        (
            "https://login.microsoftonline.com/t/v2.0",
            "ABCDEF00-0000-4000-8000-000000000000",
            "abcdef00-0000-4000-8000-000000000000",
        ),
        (
            "https://token.actions.githubusercontent.com",
            "repo:a/b:ref:main",
            "external:https://token.actions.githubusercontent.com",
        ),
    ],
)
def test_federation_source_is_the_workloads_id_in_its_own_provider(
    issuer: str, subject: str, source: str
) -> None:
    assert federation_source(issuer, subject) == source


def test_tags_become_pairs() -> None:
    assert tag_pairs(["agent-ir:agent=x", "WindowsAzureActiveDirectoryIntegratedApp"]) == (
        ("agent-ir:agent", "x"),
        ("WindowsAzureActiveDirectoryIntegratedApp", ""),
    )


def test_filter_parser() -> None:
    match = parse_filter(
        "clientId eq 'a' and (consentType eq 'Principal' or not startswith(scope,'Mail'))"
    )
    assert match({"clientId": "A", "consentType": "AllPrincipals", "scope": "User.Read"})
    assert not match({"clientId": "a", "consentType": "AllPrincipals", "scope": "Mail.Read"})
    tagged = parse_filter("tags/any(t:t eq 'agent-ir:agent=x') and accountEnabled eq true")
    assert tagged({"tags": ["agent-ir:agent=x"], "accountEnabled": True})
    assert parse_filter("principalId eq null")({"principalId": None})
    with pytest.raises(ODataError) as caught:
        parse_filter("displayName gt 'a'")
    assert caught.value.code == "Request_UnsupportedQuery"


def test_resource_unit_costs_and_budgets() -> None:
    assert request_cost("GET", "applications", False, False, False) == 2
    assert request_cost("GET", "applications", True, False, False) == 1
    assert request_cost("GET", "servicePrincipals/x/appRoleAssignedTo", False, True, False) == 3
    assert request_cost("GET", "organization", True, False, True) == 1
    assert request_cost("PATCH", "servicePrincipals/x", False, False, False) == 1
    assert [read_budget(n) for n in (10, 200, 900)] == [3500, 5000, 8000]
