"""The world's ``entra`` section: typed, cross-checked, every problem located."""

from __future__ import annotations

import pytest

from agent_ir.errors import WorldError
from agent_ir.lab.entra_world import EntraWorld
from agent_ir.lab.world import World, load_world_text

BAD = """version: 1
name: bad-entra
entra:
  users:
    - {upn: alice@corp.test}
    - {upn: alice@corp.test}
  applications:
    - name: finance-api
      owners: [zoe@corp.test]
      app_roles: [Invoices.Read]
    - name: blueprint
      federated_credentials:
        - {name: a, issuer: https://x, subject: s}
        - {name: a, issuer: https://x, subject: s}
  agent_identities:
    - {name: invoice-agent, blueprint: blueprint, sponsors: [nobody@corp.test]}
    - {name: finance-api, blueprint: missing}
  delegated_grants:
    - {client: ghost, resource: Microsoft Graph, scopes: [Mail.Read, Mail.Everything]}
    - {client: invoice-agent, resource: finance-api, scopes: [Invoices.Read], user: zed@corp.test}
  app_role_assignments:
    - {principal: invoice-agent, resource: finance-api, role: Invoices.Delete}
    - {principal: invoice-agent, resource: nowhere, role: X}
  directory_roles:
    - {principal: invoice-agent, role: Supreme Leader}
    - {principal: stranger, role: Global Administrator}
"""


def problems_of(text: str) -> list[str]:
    with pytest.raises(WorldError) as caught:
        load_world_text(text, "bad.yaml")
    return [str(p) for p in caught.value.problems]


def test_every_dangling_reference_is_reported_with_its_line() -> None:
    found = problems_of(BAD)
    expected = [
        ("bad.yaml:6:", "appears twice"),
        ("bad.yaml:9:", "no user 'zoe@corp.test'"),
        ("bad.yaml:14:", "appears twice"),
        ("bad.yaml:16:", "no application of kind agent-blueprint named 'blueprint'"),
        ("bad.yaml:16:", "no user 'nobody@corp.test'"),
        ("bad.yaml:17:", "service principal name 'finance-api' is used twice"),
        ("bad.yaml:17:", "named 'missing'"),
        ("bad.yaml:19:", "no service principal 'ghost'"),
        ("bad.yaml:19:", "offers no delegated scope 'Mail.Everything'"),
        ("bad.yaml:20:", "offers no delegated scope 'Invoices.Read'"),
        ("bad.yaml:20:", "no user 'zed@corp.test'"),
        ("bad.yaml:22:", "offers no app role 'Invoices.Delete'"),
        ("bad.yaml:23:", "no resource application 'nowhere'"),
        ("bad.yaml:25:", "unknown directory role 'Supreme Leader'"),
        ("bad.yaml:26:", "no service principal or user 'stranger'"),
    ]
    for where, fragment in expected:
        assert any(p.startswith(where) and fragment in p for p in found), (where, fragment, found)


def test_typed_fields_are_refused_at_their_line() -> None:
    text = """version: 1
name: typed
entra:
  tenant: {id: not-a-guid}
  users:
    - {upn: alice}
  applications:
    - {name: x, kind: robot, surprise: 1}
"""
    found = problems_of(text)
    assert any(p.startswith("bad.yaml:4:") and "GUID" in p for p in found), found
    assert any(p.startswith("bad.yaml:6:") and "user principal name" in p for p in found), found
    assert any(p.startswith("bad.yaml:8:") and "unknown key" in p for p in found), found
    assert any(p.startswith("bad.yaml:8:") and "agent-blueprint" in p for p in found), found


def test_an_inventory_may_name_entra_ids_the_adapter_reports(entra_world: World) -> None:
    section = entra_world.entra
    ids = section.identity_ids()
    agent = next(a for a in section.agent_identities if a.name == "invoice-agent")
    assert section.agent_id(agent) in ids
    assert section.graph_sp_id() not in ids
    bad = f"""version: 1
name: inv
inventory:
  - name: x
    identities: [{{provider: entra, id: {section.agent_id(agent)}}}, {{provider: entra, id: nope}}]
entra:
  users: [{{upn: a@corp.test}}]
"""
    found = problems_of(bad)
    assert len(found) == 2 and all("no entra identity" in p for p in found), found


def test_only_limits_do_not_start_an_emulator() -> None:
    assert EntraWorld().is_empty()
    assert EntraWorld.model_validate({"limits": {"replication_delay_ms": 0}}).is_empty()
    assert not EntraWorld.model_validate({"users": [{"upn": "a@corp.test"}]}).is_empty()
