"""Correlation into agents, the delegation graph, and findings, on hand-made data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from agent_ir.engine.correlate import correlate, looks_like_agent
from agent_ir.engine.inventory import build_inventory, view
from agent_ir.inventory_spec import InventoryAgent, InventoryIdentity
from agent_ir.model import Credential, Identity, LinkSource
from agent_ir.providers.aws.translate import assume_role_edges, principals_from_details
from agent_ir.providers.base import Discovery
from agent_ir.settings import Settings

NOW = datetime(2026, 11, 28, tzinfo=UTC)
A, B = "111111111111", "222222222222"


def _details() -> dict:
    allow_assume = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}],
    }
    return {
        "UserDetailList": [
            {
                "UserName": "bot",
                "Arn": f"arn:aws:iam::{A}:user/bot",
                "Tags": [{"Key": "agent-ir:agent", "Value": "bot"}],
                "UserPolicyList": [{"PolicyName": "hop", "PolicyDocument": allow_assume}],
                "AttachedManagedPolicies": [],
            },
        ],
        "RoleDetailList": [
            {
                "RoleName": "first",
                "Arn": f"arn:aws:iam::{A}:role/first",
                "AssumeRolePolicyDocument": {
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"AWS": f"arn:aws:iam::{A}:user/bot"},
                            "Action": "sts:AssumeRole",
                        }
                    ]
                },
                "RolePolicyList": [{"PolicyName": "hop", "PolicyDocument": allow_assume}],
                "AttachedManagedPolicies": [],
            },
        ],
    }


def _details_b() -> dict:
    return {
        "RoleDetailList": [
            {
                "RoleName": "second",
                "Arn": f"arn:aws:iam::{B}:role/second",
                "AssumeRolePolicyDocument": {
                    "Statement": [
                        {"Effect": "Allow", "Principal": {"AWS": A}, "Action": "sts:AssumeRole"}
                    ]
                },
                "RolePolicyList": [
                    {
                        "PolicyName": "all",
                        "PolicyDocument": {
                            "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]
                        },
                    }
                ],
                "AttachedManagedPolicies": [],
            }
        ]
    }


def _discovery() -> Discovery:
    principals = principals_from_details(A, _details(), {}) + principals_from_details(
        B, _details_b(), {}
    )
    identities = [p.identity() for p in principals]
    key = Credential(
        "AKIAOLD", "access-key", "active", created=NOW - timedelta(days=200), last_used=None
    )
    identities[0] = Identity(
        **{
            **{f: getattr(identities[0], f) for f in identities[0].__dataclass_fields__},
            "credentials": (key,),
        }
    )
    d = Discovery(provider="aws", identities=identities, edges=assume_role_edges(principals))
    for p in principals:
        d.grants.extend(p.grants())
    return d


def test_account_wide_trust_needs_an_identity_policy() -> None:
    edges = _discovery().edges
    pairs = {(e.source.rsplit("/", 1)[-1], e.target.rsplit("/", 1)[-1]) for e in edges}
    assert ("bot", "first") in pairs
    # 'second' trusts account A as a whole: both principals of A hold sts:AssumeRole on *.
    assert ("first", "second") in pairs and ("bot", "second") in pairs
    reason = next(
        e.reason for e in edges if e.target.endswith("second") and e.source.endswith("first")
    )
    assert "trusts account 111111111111" in reason and "'hop'" in reason


def test_inventory_tags_and_names_correlate_with_their_sources() -> None:
    identities = [
        Identity("aws", "iam-user", "arn:1", "invoice-agent", A),
        Identity("aws", "iam-role", "arn:2", "invoice-agent-exec", A),
        Identity("aws", "iam-user", "arn:3", "tagged", A, agent="helper", owner="o@x"),
        Identity("aws", "iam-user", "arn:4", "gpt-crawler", A),
        Identity("aws", "iam-user", "arn:5", "alice", A),
    ]
    inventory = [
        InventoryAgent(
            name="invoice-agent",
            owner="al@x",
            identities=[
                InventoryIdentity(provider="aws", id="arn:1"),
                InventoryIdentity(provider="aws", id="arn:missing"),
            ],
        )
    ]
    agents, warnings = correlate(identities, inventory)
    by_name = {a.name: a for a in agents}
    assert set(by_name) == {"invoice-agent", "helper", "gpt-crawler"}
    sources = {link.identity.id: link.source for a in agents for link in a.links}
    assert sources == {
        "arn:1": LinkSource.INVENTORY,
        "arn:2": LinkSource.INFERRED,
        "arn:3": LinkSource.TAG,
        "arn:4": LinkSource.INFERRED,
    }
    assert by_name["helper"].owner == "o@x"
    assert any("arn:missing" in w for w in warnings)
    assert looks_like_agent("support-bot-3") and not looks_like_agent("alice")


def test_findings_cover_chain_stale_unused_no_owner_and_reachable_admin() -> None:
    inv = build_inventory({"aws": _discovery()}, {}, Settings(), NOW)
    bot = inv.agent("BOT")
    codes = {f.code for f in bot.findings}
    assert {
        "stale-static-credential",
        "unused-credential",
        "no-owner",
        "cross-account-chain",
        "admin-grant",
    } <= codes
    assert bot.risk is not None and bot.risk.value == "critical"
    chain = next(f for f in bot.findings if f.code == "cross-account-chain")
    assert "111111111111" in chain.message and "222222222222" in chain.message
    shown = view(inv, bot)
    assert any(reachable and g.risk == "admin" for g, reachable in shown.grants)
    root = shown.tree[0]
    assert root.label == "(no owner)"
    user_node = root.children[0].children[0]
    assert user_node.principal.endswith("user/bot")
    assert [c.principal.rsplit("/", 1)[-1] for c in user_node.children] == ["first", "second"]


def test_every_human_root_of_the_delegation_tree_carries_its_own_reason() -> None:
    from agent_ir.engine.graph import Graph
    from agent_ir.model import Agent, AgentLink, Edge, EdgeKind, Identity, LinkSource

    ident = Identity(provider="okta", kind="service-app", id="app1", name="bot", account="corp")
    agent = Agent("bot", None)
    agent.links.append(AgentLink(ident, LinkSource.TAG))
    graph = Graph(
        [
            Edge("human:alice@corp.test", "app1", EdgeKind.OWNER, "alice owns the app"),
            Edge("human:bob@corp.test", "app1", EdgeKind.CONSENT, "bob consented to it"),
        ]
    )
    roots = graph.delegation_tree(agent)
    reasons = {
        root.principal: root.children[0].via.reason for root in roots if root.children[0].via
    }
    assert reasons == {
        "human:alice@corp.test": "alice owns the app",
        "human:bob@corp.test": "bob consented to it",
    }


def test_a_name_is_inferred_to_the_longest_agent_name_it_extends() -> None:
    """The indexed look-up ties a name to the same agent a scan of every name in
    longest-first order would: the whole name, else the longest name followed by - or _,
    case-insensitively; a name merely starting with an agent's letters is not tied."""
    tagged = [
        Identity("aws", "iam-user", f"arn:t{n}", n.lower(), A, agent=n)
        for n in ("Pay", "pay-agent", "pay-agent-eu", "crm_bot")
    ]
    loose = {
        "arn:1": "PAY-AGENT-EU-exec",
        "arn:2": "pay-agent_eu",
        "arn:3": "pay-agents",
        "arn:4": "Pay_x",
        "arn:5": "crm_bot-runner",
        "arn:6": "payroll",
    }
    identities = tagged + [Identity("aws", "iam-user", i, n, A) for i, n in loose.items()]
    agents, _ = correlate(identities, [])
    owner = {
        link.identity.id: agent.name
        for agent in agents
        for link in agent.links
        if link.source is LinkSource.INFERRED
    }
    assert owner == {
        "arn:1": "pay-agent-eu",
        "arn:2": "pay-agent",
        "arn:3": "Pay",
        "arn:4": "Pay",
        "arn:5": "crm_bot",
    }
