"""Generate large ``okta`` world sections (thousands of identities) for benchmarks and
scale tests. Deterministic for a given seed. Generated apps sign in with client secrets,
so no RSA key has to be made for them."""

from __future__ import annotations

import random
from typing import Any

import yaml

_SCOPES = ["okta.users.read", "okta.apps.read", "okta.groups.read", "okta.logs.read"]
_ROLES = ["READ_ONLY_ADMIN", "REPORT_ADMIN", "APP_ADMIN", "ORG_ADMIN"]


def generate_okta_data(
    apps: int,
    tokens: int = 0,
    agents: int = 0,
    users: int = 100,
    *,
    seed: int = 7,
    rate_limit: int | None = None,
) -> dict[str, Any]:
    """An ``okta`` section with ``apps`` service apps (most of them agents), ``tokens`` API
    tokens, ``agents`` AI agents and ``users`` users, as plain data."""
    if min(apps, tokens, agents) < 0 or users < 1:
        raise ValueError("a generated Okta org needs at least one user and no negative counts")
    rng = random.Random(seed)
    logins = [f"user{n:05d}@corp.test" for n in range(users)]
    admins = logins[: max(1, users // 20)]
    user_data: list[dict[str, Any]] = [
        {"login": login, **({"admin_roles": ["SUPER_ADMIN"]} if login in admins else {})}
        for login in logins
    ]
    app_data = []
    for index in range(apps):
        shadow = rng.random() < 0.05
        app: dict[str, Any] = {
            "label": f"bot-{index:05d}" if shadow else f"agent-{index:05d}",
            "auth": "client_secret_basic",
            "secrets": [{"age_days": rng.randint(0, 400)} for _ in range(rng.choice((1, 1, 2)))],
            "scopes": rng.sample(_SCOPES, rng.randint(1, 3)),
            "age_days": rng.randint(10, 900),
        }
        if not shadow:
            app["agent"] = app["label"]
            app["owner"] = rng.choice(logins)
        if rng.random() < 0.1:
            app["admin_roles"] = [rng.choice(_ROLES)]
        if rng.random() < 0.2:
            app["consents"] = [
                {"user": rng.choice(logins), "scopes": ["okta.users.read"], "tokens": 1}
            ]
        app_data.append(app)
    token_data = [
        {
            "name": f"token-{index:05d}",
            "user": rng.choice(admins),
            "age_days": rng.randint(0, 500),
            "last_used_days_ago": rng.randint(0, 29),
        }
        for index in range(tokens)
    ]
    agent_data = [
        {"name": f"ai-agent-{index:05d}", "owners": [rng.choice(logins)]} for index in range(agents)
    ]
    section: dict[str, Any] = {
        "users": user_data,
        "apps": app_data,
        "api_tokens": token_data,
        "ai_agents": agent_data,
    }
    if rate_limit is not None:
        section["rate_limit"] = {"limit": rate_limit, "window_s": 60}
    return section


def generate_okta(
    apps: int,
    tokens: int = 0,
    agents: int = 0,
    users: int = 100,
    *,
    seed: int = 7,
    rate_limit: int | None = None,
) -> str:
    """The same as :func:`generate_okta_data`, as world-file YAML (an ``okta:`` section)."""
    data = generate_okta_data(apps, tokens, agents, users, seed=seed, rate_limit=rate_limit)
    return yaml.safe_dump({"okta": data}, sort_keys=False, width=120)
