"""The Google Cloud section of a world file."""

from __future__ import annotations

from agent_ir.lab.section import WorldSection


class GcpWorld(WorldSection):
    """What the Google Cloud emulator is seeded with (no fields yet: the section must be empty)."""
