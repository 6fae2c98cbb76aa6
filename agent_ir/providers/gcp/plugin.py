"""The Google Cloud provider's descriptor (see :mod:`agent_ir.providers.plugin`)."""

from __future__ import annotations

from agent_ir.providers.base import Ability
from agent_ir.providers.gcp.config import GcpSettings
from agent_ir.providers.plugin import ProviderPlugin

PLUGIN = ProviderPlugin(
    name="gcp",
    title="Google Cloud",
    settings=GcpSettings,
    adapter="agent_ir.providers.gcp.adapter:GcpProvider",
    facts="agent_ir.providers.gcp.adapter:GcpFacts",
    actions_index="agent_ir.providers.gcp.actions:ACTIONS",
    abilities=Ability.DISCOVER
    | Ability.CHECK_PERMISSIONS
    | Ability.READ_PERMISSIONS
    | Ability.CONTAIN
    | Ability.RESTORE
    | Ability.READ_ACTIVITY,
)
