"""The explicit inventory: agents named by the configuration or a world, with their owner and
identities. It belongs to the vocabulary (settings and correlation read it), so the lab's
world model imports it from here, never the other way round."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from agent_ir.providers.known import KnownProvider


class InventoryIdentity(BaseModel):
    """One identity of an agent in the explicit inventory."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    provider: KnownProvider
    id: str


class InventoryAgent(BaseModel):
    """An agent named explicitly, with its owner and identities."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    owner: str | None = None
    identities: list[InventoryIdentity] = Field(default_factory=list)
