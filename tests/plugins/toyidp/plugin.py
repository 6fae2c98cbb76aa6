"""The toy provider's descriptor (entry point ``agent_ir.providers: toy``) and settings."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from agent_ir.providers.base import Ability
from agent_ir.providers.plugin import ProviderPlugin


class ToySettings(BaseModel):
    """Where the toy store is and which file holds the responder's admin key."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    base_url: str = Field(pattern=r"^https://")
    ca_bundle: Path | None = None
    api_key_file: Path
    tenant: str = "toy-tenant"
    timeout_s: float = Field(10, gt=0, le=300)
    max_attempts: int = Field(4, ge=1, le=20)
    max_retry_wait_s: float = Field(5, ge=0, le=60)


PLUGIN = ProviderPlugin(
    name="toy",
    title="ToyIdP",
    settings=ToySettings,
    adapter="tests.plugins.toyidp.adapter:ToyProvider",
    actions_index="tests.plugins.toyidp.actions:ACTIONS",
    abilities=Ability.DISCOVER | Ability.CONTAIN | Ability.RESTORE,
)
