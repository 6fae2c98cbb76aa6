"""Worlds made of some providers' sections of the default world (agent_ir/data/worlds/
default.yaml), for tabletop tests that start their own lab: without ``aws`` they can run in
the pytest process (moto is process-global and the session's AWS lab holds it)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from agent_ir.data import default_world
from agent_ir.lab.world import World, load_world_text

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_WORLD = default_world()
AWS_ROLE = "arn:aws:iam::111111111111:role/invoice-processor"


def section_world(*providers: str, **overrides: dict[str, Any]) -> World:
    """The default world's sections for ``providers`` (and the inventory entries naming
    them); ``overrides`` update a section's top-level keys, e.g. ``gcp={"propagation_s": 0}``."""
    default = yaml.safe_load(DEFAULT_WORLD.read_text(encoding="utf-8"))
    keep = set(providers)
    inventory = [
        {**agent, "identities": [i for i in agent["identities"] if i["provider"] in keep]}
        for agent in default.get("inventory", [])
    ]
    doc: dict[str, Any] = {
        "version": 1,
        "name": "-".join(providers) + "-tabletop",
        "inventory": [agent for agent in inventory if agent["identities"]],
    }
    for provider in providers:
        doc[provider] = {**default[provider], **overrides.get(provider, {})}
    return load_world_text(yaml.safe_dump(doc, sort_keys=False), "tests/tabletop/section_lab.py")
