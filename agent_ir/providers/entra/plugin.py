"""The Entra ID provider's descriptor (see :mod:`agent_ir.providers.plugin`)."""

from __future__ import annotations

from agent_ir.providers.base import Ability
from agent_ir.providers.entra.config import EntraSettings
from agent_ir.providers.plugin import ProviderPlugin

PLUGIN = ProviderPlugin(
    name="entra",
    title="Entra ID",
    settings=EntraSettings,
    adapter="agent_ir.providers.entra.adapter:EntraProvider",
    facts="agent_ir.providers.entra.snapshot:Snapshot",
    actions_index="agent_ir.providers.entra.actions:ACTIONS",
    abilities=Ability.DISCOVER
    | Ability.CHECK_PERMISSIONS
    | Ability.READ_PERMISSIONS
    | Ability.CONTAIN
    | Ability.RESTORE
    | Ability.READ_ACTIVITY,
)
