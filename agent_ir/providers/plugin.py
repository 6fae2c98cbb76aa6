"""One descriptor per provider: everything the product needs to know about it, in one place.

A provider registers a :class:`ProviderPlugin` under the entry-point group
``agent_ir.providers``; the registry lists names from package metadata alone and loads a
descriptor only when asked. The descriptor itself is cheap to import: it names its adapter
and facts by import path, so building it never pulls in a provider's SDK (the okta SDK
alone costs over a second).

::

    PLUGIN = ProviderPlugin(
        name="okta",
        title="Okta",
        settings=OktaSettings,
        adapter="agent_ir.providers.okta.adapter:OktaProvider",
        actions_index="agent_ir.providers.okta.actions:ACTIONS",
        facts="agent_ir.providers.okta.adapter:OktaFacts",
        abilities=Ability.DISCOVER | Ability.CONTAIN | Ability.RESTORE,
    )
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from agent_ir.providers.base import Ability

if TYPE_CHECKING:
    from pydantic import BaseModel

    from agent_ir.actions.base import ProviderAction
    from agent_ir.providers.base import Provider

PermissionDocument = Callable[[list[str], list[str]], dict[str, Any]]
"""Builds a provider's own least-privilege document from (read, write) permissions, for a
provider that has one (AWS: an IAM policy)."""


def resolve(path: str) -> Any:
    """The object an import path of the form ``module:attribute`` names."""
    module, _, attribute = path.partition(":")
    return getattr(importlib.import_module(module), attribute)


@dataclass(frozen=True, slots=True)
class ProviderPlugin:
    """What one provider is: its name, settings, adapter, facts and abilities."""

    name: str
    title: str
    settings: type[BaseModel]
    """The model of the provider's ``providers.<name>`` configuration section."""
    adapter: str
    """Import path (``module:Class``) of the :class:`~agent_ir.providers.base.Provider`."""
    actions_index: str | None = None
    """Import path of the provider's index of catalog action implementations (a mapping
    from action name to :class:`~agent_ir.actions.base.ProviderAction` class); the adapter
    never imports its actions, they import it."""
    facts: str | None = None
    """Import path of the type of the discovery facts the adapter hands its actions."""
    abilities: Ability = Ability.DISCOVER
    """What the adapter can do (the same flags the adapter class declares)."""
    permission_document: PermissionDocument | None = None

    def load_adapter(self) -> type[Provider]:
        """Import and return the adapter class."""
        return cast("type[Provider]", resolve(self.adapter))

    def load_facts(self) -> type[object] | None:
        """Import and return the discovery facts type, if the provider declares one."""
        return None if self.facts is None else cast(type[object], resolve(self.facts))

    def actions(self) -> Mapping[str, type[ProviderAction[Any]]]:
        """The provider's implementations of catalog actions, by action name."""
        if self.actions_index is None:
            return {}
        return cast("Mapping[str, type[ProviderAction[Any]]]", resolve(self.actions_index))
