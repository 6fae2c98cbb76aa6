"""The world's gcp section: every problem located; the default fragment; the generator."""

from __future__ import annotations

import pytest

from agent_ir.data import world_dir
from agent_ir.errors import WorldError
from agent_ir.lab.gcp_generate import generate_gcp_section, generate_gcp_world_yaml
from agent_ir.lab.world import load_world_text

WORLDS = world_dir()

BAD = """\
version: 1
name: bad-gcp
inventory:
  - name: ghost
    identities:
      - {provider: gcp, id: ghost@corp-prod.iam.gserviceaccount.com}
gcp:
  projects:
    - id: corp-prod
      number: "482913570126"
      bindings:
        - role: roles/editor
          members: ["serviceAccount:missing@corp-prod.iam.gserviceaccount.com"]
        - role: roles/iam.workloadIdentityUser
          members: ["principalSet://iam.googleapis.com/projects/482913570126/locations/global/workloadIdentityPools/nope/*"]
      service_accounts:
        - email: agent-one@corp-data.iam.gserviceaccount.com
        - email: agent-two@corp-prod.iam.gserviceaccount.com
        - email: agent-two@corp-prod.iam.gserviceaccount.com
        - email: agent-ir-responder@corp-prod.iam.gserviceaccount.com
    - id: corp-prod
      number: "482913570126"
"""


def _problems(text: str) -> list[tuple[int | None, str]]:
    with pytest.raises(WorldError) as caught:
        load_world_text(text, "world.yaml")
    return [(p.line, f"{p.where}: {p.message}") for p in caught.value.problems]


def test_cross_checks_are_located() -> None:
    found = _problems(BAD)
    expected = [
        (13, "no service account missing@corp-prod.iam.gserviceaccount.com in project corp-prod"),
        (15, "no workload identity pool nope in project number 482913570126"),
        (17, "agent-one@corp-data.iam.gserviceaccount.com does not belong to project corp-prod"),
        (19, "agent-two@corp-prod.iam.gserviceaccount.com appears twice"),
        (20, "'agent-ir-responder' is reserved"),
        (21, "project corp-prod appears twice"),
        (22, "project number 482913570126 appears twice"),
        (6, "no gcp identity 'ghost@corp-prod.iam.gserviceaccount.com'"),
    ]
    for line, fragment in expected:
        assert any(at == line and fragment in text for at, text in found), (line, fragment, found)
    assert all(text.startswith(("gcp.projects", "inventory")) for _, text in found)


@pytest.mark.parametrize(
    ("snippet", "line", "fragment"),
    [
        ("      number: 482913570126\n", 6, "number"),
        ('      number: "1"\n', 6, "6-19 digits"),
        ('      number: "482913570126"\n      labels: {}\n', 7, "labels: unknown key"),
        (
            '      number: "482913570126"\n      service_accounts:\n        - email: Bad_Name@x.iam.gserviceaccount.com\n',
            8,
            "not a service account email",
        ),
        (
            '      number: "482913570126"\n      bindings:\n        - {role: editor, members: ["user:a@b.c"]}\n',
            8,
            "not a role name",
        ),
        (
            '      number: "482913570126"\n      bindings:\n        - {role: roles/viewer, members: ["alice"]}\n',
            8,
            "is not a member",
        ),
        (
            '      number: "482913570126"\n      workload_identity_pools:\n        - id: pool-one\n          providers:\n            - {id: both-kinds, aws: {account_id: "111111111111"}, oidc: {issuer_uri: "https://x"}}\n',
            10,
            "exactly one of 'aws' or 'oidc'",
        ),
    ],
)
def test_typed_problems_are_located(snippet: str, line: int, fragment: str) -> None:
    text = "version: 1\nname: t\ngcp:\n  projects:\n    - id: corp-prod\n" + snippet
    found = _problems(text)
    assert any(at == line and fragment in message for at, message in found), found


def test_the_default_world_has_its_gcp_side() -> None:
    world = load_world_text((WORLDS / "default.yaml").read_text(), "default")
    ids = world.gcp.identity_ids()
    assert "invoice-agent@corp-prod.iam.gserviceaccount.com" in ids
    assert "finance-reader@corp-prod.iam.gserviceaccount.com" in ids
    assert len(ids) >= 15 and world.has("gcp") and world.has("aws")


def test_the_generator_is_deterministic_and_valid() -> None:
    text = generate_gcp_world_yaml(600, seed=3)
    assert text == generate_gcp_world_yaml(600, seed=3)
    world = load_world_text(text, "generated")
    assert len(world.gcp.identity_ids()) == 600 and len(world.gcp.projects) == 2
    section = generate_gcp_section(50, projects=1, seed=1)
    roles = {b["role"] for b in section["projects"][0]["bindings"]}
    assert any(r.endswith(".viewer") for r in roles)
    with pytest.raises(ValueError):
        generate_gcp_section(0)
