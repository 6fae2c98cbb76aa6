"""The world's ``okta`` section: every problem refused with its file and line."""

from __future__ import annotations

import pytest

from agent_ir.errors import WorldError
from agent_ir.lab.okta_generator import generate_okta
from agent_ir.lab.world import load_world_text

HEAD = "version: 1\nname: bad-okta\n"

CASES = {
    "unknown key": (
        "okta:\n  users:\n    - {login: alice@corp.test, pasword: x}\n",
        5,
        "okta.users[0].pasword: unknown key",
    ),
    "short client id": (
        "okta:\n  apps:\n    - label: a\n      client_id: abc\n      keys: 1\n",
        6,
        "okta.apps[0].client_id",
    ),
    "short login": ("okta:\n  users:\n    - {login: a@b}\n", 5, "okta.users[0].login"),
    "dangling creator": (
        "okta:\n  users:\n    - {login: bob@corp.test}\n"
        "  api_tokens:\n    - {name: t, user: eve@corp.test}\n",
        7,
        "no Okta user with login 'eve@corp.test'",
    ),
    "dangling consent": (
        "okta:\n  apps:\n    - label: a\n      keys: 1\n      consents:\n"
        "        - {user: nobody@corp.test, scopes: [okta.users.read]}\n",
        8,
        "okta.apps[0].consents[0].user",
    ),
    "duplicate label": (
        "okta:\n  apps:\n    - {label: a, keys: 1}\n    - {label: a, keys: 1}\n",
        6,
        "'a' twice",
    ),
    "key-less JWT app": ("okta:\n  apps:\n    - {label: a}\n", 5, "needs at least one key"),
    "bad role": (
        "okta:\n  users:\n    - {login: bob@corp.test, admin_roles: [GOD]}\n",
        5,
        "admin_roles",
    ),
    "bad window": (
        "okta:\n  users:\n    - {login: bob@corp.test}\n"
        "  api_tokens:\n    - {name: t, user: bob@corp.test, token_window: 30 days}\n",
        7,
        "ISO-8601",
    ),
    "unknown AI agent app": (
        "okta:\n  users:\n    - {login: bob@corp.test}\n"
        "  ai_agents:\n    - {name: x, app: nope, owners: [bob@corp.test]}\n",
        7,
        "no app labelled 'nope'",
    ),
    "dangling inventory id": (
        "inventory:\n  - name: x\n    identities: [{provider: okta, id: 0oaNOPE}]\n"
        "okta:\n  users:\n    - {login: bob@corp.test}\n",
        5,
        "no okta identity '0oaNOPE'",
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_okta_section_is_refused_with_a_located_problem(name: str) -> None:
    text, line, fragment = CASES[name]
    with pytest.raises(WorldError) as caught:
        load_world_text(HEAD + text, "bad.yaml")
    problems = caught.value.problems
    assert any(p.line == line and fragment in str(p) for p in problems), str(caught.value)


def test_a_generated_okta_world_is_valid_and_names_its_identities() -> None:
    world = load_world_text(HEAD + generate_okta(apps=50, tokens=10, agents=5, users=30), "gen")
    assert len(world.okta.apps) == 50 and len(world.okta.api_tokens) == 10
    assert len(world.okta.identity_ids()) == 65
