"""What every Okta action shares."""

from __future__ import annotations

from typing import ClassVar

from agent_ir.actions.base import PlanContext, ProviderAction
from agent_ir.model import ProviderName
from agent_ir.providers.okta.adapter import OktaProvider
from agent_ir.providers.okta.discovery import Facts


class OktaAction(ProviderAction[OktaProvider]):
    """Base of the Okta actions."""

    provider: ClassVar[ProviderName] = "okta"


def facts_of(ctx: PlanContext) -> Facts:
    """What the adapter learnt in discovery (empty when planning without one)."""
    facts = ctx.facts
    return facts if isinstance(facts, Facts) else Facts()
