"""Generate large ``entra`` world sections (thousands of Graph identities) for benchmarks.

Deterministic for a given seed. About 60 % of the identities are agent identities spread
over blueprints of twenty, 28 % application service principals with secrets (some with
certificates or federated credentials), 5 % managed identities and the rest ordinary apps;
agents hold app roles on a few internal APIs, some were consented to by users, a few hold
admin permissions or directory roles. The tenant stays under 50 users by default, so the
lab gives the responder Graph's smallest read budget (3,500 RU per 10 s).
"""

from __future__ import annotations

import random
from typing import Any

import yaml

APIS = ("tickets-api", "billing-api", "crm-api", "docs-api", "inventory-api")
SCOPES = ("User.Read", "Mail.Read", "Files.Read", "Calendars.Read", "Files.ReadWrite.All")


def generate_entra(identities: int, seed: int = 7, users: int = 40) -> dict[str, Any]:
    """An ``entra`` world section with about ``identities`` service principals."""
    if identities < 10 or users < 1:
        raise ValueError("a generated tenant needs at least 10 identities and one user")
    rng = random.Random(seed)
    upns = [f"user{n:03d}@corp.test" for n in range(users)]
    section: dict[str, Any] = {
        "tenant": {"domain": "corp.test", "name": "Generated"},
        "limits": {"replication_delay_ms": 0},
        "users": [{"upn": u} for u in upns],
        "applications": [{"name": api, "app_roles": ["Read", "ReadWrite"]} for api in APIS],
        "agent_identities": [],
        "managed_identities": [],
        "delegated_grants": [],
        "app_role_assignments": [],
        "directory_roles": [],
    }
    apps: list[dict[str, Any]] = section["applications"]
    n_agents = identities * 60 // 100
    n_apps = identities * 28 // 100
    n_managed = identities * 5 // 100
    n_plain = max(0, identities - n_agents - n_apps - n_managed - len(APIS))
    for b in range(max(1, -(-n_agents // 20))):
        apps.append(
            {
                "name": f"blueprint-{b:04d}",
                "kind": "agent-blueprint",
                "owners": [rng.choice(upns)],
                "passwords": [_secret(rng)],
                "federated_credentials": _federation(rng, f"blueprint-{b:04d}"),
            }
        )
    for i in range(n_agents):
        name, owner = f"gen-agent-{i:05d}", rng.choice(upns)
        section["agent_identities"].append(
            {
                "name": name,
                "blueprint": f"blueprint-{i // 20:04d}",
                "sponsors": [owner],
                "tags": [f"agent-ir:agent={name}", f"agent-ir:owner={owner}"],
            }
        )
        _grants(section, rng, name, upns)
    for i in range(n_apps):
        name, owner = f"svc-agent-{i:05d}", rng.choice(upns)
        app: dict[str, Any] = {
            "name": name,
            "owners": [owner],
            "tags": [f"agent-ir:agent={name}", f"agent-ir:owner={owner}"],
            "passwords": [_secret(rng) for _ in range(1 if rng.random() < 0.8 else 2)],
        }
        if rng.random() < 0.1:
            app["certificates"] = [{"name": "cert", "age_days": rng.randint(0, 300)}]
        if rng.random() < 0.2:
            app["federated_credentials"] = _federation(rng, name)
        apps.append(app)
        _grants(section, rng, name, upns)
    for i in range(n_managed):
        name = f"mi-job-{i:05d}"
        section["managed_identities"].append({"name": name})
        section["app_role_assignments"].append(
            {"principal": name, "resource": rng.choice(APIS), "role": "Read"}
        )
    for i in range(n_plain):
        apps.append(
            {"name": f"portal-{i:05d}", "owners": [rng.choice(upns)], "passwords": [_secret(rng)]}
        )
    section["directory_roles"].append({"principal": upns[0], "role": "Global Administrator"})
    return section


def generate_entra_yaml(identities: int, seed: int = 7, users: int = 40) -> str:
    """A whole world file holding only a generated ``entra`` section."""
    world = {
        "version": 1,
        "name": f"entra-{identities}",
        "entra": generate_entra(identities, seed, users),
    }
    return yaml.safe_dump(world, sort_keys=False)


def _secret(rng: random.Random) -> dict[str, Any]:
    age = rng.randint(0, 600)
    used = None if rng.random() < 0.15 else rng.randint(0, min(age, 60))
    return {"name": f"s{rng.randint(0, 9999):04d}", "age_days": age, "last_used_days_ago": used}


def _federation(rng: random.Random, name: str) -> list[dict[str, Any]]:
    if rng.random() < 0.5:
        return []
    account = f"{rng.randint(100000000000, 999999999999)}"
    return [
        {
            "name": "aws",
            "issuer": "https://7f4c9a2e-5b1d-4e2a-9c3f-111111111111.tokens.sts.global.api.aws",
            "subject": f"arn:aws:iam::{account}:role/{name}",
        }
    ]


def _grants(section: dict[str, Any], rng: random.Random, name: str, upns: list[str]) -> None:
    section["app_role_assignments"].append(
        {"principal": name, "resource": rng.choice(APIS), "role": rng.choice(("Read", "ReadWrite"))}
    )
    if rng.random() < 0.03:
        section["app_role_assignments"].append(
            {"principal": name, "resource": "Microsoft Graph", "role": "Directory.ReadWrite.All"}
        )
    if rng.random() < 0.3:
        scopes = sorted(set(rng.sample(SCOPES, rng.randint(1, 3))))
        section["delegated_grants"].append(
            {
                "client": name,
                "resource": "Microsoft Graph",
                "scopes": scopes,
                "user": rng.choice(upns),
            }
        )
    if rng.random() < 0.01:
        section["directory_roles"].append({"principal": name, "role": "Application Administrator"})
