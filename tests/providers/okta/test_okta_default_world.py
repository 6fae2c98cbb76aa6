"""The Okta side of the default world (its ``okta`` section alone, so no AWS emulator
starts here): the story agent's app with its scopes and Alice's consent, and the shadow
agent's API token with the human who created it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import yaml

from agent_ir.data import world_dir
from agent_ir.engine.inventory import Engine
from agent_ir.lab.runner import Lab
from agent_ir.lab.world import load_world_text
from agent_ir.model import EdgeKind

WORLDS = world_dir()


def okta_section() -> str:
    """The default world's ``okta`` section alone."""
    data = yaml.safe_load((WORLDS / "default.yaml").read_text())
    return yaml.safe_dump({"version": 1, "name": "default-okta", "okta": data["okta"]})


@pytest.fixture(scope="module")
async def engine(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Engine]:
    world = load_world_text(okta_section(), "default okta section")
    with Lab(world, tmp_path_factory.mktemp("okta-default")) as lab:
        running = Engine(lab.settings)
        yield running
        await running.aclose()


async def test_story_agent_and_shadow_agent_in_okta(engine: Engine) -> None:
    inv = await engine.inventory()
    assert not inv.errors
    invoice = inv.agent("invoice-agent")
    app = next(i for i in invoice.identities if i.kind == "service-app")
    assert app.owner == "alice@corp.test" and app.credentials[0].last_used is not None
    scopes = {g.grant for g in inv.grants[app.id]}
    assert scopes == {"okta.users.read", "okta.apps.read"}
    consent = next(e for e in inv.graph.incoming(app.id) if e.kind is EdgeKind.CONSENT)
    assert consent.source == "human:alice@corp.test" and "2 refresh token" in consent.reason

    shadow = inv.agent("gpt-scraper-bot")
    assert shadow.owner is None
    token = next(i for i in shadow.identities if i.kind == "api-token")
    creator = next(e for e in inv.graph.incoming(token.id) if e.kind is EdgeKind.CONSENT)
    assert creator.source == "human:bob@corp.test" and "SUPER_ADMIN" in creator.reason
    assert {f.code for f in shadow.findings} >= {"admin-grant", "no-owner"}

    names = {a.name for a in inv.agents}
    assert {"helpdesk-copilot", "sales-research-agent", "support-agent-01"} <= names
    assert "hr-sync" not in names
