"""The AWS adapter against the lab over real sockets: discovery, errors, faults."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from agent_ir.errors import AuthenticationError, ProviderUnavailable
from agent_ir.lab.faults import FaultSpec
from agent_ir.model import EdgeKind
from agent_ir.providers.aws.adapter import AwsProvider
from agent_ir.providers.base import ProviderContext

USER = "arn:aws:iam::111111111111:user/agents/invoice-agent"
PROCESSOR = "arn:aws:iam::111111111111:role/service/invoice-processor"
READER = "arn:aws:iam::222222222222:role/finance-data-reader"


def adapter(lab, **overrides) -> AwsProvider:
    settings = lab.settings.providers.aws.model_copy(update=overrides)
    return AwsProvider(settings, ProviderContext())


async def test_discovery_reads_both_accounts_with_keys_grants_and_edges(lab) -> None:
    aws = adapter(lab)
    try:
        found = await aws.discover()
    finally:
        await aws.aclose()
    by_id = {i.id: i for i in found.identities}
    user = by_id[USER]
    assert user.agent == "invoice-agent" and user.owner == "alice@corp.test"
    ages = sorted(round((lab.now - c.created) / timedelta(days=1)) for c in user.credentials)
    assert ages == [3, 412]
    statuses = {c.status for c in user.credentials}
    assert statuses == {"active", "inactive"}
    used = [c for c in user.credentials if c.last_used]
    assert len(used) == 1 and lab.now - used[0].last_used < timedelta(days=2)
    assert READER in by_id and by_id[READER].account == "222222222222"
    grants = {(g.identity, g.grant): g for g in found.grants}
    assert grants[(PROCESSOR, "AdministratorAccess")].risk == "admin"
    assert grants[(USER, "AgentBoundary")].kind == "permissions-boundary"
    edges = {(e.source, e.target): e for e in found.edges if e.kind is EdgeKind.ASSUME_ROLE}
    assert (USER, PROCESSOR) in edges and (PROCESSOR, READER) in edges
    assert "222222222222" in edges[(PROCESSOR, READER)].reason
    assert "arn:aws:iam::111111111111:user/agent-ir-responder" in found.responder_ids


async def test_only_wanted_identities_get_their_keys_read(lab) -> None:
    aws = AwsProvider(
        lab.settings.providers.aws, ProviderContext(wants=lambda i: i.name == "invoice-agent")
    )
    try:
        found = await aws.discover()
    finally:
        await aws.aclose()
    with_keys = {i.name for i in found.identities if i.credentials}
    assert with_keys == {"invoice-agent"}


async def test_throttling_and_errors_are_ridden_out(lab, aws_faults) -> None:
    aws_faults.update(FaultSpec(throttle_rate=0.3, error_rate=0.1, seed=5))
    aws = adapter(lab)
    try:
        found = await aws.discover()
    finally:
        await aws.aclose()
    assert any(i.id == USER for i in found.identities)
    assert aws_faults.counts[next(k for k in aws_faults.counts if k.value == "throttle")] > 0


async def test_bad_credentials_are_an_authentication_error(lab, tmp_path: Path) -> None:
    creds = tmp_path / "credentials"
    creds.write_text(
        "[agent-ir-lab]\naws_access_key_id = AKIAAAAAAAAAAAAAAAAA\n"
        "aws_secret_access_key = 0000000000000000000000000000000000000000\n"
    )
    aws = adapter(lab, shared_credentials_file=creds)
    with pytest.raises(AuthenticationError) as caught:
        await aws.discover()
    await aws.aclose()
    assert "InvalidClientTokenId" in caught.value.message
    assert "0000000000" not in caught.value.message


async def test_unreachable_endpoint_is_provider_unavailable(lab) -> None:
    aws = adapter(lab, endpoint_url="https://127.0.0.1:9", max_attempts=1, timeout_s=2)
    with pytest.raises(ProviderUnavailable) as caught:
        await aws.discover()
    await aws.aclose()
    assert "127.0.0.1:9" in caught.value.message


async def test_a_hanging_endpoint_times_out(lab, aws_faults) -> None:
    aws_faults.update(FaultSpec(timeout_rate=1.0, timeout_s=3))
    aws = adapter(lab, timeout_s=0.5, max_attempts=1)
    with pytest.raises(ProviderUnavailable) as caught:
        await aws.discover()
    await aws.aclose()
    assert "timed out" in caught.value.message or "connection" in caught.value.message
