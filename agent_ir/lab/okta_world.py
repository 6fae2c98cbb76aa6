"""The Okta section of a world file."""

from __future__ import annotations

from agent_ir.lab.section import WorldSection


class OktaWorld(WorldSection):
    """What the Okta emulator is seeded with (no fields yet: the section must be empty)."""
