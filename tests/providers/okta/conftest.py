"""An Okta-only lab for the Okta tests: the session AWS lab is never started here."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from agent_ir.engine.inventory import Engine
from agent_ir.lab.okta import OktaEmulator
from agent_ir.lab.runner import Lab
from agent_ir.lab.world import World, load_world_text
from agent_ir.providers.base import utcnow
from tests.providers.okta.helpers import PlainOkta

OKTA_WORLD = """
version: 1
name: okta-tests
description: An Okta org with one story agent, a shadow API token and a few others.
okta:
  org: {subdomain: corp, company: Corp}
  users:
    - {login: alice@corp.test}
    - {login: bob@corp.test, admin_roles: [SUPER_ADMIN]}
    - {login: carol@corp.test, admin_roles: [APP_ADMIN]}
    - {login: svc-etl@corp.test, agent: etl-agent, owner: carol@corp.test}
  apps:
    - label: invoice-agent
      agent: invoice-agent
      owner: alice@corp.test
      keys: 1
      scopes: [okta.users.read, okta.apps.read]
      groups: [finance, accounting]
      age_days: 400
      last_used_days_ago: 2
      consents:
        - {user: alice@corp.test, scopes: [okta.users.read], tokens: 2}
        - {user: carol@corp.test, scopes: [okta.apps.read], tokens: 1}
    - label: reporting-agent
      agent: reporting-agent
      owner: carol@corp.test
      auth: client_secret_basic
      secrets: [{age_days: 200}, {age_days: 5}]
      scopes: [okta.users.read, okta.users.manage]
      admin_roles: [ORG_ADMIN, READ_ONLY_ADMIN]
    - label: dpop-agent
      agent: dpop-agent
      keys: 1
      dpop: true
      scopes: [okta.users.read]
    - {label: hr-sync, auth: client_secret_post, secrets: [{age_days: 30}], scopes: [okta.users.read]}
  api_tokens:
    - {name: gpt-scraper-bot, user: bob@corp.test, age_days: 200, last_used_days_ago: 1}
    - {name: okta-terraform, user: carol@corp.test, age_days: 20}
    - {name: reporting-agent-ci, user: carol@corp.test, age_days: 90}
  ai_agents:
    - {name: helpdesk-copilot, owners: [carol@corp.test], keys: 1}
"""


@pytest.fixture(scope="session")
def okta_world() -> World:
    """The world the Okta tests run against."""
    return load_world_text(OKTA_WORLD, "tests/providers/okta/conftest.py")


@pytest.fixture(scope="session")
def okta_lab(okta_world: World, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """A running lab with the Okta emulator only."""
    with Lab(okta_world, tmp_path_factory.mktemp("okta-lab")) as running:
        yield running


@pytest.fixture
def fresh_okta(okta_lab: Lab) -> Iterator[Lab]:
    """The Okta lab, reset to the world as seeded once the test is done."""
    yield okta_lab
    okta_lab.reset()


@pytest.fixture
def emulator(okta_lab: Lab) -> OktaEmulator:
    """The Okta emulator object (for the agents' own credentials and the limiter report)."""
    found = okta_lab.emulators["okta"]
    assert isinstance(found, OktaEmulator)
    return found


@pytest.fixture
async def okta_engine(fresh_okta: Lab, tmp_path: Path) -> AsyncIterator[Engine]:
    """An engine on the Okta lab, journaling into the test's own folder."""
    settings = fresh_okta.settings.model_copy(update={"journal_dir": tmp_path / "journal"})
    engine = Engine(settings, clock=utcnow)
    yield engine
    await engine.aclose()


@pytest.fixture
def plain(okta_lab: Lab) -> Iterator[PlainOkta]:
    """Plain HTTP to the Okta lab as the responder."""
    client = PlainOkta(okta_lab)
    yield client
    client.close()
