"""Generate large worlds (thousands of agents) for benchmarks and scale tests.

Deterministic for a given seed: the same arguments always give the same world.
"""

from __future__ import annotations

import random
from typing import Any

import yaml

from agent_ir.lab.plugin import lab_plugins
from agent_ir.lab.world import World, world_model

OWNERS = [f"owner{n:03d}@corp.test" for n in range(200)]
SERVICES = ["s3", "dynamodb", "sqs", "sns", "lambda", "kms", "logs"]


def generate_data(agents: int, accounts: int = 2, seed: int = 7) -> dict[str, Any]:
    """A world of ``agents`` agents over ``accounts`` AWS accounts, as plain data."""
    if agents < 1 or accounts < 1:
        raise ValueError("a generated world needs at least one agent and one account")
    rng = random.Random(seed)
    account_ids = [f"{100000000000 + n * 111111111:012d}" for n in range(1, accounts + 1)]
    account_data: list[dict[str, Any]] = [
        {"id": acct, "alias": f"gen-{n}", "users": [], "roles": []}
        for n, acct in enumerate(account_ids)
    ]
    for i in range(agents):
        home = account_data[i % accounts]
        name = f"agent-{i:05d}"
        shadow = rng.random() < 0.05
        tags = {} if shadow else {"agent-ir:agent": name, "agent-ir:owner": rng.choice(OWNERS)}
        service = rng.choice(SERVICES)
        actions = f"{service}:*" if rng.random() < 0.1 else [f"{service}:Get*", f"{service}:List*"]
        keys = [
            {
                "age_days": rng.randint(0, 500),
                "last_used_days_ago": None if rng.random() < 0.1 else rng.randint(0, 60),
                "last_used_service": service,
            }
            for _ in range(1 if rng.random() < 0.7 else 2)
        ]
        user: dict[str, Any] = {
            "name": f"bot-{i:05d}" if shadow else name,
            "tags": tags,
            "access_keys": keys,
            "inline_policies": [
                {
                    "name": "work",
                    "document": {
                        "Version": "2012-10-17",
                        "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}],
                    },
                }
            ],
        }
        home["users"].append(user)
        if rng.random() < 0.3:
            target = account_data[rng.randrange(accounts)]
            role_name = f"{name}-exec"
            user_arn = f"arn:aws:iam::{home['id']}:user/{user['name']}"
            role_arn = f"arn:aws:iam::{target['id']}:role/{role_name}"
            user["inline_policies"].append(
                {
                    "name": "assume-exec",
                    "document": {
                        "Version": "2012-10-17",
                        "Statement": [
                            {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": role_arn}
                        ],
                    },
                }
            )
            target["roles"].append(
                {
                    "name": role_name,
                    "tags": tags,
                    "trust_policy": {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Principal": {"AWS": user_arn},
                                "Action": "sts:AssumeRole",
                            }
                        ],
                    },
                    "inline_policies": [
                        {
                            "name": "exec",
                            "document": {
                                "Version": "2012-10-17",
                                "Statement": [
                                    {"Effect": "Allow", "Action": f"{service}:*", "Resource": "*"}
                                ],
                            },
                        }
                    ],
                }
            )
    return {
        "version": 1,
        "name": f"generated-{agents}",
        "description": f"{agents} generated agents over {accounts} accounts (seed {seed})",
        "aws": {"accounts": account_data},
    }


def generate_world_data(
    agents: int, accounts: int = 2, seed: int = 7, providers: tuple[str, ...] = ("aws",)
) -> dict[str, Any]:
    """A world with about ``agents`` agents in each of ``providers``, as plain data."""
    if "aws" in providers:
        data = generate_data(agents, accounts, seed)
    else:
        data = {
            "version": 1,
            "name": f"generated-{agents}",
            "description": f"{agents} generated agents",
        }
    for name, plugin in lab_plugins().items():
        if name in providers and plugin.generate is not None:
            data[name] = plugin.generate(agents, seed)
    data["description"] += f" in {', '.join(providers)}"
    return data


def generate(
    agents: int, accounts: int = 2, seed: int = 7, providers: tuple[str, ...] = ("aws",)
) -> World:
    """A validated generated world."""
    return world_model().model_validate(generate_world_data(agents, accounts, seed, providers))


def generate_yaml(
    agents: int, accounts: int = 2, seed: int = 7, providers: tuple[str, ...] = ("aws",)
) -> str:
    """A generated world as world-file YAML."""
    header = (
        f"# Generated by `agent-ir lab generate --agents {agents} --accounts {accounts} "
        f"--seed {seed} --providers {','.join(providers)}`.\n"
    )
    data = generate_world_data(agents, accounts, seed, providers)
    return header + yaml.safe_dump(data, sort_keys=False, width=120)
