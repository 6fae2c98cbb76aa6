"""Generate a large ``gcp`` world section (thousands of service accounts) for benchmarks.

Deterministic for a given seed. Projects hold at most 500 accounts each (real policies
allow 1,500 principals, and every account appears in its project's policy). About 5% of
the accounts are shadow agents without the description convention, 5% hold
``roles/editor``, 10% a whole-service admin role, 20% token creator on another account of
the same project, and a few are reachable from AWS roles through each project's workload
identity pool.
"""

from __future__ import annotations

import random
from typing import Any

import yaml

OWNERS = [f"owner{n:03d}@corp.test" for n in range(200)]
SERVICES = ["storage", "bigquery", "pubsub", "secretmanager", "cloudsql", "aiplatform"]
PER_PROJECT = 500


def generate_gcp_section(
    identities: int, projects: int | None = None, seed: int = 7
) -> dict[str, Any]:
    """A ``gcp`` section with ``identities`` service accounts, as plain data."""
    if identities < 1:
        raise ValueError("a generated GCP section needs at least one service account")
    count = projects or max(1, -(-identities // PER_PROJECT))
    rng = random.Random(seed)
    out: list[dict[str, Any]] = []
    for p in range(count):
        project_id = f"gen-project-{p:03d}"
        number = str(300_000_000_000 + p * 7_919)
        out.append(
            {
                "id": project_id,
                "number": number,
                "bindings": [],
                "service_accounts": [],
                "workload_identity_pools": [
                    {
                        "id": "aws-workloads",
                        "providers": [{"id": "aws-main", "aws": {"account_id": "100000000000"}}],
                    }
                ],
            }
        )
    roles: list[dict[str, list[str]]] = [{} for _ in range(count)]
    for i in range(identities):
        p = i % count
        project = out[p]
        shadow = rng.random() < 0.05
        name = f"bot-{i:05d}" if shadow else f"agent-{i:05d}"
        email = f"{name}@{project['id']}.iam.gserviceaccount.com"
        service = rng.choice(SERVICES)
        account: dict[str, Any] = {"email": email, "display_name": name}
        if not shadow:
            owner = rng.choice(OWNERS)
            account["description"] = f"agent-ir:agent={name} agent-ir:owner={owner}"
        account["keys"] = [
            {
                "age_days": rng.randint(0, 500),
                "last_used_days_ago": None if rng.random() < 0.1 else rng.randint(0, 60),
            }
            for _ in range(rng.choice((0, 1, 1, 2)))
        ]
        member = f"serviceAccount:{email}"
        draw = rng.random()
        role = (
            "roles/editor"
            if draw < 0.05
            else f"roles/{service}.admin"
            if draw < 0.15
            else f"roles/{service}.viewer"
        )
        roles[p].setdefault(role, []).append(member)
        siblings = project["service_accounts"]
        if siblings and rng.random() < 0.2:
            target = rng.choice(siblings)
            target.setdefault("bindings", []).append(
                {"role": "roles/iam.serviceAccountTokenCreator", "members": [member]}
            )
        if rng.random() < 0.03:
            aws_role = f"arn:aws:sts::100000000000:assumed-role/{name}-exec"
            account["bindings"] = [
                {
                    "role": "roles/iam.workloadIdentityUser",
                    "members": [
                        f"principalSet://iam.googleapis.com/projects/{project['number']}/locations/"
                        f"global/workloadIdentityPools/aws-workloads/attribute.aws_role/{aws_role}"
                    ],
                }
            ]
        siblings.append(account)
    for p, project in enumerate(out):
        project["bindings"] = [{"role": r, "members": m} for r, m in sorted(roles[p].items())]
        for account in project["service_accounts"]:
            bindings = account.get("bindings", [])
            merged: dict[str, list[str]] = {}
            for binding in bindings:
                merged.setdefault(binding["role"], []).extend(
                    m for m in binding["members"] if m not in merged.get(binding["role"], [])
                )
            if merged:
                account["bindings"] = [{"role": r, "members": m} for r, m in merged.items()]
    return {"propagation_s": 0, "projects": out}


def generate_gcp_world_yaml(identities: int, projects: int | None = None, seed: int = 7) -> str:
    """A world file holding only a generated ``gcp`` section."""
    data = {
        "version": 1,
        "name": f"generated-gcp-{identities}",
        "description": f"{identities} generated service accounts (seed {seed})",
        "gcp": generate_gcp_section(identities, projects, seed),
    }
    return yaml.safe_dump(data, sort_keys=False, width=200)
