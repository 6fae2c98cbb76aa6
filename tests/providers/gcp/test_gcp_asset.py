"""Cloud Asset's searchAllIamPolicies: the lab's endpoint through google-auth's own session,
and the agent-scoped read that uses it instead of reading every account's policy (with
the per-account scan when the search is refused)."""

from __future__ import annotations

from google.auth.transport.requests import AuthorizedSession, Request

from agent_ir.engine.incident import plan_for
from agent_ir.engine.inventory import Engine
from agent_ir.lab.gcp import GcpEmulator
from agent_ir.lab.gcp_state import RESPONDER_ROLES
from agent_ir.model import EdgeKind
from agent_ir.playbook.loader import find_playbook, load_playbook
from agent_ir.providers.gcp.config import GcpSettings
from tests.providers.gcp.conftest import (
    AGENT,
    LEDGER,
    POOL_MEMBER,
    PROD,
    READER,
    AgentKey,
    Official,
    http_session,
    key_credentials,
)

ACCOUNT_TYPE = "iam.googleapis.com/ServiceAccount"


def _search(official: Official, scope: str, query: str, **params: object) -> dict[str, object]:
    reply = official.get(
        f"v1/{scope}:searchAllIamPolicies", query=query, assetTypes=ACCOUNT_TYPE, **params
    )
    assert reply.status_code == 200, reply.text
    return dict(reply.json())


def test_search_finds_the_policies_naming_a_member_with_only_their_matching_bindings(
    official: Official, emulator: GcpEmulator
) -> None:
    found = _search(official, "projects/corp-prod", f'policy:"serviceAccount:{AGENT}"')
    results = found["results"]
    assert isinstance(results, list) and len(results) == 1
    result = results[0]
    reader = emulator.state.account(READER)
    assert reader is not None
    assert result["resource"] == (
        f"//iam.googleapis.com/projects/corp-prod/serviceAccounts/{reader.unique_id}"
    )
    assert result["assetType"] == ACCOUNT_TYPE
    assert result["project"] == "projects/482913570126"
    # the workload identity binding on the same policy does not name the agent: left out
    assert [b["role"] for b in result["policy"]["bindings"]] == [
        "roles/iam.serviceAccountTokenCreator"
    ]
    # the bare email, federated member types, and the organization scope
    bare = _search(official, "organizations/0", f"policy:{READER}")
    assert [r["resource"].rsplit("/", 1)[-1] for r in bare["results"]] == [
        emulator.state.account(LEDGER).unique_id  # type: ignore[union-attr]
    ]
    federated = _search(official, "projects/482913570126", "memberTypes:(principalSet OR user)")
    members = {
        m for r in federated["results"] for b in r["policy"]["bindings"] for m in b["members"]
    }
    assert POOL_MEMBER in members and "user:alice@corp.test" in members


def test_search_pages_and_answers_permission_queries(official: Official) -> None:
    query = "policy.role.permissions:iam.serviceAccounts.getAccessToken"
    first = _search(official, "organizations/0", query, pageSize=1)
    assert len(first["results"]) == 1 and first["nextPageToken"]  # type: ignore[arg-type]
    rest = _search(official, "organizations/0", query, pageToken=first["nextPageToken"])
    allowed = first["results"] + rest["results"]  # type: ignore[operator]
    assert len(allowed) == 3  # invoice-agent (alice), finance-reader, ledger-admin
    explained = allowed[0]["explanation"]["matchedPermissions"]
    assert all(v["permissions"] == [query.partition(":")[2]] for v in explained.values())


def test_search_follows_policy_writes(official: Official, fresh_gcp: object) -> None:
    query = f'policy:"serviceAccount:{AGENT}"'
    assert _search(official, "projects/corp-prod", query).get("results")
    policy = official.account_policy(READER)
    policy["bindings"] = [
        {**b, "members": [m for m in b["members"] if m != f"serviceAccount:{AGENT}"]}
        for b in policy["bindings"]
    ]
    reply = official.post(
        f"v1/projects/-/serviceAccounts/{READER}:setIamPolicy", {"policy": policy}
    )
    assert reply.status_code == 200, reply.text
    assert not _search(official, "projects/corp-prod", query).get("results")


def test_search_needs_its_permission(settings: GcpSettings, agent_key: AgentKey) -> None:
    """An account holding no role that carries the permission: refused as IAM words it."""
    session = AuthorizedSession(
        key_credentials(agent_key(f"helper-agent-02@{PROD}")),
        auth_request=Request(http_session(settings)),
    )
    session.trust_env = False
    session.verify = str(settings.ca_bundle)
    reply = session.get(
        f"{settings.asset_url}/v1/projects/corp-prod:searchAllIamPolicies",
        params={"query": f"policy:{AGENT}"},
    )
    assert reply.status_code == 403
    error = reply.json()["error"]
    assert error["status"] == "PERMISSION_DENIED"
    assert "cloudasset.assets.searchAllIamPolicies" in error["message"]


# -- the adapter's agent-scoped read ------------------------------------------------------


def _policy_reads(emulator: GcpEmulator) -> set[str]:
    return {
        path.split("/serviceAccounts/", 1)[1].removesuffix(":getIamPolicy")
        for method, path, _ in emulator.api.calls
        if path.endswith(":getIamPolicy") and "/serviceAccounts/" in path
    }


async def test_scoped_read_reads_only_the_policies_naming_the_agent_chain(
    engine: Engine, emulator: GcpEmulator
) -> None:
    emulator.api.calls.clear()
    try:
        inv = await engine.agent_inventory("invoice-agent", containment=True)
    finally:
        await engine.aclose()
    searches = [p for _, p, _ in emulator.api.calls if p.endswith(":searchAllIamPolicies")]
    assert searches
    # the agent's own, what it can impersonate, and what that can (two hops): no other
    assert _policy_reads(emulator) == {AGENT, READER, LEDGER}
    assert len(emulator.state.accounts) > 3
    edges = {(e.source, e.target, e.kind) for e in inv.graph.edges}
    assert (AGENT, READER, EdgeKind.IMPERSONATE) in edges
    assert (READER, LEDGER, EdgeKind.IMPERSONATE) in edges
    assert (
        "arn:aws:iam::111111111111:role/invoice-processor",
        READER,
        EdgeKind.FEDERATION,
    ) in edges
    assert "Cloud Asset searchAllIamPolicies" in inv.scope


async def test_scoped_plan_equals_the_estate_plan(engine: Engine) -> None:
    playbook = load_playbook(find_playbook("contain-agent", []))
    params = {"reach": "reachable"}
    try:
        scoped = await plan_for(engine, "invoice-agent", playbook, params)
        estate = await plan_for(engine, "invoice-agent", playbook, params, whole_estate=True)
    finally:
        await engine.aclose()
    assert len(scoped.steps) > 3

    def shape(plan: object) -> list[tuple[str, str, str]]:
        return sorted((s.action, s.target, repr(s.current)) for s in plan.steps)  # type: ignore[attr-defined]

    assert shape(scoped) == shape(estate)


async def test_a_refused_search_falls_back_to_reading_every_policy(
    engine: Engine, emulator: GcpEmulator
) -> None:
    assert "roles/cloudasset.viewer" in RESPONDER_ROLES
    with emulator.api.lock:
        for project in emulator.state.projects.values():
            project.policy.replace(
                [b for b in project.policy.bindings if b["role"] != "roles/cloudasset.viewer"], 0
            )
        emulator.state.settle()
    emulator.api.calls.clear()
    try:
        inv = await engine.agent_inventory("invoice-agent", containment=True)
    finally:
        await engine.aclose()
    refused = [s for _, p, s in emulator.api.calls if p.endswith(":searchAllIamPolicies")]
    assert refused and set(refused) == {403}
    assert _policy_reads(emulator) == set(emulator.state.accounts)
    edges = {(e.source, e.target, e.kind) for e in inv.graph.edges}
    assert (AGENT, READER, EdgeKind.IMPERSONATE) in edges
    assert "searchAllIamPolicies refused" in inv.scope
    assert "every service account was read" in inv.scope
