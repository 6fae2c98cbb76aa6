"""The Okta provider's descriptor (see :mod:`agent_ir.providers.plugin`)."""

from __future__ import annotations

from agent_ir.providers.base import Ability
from agent_ir.providers.okta.config import OktaSettings
from agent_ir.providers.plugin import ProviderPlugin

PLUGIN = ProviderPlugin(
    name="okta",
    title="Okta",
    settings=OktaSettings,
    adapter="agent_ir.providers.okta.adapter:OktaProvider",
    facts="agent_ir.providers.okta.discovery:Facts",
    actions_index="agent_ir.providers.okta.actions:ACTIONS",
    abilities=Ability.DISCOVER
    | Ability.CHECK_PERMISSIONS
    | Ability.READ_PERMISSIONS
    | Ability.CONTAIN
    | Ability.RESTORE
    | Ability.READ_ACTIVITY,
)
