"""The base of every provider section of a world file other than AWS."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from agent_ir.errors import Problem
from agent_ir.yamlsrc import Located, PathKey


class WorldSection(BaseModel):
    """A provider's part of a world: typed, unknown keys refused, with cross-checks."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    def is_empty(self) -> bool:
        """True when the section describes nothing (its emulator is then not started)."""
        return not any(getattr(self, name) for name in type(self).model_fields)

    def identity_ids(self) -> set[str]:
        """The ids an inventory may name for this provider (as its adapter reports them)."""
        return set()

    def activity_refs(self) -> set[str]:
        """What a seeded ``activity:`` entry may name as its identity: the ids, and any
        names the section's seeding also resolves (lower-cased where it compares so)."""
        return self.identity_ids()

    def problems(self, doc: Located, prefix: PathKey) -> list[Problem]:
        """Cross-reference problems inside the section, located under ``prefix``."""
        return []
