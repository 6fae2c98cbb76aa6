"""An Entra-only world for the tabletop tests: the default world's ``entra`` section as it
is, without the other providers (moto is process-global, so no AWS here)."""

from __future__ import annotations

from pathlib import Path

import yaml

from agent_ir.lab.world import World, load_world_text

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_WORLD = ROOT / "playbooks" / "worlds" / "default.yaml"
AWS_ROLE = "arn:aws:iam::111111111111:role/invoice-processor"


def entra_world() -> World:
    """The default world's Entra section, alone, with a short replication delay."""
    default = yaml.safe_load(DEFAULT_WORLD.read_text(encoding="utf-8"))
    entra = dict(default["entra"])
    entra["limits"] = {**entra.get("limits", {}), "replication_delay_ms": 40}
    text = yaml.safe_dump({"version": 1, "name": "entra-tabletop", "entra": entra})
    return load_world_text(text, "tests/tabletop/entra_lab.py")
