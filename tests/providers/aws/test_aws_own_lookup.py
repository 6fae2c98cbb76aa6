"""The AWS adapter's own lookup (``own_identities``) against labs served over real sockets:
it returns exactly the principals the engine's agent-scoped read gives the agent by name
or inventory id, read the same way, without listing the accounts (counted from the lab's
request log)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent_ir.errors import ProviderUnavailable
from agent_ir.providers.aws.adapter import AwsProvider
from agent_ir.providers.base import Discovery, OwnLookup
from agent_ir.settings import load_settings
from tests.providers import own_lookup as lab

LISTINGS = {"ListUsers", "ListRoles", "GetAccountAuthorizationDetails"}
WORLD = lab.generated_world(200)


@pytest.fixture(scope="module")
def default_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    yield from lab.serve_default(tmp_path_factory.mktemp("own-aws-default"))


@pytest.fixture(scope="module")
def generated_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    yield from lab.serve_generated(tmp_path_factory.mktemp("own-aws-generated"), WORLD)


async def _own(config: Path, agent: str, **overrides: object) -> tuple[Discovery, Counter[str]]:
    """One own lookup on a fresh adapter, and the IAM/STS actions it sent."""
    settings = load_settings(config)
    aws_settings = settings.providers.aws
    assert aws_settings is not None
    aws = AwsProvider(aws_settings.model_copy(update=overrides), lab.containment())
    assert isinstance(aws, OwnLookup)
    lab.clear_log(config)
    try:
        found = await aws.own_identities(agent, lab.inventory_ids(settings, agent))
    finally:
        await aws.aclose()
    actions = Counter(str(e["action"]) for e in lab.logged(config, "aws"))
    return found, actions


async def _same_as_scoped(config: Path, agent: str) -> tuple[Discovery, Counter[str]]:
    expected = await lab.scoped(config, agent, "aws")
    found, actions = await _own(config, agent)
    assert lab.by_id(found) == expected.own
    assert lab.grant_keys(found.grants) == lab.grant_keys(expected.grants)
    assert set(found.edges) <= set(expected.edges)
    assert not LISTINGS & set(actions), actions
    return found, actions


async def test_default_world_story_agent_equals_the_scoped_read(default_lab: Path) -> None:
    found, actions = await _same_as_scoped(default_lab, "invoice-agent")
    ids = set(lab.by_id(found))
    assert ids == {
        "arn:aws:iam::111111111111:user/invoice-agent",
        "arn:aws:iam::111111111111:role/invoice-processor",
    }
    user = lab.by_id(found)["arn:aws:iam::111111111111:user/invoice-agent"]
    assert user.agent == "invoice-agent" and user.credentials
    # the processor is trusted by the user and the user may assume it: the edge between
    # the two principals found is drawn as the scoped read draws it
    assert any(
        e.source.endswith("user/invoice-agent") and e.target.endswith("role/invoice-processor")
        for e in found.edges
    )
    # one GetUser and one GetRole per account for the name, one more GetRole by id
    assert actions["GetUser"] >= 2 and actions["GetRole"] >= 3
    print(f"\ninvoice-agent own lookup, AWS requests: {sum(actions.values())} {dict(actions)}")


async def test_generated_world_equals_the_scoped_read(generated_lab: Path) -> None:
    found, actions = await _same_as_scoped(generated_lab, WORLD.agent)
    ids = set(lab.by_id(found))
    home, away = WORLD.home, WORLD.away
    assert ids == {
        f"arn:aws:iam::{home}:user/{WORLD.agent}",
        f"arn:aws:iam::{home}:role/{WORLD.agent}",
        f"arn:aws:iam::{away}:user/{WORLD.agent}",
        WORLD.by_id_role,
    }
    # a lookup costs what this agent's principals cost, not what the estate costs
    assert sum(actions.values()) < 60, actions
    print(f"\n{WORLD.agent} own lookup, AWS requests: {sum(actions.values())} {dict(actions)}")


async def test_a_decoy_named_like_the_agent_keeps_its_tag(generated_lab: Path) -> None:
    decoy = f"arn:aws:iam::{WORLD.away}:user/{WORLD.agent}"
    expected = await lab.scoped(generated_lab, WORLD.agent, "aws")
    found, _ = await _own(generated_lab, WORLD.agent)
    assert lab.by_id(found)[decoy].agent == WORLD.other
    assert decoy not in expected.attributed
    assert f"arn:aws:iam::{WORLD.home}:user/{WORLD.agent}" in expected.attributed


@pytest.mark.parametrize("agent", ["translate-agent-01", "no-such-agent-anywhere", "bad name!"])
async def test_an_agent_without_aws_principals_gives_an_empty_discovery(
    default_lab: Path, agent: str
) -> None:
    found, actions = await _own(default_lab, agent)
    assert (found.identities, found.grants, found.edges) == ([], [], [])
    assert not LISTINGS & set(actions), actions


def test_ids_of_other_providers_are_not_asked_for() -> None:
    from agent_ir.providers.aws import scoped

    entries = scoped.own_entries(
        "x-agent",
        frozenset({WORLD.by_id_account, "00000000-0000-0000-0000-000000000001", "0oa1"}),
        [WORLD.home],
    )
    assert {(e.kind, e.name) for e in entries} == {("iam-user", "x-agent"), ("iam-role", "x-agent")}


async def test_a_failing_iam_is_provider_unavailable_not_absent(default_lab: Path) -> None:
    settings = load_settings(default_lab)
    assert settings.providers.aws is not None
    aws = AwsProvider(
        settings.providers.aws.model_copy(update={"max_attempts": 1}), lab.containment()
    )
    try:
        await aws.own_identities("gpt-scraper-bot", frozenset())  # signs in
        lab.set_faults(default_lab, "aws", {"error_rate": 1.0})
        try:
            with pytest.raises(ProviderUnavailable):
                await aws.own_identities("invoice-agent", frozenset())
        finally:
            lab.set_faults(default_lab, "aws", {})
    finally:
        await aws.aclose()
