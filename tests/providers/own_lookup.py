"""Shared by the AWS and GCP own-lookup tests (``own_identities``): labs served by
``agent-ir lab serve`` (the default world, and a generated one with decoys and inventory
ids), the lab's request log, and what the engine's agent-scoped read gives the agent.

The generated world adds, for one generated agent (``Generated.agent``):
- an untagged role named like it in its home account (own by name, read by ``GetRole``);
- a user named like it in the other account, tagged for another agent (a decoy: the own
  lookup returns it with that tag, the engine's correlation leaves it out);
- a role under a path in the other account and a service account in the first project,
  both untagged and named otherwise, listed in the explicit inventory (own by id only);
- a second GCP project holding an account named like it, described for another agent.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

from agent_ir.engine.inventory import Engine
from agent_ir.engine.scope import Focus
from agent_ir.errors import NotFoundError
from agent_ir.lab.generator import generate_world_data
from agent_ir.model import Edge, Grant, Identity, ProviderName
from agent_ir.providers.base import Discovery, ProviderContext
from agent_ir.settings import Settings, load_settings
from tests.engine.test_scoped_discovery import _serve
from tests.engine.test_scoped_requests import _clear, _control, _logged

DECOY_PROJECT = "decoy-project"
SA = ".iam.gserviceaccount.com"


@dataclass(frozen=True, slots=True)
class Generated:
    """The generated world and the names the tests ask about."""

    yaml_text: str
    agent: str
    other: str
    home: str
    away: str
    by_id_role: str
    by_id_account: str


def generated_world(agents: int = 200) -> Generated:
    """A generated AWS + GCP world with the decoys and inventory ids described above."""
    data = generate_world_data(agents, 2, 7, ("aws", "gcp"))
    accounts = data["aws"]["accounts"]
    projects = data["gcp"]["projects"]
    gcp_names = {str(a["email"]).partition("@")[0] for p in projects for a in p["service_accounts"]}
    users = {u["name"]: acct for acct in accounts for u in acct["users"]}
    names = [f"agent-{i:05d}" for i in range(agents)]
    agent = next(n for n in names if n in users and n in gcp_names)
    other = next(n for n in names if n != agent and n in users)
    home = users[agent]
    away = next(a for a in accounts if a is not home)
    home["roles"].append({"name": agent, "trust_policy": _trust(home["id"])})
    away["users"].append({"name": agent, "tags": {"agent-ir:agent": other}})
    away["roles"].append(
        {"name": "pipeline-runner-x", "path": "/ops/", "trust_policy": _trust(away["id"])}
    )
    by_id_account = f"runner-x@{projects[0]['id']}{SA}"
    projects[0]["service_accounts"].append(
        {"email": by_id_account, "display_name": "runner", "keys": [{"age_days": 5}]}
    )
    projects.append(
        {
            "id": DECOY_PROJECT,
            "number": "990000000001",
            "bindings": [
                {"role": "roles/viewer", "members": [f"serviceAccount:{agent}@{DECOY_PROJECT}{SA}"]}
            ],
            "service_accounts": [
                {
                    "email": f"{agent}@{DECOY_PROJECT}{SA}",
                    "description": f"agent-ir:agent={other}",
                    "keys": [{"age_days": 9}],
                }
            ],
        }
    )
    by_id_role = f"arn:aws:iam::{away['id']}:role/ops/pipeline-runner-x"
    data["inventory"] = [
        {
            "name": agent,
            "identities": [
                {"provider": "aws", "id": f"arn:aws:iam::{home['id']}:user/{agent}"},
                {"provider": "aws", "id": by_id_role},
                {"provider": "gcp", "id": by_id_account},
            ],
        }
    ]
    return Generated(
        yaml.safe_dump(data, sort_keys=False, width=120),
        agent,
        other,
        str(home["id"]),
        str(away["id"]),
        by_id_role,
        by_id_account,
    )


def _trust(account: str) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
                "Action": "sts:AssumeRole",
            }
        ],
    }


def serve_default(directory: Path) -> Iterator[Path]:
    """The default world, served; yields its configuration file."""
    yield from _serve(None, directory)


def serve_generated(directory: Path, world: Generated) -> Iterator[Path]:
    """The generated world, served; yields its configuration file."""
    path = directory / "world.yaml"
    path.write_text(world.yaml_text)
    yield from _serve(path, directory)


def containment() -> ProviderContext:
    """The context a revoke's adapters get (no last-use lookups)."""
    return ProviderContext(containment=lambda: True)


def inventory_ids(settings: Settings, agent: str) -> frozenset[str]:
    """The ids the explicit inventory lists for ``agent`` (every provider's)."""
    return Focus.of(agent, settings.inventory).listed


@dataclass(slots=True)
class Scoped:
    """What the engine's agent-scoped read gives for one agent in one provider."""

    own: dict[str, Identity]
    """Identities named like the agent (case-insensitive) or listed in the inventory."""
    grants: list[Grant]
    """Their grants."""
    edges: list[Edge]
    """Every edge the scoped read drew."""
    attributed: set[str]
    """Ids the engine's correlation gives the agent."""


async def scoped(config: Path, agent: str, provider: ProviderName) -> Scoped:
    """The engine's agent-scoped read (for a containment), restricted to what an own
    lookup may return: identities whose name is the agent's or whose id is listed."""
    settings = load_settings(config)
    engine = Engine(settings)
    try:
        inv = await engine.agent_inventory(agent, containment=True)
    finally:
        await engine.aclose()
    listed = inventory_ids(settings, agent)
    found = inv.discoveries[provider]
    own = {i.id: i for i in found.identities if i.name.lower() == agent.lower() or i.id in listed}
    grants = [g for g in found.grants if g.identity in own]
    try:
        attributed = {i.id for i in inv.agent(agent).identities}
    except NotFoundError:  # no identity of it anywhere: no agent
        attributed = set()
    return Scoped(own=own, grants=grants, edges=list(found.edges), attributed=attributed)


def clear_log(config: Path) -> None:
    """Forget every request the lab has logged (a test's starting line)."""
    _clear(config)


def logged(config: Path, provider: str) -> list[dict[str, Any]]:
    """The requests one emulator received since the last clear."""
    return _logged(config)[provider]


def grant_keys(grants: list[Grant]) -> list[tuple[Any, ...]]:
    """Grants as sortable tuples (order is not part of the contract)."""
    return sorted((g.identity, g.grant, g.kind, g.risk or "", g.detail, g.ref) for g in grants)


def by_id(found: Discovery) -> dict[str, Identity]:
    """A discovery's identities by id (each once)."""
    out = {i.id: i for i in found.identities}
    assert len(out) == len(found.identities), "an identity was returned twice"
    return out


def set_faults(config: Path, provider: str, spec: dict[str, Any]) -> None:
    """Put a fault spec on one running emulator (``{}`` clears it)."""
    urls, ca = _control(config)
    httpx.put(urls[provider] + "/faults", json=spec, verify=ca, timeout=60).raise_for_status()
