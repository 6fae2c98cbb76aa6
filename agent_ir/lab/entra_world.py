"""The Microsoft Entra ID section of a world file."""

from __future__ import annotations

from agent_ir.lab.section import WorldSection


class EntraWorld(WorldSection):
    """What the Microsoft Entra ID emulator is seeded with (no fields yet: the section must be empty)."""
